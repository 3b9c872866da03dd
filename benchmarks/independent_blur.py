"""A second evaluation set of real photographs, blurred by a process that shares nothing with
blurgen's kernels or cameras, so that a model cannot score well on it by having learned
blurgen's own blur.

The photos are the colour photographs that ship inside scikit-image (the same photos as
``blurgen evalset``, which no training run sees), downscaled to at most ``--max-side`` px. Each
gets four blurs, written with OpenCV and NumPy only:

* a straight line kernel (``cv2.line``, anti-aliased, 7–25 px, any angle), or a smooth random
  walk (Gaussian steps smoothed by a 9-tap moving average, drawn with ``cv2.polylines``, 12–30 px
  of extent), alternating;
* applied either to the sRGB values or in linear light (a 2.2 power law undone and re-applied),
  alternating, so that both kinds of blur a user meets are represented;
* then Gaussian noise of σ = 1/255 and 8-bit rounding; borders as far as the kernel reaches are
  cropped from both images.

Usage: python benchmarks/independent_blur.py --out independent/ [--max-side 640] [--seed 7]
Writes ``<out>/blur/<photo>-<k>.png``, ``<out>/sharp/<photo>-<k>.png`` and ``<out>/kernels.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from blurgen.evalset import fit_within  # noqa: E402
from blurgen.sources.packaged import PackagedPhotos  # noqa: E402

SIDE = 33  # kernel canvas
BLURS_PER_PHOTO = 4


def line_kernel(rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    length, angle = float(rng.uniform(7, 25)), float(rng.uniform(0, np.pi))
    scale = 16  # drawn at 16× and averaged down: sub-pixel end points
    canvas = np.zeros((SIDE * scale, SIDE * scale), np.float32)
    centre = SIDE * scale / 2
    dx, dy = np.cos(angle) * length * scale / 2, np.sin(angle) * length * scale / 2
    cv2.line(canvas, (int(centre - dx), int(centre - dy)), (int(centre + dx), int(centre + dy)), 1.0, thickness=scale, lineType=cv2.LINE_AA)
    return cv2.resize(canvas, (SIDE, SIDE), interpolation=cv2.INTER_AREA), {"kind": "line", "length": length, "angle": angle}


def walk_kernel(rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    steps = rng.normal(size=(60, 2)).cumsum(axis=0)
    smooth = np.stack([np.convolve(steps[:, k], np.ones(9) / 9, mode="valid") for k in range(2)], axis=1)
    extent = float(rng.uniform(12, 30))
    smooth -= smooth.mean(axis=0)
    smooth *= extent / max(np.ptp(smooth, axis=0).max(), 1e-6)
    scale = 16
    canvas = np.zeros((SIDE * scale, SIDE * scale), np.float32)
    points = np.round((smooth + SIDE / 2) * scale).astype(np.int32)
    cv2.polylines(canvas, [points], False, 1.0, thickness=scale, lineType=cv2.LINE_AA)
    return cv2.resize(canvas, (SIDE, SIDE), interpolation=cv2.INTER_AREA), {"kind": "walk", "extent": extent}


def blur_photo(photo: np.ndarray, kernel: np.ndarray, linear: bool, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(blurred, sharp) uint8, both cropped by the kernel's reach."""
    kernel = kernel / kernel.sum()
    values = photo.astype(np.float32) / 255
    if linear:
        values = values**2.2
    blurred = cv2.filter2D(values, -1, kernel, borderType=cv2.BORDER_REFLECT)
    if linear:
        blurred = np.clip(blurred, 0, 1) ** (1 / 2.2)
    blurred = blurred + rng.normal(0, 1 / 255, blurred.shape).astype(np.float32)
    margin = SIDE // 2
    crop = (slice(margin, -margin), slice(margin, -margin))
    return np.clip(np.rint(blurred * 255), 0, 255).astype(np.uint8)[crop], photo[crop]


def build(out: Path, max_side: int = 640, seed: int = 7) -> int:
    rng = np.random.default_rng(seed)
    photos = PackagedPhotos()
    records = []
    for index in range(len(photos)):
        photo, _ = fit_within(photos[index][:, :, :3], max_side)
        for k in range(BLURS_PER_PHOTO):
            kernel, described = (line_kernel if k % 2 == 0 else walk_kernel)(rng)
            linear = k // 2 == 1
            blurred, sharp = blur_photo(photo, kernel, linear, rng)
            name = f"{photos.id(index)}-{k}.png"
            for folder, image in (("blur", blurred), ("sharp", sharp)):
                (out / folder).mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(out / folder / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            records.append({"name": name, "light": "linear" if linear else "sRGB", **described})
    (out / "kernels.json").write_text(json.dumps({"seed": seed, "max_side": max_side, "pairs": records}, indent=2) + "\n")
    return len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--max-side", type=int, default=640)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"{build(args.out, args.max_side, args.seed)} pairs written to {args.out}")


if __name__ == "__main__":
    main()
