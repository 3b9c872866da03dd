"""Training-step speed: images/s of the full DeblurGAN step (5 critic steps, one generator step,
perceptual loss), our defaults against the paper's configuration, timed in the same run.

Rows: Synth regime (64 JPEG photos on disk as the sharp source) with our defaults (batch 16,
bf16 autocast and channels_last on CUDA; blur made on the device) and with the reference
configuration (batch 1, fp32); the fraction of each step spent waiting for data; WILD too when
``--gopro`` is given. On a machine without a GPU it
runs a small CPU version (crop 64, batch 4 vs 1) so the script and its figures stay honest about
where they were measured.

Model FLOPs utilisation: the FLOPs of one training step are counted once
(``torch.utils.flop_counter``: generator forward, the critic steps with their gradient penalty,
the generator's backward through critic and content loss) and divided by the device's dense peak
(bf16 rows: its bf16 peak; fp32 rows: its TF32 peak, which cuDNN uses for fp32 convolutions).

Usage: python benchmarks/train.py [--gopro GoPro_Large] [--steps N]. Writes benchmarks/results/train-{cuda,cpu}.json.
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
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402
from torch.utils.flop_counter import flop_registry  # noqa: E402
from train.losses import ContentLoss, PerceptualLoss, critic_loss, vgg_conv3_3  # noqa: E402
from train.loop import TrainConfig, train  # noqa: E402
from train.models import Generator, make_critic  # noqa: E402

# Dense peak FLOP/s (bf16, TF32) by device name, from the vendors' data sheets.
PEAKS = (("H100 PCIe", 756e12, 378e12), ("H100", 989e12, 494e12), ("H200", 989e12, 494e12), ("A100", 312e12, 156e12))


def peak_flops(device_name: str, amp: str) -> float | None:
    for name, bf16, tf32 in PEAKS:
        if name in device_name:
            return bf16 if amp == "bf16" else tf32
    return None


class CountFlops(TorchDispatchMode):
    """FLOPs of every op run inside it, by torch's own formulas (``torch.utils.flop_counter``).

    ``FlopCounterMode`` itself also tracks modules with backward hooks, which
    ``torch.autograd.grad`` (the gradient penalty) does not allow; this counts the same ops without.
    """

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += formula(*args, **kwargs, out_val=out)
        return out

    def get_total_flops(self) -> int:
        return self.total


def step_flops(config: TrainConfig, device: torch.device) -> float:
    """FLOPs of one training step of ``config`` (the loop's arithmetic, on random data)."""
    generator, critic = Generator(config.upsample).to(device), make_critic(config.critic).to(device)
    content = ContentLoss(config.content, PerceptualLoss(vgg_conv3_3("random")) if "perceptual" in config.content else None).to(device)
    blurred = torch.rand(config.batch_size, 3, config.crop, config.crop, device=device) * 2 - 1
    sharp = torch.rand_like(blurred) * 2 - 1
    with CountFlops() as counter:
        restored = generator(blurred)
        for step in range(config.critic_steps):
            loss, _ = critic_loss(critic, sharp, restored.detach(), penalty_weight=10.0 if step % config.gp_every == 0 else 0.0)
            loss.backward()
        critic.requires_grad_(False)
        loss = -critic(restored).mean() + content(restored, sharp)[0]
        loss.backward()
    return float(counter.get_total_flops())


def measure(label: str, device_name: str, **settings) -> dict:
    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(out=out, log_every=10**9, image_every=10**9, checkpoint_every=10**9, **settings)
        result = train(config, log=lambda _: None)
        flops = step_flops(config, torch.device(config.device))
    peak = peak_flops(device_name, settings["amp"] if settings["device"] == "cuda" else "off")
    achieved = flops / settings["batch_size"] * result["images_per_s"]
    return {"what": label, "images_per_s": result["images_per_s"], "data_wait_fraction": result["data_wait_fraction"],
            "flops_per_image_step": flops / settings["batch_size"], "achieved_tflops": achieved / 1e12,
            "mfu": achieved / peak if peak else None,
            **{k: settings.get(k, getattr(config, k)) for k in ("mix", "batch_size", "crop", "steps", "critic_steps", "gp_every")},
            "amp": settings["amp"] if settings["device"] == "cuda" else "off (CPU)"}


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
    device_name = torch.cuda.get_device_name() if cuda else f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"
    common = dict(crop=crop, steps=steps, workers=min(8, os.cpu_count() or 1), device="cuda" if cuda else "cpu", sharp=photos.name,
                  mix="synth", vgg_weights="random")
    paper = dict(batch_size=1, amp="off", init="paper", critic="paper", content="perceptual")
    rows = [
        measure("synth, our defaults", device_name, batch_size=batch, amp="bf16", **common),
        measure("synth, the paper's configuration (--paper)", device_name, **paper, **common),
        measure("synth, defaults + --gp-every 4 (changes the algorithm)", device_name, batch_size=batch, amp="bf16", gp_every=4, **common),
        measure("synth, defaults + --critic-steps 1 (changes the algorithm)", device_name, batch_size=batch, amp="bf16", critic_steps=1, **common),
    ]
    if args.gopro:
        rows.append(measure("wild, our defaults", device_name, **{**common, "mix": "wild", "sharp": None}, gopro=args.gopro, batch_size=batch, amp="bf16"))
    ratio = rows[0]["images_per_s"] / rows[1]["images_per_s"]
    results = {
        "benchmark": "train",
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"device": device_name, "torch": torch.__version__},
        "rows": rows,
        "speedup_defaults_vs_paper": ratio,
    }
    out = ROOT / "benchmarks" / "results" / f"train-{'cuda' if cuda else 'cpu'}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'what':<60} {'batch':>5} {'amp':>9} {'crop':>5} {'img/s':>8} {'data wait':>10} {'TFLOP/s':>8} {'MFU':>6}")
    for row in rows:
        mfu = f"{row['mfu']:.1%}" if row["mfu"] is not None else "-"
        print(f"{row['what']:<60} {row['batch_size']:>5} {row['amp']:>9} {row['crop']:>5} {row['images_per_s']:>8.2f} "
              f"{row['data_wait_fraction']:>10.1%} {row['achieved_tflops']:>8.3f} {mfu:>6}")
    print(f"defaults vs the paper's configuration: {ratio:.1f}x   ({device_name})")
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
