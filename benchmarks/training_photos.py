"""Training photographs with no download: the greyscale photographs that ship inside scikit-image
and are in no evaluation set, each also in two colour tints, written to a folder ``train --src``
reads. The tints (a random gain per channel in [0.55, 1]) give the network colour images whose
structure is shared by the channels.

Photos and licences, as scikit-image's own docstrings state them: camera (CC0, Lav Varshney),
coins (no known copyright restrictions), brick, grass and gravel (CC0Textures, CC0), cell (CC0).
Left out: moon (no licence stated), clock_motion (it is motion-blurred), page and text (scans),
and the colour photographs, which ``blurgen evalset`` and ``benchmarks/independent_blur.py``
evaluate on.

Usage: python benchmarks/training_photos.py --out photos/   (18 PNGs; the same bytes every time)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

PHOTOS = ("camera", "coins", "brick", "grass", "gravel", "cell")
TINTS = 2


def write_photos(out: Path, seed: int = 0) -> list[Path]:
    import skimage.data

    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in PHOTOS:
        grey = getattr(skimage.data, name)()
        grey = grey[..., 0] if grey.ndim == 3 else grey
        written.append(out / f"{name}.png")
        cv2.imwrite(str(written[-1]), grey)
        for k in range(TINTS):
            gains = rng.uniform(0.55, 1.0, 3)
            written.append(out / f"{name}-tint{k}.png")
            cv2.imwrite(str(written[-1]), np.clip(grey[..., None].astype(np.float32) * gains, 0, 255).astype(np.uint8))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(f"{len(write_photos(args.out))} photos written to {args.out}")


if __name__ == "__main__":
    main()
