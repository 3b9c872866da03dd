"""The built-in sharp corpus: procedural "dead leaves" images, needing no download.

Occluding discs fall one on another; the visible layer is the image. With disc radii drawn with
density ∝ r⁻³ the result is scale invariant, with the 1/f² power spectrum, sharp edges and
occlusions of natural images (Lee, Mumford & Huang 2001), which is what a deblurring network has
to restore. Colours are mostly muted (natural scenes are rarely saturated), each disc carries a
gentle shading gradient, the scene has smooth illumination and a little grain, and about 1 in 60
discs is a clipped highlight so the realistic camera's saturation has something to do.

Image ``i`` depends only on (seed, i) and the size.

:func:`photo_leaves_image` fills each disc with a patch of a photograph instead of a flat colour
(after Achddou et al., "Synthetic images as a regularity prior for image restoration neural
networks", 2021): the occlusions and colour edges of dead leaves with the textures of real scenes.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass

import cv2
import numba
import numpy as np

from blurgen.rng import noise_index, noise_word, normal_table, stream_key

RADIUS_MIN = 3.0  # px
COVERAGE = 7.0  # expected discs per pixel: leaves uncovered a fraction e^-7 ≈ 0.1% of the canvas
HIGHLIGHT_SHARE = 1 / 60
SHADED_RADIUS = 8.0  # px; smaller discs are drawn flat (their shading would not show)
PURPOSE = 0x4C45415645  # "LEAVE": keeps this stream apart from other uses of the seed
GRAIN_PURPOSE = 0x4752  # "GR": the grain's counter-based stream
HIDDEN = 1 / 1024  # a pixel less visible than this is finished: below 0.25 of an 8-bit level


@dataclass(frozen=True)
class Discs:
    """The random discs of one image, in drawing order (float64 unless said), and the stream that drew them."""

    radii: np.ndarray
    centres_y: np.ndarray
    centres_x: np.ndarray
    colours: np.ndarray  # float32 N×3, RGB 0–255
    highlights: np.ndarray  # bool N
    shading: np.ndarray  # N×2: brightness change across the disc, vertically and horizontally
    rng: np.random.Generator  # continues with the image-wide draws (illumination, grain)


def draw_discs(seed: int, index: int, height: int, width: int) -> Discs:
    """Image ``index``'s discs: radii with density ∝ r⁻³ in [3 px, max side / 3], enough to cover the canvas ~7 times."""
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
    return Discs(radii, centres_y, centres_x, colours, highlights, shading, rng)


def dead_leaves_image(seed: int, index: int, height: int = 480, width: int = 640) -> np.ndarray:
    """One dead-leaves image: RGB uint8, height × width."""
    discs = draw_discs(seed, index, height, width)
    rng = discs.rng
    shading = np.where(((discs.radii < SHADED_RADIUS) | discs.highlights)[:, None], 0.0, discs.shading).astype(np.float32)
    canvas = np.zeros((height, width, 3), np.float32)
    unseen = np.ones((height, width), np.float32)
    count = discs.radii.size
    untextured = np.zeros(count, np.bool_), np.zeros(count, np.int64), np.zeros((count, 2), np.int64)
    paint_discs(canvas, unseen, discs.centres_y, discs.centres_x, discs.radii, discs.colours, shading, *untextured,
                *astuple(NO_TEXTURE))

    illumination = cv2.resize(rng.uniform(0.8, 1.15, (4, 4)).astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    grain_key = stream_key(np.uint64(rng.integers(0, 2**63)), np.uint64(GRAIN_PURPOSE))
    return develop(canvas, unseen, discs.colours[0], illumination, np.uint64(grain_key), GRAIN_TABLE)


GRAIN_TABLE = np.float32(1.5) * normal_table()  # film-like grain of σ 1.5 in 8-bit levels


@numba.njit(cache=True, nogil=True)
def develop(canvas: np.ndarray, unseen: np.ndarray, ground: np.ndarray, illumination: np.ndarray, key: np.uint64,
            table: np.ndarray) -> np.ndarray:
    """(canvas + what still shows of the ground colour) · illumination + grain, rounded and
    clipped to uint8, in one pass. Grain element e (the H×W×3 index) is normal quantile
    ``noise_index(noise_word(key, e // 4), e % 4)``, as the camera's noise field draws it."""
    height, width, channels = canvas.shape
    out = np.empty((height, width, channels), np.uint8)
    word = np.uint64(0)
    e = 0
    for y in range(height):
        for x in range(width):
            light = illumination[y, x]
            for c in range(channels):
                if e % 4 == 0:
                    word = noise_word(key, e // 4)
                value = np.rint((canvas[y, x, c] + unseen[y, x] * ground[c]) * light + table[noise_index(word, e % 4)])
                out[y, x, c] = 0 if value < 0 else (255 if value > 255 else np.uint8(value))
                e += 1
    return out


@numba.njit(cache=True, nogil=True)
def paint_discs(canvas: np.ndarray, unseen: np.ndarray, centres_y: np.ndarray, centres_x: np.ndarray, radii: np.ndarray,
                colours: np.ndarray, shading: np.ndarray, textured: np.ndarray, photo: np.ndarray, offsets: np.ndarray,
                pixels: np.ndarray, starts: np.ndarray, heights: np.ndarray, widths: np.ndarray) -> None:
    """Lay discs one over the other, the last on top, in place: ``canvas`` (H×W×3 float32, from
    zeros) gathers the visible colour and ``unseen`` (H×W, from ones) what still shows through.

    A pixel centre at distance d from a disc's centre is covered by ``clip(r + 0.5 - d, 0, 1)``
    (a one-pixel anti-aliased edge); the disc's colour there is ``colour · (1 + sy·dy/r + sx·dx/r)``
    (its shading gradient; zero for flat discs). Painting goes front to back (the same sum as
    laying each disc over the ones below), so a pixel is done once less than 1/1024 of it shows:
    most of the ~7 discs over a pixel are never blended.

    A ``textured`` disc's colour is also multiplied by its photo's (mean-normalised) grey value at
    (y + offset_y, x + offset_x), wrapped around the photo (:class:`Textures`: ``pixels``,
    ``starts``, ``heights``, ``widths``; ``photo`` and ``offsets`` per disc).
    """
    height, width = canvas.shape[0], canvas.shape[1]
    for k in range(radii.shape[0] - 1, -1, -1):
        r, cy, cx = radii[k], centres_y[k], centres_x[k]
        top, bottom = max(int(math.floor(cy - r - 1.0)), 0), min(int(math.ceil(cy + r + 1.0)) + 1, height)
        left, right = max(int(math.floor(cx - r - 1.0)), 0), min(int(math.ceil(cx + r + 1.0)) + 1, width)
        slope_y, slope_x = shading[k, 0] / r, shading[k, 1] / r
        inside, outside = max(r - 0.5, 0.0) ** 2, (r + 0.5) ** 2  # fully covered / not at all, by squared distance
        start, rows, cols = starts[photo[k]], heights[photo[k]], widths[photo[k]]
        for y in range(top, bottom):
            dy = y - cy
            row = (y + offsets[k, 0]) % rows
            for x in range(left, right):
                through = unseen[y, x]
                if through < HIDDEN:
                    continue
                dx = x - cx
                squared = dx * dx + dy * dy
                if squared >= outside:
                    continue
                cover = 1.0 if squared <= inside else r + 0.5 - math.sqrt(squared)
                share = through * cover
                gain = 1.0 + slope_y * dy + slope_x * dx
                if textured[k]:
                    gain *= pixels[start + row * cols + (x + offsets[k, 1]) % cols]
                for c in range(3):
                    canvas[y, x, c] += share * colours[k, c] * gain
                unseen[y, x] = through - share


TEXTURE_PURPOSE = 0x54455854  # "TEXT": which photo and where, per disc, apart from the discs' own draws


@dataclass(frozen=True)
class Textures:
    """Grey photographs to cut leaves from, packed for numba: ``pixels`` (float32, all photos
    flattened one after the other, each divided by its own mean so a leaf keeps its colour on
    average), and each photo's ``starts``, ``heights`` and ``widths`` (int64)."""

    pixels: np.ndarray
    starts: np.ndarray
    heights: np.ndarray
    widths: np.ndarray

    @classmethod
    def of(cls, photos: list[np.ndarray]) -> Textures:
        """From H×W uint8 grey photos (at least one)."""
        if not photos:
            raise ValueError("textured leaves need at least one photo")
        flat = [(photo.astype(np.float32) / max(float(photo.mean()), 1.0)).ravel() for photo in photos]
        starts = np.cumsum([0] + [part.size for part in flat[:-1]]).astype(np.int64)
        return cls(np.concatenate(flat), starts, np.array([p.shape[0] for p in photos], np.int64),
                   np.array([p.shape[1] for p in photos], np.int64))


NO_TEXTURE = Textures.of([np.ones((1, 1), np.uint8)])  # for discs painted in flat colours


def photo_leaves_image(seed: int, index: int, textures: Textures, height: int = 480, width: int = 640) -> np.ndarray:
    """One dead-leaves image whose discs are patches of ``textures`` in the discs' colours: RGB
    uint8, height × width. The discs, their colours and the illumination are
    :func:`dead_leaves_image`'s; each disc also draws a photo and where in it its patch lies
    (wrapping around the photo's edges), from a stream of its own."""
    discs = draw_discs(seed, index, height, width)
    rng = discs.rng
    place = np.random.default_rng([TEXTURE_PURPOSE, seed, index])
    count = discs.radii.size
    photo = place.integers(0, textures.heights.size, count)
    offsets = np.stack([place.integers(0, textures.heights[photo]), place.integers(0, textures.widths[photo])], axis=1)
    textured = ~discs.highlights  # a clipped highlight stays flat white
    canvas = np.zeros((height, width, 3), np.float32)
    unseen = np.ones((height, width), np.float32)
    flat = np.zeros((count, 2), np.float32)  # leaves cut from photos carry the photos' own shading
    paint_discs(canvas, unseen, discs.centres_y, discs.centres_x, discs.radii, discs.colours, flat, textured, photo,
                offsets.astype(np.int64), *astuple(textures))
    illumination = cv2.resize(rng.uniform(0.8, 1.15, (4, 4)).astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    grain_key = stream_key(np.uint64(rng.integers(0, 2**63)), np.uint64(GRAIN_PURPOSE))
    return develop(canvas, unseen, discs.colours[0], illumination, np.uint64(grain_key), GRAIN_TABLE)


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


class PhotoLeaves:
    """``n`` textured dead-leaves images of ``height × width`` (:func:`photo_leaves_image`), cut
    from ``photos`` (H×W uint8 grey). Each image is made once and kept (a few MB each), since a
    training stream reads the same few images over and over."""

    def __init__(self, photos: list[np.ndarray], n: int = 18, height: int = 480, width: int = 640, seed: int = 0) -> None:
        if n < 1:
            raise ValueError(f"the textured leaves need n >= 1 images, got {n}")
        self.textures, self.n, self.height, self.width, self.seed = Textures.of(photos), n, height, width, seed
        self.made: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < self.n:
            raise IndexError(index)
        if index not in self.made:
            self.made[index] = photo_leaves_image(self.seed, index, self.textures, self.height, self.width)
        return self.made[index]

    def id(self, index: int) -> str:
        return f"photoleaves-{index:06d}"

    def describe(self) -> dict:
        return {"kind": "photo_leaves", "images": self.n, "height": self.height, "width": self.width, "seed": self.seed}
