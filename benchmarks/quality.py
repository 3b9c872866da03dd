"""Quality benchmark: does training make real photographs sharper? Each row trains one
configuration for the same number of images from the same seed, then restores a held-out set of
real photographs (scikit-image's, blurred by `blurgen evalset` with kernels and a camera the
runs never train on) and reports PSNR/SSIM of the restored images beside those of the blurred
inputs.

Rows (choose with --rows: names, or the groups base (the default), variants, all):
  paper            DeblurGAN as published: batch 1, fp32, N(0, 0.02) init, InstanceNorm critic, perceptual loss
  paper-batch      the paper's algorithm with our batch and precision (batch 16, bf16 on CUDA)
  +identity        paper-batch + generator that starts at the identity
  +critic          paper-batch + the spectral-norm critic without InstanceNorm
  +content         paper-batch + the L1 content loss
  default          what `train` does with no options
  default+vgg      the default with --content perceptual+l1 (for users with ImageNet VGG-19 weights)
  default+gp4      the default with --gp-every 4 (lazy gradient penalty: a speed option)
  default+critic1  the default with --critic-steps 1 (one critic step per batch: a speed option)
  variants         the default beside each family the GAN-deblurring literature tried: unet,
                   attention (both kinds), batchnorm, sn-both (spectral norm on both nets),
                   vanilla-gan, lsgan, ragan-ls (with the double-scale critic), vgg16
                   (perceptual+l1 with VGG-16), mse; the table adds each row's training speed
                   relative to the default's
A second table ("critic probe") trains each critic alone on sharp vs blurred crops and ranks
held-out pairs (train/probe.py): the reason the default critic exists.

Training data: the Synth regime from JPEG files on disk (built-in dead-leaves images written as
JPEGs, as a real corpus would be). VGG-19 weights: --vgg-weights (random unless given; nothing is
downloaded). On a CUDA machine: 256-px crops, batch 16, 1,024 images per row (about 4 minutes
for all rows on one H100 by the step speeds measured there: the paper's batch-1 fp32 row is
about half of it). Elsewhere a tiny CPU version: 64-px crops,
batch 4, 96 images per row, photos downscaled to 192 px, so the script stays honest.

Usage: python benchmarks/quality.py [--rows paper,default] [--images N] [--vgg-weights PATH]
Writes benchmarks/results/quality-{cuda,cpu}.json and .md.
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

from blurgen.evalset import EvalsetSpec, build_evalset  # noqa: E402
from blurgen.sources import dead_leaves_image, open_pairs  # noqa: E402
from train.checkpoint import load_checkpoint  # noqa: E402
from train.evaluate import evaluate  # noqa: E402
from train.config import TrainConfig  # noqa: E402
from train.loop import train  # noqa: E402
from train.models import CRITICS, make_critic, make_generator  # noqa: E402
from train.probe import critic_probe  # noqa: E402

PAPER = dict(init="paper", critic="paper", content="perceptual", adv_weight=1.0)
ROWS: dict[str, dict] = {
    "paper": dict(PAPER, batch_size=1, amp="off"),
    "paper-batch": dict(PAPER),
    "+identity": dict(PAPER, init="identity"),
    "+critic": dict(PAPER, critic="spectral"),
    "+content": dict(PAPER, content="l1"),
    "default": {},
    "default+vgg": dict(content="perceptual+l1"),
    "default+gp4": dict(gp_every=4),
    "default+critic1": dict(critic_steps=1),
}
# The variants the GAN-deblurring literature tried, one family each against the default.
VARIANTS: dict[str, dict] = {
    "unet": dict(generator="unet"),
    "attention": dict(attention="both"),
    "batchnorm": dict(norm="batch"),
    "sn-both": dict(spectral_norm="both"),
    "vanilla-gan": dict(gan="vanilla"),
    "lsgan": dict(gan="lsgan"),
    "ragan-ls": dict(gan="ragan-ls", critic="double"),
    "vgg16": dict(content="perceptual+l1", perceptual_net="vgg16"),
    "mse": dict(content="mse"),
}
GROUPS = {"base": list(ROWS), "variants": ["default", *VARIANTS], "all": [*ROWS, *VARIANTS]}


def write_photos(folder: Path, count: int) -> None:
    for i in range(count):
        cv2.imwrite(str(folder / f"{i:04d}.jpg"), cv2.cvtColor(dead_leaves_image(0, i), cv2.COLOR_RGB2BGR))


def run_row(name: str, changes: dict, common: dict, images: int, pairs: object, device: torch.device) -> dict:
    settings = {**common, **changes}
    settings["steps"] = max(1, images // settings["batch_size"])
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        result = train(TrainConfig(out=out, **settings), log=lambda _: None)
        minutes = (time.perf_counter() - started) / 60
        state = load_checkpoint(result["checkpoint"])
    generator = make_generator(state["args"])
    generator.load_state_dict(state["generator"])
    report = evaluate(generator.to(device), pairs, device)
    last = result["history"][-1]
    return {"row": name, "images": settings["steps"] * settings["batch_size"], "steps": settings["steps"],
            "batch_size": settings["batch_size"], "amp": settings["amp"] if device.type == "cuda" else "off",
            "init": settings.get("init", "identity"), "critic": settings.get("critic", "spectral"),
            "content": settings.get("content", "l1"), "adv_weight": settings.get("adv_weight", 1.0),
            "critic_steps": settings.get("critic_steps", 5), "gp_every": settings.get("gp_every", 1),
            "variant": {key: settings[key] for key in ("generator", "norm", "attention", "spectral_norm", "gan", "perceptual_net") if key in settings},
            "minutes": minutes, "images_per_s": result["images_per_s"], **report["mean"],
            "final_gap": last["wasserstein"], "per_image": report["per_image"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="base", help=f"comma-separated names or groups ({', '.join(GROUPS)}), from: {', '.join([*ROWS, *VARIANTS])}")
    parser.add_argument("--images", type=int, default=None, help="training images per row (same for every row)")
    parser.add_argument("--vgg-weights", default="random", help="imagenet (torchvision's cache), random, or a path")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="results file (default benchmarks/results/quality-<device>.json)")
    args = parser.parse_args()
    rows = [name for row in args.rows.split(",") if row.strip() for name in GROUPS.get(row.strip(), [row.strip()])]
    unknown = [row for row in rows if row not in ROWS and row not in VARIANTS]
    if unknown:
        parser.error(f"unknown rows {unknown}; choose from {', '.join([*ROWS, *VARIANTS])} or a group ({', '.join(GROUPS)})")
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    crop, batch, images = (256, 16, 1024) if cuda else (64, 4, 96)
    images = args.images or images
    work = tempfile.TemporaryDirectory()
    photos, evalset = Path(work.name) / "photos", Path(work.name) / "evalset"
    photos.mkdir()
    write_photos(photos, 256 if cuda else 32)
    eval_spec = EvalsetSpec(seed=args.seed) if cuda else EvalsetSpec(seed=args.seed, per_image=2, max_side=192)
    build_evalset(evalset, eval_spec)
    pairs = open_pairs(evalset)
    common = dict(mix="synth", sharp=str(photos), crop=crop, batch_size=batch, amp="bf16", seed=args.seed,
                  vgg_weights=args.vgg_weights, workers=min(8, os.cpu_count() or 1), device=device.type,
                  log_every=10**9, image_every=10**9, checkpoint_every=10**9)

    probes = []
    for kind in CRITICS:
        torch.manual_seed(args.seed)
        probes.append({"critic": kind, **critic_probe(make_critic(kind), seed=args.seed)})
    results = []
    for name in rows:
        results.append(run_row(name, ROWS.get(name, VARIANTS.get(name)), common, images, pairs, device))
        row = results[-1]
        print(f"{name:<16} PSNR {row['psnr']:.2f} (blurred {row['psnr_blurred']:.2f}, gain {row['psnr_gain']:+.2f})  "
              f"SSIM {row['ssim']:.4f} (gain {row['ssim_gain']:+.4f})  {row['minutes']:.1f} min", flush=True)

    machine = torch.cuda.get_device_name() if cuda else f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"
    summary = {"benchmark": "quality", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": {"device": machine, "torch": torch.__version__},
               "training": {"regime": "synth", "source": "256 (GPU) / 32 (CPU) built-in dead-leaves images as JPEG files", "crop": crop,
                            "images_per_row": images, "seed": args.seed, "vgg_weights": args.vgg_weights},
               "evalset": {**eval_spec.to_dict(), "pairs": len(pairs), "photos": "scikit-image's packaged colour photographs"},
               "rows": results, "critic_probe": probes}
    suffix = "" if args.rows == "base" else "-" + args.rows.replace(",", "-")
    out = args.out or ROOT / "benchmarks" / "results" / f"quality{suffix}-{'cuda' if cuda else 'cpu'}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    lines = [f"Quality on {len(pairs)} real photographs (scikit-image; `blurgen evalset`, camera {eval_spec.camera}), "
             f"{machine}, {crop}-px crops, {images} training images per row, VGG weights {args.vgg_weights}.", "",
             "| row | batch | amp | init | critic | content | critic steps | GP every | variant | images | minutes | speed vs default | PSNR blurred | PSNR restored | gain dB | SSIM blurred | SSIM restored | gain |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    default_speed = next((row["images_per_s"] for row in results if row["row"] == "default"), None)
    for row in results:
        variant = ", ".join(f"{key} {value}" for key, value in row["variant"].items()) or "-"
        speed = f"{row['images_per_s'] / default_speed:.2f}x" if default_speed else "-"
        lines.append(f"| {row['row']} | {row['batch_size']} | {row['amp']} | {row['init']} | {row['critic']} | {row['content']} | "
                     f"{row['critic_steps']} | {row['gp_every']} | {variant} | {row['images']} | {row['minutes']:.1f} | {speed} | "
                     f"{row['psnr_blurred']:.2f} | {row['psnr']:.2f} | "
                     f"{row['psnr_gain']:+.2f} | {row['ssim_blurred']:.4f} | {row['ssim']:.4f} | {row['ssim_gain']:+.4f} |")
    lines += ["", "Critic probe (trained alone for 40 steps, batch 8, 64-px crops; 64 held-out pairs):", "",
              "| critic | pairwise accuracy | mean gap D(sharp) − D(blurred) |", "| --- | --- | --- |"]
    lines += [f"| {p['critic']} | {p['pairwise_accuracy']:.2f} | {p['mean_gap']:+.4f} |" for p in probes]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
