"""Dataset-writer speed: pairs/s of ``build_dataset`` on a folder of 640×480 JPEG photos.

Baseline, timed in the same run: the I/O floor of the same job, decoding every JPEG and encoding
two 256×256 PNGs per image, with no blur at all. Crops of 256 px, live kernels (65 px), one pair
per image, cameras none and realistic, 1 worker and all cores.

Usage: python benchmarks/dataset.py [--images N]. Writes benchmarks/results/dataset.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from blurgen.camera import camera_preset
from blurgen.dataset import DatasetSpec
from blurgen.distribute import build_dataset
from blurgen.pairs import LiveKernels
from blurgen.sources import FolderSource, dead_leaves_image, read_image
from blurgen.sources.images import encode_png

ROOT = Path(__file__).resolve().parents[1]


def io_floor(paths: list[Path]) -> int:
    for path in paths:
        image = read_image(path)
        crop = np.ascontiguousarray(image[:256, :256])
        encode_png(crop)
        encode_png(crop)
    return len(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        photos = Path(tmp) / "photos"
        photos.mkdir()
        for i in range(args.images):
            image = cv2.cvtColor(dead_leaves_image(9, i), cv2.COLOR_RGB2BGR)
            cv2.imwrite(str(photos / f"{i:05d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths = sorted(photos.iterdir())
        for workers in sorted({1, cores}):
            chunks = [paths[k::workers] for k in range(workers)]
            started = time.perf_counter()
            with ProcessPoolExecutor(workers) as pool:
                done = sum(pool.map(io_floor, chunks))
            rows.append({"what": "I/O floor: decode JPEG + 2 PNG encodes", "workers": workers,
                         "pairs_per_s": done / (time.perf_counter() - started)})
            for camera in ("none", "realistic"):
                spec = DatasetSpec(out=Path(tmp) / f"out-{camera}-{workers}", source=FolderSource(photos),
                                   kernels=LiveKernels(seed=0), camera=camera_preset(camera), crop=256, seed=0)
                started = time.perf_counter()
                report = build_dataset(spec, workers=workers)
                rows.append({"what": f"blurgen dataset, camera {camera}", "workers": workers,
                             "pairs_per_s": report["pairs_now"] / (time.perf_counter() - started)})
    results = {
        "benchmark": "dataset",
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": cores},
        "setup": {"images": args.images, "image": "640x480 JPEG q90 (dead leaves)", "crop": 256, "kernels": "live, 65 px"},
        "rows": rows,
    }
    out = ROOT / "benchmarks" / "results" / "dataset.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'what':<44} {'workers':>7} {'pairs/s':>9}")
    for row in rows:
        print(f"{row['what']:<44} {row['workers']:>7} {row['pairs_per_s']:>9.1f}")
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
