"""Training-step speed, measured beside the machine's own arithmetic rate in the same run.

On a CUDA machine: the full DeblurGAN step (5 critic steps with their gradient penalty, one
generator step) at 256-px crops, our defaults (batch 16, bf16) against the paper's configuration
(batch 1, fp32), model FLOPs utilisation against the GPU's dense peak.

On a CPU (what every user without a GPU has): 96-px crops, batch 8, for the small ResNet (ngf 16,
4 blocks), the full-size ResNet (ngf 64, 9 blocks) and NAFNet at two sizes, each in fp32 and
bf16:
* the full training step through ``train`` with its default threads and workers (img/s, data wait);
* a plain loop of the generator alone (forward, L1, backward, Adam) on tensors already in memory;
* the rate of a matrix product in fp32 and bf16 (the faster of 2048² and 4096²), timed in the
  same run: the share of the bf16 rate each row reaches is its utilisation of this CPU;
* for the small model in bf16, the thread/worker splits, to show how far the default is from the
  best split on this machine.

Data: the Synth regime from JPEG files on disk (built-in dead-leaves images written as JPEGs, as
a real corpus would be), blur made in the training process.

Usage: python benchmarks/train.py [--gopro GoPro_Large] [--steps N] [--quick].
Writes benchmarks/results/train-{cuda,cpu}.json.
"""

from __future__ import annotations

import argparse
import json
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
from train.config import TrainConfig, resolved  # noqa: E402
from train.losses.content import ContentLoss, PerceptualLoss, vgg_conv3_3  # noqa: E402
from train.flops import CountFlops  # noqa: E402
from train.losses.gan import GRADIENT_PENALTY_WEIGHT, critic_loss  # noqa: E402
from train.loop import train  # noqa: E402
from train.machine import cores_here, cpu_has_bf16, plan_threads  # noqa: E402
from train.archs.registry import make_critic_for, make_generator, parameter_count  # noqa: E402

# Dense peak FLOP/s (bf16, TF32) by device name, from the vendors' data sheets.
PEAKS = (("H100 PCIe", 756e12, 378e12), ("H100", 989e12, 494e12), ("H200", 989e12, 494e12), ("A100", 312e12, 156e12))
CPU_MODELS = {"resnet small (ngf 16, 4 blocks)": dict(generator="resnet", ngf=16, blocks=4, ndf=8),
              "resnet full (ngf 64, 9 blocks)": dict(generator="resnet", ngf=64, blocks=9, ndf=64),
              "nafnet (width 16, 2 blocks)": dict(generator="nafnet", ngf=16, blocks=2, ndf=8),
              "nafnet (width 32, 4 blocks)": dict(generator="nafnet", ngf=32, blocks=4, ndf=16)}


def peak_flops(device_name: str, amp: str) -> float | None:
    for name, bf16, tf32 in PEAKS:
        if name in device_name:
            return bf16 if amp == "bf16" else tf32
    return None


def matmul_rate(dtype: torch.dtype, side: int = 2048, seconds: float = 2.0) -> float:
    """FLOP/s of a side² matrix product in ``dtype`` on the CPU, on every core."""
    torch.set_num_threads(cores_here())
    a, b = torch.randn(side, side, dtype=dtype), torch.randn(side, side, dtype=dtype)
    a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return 2 * side**3 * count / (time.perf_counter() - start)


def step_flops(config: TrainConfig, device: torch.device) -> float:
    """FLOPs of one training step of ``config`` (the loop's arithmetic, on random data)."""
    settings = vars(resolved(config))
    generator, critic = make_generator(settings).to(device), make_critic_for(settings).to(device)
    content = ContentLoss(config.content, PerceptualLoss(vgg_conv3_3("random")) if "perceptual" in config.content else None).to(device)
    blurred = torch.rand(config.batch_size, 3, config.crop, config.crop, device=device) * 2 - 1
    sharp = torch.rand_like(blurred) * 2 - 1
    with CountFlops() as counter:
        restored = generator(blurred)
        for step in range(config.critic_steps):
            weight = config.gp_every * GRADIENT_PENALTY_WEIGHT if step % config.gp_every == 0 else 0.0
            loss, _ = critic_loss(critic, sharp, restored.detach(), penalty_weight=weight)
            loss.backward()
        critic.requires_grad_(False)
        loss = -critic(restored).mean() + content(restored, sharp)[0]
        loss.backward()
    return float(counter.total)


def training_row(label: str, photos: str, **settings) -> dict:
    """The full step through ``train``, timed over the steps after the first."""
    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(out=out, log_every=10**9, image_every=10**9, checkpoint_every=10**9, mix="synth", src=photos,
                             vgg_weights="random", **settings)
        lines: list[str] = []
        result = train(config, log=lines.append)
        flops = step_flops(config, torch.device(config.device)) / config.batch_size
    plan = next((line[line.index("torch thread") - 2:] for line in lines if "torch thread" in line), None)  # the plan the run printed
    return {"what": label, "images_per_s": result["images_per_s"], "data_wait_fraction": result["data_wait_fraction"],
            "flops_per_image_step": flops, "achieved_flops": flops * result["images_per_s"], "threads": plan,
            **{key: settings.get(key) for key in ("generator", "ngf", "blocks", "ndf", "batch_size", "crop", "steps", "amp",
                                                  "workers", "threads")}}


def generator_loop(settings: dict, *, amp: str, batch: int, crop: int, steps: int) -> dict:
    """The generator alone: forward, 10·L1, backward, Adam, on tensors already in memory, on every core."""
    torch.set_num_threads(cores_here())
    torch.manual_seed(0)
    generator = make_generator({**settings, "init": "identity"})
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-4, betas=(0.5, 0.999))
    blurred, sharp = torch.rand(batch, 3, crop, crop) * 2 - 1, torch.rand(batch, 3, crop, crop) * 2 - 1
    dtype = torch.bfloat16 if amp == "bf16" else None

    def one_step() -> None:
        with torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
            loss = 10 * (generator(blurred).float() - sharp).abs().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    with CountFlops() as counter:
        one_step()
    start = time.perf_counter()
    for _ in range(steps):
        one_step()
    images_per_s = batch * steps / (time.perf_counter() - start)
    flops = counter.total / batch
    return {"images_per_s": images_per_s, "flops_per_image_step": flops, "achieved_flops": flops * images_per_s}


def cpu_rows(photos: str, steps: int, quick: bool) -> dict:
    crop, batch = 96, 8
    # The faster of a 2048² and a 4096² product: the smaller alone understates what the cores can do.
    rates = {name: max(matmul_rate(dtype, side) for side in (2048, 4096)) for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))}
    amps = ("off", "bf16") if cpu_has_bf16() else ("off",)
    models = dict(list(CPU_MODELS.items())[: 2 if quick else None])
    rows, plain = [], []
    for label, sizes in models.items():
        full = sizes["ngf"] == 64
        for amp in amps:
            count = max(3, steps // 4) if full else steps
            rows.append(training_row(f"{label}, {amp if amp != 'off' else 'fp32'}", photos, device="cpu", amp=amp, batch_size=batch,
                                     crop=crop, steps=count, **sizes))
            rows[-1]["parameters"] = parameter_count(make_generator(sizes))
            plain.append({"what": rows[-1]["what"], **generator_loop(sizes, amp=amp, batch=batch, crop=crop, steps=count)})
    splits = []
    small = CPU_MODELS["resnet small (ngf 16, 4 blocks)"]
    for threads, workers in ((2, 0), (1, 1), (2, 1), (1, 2), (None, None)):
        label = "default" if threads is None else f"{threads} torch thread(s), {workers} worker(s)"
        splits.append(training_row(f"small, bf16: {label}", photos, device="cpu", amp=amps[-1], batch_size=batch, crop=crop, steps=steps,
                                   threads=threads, workers=workers, **small))
    for row in rows + plain:
        row["share_of_bf16_matmul"] = row["achieved_flops"] / rates["bf16"]
    return {"matmul_flops_per_s": rates, "rows": rows, "generator_alone": plain, "thread_splits": splits,
            "default_plan": plan_threads(torch.device("cpu")).describe()}


def cuda_rows(photos: str, steps: int, gopro: str | None) -> dict:
    device_name = torch.cuda.get_device_name()
    common = dict(crop=256, steps=steps, device="cuda")
    rows = [
        training_row("synth, our defaults", photos, batch_size=16, amp="bf16", **common),
        training_row("synth, the paper's configuration (--paper)", photos, batch_size=1, amp="off", init="paper", critic="paper",
                     content="perceptual", **common),
        training_row("synth, defaults + --gp-every 4 (changes the algorithm)", photos, batch_size=16, amp="bf16", gp_every=4, **common),
        training_row("synth, defaults + --critic-steps 1 (changes the algorithm)", photos, batch_size=16, amp="bf16", critic_steps=1, **common),
        training_row("synth, NAFNet-width32 (bf16, batch 16)", photos, batch_size=16, amp="bf16", generator="nafnet", **common),
    ]
    if gopro:
        with tempfile.TemporaryDirectory() as out:
            result = train(TrainConfig(out=out, mix="wild", gopro=gopro, batch_size=16, amp="bf16", log_every=10**9, **common), log=lambda _: None)
        rows.append({"what": "wild, our defaults", "images_per_s": result["images_per_s"], "data_wait_fraction": result["data_wait_fraction"]})
    for row in rows:
        peak = peak_flops(device_name, row.get("amp") or "off")
        row["mfu"] = row["achieved_flops"] / peak if peak and "achieved_flops" in row else None
    return {"rows": rows, "speedup_defaults_vs_paper": rows[0]["images_per_s"] / rows[1]["images_per_s"]}


def print_table(results: dict) -> None:
    print(f"{'what':<58} {'img/s':>8} {'data wait':>10} {'GFLOP/s':>9} {'of bf16 mm':>10}")
    for row in results["rows"] + results.get("thread_splits", []):
        share = f"{row['share_of_bf16_matmul']:.1%}" if "share_of_bf16_matmul" in row else (f"{row['mfu']:.1%}" if row.get("mfu") else "-")
        print(f"{row['what']:<58} {row['images_per_s']:>8.2f} {row['data_wait_fraction']:>10.1%} "
              f"{row.get('achieved_flops', float('nan')) / 1e9:>9.1f} {share:>10}")
    for row in results.get("generator_alone", []):
        print(f"{'generator alone: ' + row['what']:<58} {row['images_per_s']:>8.2f} {'-':>10} {row['achieved_flops'] / 1e9:>9.1f} "
              f"{row['share_of_bf16_matmul']:>10.1%}")
    if "matmul_flops_per_s" in results:
        rates = results["matmul_flops_per_s"]
        print(f"matmul: fp32 {rates['fp32'] / 1e9:.0f} GFLOP/s, bf16 {rates['bf16'] / 1e9:.0f} GFLOP/s; default: {results['default_plan']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gopro", help="GoPro_Large root, to time the WILD regime too (GPU)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="CPU: the two ResNet sizes only")
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    photos = tempfile.TemporaryDirectory()  # JPEG photos on disk, as COCO would be
    for i in range(64):
        cv2.imwrite(str(Path(photos.name) / f"{i:03d}.jpg"), cv2.cvtColor(dead_leaves_image(0, i), cv2.COLOR_RGB2BGR))
    device_name = torch.cuda.get_device_name() if cuda else f"CPU ({platform.processor() or platform.machine()}, {cores_here()} cores)"
    if cuda:
        results = cuda_rows(photos.name, args.steps or 30, args.gopro)
    else:
        results = cpu_rows(photos.name, args.steps or 12, args.quick)
    results = {"benchmark": "train", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
               "machine": {"device": device_name, "torch": torch.__version__, "cpu_bf16": cpu_has_bf16()}, **results}
    out = ROOT / "benchmarks" / "results" / f"train-{'cuda' if cuda else 'cpu'}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"({device_name}) written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
