"""Inference speed: images/s of the DeblurGAN generator restoring whole frames, as `deblur` runs it.

Rows, timed in the same run on the same frames: fp32 (TF32 on CUDA) batch 1, the paper's way;
bf16 batch 1 and batch 8 with cuDNN's autotuner (what `deblur` does on CUDA); and bf16 batch 8
in channels_last, the memory format the trainer used before. On CUDA the frames are 1280×720
(GoPro's size; the paper reports 0.85 s per image on a Titan X); on the CPU, 320×180 so the
script stays quick. Weights are random (speed does not depend on them).

Usage: python benchmarks/infer.py [--images N]. Writes benchmarks/results/infer-{cuda,cpu}.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run from the repository root without installing: import this checkout

from train.eval.evaluate import restore  # noqa: E402
from train.archs.registry import Generator  # noqa: E402


def images_per_s(generator: torch.nn.Module, frames: torch.Tensor, batch: int, amp: torch.dtype | None, device: torch.device) -> float:
    def run_all() -> None:
        for start in range(0, len(frames), batch):
            restore(generator, frames[start : start + batch], amp)

    run_all()  # warm-up: cuDNN's autotuner, allocator
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    run_all()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return len(frames) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=None)
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    height, width = (720, 1280) if cuda else (180, 320)
    count = args.images or (64 if cuda else 8)
    torch.manual_seed(0)
    frames = (torch.rand(count, 3, height, width, device=device) * 2 - 1)
    generator = Generator(init="paper").to(device).eval()
    rows = []
    for label, batch, amp, benchmark, channels_last in (
        ("fp32, batch 1 (the paper's way)", 1, None, False, False),
        ("bf16, batch 1, cudnn.benchmark", 1, torch.bfloat16, True, False),
        ("bf16, batch 8, cudnn.benchmark (deblur)", 8, torch.bfloat16, True, False),
        ("bf16, batch 8, cudnn.benchmark, channels_last", 8, torch.bfloat16, True, True),
    ):
        if not cuda:  # deblur runs fp32 on the CPU, and cuDNN is not involved
            amp = None
            label = label.replace("bf16", "fp32").replace(", cudnn.benchmark", "")
        torch.backends.cudnn.benchmark = benchmark
        model = generator.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
        data = frames.contiguous(memory_format=torch.channels_last) if channels_last else frames.contiguous()
        rate = images_per_s(model, data, batch, amp, device)
        rows.append({"what": label, "batch": batch, "images_per_s": rate, "ms_per_image": 1000 / rate})
    machine = torch.cuda.get_device_name() if cuda else f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"
    results = {"benchmark": "infer", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
               "machine": {"device": machine, "torch": torch.__version__}, "frame": f"{width}x{height}", "images": count, "rows": rows}
    out = ROOT / "benchmarks" / "results" / f"infer-{'cuda' if cuda else 'cpu'}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'what':<52} {'img/s':>8} {'ms/img':>8}   ({machine}, {width}x{height})")
    for row in rows:
        print(f"{row['what']:<52} {row['images_per_s']:>8.2f} {row['ms_per_image']:>8.1f}")
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
