"""Quality benchmark: does a trained model deblur real photographs? Each row trains one
configuration from the same seed with `train` (as a user would, one process at a time), then
restores four paired sets with `deblur --pairs` and reports PSNR/SSIM of the restored images
beside those of the blurred inputs:

  evalset       `blurgen evalset`: scikit-image's colour photos, blurgen's kernels from a seed no
                run trains on, camera gamma (28 pairs)
  independent   `benchmarks/independent_blur.py`: the same photos blurred by a process blurgen
                does not use (OpenCV line and random-walk kernels, half in sRGB, half in linear
                light, σ = 1/255 noise; 28 pairs); the table splits its two halves
  photos        fresh pairs of the built-in training photos (`blurgen dataset --builtin photos`,
                another seed): the training distribution of the base
  dead-leaves   fresh pairs of the built-in dead-leaves corpus (another seed)
No training run sees the photos of the first two sets.

Rows (--rows: names or the groups default, cameras, variants, all). The base is the small ResNet
trained on the built-in photos, camera gamma, content L1 alone, lr 5e-4; every row changes it:
  recipe            the shipped model's recipe (README): the base with views (8 orientations,
                    shrunk by U(0.5, 1)), for the headline budget (--headline-steps)
  base              the base alone, headline budget (the model shipped before the views)
  recipe-short      the recipe for the comparison budget (--steps)
  base-short        the base for the comparison budget: the baseline of the rows below
  adversarial       + the adversarial term at train's default weight (WGAN-GP, spectral critic,
                    one critic step per batch, penalty on every 4th)
  paper             DeblurGAN's algorithm at the base's sizes: batch 1, fp32, N(0, 0.02) init,
                    InstanceNorm critic, 5 critic steps with the penalty each, perceptual loss
                    (--vgg-weights: random unless given), lr 1e-4; --paper-images images
  dead-leaves       trained on the built-in dead-leaves corpus instead of the photos
  camera-none, camera-mixed, camera-realistic
                    training pairs blurred on the sRGB values; with a gamma exponent drawn per
                    pair from U(1, 2.2); with the realistic camera (linear light, saturation, noise)
  lr-high, lr-low   learning rate 1e-3, 2.5e-4
  deeper            9 ResBlocks instead of 4 (DeblurGAN's depth: a larger receptive field)
  nafnet            NAFNet width 16, 2 blocks at its deepest level (1.3 M parameters)

A row folder holding a finished run is not trained again, and a report newer than its checkpoint
is not measured again, so the script continues after a stop. On a CUDA machine the rows use the
full-size generator (ResNet 64/9, critic 64, 256-px crops, batch 16) for a budget that fits
`benchmarks/gpu.sh`.

Usage: python benchmarks/quality.py --runs runs/quality [--rows default] [--steps N] [--headline-steps N]
Writes benchmarks/results/quality-{cpu,cuda}.json and .md (rows measured before are kept).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--generator", "resnet", "--ngf", "16", "--blocks", "4", "--ndf", "8", "--crop", "96", "--batch-size", "8"]
FULL = ["--generator", "resnet", "--ngf", "64", "--blocks", "9", "--ndf", "64", "--crop", "256", "--batch-size", "16"]
BASE = ["--mix", "synth", "--builtin", "photos", "--lr", "5e-4", "--adv-weight", "0", "--camera", "gamma"]
VIEWS = ["--orientations", "--min-scale", "0.5"]
PAPER = ["--batch-size", "1", "--amp", "off", "--init", "paper", "--critic", "paper", "--content", "perceptual",
         "--adv-weight", "1", "--critic-steps", "5", "--gp-every", "1", "--lr", "1e-4"]
# Each row: the options it changes from the base (later options win), its budget, what it is.
ROWS: dict[str, tuple[list[str], str, str]] = {
    "recipe": (VIEWS, "headline", "the shipped model's recipe: the base with views"),
    "base": ([], "headline", "the base: the recipe without views (the model shipped before)"),
    "recipe-short": (VIEWS, "comparison", "the recipe, comparison budget"),
    "base-short": ([], "comparison", "the base, comparison budget: the baseline of the rows below"),
    "adversarial": (["--adv-weight", "1", "--critic-steps", "1", "--gp-every", "4"], "comparison", "+ adversarial term (weight 1)"),
    "paper": (PAPER, "paper", "DeblurGAN's algorithm, same sizes"),
    "dead-leaves": (["--builtin", "dead-leaves"], "comparison", "trained on dead leaves"),
    "camera-none": (["--camera", "none"], "comparison", "training camera none (sRGB blur)"),
    "camera-realistic": (["--camera", "realistic"], "comparison", "training camera realistic"),
    "camera-mixed": (["--camera", "mixed"], "comparison", "training camera mixed (gamma exponent U(1, 2.2) per pair)"),
    "lr-high": (["--lr", "1e-3"], "comparison", "learning rate 1e-3"),
    "lr-low": (["--lr", "2.5e-4"], "comparison", "learning rate 2.5e-4"),
    "deeper": (["--blocks", "9"], "comparison", "9 ResBlocks (DeblurGAN's depth: a larger receptive field), 0.72 M parameters"),
    "nafnet": (["--generator", "nafnet", "--ngf", "16", "--blocks", "2"], "comparison", "NAFNet width 16, 2 blocks (1.3 M parameters)"),
}
GROUPS = {"default": ["recipe", "base", "recipe-short", "base-short", "adversarial", "dead-leaves", "paper"],
          "cameras": ["base-short", "camera-none", "camera-mixed", "camera-realistic"],
          "variants": ["base-short", "lr-high", "lr-low", "deeper", "nafnet"], "all": list(ROWS)}
SETS = ("evalset", "independent", "photos", "dead-leaves")
TRAIN = [sys.executable, "-c", "import sys; sys.argv[0] = 'train'; from train.cli import main; main()"]
DEBLUR = [sys.executable, "-c", "import sys; sys.argv[0] = 'deblur'; from train.cli import deblur_main; deblur_main()"]
BLURGEN = [sys.executable, "-m", "blurgen"]
EVAL_SEED = 9001  # the built-in corpora's fresh pairs: a seed no training run uses


def run(command: list[str], log: Path | None = None) -> None:
    """Run a command from the repository root, its console output appended to ``log`` when given."""
    print("$", " ".join(command), flush=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if log is None:
        subprocess.run(command, check=True, cwd=ROOT, env=env)
        return
    with open(log, "a") as handle:
        subprocess.run(command, check=True, cwd=ROOT, env=env, stderr=handle)


def finished(folder: Path, steps: int) -> bool:
    metrics = folder / "metrics.jsonl"
    return (folder / "checkpoint.pt").exists() and metrics.exists() and f'"step": {steps},' in metrics.read_text()


def fresh(report: Path, checkpoint: Path) -> bool:
    return report.exists() and report.stat().st_mtime > checkpoint.stat().st_mtime


def gains(report: dict, names: set[str] | None = None) -> dict:
    """Mean PSNR/SSIM gain over the blurred input, images improved, of a `deblur --report` (the images of ``names``)."""
    rows = [row for row in report["per_image"] if names is None or row["id"] in names]
    psnr = [row["psnr_gain"] for row in rows]
    return {"images": len(rows), "psnr_gain": sum(psnr) / len(psnr), "improved": sum(gain > 0 for gain in psnr),
            "ssim_gain": sum(row["ssim_gain"] for row in rows) / len(rows),
            "psnr_blurred": sum(row["psnr_blurred"] for row in rows) / len(rows)}


def make_sets(runs: Path) -> dict[str, Path]:
    """The four evaluation sets under ``runs`` (made once)."""
    folders = {name: runs / "sets" / name for name in SETS}
    if not folders["evalset"].exists():
        run([*BLURGEN, "evalset", "--out", str(folders["evalset"])])
    if not folders["independent"].exists():
        run([sys.executable, str(ROOT / "benchmarks" / "independent_blur.py"), "--out", str(folders["independent"])])
    for corpus, limit in (("photos", []), ("dead-leaves", ["--limit", "24"])):
        if not (folders[corpus] / "train" / "dataset.json").exists():
            run([*BLURGEN, "dataset", "--builtin", corpus, *limit, "--crop", "256", "--camera", "gamma",
                 "--seed", str(EVAL_SEED), "--out", str(folders[corpus])])
    return folders


def measure_row(name: str, arguments: list[str], steps: int, batch: int, runs: Path, sets: dict[str, Path],
                light: dict[str, str]) -> dict:
    folder = runs / name
    if not finished(folder, steps):
        resume = ["--resume"] if (folder / "checkpoint.pt").exists() else []
        run([*TRAIN, *arguments, "--steps", str(steps), "--log-every", "250", "--checkpoint-every", "500",
             "--out", str(folder), *resume], log=runs / f"{name}.log")
    checkpoint = folder / "checkpoint.pt"
    reports = {}
    for set_name, pairs in sets.items():
        report = folder / f"{set_name}.json"
        if not fresh(report, checkpoint):
            run([*DEBLUR, str(checkpoint), "--pairs", str(pairs), "--report", str(report)])
        reports[set_name] = json.loads(report.read_text())
    records = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    log = runs / f"{name}.log"
    speeds = [float(speed) for speed in re.findall(r"([\d.]+) img/s", log.read_text())] if log.exists() else []
    return {
        "row": name, "steps": steps, "images": steps * batch, "options": " ".join(arguments),
        "final_l1": records[-1].get("l1"), "images_per_s": sum(speeds) / len(speeds) if speeds else None,
        **{set_name: gains(report) for set_name, report in reports.items()},
        "independent_srgb": gains(reports["independent"], {n for n, kind in light.items() if kind == "sRGB"}),
        "independent_linear": gains(reports["independent"], {n for n, kind in light.items() if kind == "linear"}),
    }


def cell(part: dict) -> str:
    return f"{part['psnr_gain']:+.2f} dB ({part['improved']}/{part['images']}), SSIM {part['ssim_gain']:+.4f}"


def table(rows: list[dict]) -> str:
    lines = ["| row | images | evalset | independent | its sRGB half | its linear half | built-in photos pairs | dead-leaves pairs |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {row['row']} | {row['images']:,} | {cell(row['evalset'])} | {cell(row['independent'])} | "
              f"{cell(row['independent_srgb'])} | {cell(row['independent_linear'])} | {cell(row['photos'])} | "
              f"{cell(row['dead-leaves'])} |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, required=True, help="folder for the runs and the evaluation sets")
    parser.add_argument("--rows", default="default", help=f"comma-separated rows ({', '.join(ROWS)}) or groups ({', '.join(GROUPS)})")
    parser.add_argument("--steps", type=int, default=None, help="comparison budget in steps (CPU 1500 = 12,000 images; CUDA 300)")
    parser.add_argument("--headline-steps", type=int, default=None, help="the recipe row's steps (CPU 12,500 = 100,000 images; CUDA 600)")
    parser.add_argument("--paper-images", type=int, default=None, help="the paper row's images at batch 1 (CPU 2,000; CUDA 2,400)")
    parser.add_argument("--vgg-weights", default="random", help="the paper row's VGG-19: imagenet (torchvision's cache), random, or a path")
    args = parser.parse_args()
    import torch

    cuda = torch.cuda.is_available()
    budgets = {"comparison": args.steps or (300 if cuda else 1500), "headline": args.headline_steps or (600 if cuda else 12_500),
               "paper": args.paper_images or (2400 if cuda else 2000)}  # steps of one image
    names = [name for part in args.rows.split(",") if part.strip() for name in GROUPS.get(part.strip(), [part.strip()])]
    unknown = [name for name in names if name not in ROWS]
    if unknown:
        parser.error(f"unknown rows {unknown}; choose from {', '.join(ROWS)} or a group ({', '.join(GROUPS)})")
    args.runs.mkdir(parents=True, exist_ok=True)
    sets = make_sets(args.runs)
    light = {pair["name"]: pair["light"] for pair in json.loads((sets["independent"] / "kernels.json").read_text())["pairs"]}
    out = ROOT / "benchmarks" / "results" / f"quality-{'cuda' if cuda else 'cpu'}.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    measured = {row["row"]: row for row in results.get("rows", []) if "evalset" in row}
    for name in names:
        changes, budget, what = ROWS[name]
        arguments = [*BASE, *(FULL if cuda else SMALL), *changes]
        batch = 1 if name == "paper" else 16 if cuda else 8
        if name == "paper":
            arguments += ["--vgg-weights", args.vgg_weights]
        measured[name] = {**measure_row(name, arguments, budgets[budget], batch, args.runs, sets, light), "what": what}
        write_results(out, [measured[row] for row in ROWS if row in measured], cuda)  # after each row: a stop loses none


def write_results(out: Path, rows: list[dict], cuda: bool) -> None:
    import torch

    machine = torch.cuda.get_device_name() if cuda else f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"
    base = " ".join(["train", *BASE, *(FULL if cuda else SMALL)])
    results = {"benchmark": "quality", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine, "torch": torch.__version__,
               "base": base, "rows": rows}
    out.write_text(json.dumps(results, indent=2) + "\n")
    text = (f"# Quality ({machine})\n\nEvery row: the base, `{base}`, with the row's changes and budget. PSNR gain over the "
            "blurred input (images improved / images), SSIM gain. Photo sets: `blurgen evalset` and "
            "`benchmarks/independent_blur.py` (split into its sRGB- and linear-light-blurred halves); built-in pairs: fresh pairs "
            f"(seed {EVAL_SEED}) of each built-in corpus.\n\n{table(rows)}\n\n"
            + "\n".join(f"- {row['row']}: {row['what']}; {row['steps']:,} steps; `{row['options']}`"
                        + (f"; {row['images_per_s']:.1f} img/s" if row["images_per_s"] else "") for row in rows) + "\n")
    out.with_suffix(".md").write_text(text)
    print(text, flush=True)


if __name__ == "__main__":
    main()
