"""Non-uniform blur speed: pairs/s at 256-px crops on one core for ``--motion rotation`` and
``objects``, beside the uniform blur timed in the same run, and, on CUDA, the batched torch
camera blur (``blurgen.blurring.nonuniform_torch.render_batch``) in pairs/s.

Sharp images: built-in dead-leaves images (640×480) with two square "objects" annotated on each,
as COCO instance masks would be. Camera: ``none``; shake preset ``shake`` (the centre blurs like a
deblurgan kernel: 60-px paths, so about 60–90 poses per pair).

Usage: python benchmarks/motion.py [--pairs N]. Writes benchmarks/results/motion-{cuda,cpu}.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run from the repository root without installing: import this checkout

from blurgen.blurring.motion import draw_rotation_path, shake_preset  # noqa: E402
from blurgen.pairs.motion import Motion  # noqa: E402
from blurgen.blurring.nonuniform_torch import render_batch  # noqa: E402
from blurgen.pairs.synthesizer import LiveKernels, PairSynthesizer  # noqa: E402
from blurgen.sources import dead_leaves_image  # noqa: E402

CROP = 256


class WithObjects:
    """Dead-leaves images, each annotated with two squares (a 60-px and a 90-px one)."""

    def __init__(self, count: int) -> None:
        self.images = [dead_leaves_image(5, i) for i in range(count)]

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.images[index]

    def masks(self, index: int) -> list[dict]:
        out = []
        for top, left, side in ((180, 250, 60), (150, 300, 90)):
            mask = np.zeros((480, 640), np.uint8)
            mask[top : top + side, left : left + side] = 1
            out.append({"category_id": 1, "mask": mask})
        return out


def pairs_per_s(synthesizer: PairSynthesizer, count: int) -> tuple[float, dict]:
    synthesizer.make_with_map(synthesizer.source[0], 0)  # numba's cached code, OpenCV's first call
    poses = []
    started = time.perf_counter()
    for i in range(count):
        pair, _, _ = synthesizer.make_with_map(synthesizer.source[i % len(synthesizer.source)], i)
        poses.append(pair.meta.get("motion", {}).get("poses", 1))
    return count / (time.perf_counter() - started), {"mean_poses": float(np.mean(poses))}


def gpu_pairs_per_s(batch: int = 64) -> float:
    shake = shake_preset("shake")
    paths = [draw_rotation_path(shake, 0, i, 0.5, (480, 640)) for i in range(batch)]
    margin = 80
    count = max(path.poses for path in paths)
    inverse, weights = np.tile(np.eye(3), (batch, count, 1, 1)), np.zeros((batch, count))
    for i, path in enumerate(paths):
        inverse[i, : path.poses] = np.linalg.inv(path.homographies(319.5 - 150, 239.5 - 100))
        weights[i, : path.poses] = 1
    regions = torch.rand(batch, 3, CROP + 2 * margin, CROP + 2 * margin, device="cuda")
    inverse, weights = torch.from_numpy(inverse).cuda(), torch.from_numpy(weights).cuda()
    render_batch(regions, inverse, weights, margin, CROP)
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(5):
        render_batch(regions, inverse, weights, margin, CROP)
    torch.cuda.synchronize()
    return 5 * batch / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    source = WithObjects(8)
    rows = []
    for label, motion in (("uniform (one kernel)", None), ("--motion rotation", Motion("rotation")), ("--motion objects", Motion("objects")),
                          ("--motion mixed", Motion("mixed"))):
        synthesizer = PairSynthesizer(source, LiveKernels(), crop=CROP, seed=0, motion=motion)
        rate, extra = pairs_per_s(synthesizer, args.pairs if motion else 10 * args.pairs)
        rows.append({"what": label, "pairs_per_s": rate, **extra})
    for row in rows:
        row["cost_vs_uniform"] = rows[0]["pairs_per_s"] / row["pairs_per_s"]
    cuda = torch.cuda.is_available()
    results = {"benchmark": "motion", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
               "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                           "gpu": torch.cuda.get_device_name() if cuda else None},
               "setup": {"crop": CROP, "threads": 1, "images": "640x480 dead leaves with two square objects", "shake": "shake"},
               "rows": rows, "gpu_camera_pairs_per_s": gpu_pairs_per_s() if cuda else None}
    out = ROOT / "benchmarks" / "results" / f"motion-{'cuda' if cuda else 'cpu'}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'what':<24} {'pairs/s':>9} {'poses':>6} {'cost vs uniform':>16}   (one core, {CROP}-px crops)")
    for row in rows:
        print(f"{row['what']:<24} {row['pairs_per_s']:>9.1f} {row['mean_poses']:>6.0f} {row['cost_vs_uniform']:>15.1f}x")
    if cuda:
        print(f"GPU camera blur ({results['machine']['gpu']}): {results['gpu_camera_pairs_per_s']:,.0f} pairs/s (render only, batch 64)")
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
