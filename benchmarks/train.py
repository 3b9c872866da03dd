"""Training-step speed: images/s of the full DeblurGAN step (5 critic steps, one generator step,
perceptual loss), our defaults against the paper's configuration, timed in the same run.

Rows: Synth regime (64 JPEG photos on disk as the sharp source) with our defaults (batch 16,
bf16 autocast and channels_last on CUDA; blur made on the device) and with the reference
configuration (batch 1, fp32); the fraction of each step spent waiting for data; WILD too when
``--gopro`` is given. On a machine without a GPU it
runs a small CPU version (crop 64, batch 4 vs 1) so the script and its figures stay honest about
where they were measured.

Usage: python benchmarks/train.py [--gopro GoPro_Large] [--steps N]. Writes benchmarks/results/train.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run as a script, this file's folder would make "train" mean this file

from blurgen.sources import dead_leaves_image  # noqa: E402
from train.loop import TrainConfig, train  # noqa: E402


def measure(label: str, **settings) -> dict:
    with tempfile.TemporaryDirectory() as out:
        result = train(TrainConfig(out=out, vgg_weights="random", log_every=10**9, image_every=10**9,
                                   checkpoint_every=10**9, **settings), log=lambda _: None)
    return {"what": label, "images_per_s": result["images_per_s"], "data_wait_fraction": result["data_wait_fraction"],
            **{k: settings[k] for k in ("mix", "batch_size", "amp", "crop", "steps")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gopro", help="GoPro_Large root, to time the WILD regime too")
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    crop, batch = (256, 16) if cuda else (64, 4)
    steps = args.steps or (30 if cuda else 4)
    photos = tempfile.TemporaryDirectory()  # JPEG photos on disk, as COCO would be (the procedural corpus is slower to make)
    for i in range(64):
        cv2.imwrite(str(Path(photos.name) / f"{i:03d}.jpg"), cv2.cvtColor(dead_leaves_image(0, i), cv2.COLOR_RGB2BGR))
    common = dict(crop=crop, steps=steps, workers=min(8, os.cpu_count() or 1), device="cuda" if cuda else "cpu", sharp=photos.name)
    rows = [
        measure("synth, our defaults", mix="synth", batch_size=batch, amp="bf16", **common),
        measure("synth, reference config (batch 1, fp32)", mix="synth", batch_size=1, amp="off", **common),
    ]
    if args.gopro:
        rows.append(measure("wild, our defaults", mix="wild", gopro=args.gopro, batch_size=batch, amp="bf16", **common))
    ratio = rows[0]["images_per_s"] / rows[1]["images_per_s"]
    results = {
        "benchmark": "train",
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"device": torch.cuda.get_device_name() if cuda else f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)",
                    "torch": torch.__version__},
        "rows": rows,
        "speedup_defaults_vs_reference": ratio,
    }
    out = ROOT / "benchmarks" / "results" / f"train-{'cuda' if cuda else 'cpu'}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'what':<44} {'batch':>5} {'amp':>5} {'crop':>5} {'img/s':>8} {'data wait':>10}")
    for row in rows:
        print(f"{row['what']:<44} {row['batch_size']:>5} {row['amp']:>5} {row['crop']:>5} {row['images_per_s']:>8.2f} {row['data_wait_fraction']:>10.1%}")
    print(f"defaults vs reference: {ratio:.1f}x   ({results['machine']['device']})")
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
