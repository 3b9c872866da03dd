"""The built-in sharp corpus: procedural "dead leaves" images, needing no download.

Occluding discs fall one on another; the visible layer is the image. With disc radii drawn with
density ∝ r⁻³ the result is scale invariant, with the 1/f² power spectrum, sharp edges and
occlusions of natural images (Lee, Mumford & Huang 2001), which is what a deblurring network has
to restore. Colours are mostly muted (natural scenes are rarely saturated), each disc carries a
gentle shading gradient, the scene has smooth illumination and a little grain, and about 1 in 60
discs is a clipped highlight so the realistic camera's saturation has something to do.

Image ``i`` depends only on (seed, i) and the size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

RADIUS_MIN = 3.0  # px
COVERAGE = 7.0  # expected discs per pixel: leaves uncovered a fraction e^-7 ≈ 0.1% of the canvas
HIGHLIGHT_SHARE = 1 / 60
SHADED_RADIUS = 8.0  # px; smaller discs are drawn flat (their shading would not show)
_SHIFT = 4  # cv2 drawing with 4 fractional bits: sub-pixel centres and radii, anti-aliased edges
PURPOSE = 0x4C45415645  # "LEAVE": keeps this stream apart from other uses of the seed


def dead_leaves_image(seed: int, index: int, height: int = 480, width: int = 640) -> np.ndarray:
    """One dead-leaves image: RGB uint8, height × width."""
    if height < 8 or width < 8:
        raise ValueError(f"dead-leaves images need at least 8×8 pixels, got {height}×{width}")
    rng = np.random.default_rng([PURPOSE, seed, index])
    radius_max = max(height, width) / 3
    inv_min, inv_max = RADIUS_MIN**-2, radius_max**-2
    mean_area = math.pi * 2 / (inv_min - inv_max) * math.log(radius_max / RADIUS_MIN)
    count = int(COVERAGE * height * width / mean_area)

    # Radii by inverse transform of the r^-3 density; centres may lie off the canvas by a radius.
    radii = (inv_min - rng.random(count) * (inv_min - inv_max)) ** -0.5
    centres_y = rng.uniform(-radii, height + radii)
    centres_x = rng.uniform(-radii, width + radii)
    hsv = np.stack([
        rng.uniform(0, 180, count),                       # any hue
        255 * rng.beta(1.2, 3.0, count),                  # mostly muted colours
        255 * rng.beta(2.0, 1.6, count),                  # mid to bright values
    ], axis=1).astype(np.uint8)[:, None, :]
    colours = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[:, 0, :].astype(np.float32)
    highlights = rng.random(count) < HIGHLIGHT_SHARE
    colours[highlights] = 255.0
    shading = rng.uniform(-0.25, 0.25, (count, 2))      # brightness change across each disc

    canvas = np.full((height, width, 3), colours[0], np.float32)
    scale = 1 << _SHIFT
    for k in range(count):
        r = radii[k]
        if r < SHADED_RADIUS or highlights[k]:  # flat disc: one anti-aliased draw
            centre = (int(centres_x[k] * scale), int(centres_y[k] * scale))
            cv2.circle(canvas, centre, int(r * scale), colours[k].tolist(), thickness=-1, lineType=cv2.LINE_AA, shift=_SHIFT)
            continue
        top, bottom = int(max(centres_y[k] - r, 0)), int(min(centres_y[k] + r + 1, height))
        left, right = int(max(centres_x[k] - r, 0)), int(min(centres_x[k] + r + 1, width))
        if top >= bottom or left >= right:
            continue
        # A shaded disc: draw its coverage in its bounding box, then blend the shaded colour in.
        box = np.zeros((bottom - top, right - left), np.uint8)
        centre = (int((centres_x[k] - left) * scale), int((centres_y[k] - top) * scale))
        cv2.circle(box, centre, int(r * scale), 255, thickness=-1, lineType=cv2.LINE_AA, shift=_SHIFT)
        cover = box.astype(np.float32)[:, :, None] / 255.0
        ys = (np.arange(top, bottom, dtype=np.float32) - centres_y[k])[:, None] / r
        xs = (np.arange(left, right, dtype=np.float32) - centres_x[k])[None, :] / r
        gain = 1.0 + shading[k, 0] * ys + shading[k, 1] * xs
        region = canvas[top:bottom, left:right]
        region += cover * (colours[k] * gain[:, :, None] - region)

    illumination = cv2.resize(rng.uniform(0.8, 1.15, (4, 4)).astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    canvas *= illumination[:, :, None]
    canvas += rng.normal(0.0, 1.5, canvas.shape).astype(np.float32)  # film-like grain, in 8-bit levels
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class DeadLeaves:
    """``n`` dead-leaves images of ``height × width``: the sharp source when ``--src`` is omitted."""

    n: int = 100
    height: int = 480
    width: int = 640
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"the built-in corpus needs n >= 1 images, got {self.n}")

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < self.n:
            raise IndexError(index)
        return dead_leaves_image(self.seed, index, self.height, self.width)

    def id(self, index: int) -> str:
        return f"deadleaves-{index:06d}"

    def describe(self) -> dict:
        return {"kind": "dead_leaves", "images": self.n, "height": self.height, "width": self.width, "seed": self.seed}
