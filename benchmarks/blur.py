"""Blur-engine speed: pairs/s for 256×256 RGB crops with bank kernels (65 px), per core and batched.

Per core (one thread everywhere) it times, in the same run:
* the reference approach: scipy ``fftconvolve`` per channel, kernel zero-padded to the crop
  (DeblurGAN's ``blur_image.py`` way: a float32 image and the PSF as the float64 array its
  generator makes), per crop;
* ``cv2.filter2D`` per crop (65-px kernel, reflected borders);
* ``blurgen.blur`` on a crop with its margin (``border="valid"``);
* whole pairs from :class:`blurgen.pairs.synthesizer.PairSynthesizer` with cameras none, gamma, realistic.
Batched (torch): ``blur_batch`` and the realistic camera on the CPU (1 thread and all), and on
CUDA when a GPU is present (batch 256).

Usage: python benchmarks/blur.py [--quick]. Writes benchmarks/results/blur.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import scipy.signal
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run from the repository root without installing: import this checkout

from blurgen.kernels.bank import sample_kernels  # noqa: E402
from blurgen.blurring.camera import CAMERA_PRESETS, CameraDraws  # noqa: E402
from blurgen.blurring.camera_torch import expose_batch, signed_key  # noqa: E402
from blurgen.blurring.convolve import blur  # noqa: E402
from blurgen.blurring.convolve_torch import blur_batch  # noqa: E402
from blurgen.pairs.synthesizer import BankKernels, PairSynthesizer  # noqa: E402

CROP = 256


def photo_like(rng: np.random.Generator, height: int = 480, width: int = 640) -> np.ndarray:
    """A smooth colour image with a few clipped highlights (so the realistic camera does its work)."""
    coarse = rng.random((height // 16, width // 16, 3)).astype(np.float32)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    image += 0.05 * rng.standard_normal(image.shape).astype(np.float32)
    for _ in range(4):
        y, x = rng.integers(0, height), rng.integers(0, width)
        cv2.circle(image, (int(x), int(y)), int(rng.integers(4, 15)), (1.5, 1.5, 1.5), -1)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


def per_second(run, count: int, seconds: float = 2.0) -> float:
    """Items/s: median of 5 timings of ``run`` (which makes ``count`` items), after a warm-up."""
    run()
    rounds = max(1, int(seconds / 5 / max(1e-4, timed(run))))
    rates = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(rounds):
            run()
        rates.append(count * rounds / (time.perf_counter() - started))
    return statistics.median(rates)


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def cuda_per_second(run, count: int) -> float:
    run()
    torch.cuda.synchronize()
    started = time.perf_counter()
    repeats = 20
    for _ in range(repeats):
        run()
    torch.cuda.synchronize()
    return count * repeats / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings")
    args = parser.parse_args()
    seconds = 0.5 if args.quick else 2.0
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    bank = sample_kernels(256, seed=0)
    kernels = list(bank.kernels)
    photos = [photo_like(rng) for _ in range(8)]
    margin = bank.size // 2
    regions = [p[:CROP + 2 * margin, :CROP + 2 * margin] for p in photos]
    crops = [r[margin:-margin, margin:-margin].astype(np.float32) / 255 for r in regions]
    counter = iter(range(10**9))

    def reference():
        i = next(counter)
        crop, kernel = crops[i % 8], kernels[i % 256]
        padded = np.zeros((CROP, CROP), np.float64)
        padded[CROP // 2 - margin : CROP // 2 + margin + 1, CROP // 2 - margin : CROP // 2 + margin + 1] = kernel
        return [scipy.signal.fftconvolve(crop[:, :, c], padded, mode="same") for c in range(3)]

    def opencv():
        i = next(counter)
        return cv2.filter2D(crops[i % 8], -1, cv2.flip(kernels[i % 256], -1), borderType=cv2.BORDER_REFLECT_101)

    def ours():
        i = next(counter)
        return blur(regions[i % 8], kernels[i % 256], border="valid")

    rows = []
    baseline = per_second(reference, 1, seconds)
    rows.append({"what": "reference: scipy fftconvolve per channel, kernel padded to crop", "pairs_per_s": baseline})
    rows.append({"what": "cv2.filter2D, 65-px kernel", "pairs_per_s": per_second(opencv, 1, seconds)})
    rows.append({"what": "blurgen.blur (valid, FFT), uint8 crop with margin", "pairs_per_s": per_second(ours, 1, seconds)})
    for camera in ("none", "gamma", "realistic"):
        synth = PairSynthesizer(photos, BankKernels(bank), CAMERA_PRESETS[camera], crop=CROP, seed=1, per_image=10**6)
        rows.append({"what": f"PairSynthesizer, camera {camera} (crop, kernel, blur, camera)",
                     "pairs_per_s": per_second(lambda: synth[next(counter) % len(synth)], 1, seconds)})
    for row in rows:
        row["threads"] = 1
        row["speedup_vs_reference"] = row["pairs_per_s"] / baseline

    batch = 32
    images = torch.from_numpy(np.stack([regions[i % 8] for i in range(batch)]).transpose(0, 3, 1, 2).copy()).float() / 255
    batch_kernels = torch.from_numpy(bank.kernels[:batch])
    draws = CameraDraws(saturation_alpha=1.0, beta1=8.89e-5, beta2=2.94e-5).to_tensor().repeat(batch, 1)
    keys = torch.tensor([signed_key(k) for k in range(batch)])
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        rate = per_second(lambda: blur_batch(images, batch_kernels), batch, seconds)
        rows.append({"what": f"torch blur_batch CPU, batch {batch}", "threads": threads, "pairs_per_s": rate, "speedup_vs_reference": rate / baseline})
        rate = per_second(lambda: expose_batch(images, batch_kernels, CAMERA_PRESETS["realistic"], draws, keys), batch, seconds)
        rows.append({"what": f"torch expose_batch realistic CPU, batch {batch}", "threads": threads, "pairs_per_s": rate, "speedup_vs_reference": rate / baseline})

    gpu = None
    if torch.cuda.is_available():
        gpu = torch.cuda.get_device_name()
        big = 256
        images_gpu = images.repeat(big // batch, 1, 1, 1).cuda()
        kernels_gpu = torch.from_numpy(bank.kernels[:big]).cuda()
        draws_gpu = draws.repeat(big // batch, 1).cuda()
        keys_gpu = torch.arange(big, device="cuda", dtype=torch.int64)
        for dtype in (torch.float32, torch.bfloat16):
            rate = cuda_per_second(lambda: blur_batch(images_gpu.to(dtype), kernels_gpu), big)
            rows.append({"what": f"torch blur_batch CUDA {gpu}, batch {big}, {str(dtype)[6:]}", "pairs_per_s": rate})
        rate = cuda_per_second(lambda: expose_batch(images_gpu, kernels_gpu, CAMERA_PRESETS["realistic"], draws_gpu, keys_gpu), big)
        rows.append({"what": f"torch expose_batch realistic CUDA {gpu}, batch {big}", "pairs_per_s": rate})

    results = {
        "benchmark": "blur",
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "gpu": gpu,
                    "torch": torch.__version__, "opencv": cv2.__version__},
        "setup": {"crop": CROP, "kernel_size": bank.size, "region": CROP + 2 * margin, "source": "8 synthetic 640x480 photos with highlights"},
        "rows": rows,
    }
    out = ROOT / "benchmarks" / "results" / "blur.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'what':<72} {'threads':>7} {'pairs/s':>10} {'vs ref':>7}")
    for row in rows:
        ratio = f"{row['speedup_vs_reference']:.1f}x" if "speedup_vs_reference" in row else ""
        print(f"{row['what']:<72} {row.get('threads', ''):>7} {row['pairs_per_s']:>10,.1f} {ratio:>7}")
    print("no CUDA device: GPU rows skipped" if gpu is None else f"GPU: {gpu}")
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
