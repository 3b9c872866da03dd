"""Quality benchmark: does a trained model deblur real photographs, blurred by processes it never
trained on, and leave sharp ones alone? Each row trains one configuration from the same seed
with `train` (as a user would, one process at a time), then restores paired sets with
`deblur --pairs` and reports PSNR/SSIM of the restored images beside those of the blurred inputs:

  evalset       `blurgen evalset`: scikit-image's colour photos, blurgen's kernels from a seed no
                run trains on, camera gamma (28 pairs)
  evalset-line  the same, blurred by blurgen's `line` family: the held-out family of the
                leave-one-family-out row (28 pairs)
  independent, camera, nonuniform
                `benchmarks/independent_blur.py`'s three processes, which share no code with
                blurgen's kernels or cameras: OpenCV line and random-walk kernels (half on the
                sRGB values, half in linear light; the table splits the halves); a camera's
                acquisition (hand shake, sensor shot and read noise, sRGB curve, JPEG 85–95);
                rotation and zoom blur that varies across the image (28 pairs each)
  sharp         the photos unblurred (7): PSNR of the output to its input, and brightness change
  photos        fresh pairs of the built-in training photos (`blurgen dataset --builtin photos`,
                another seed): the training distribution of the base
  dead-leaves   fresh pairs of the built-in dead-leaves corpus (another seed)
No training run sees the photos of the evaluation sets.

Rows (--rows: names or the groups default, cameras, variants, generalisation, all). The base is
the small ResNet trained on the built-in photos with deblurgan kernels, camera gamma, content L1
alone, lr 5e-4; every row changes it:
  recipe            the shipped model's recipe (README): the base with views (8 orientations,
                    shrunk by U(0.5, 1)), the kernel mixture and the wide camera (chosen on real
                    blur: benchmarks/realblur.py), for the headline budget (--headline-steps)
  views             the base with views, headline budget (the model shipped before the mixture)
  base              the base alone, headline budget (the model shipped before the views)
  views-short       views for the comparison budget (--steps): the baseline of the mixture rows
  base-short        the base for the comparison budget: the baseline of the other rows
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
  mixture           views-short with `--preset mixture` (Markov shake, lines, arcs, smooth walks,
                    15% near-still kernels), and its variants: camera wide or mixed; without lines
                    (mixture-no-line: leave one family out, scored on evalset-line); without the
                    near-still kernels (mixture-no-still)
  shipped           the shipped model (`deblur builtin`), measured, not trained
  shipped-before    the model that shipped before the mixture (a copy of its weights file given as
                    --before-weights), measured, not trained

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
BASE = ["--mix", "synth", "--builtin", "photos", "--preset", "deblurgan", "--lr", "5e-4", "--adv-weight", "0", "--camera", "gamma"]
VIEWS = ["--orientations", "--min-scale", "0.5"]
MIXTURE = ["--preset", "mixture"]
WIDE = ["--camera", "wide"]  # the shipped model's camera since real blur chose it (benchmarks/realblur.py)
SHIPPED = [*BASE, *SMALL, *VIEWS, *MIXTURE, *WIDE]  # the shipped model's options (row "recipe"); other benchmarks start from it
PAPER = ["--batch-size", "1", "--amp", "off", "--init", "paper", "--critic", "paper", "--content", "perceptual",
         "--adv-weight", "1", "--critic-steps", "5", "--gp-every", "1", "--lr", "1e-4"]
# Each row: the options it changes from the base (later options win), its budget, what it is.
ROWS: dict[str, tuple[list[str], str, str]] = {
    "recipe": ([*VIEWS, *MIXTURE, *WIDE], "headline", "the shipped model's recipe: the base with views, the kernel mixture and "
               "the wide camera"),
    "views": (VIEWS, "headline", "the base with views (the model shipped before the mixture)"),
    "base": ([], "headline", "the base (the model shipped before the views)"),
    "views-short": (VIEWS, "comparison", "the base with views, comparison budget: the baseline of the mixture rows"),
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
    "mixture": ([*VIEWS, "--preset", "mixture"], "comparison", "views-short with the kernel mixture (Markov shake, lines, arcs, "
                "smooth walks, 15% near-still)"),
    "mixture-wide": ([*VIEWS, "--preset", "mixture", "--camera", "wide"], "comparison", "the mixture with the wide camera "
                     "(exponent U(1, 2.2), saturation, noise, JPEG for half)"),
    "mixture-mixed": ([*VIEWS, "--preset", "mixture", "--camera", "mixed"], "comparison", "the mixture with camera mixed"),
    "mixture-no-line": ([*VIEWS, "--preset", "benchmarks/presets/mixture-no-line.json"], "comparison",
                        "leave one family out: the mixture without lines"),
    "mixture-no-still": ([*VIEWS, "--preset", "benchmarks/presets/mixture-no-still.json"], "comparison",
                         "the mixture without its near-still kernels: what they do for sharp photos"),
    "shipped": ([], "measured", "the shipped model (`deblur builtin`: the recipe row exported in fp16), measured, not trained"),
    "shipped-before": ([], "measured", "the model shipped before the mixture (the views row at 100,000 images, as exported in fp16; "
                       "--before-weights), measured, not trained"),
}
GROUPS = {"default": ["recipe", "views", "base", "views-short", "base-short", "adversarial", "dead-leaves", "paper"],
          "cameras": ["base-short", "camera-none", "camera-mixed", "camera-realistic"],
          "variants": ["base-short", "lr-high", "lr-low", "deeper", "nafnet"],
          "generalisation": ["views-short", "mixture", "mixture-no-line", "mixture-no-still", "mixture-wide", "mixture-mixed"],
          "all": list(ROWS)}
SETS = ("evalset", "evalset-line", "independent", "camera", "nonuniform", "sharp", "photos", "dead-leaves")
INDEPENDENT = ("independent", "camera", "nonuniform")  # the processes that share no code with blurgen
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
    shifts = [row["brightness_shift"] for row in rows if "brightness_shift" in row]
    return {"images": len(rows), "psnr_gain": sum(psnr) / len(psnr), "improved": sum(gain > 0 for gain in psnr),
            "ssim_gain": sum(row["ssim_gain"] for row in rows) / len(rows),
            "psnr_blurred": sum(row["psnr_blurred"] for row in rows) / len(rows),
            **({"brightness_shift": sum(shifts) / len(shifts)} if shifts else {})}


def make_sets(runs: Path) -> dict[str, Path]:
    """The evaluation sets under ``runs`` (made once)."""
    folders = {name: runs / "sets" / name for name in SETS}
    if not folders["evalset"].exists():
        run([*BLURGEN, "evalset", "--out", str(folders["evalset"])])
    if not folders["evalset-line"].exists():
        run([*BLURGEN, "evalset", "--preset", "line", "--out", str(folders["evalset-line"])])
    for process, name in (("kernels", "independent"), ("camera", "camera"), ("nonuniform", "nonuniform"), ("sharp", "sharp")):
        if not (folders[name] / "kernels.json").exists():
            run([sys.executable, str(ROOT / "benchmarks" / "independent_blur.py"), "--process", process, "--out", str(folders[name])])
    for corpus, limit in (("photos", []), ("dead-leaves", ["--limit", "24"])):
        if not (folders[corpus] / "train" / "dataset.json").exists():
            run([*BLURGEN, "dataset", "--builtin", corpus, *limit, "--crop", "256", "--camera", "gamma",
                 "--seed", str(EVAL_SEED), "--out", str(folders[corpus])])
    return folders


def row_arguments(name: str, cuda: bool, vgg_weights: str) -> list[str]:
    """``train``'s options of row ``name``: the base, the machine's sizes, the row's changes."""
    return [*BASE, *(FULL if cuda else SMALL), *ROWS[name][0], *(["--vgg-weights", vgg_weights] if name == "paper" else [])]


def train_row(name: str, arguments: list[str], steps: int, runs: Path) -> Path:
    """Train row ``name`` (or continue it after a stop); its run folder."""
    folder = runs / name
    if not finished(folder, steps):
        resume = ["--resume"] if (folder / "checkpoint.pt").exists() else []
        run([*TRAIN, *arguments, "--steps", str(steps), "--log-every", "250", "--checkpoint-every", "500",
             "--out", str(folder), *resume], log=runs / f"{name}.log")
    return folder


def sharp_summary(report: dict) -> dict:
    """What a model does to unblurred photos: PSNR of its output to its input (worst, mean) and the brightness change."""
    psnr = [row["psnr"] for row in report["per_image"]]
    shifts = [row["brightness_shift"] for row in report["per_image"]]
    return {"images": len(psnr), "psnr_worst": min(psnr), "psnr_mean": sum(psnr) / len(psnr),
            "brightness_shift_mean": sum(shifts) / len(shifts), "brightness_shift_largest": max(shifts, key=abs)}


def measure_row(name: str, arguments: list[str], steps: int, batch: int, runs: Path, sets: dict[str, Path],
                light: dict[str, str], checkpoint: Path | None = None) -> dict:
    """Train row ``name`` (unless ``checkpoint`` is given: then only measure it) and score it on every set."""
    folder = runs / name
    if checkpoint is None:
        train_row(name, arguments, steps, runs)
        checkpoint = folder / "checkpoint.pt"
    folder.mkdir(parents=True, exist_ok=True)
    reports = {}
    for set_name, pairs in sets.items():
        report = folder / f"{set_name}.json"
        if not fresh(report, checkpoint):
            run([*DEBLUR, str(checkpoint), "--pairs", str(pairs), "--report", str(report)])
        reports[set_name] = json.loads(report.read_text())
    metrics, log = folder / "metrics.jsonl", runs / f"{name}.log"
    records = [json.loads(line) for line in metrics.read_text().splitlines()] if metrics.exists() else [{}]
    speeds = [float(speed) for speed in re.findall(r"([\d.]+) img/s", log.read_text())] if log.exists() else []
    scored = {set_name: gains(report) for set_name, report in reports.items() if set_name != "sharp"}
    independent_mean = sum(scored[name]["psnr_gain"] for name in INDEPENDENT) / len(INDEPENDENT)
    return {
        "row": name, "steps": steps, "images": steps * batch or None, "options": " ".join(arguments),
        "final_l1": records[-1].get("l1"), "images_per_s": sum(speeds) / len(speeds) if speeds else None,
        **scored,
        "independent_srgb": gains(reports["independent"], {n for n, kind in light.items() if kind == "sRGB"}),
        "independent_linear": gains(reports["independent"], {n for n, kind in light.items() if kind == "linear"}),
        "independent_mean": independent_mean, "gap": scored["evalset"]["psnr_gain"] - independent_mean,
        "sharp": sharp_summary(reports["sharp"]),
    }


def signed(value: float, digits: int = 2) -> str:
    return f"{round(value, digits) + 0.0:+.{digits}f}"  # + 0.0: no "-0.00" for a value that rounds to zero


def cell(part: dict | None, ssim: bool = True) -> str:
    if part is None:
        return "—"
    return f"{signed(part['psnr_gain'])} dB ({part['improved']}/{part['images']})" + (f", SSIM {signed(part['ssim_gain'], 4)}" if ssim else "")


def sharp_cell(part: dict | None) -> str:
    if part is None:
        return "—"
    return (f"{part['psnr_worst']:.1f} / {part['psnr_mean']:.1f} dB, {signed(part['brightness_shift_mean'])} "
            f"(largest {signed(part['brightness_shift_largest'])}) levels")


def table(rows: list[dict]) -> str:
    """Two tables: blur the rows never trained on (with the sharp photos), and the training distributions."""
    lines = ["| row | images | evalset | kernels (ind.) | its sRGB half | its linear half | camera (ind.) | non-uniform (ind.) | "
             "mean of the 3 ind. | gap | sharp photos: PSNR worst / mean, brightness | line-blurred evalset |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        mean = f"{signed(row['independent_mean'])} dB" if "independent_mean" in row else "—"
        gap = f"{row['gap']:.2f} dB" if "gap" in row else "—"
        images = f"{row['images']:,}" if row["images"] else "as shipped"
        lines.append(f"| {row['row']} | {images} | {cell(row['evalset'], False)} | {cell(row['independent'], False)} | "
                     f"{cell(row['independent_srgb'], False)} | {cell(row['independent_linear'], False)} | "
                     f"{cell(row.get('camera'), False)} | {cell(row.get('nonuniform'), False)} | {mean} | {gap} | "
                     f"{sharp_cell(row.get('sharp'))} | {cell(row.get('evalset-line'), False)} |")
    lines += ["", "SSIM gains and the training distributions (fresh pairs of the built-in corpora):", "",
              "| row | evalset | kernels (ind.) | camera (ind.) | non-uniform (ind.) | built-in photos pairs | dead-leaves pairs |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {row['row']} | {cell(row['evalset'])} | {cell(row['independent'])} | {cell(row.get('camera'))} | "
              f"{cell(row.get('nonuniform'))} | {cell(row['photos'])} | {cell(row['dead-leaves'])} |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, required=True, help="folder for the runs and the evaluation sets")
    parser.add_argument("--rows", default="default", help=f"comma-separated rows ({', '.join(ROWS)}) or groups ({', '.join(GROUPS)})")
    parser.add_argument("--steps", type=int, default=None, help="comparison budget in steps (CPU 1500 = 12,000 images; CUDA 300)")
    parser.add_argument("--headline-steps", type=int, default=None, help="the recipe row's steps (CPU 12,500 = 100,000 images; CUDA 600)")
    parser.add_argument("--paper-images", type=int, default=None, help="the paper row's images at batch 1 (CPU 2,000; CUDA 2,400)")
    parser.add_argument("--vgg-weights", default="random", help="the paper row's VGG-19: imagenet (torchvision's cache), random, or a path")
    parser.add_argument("--train-only", action="store_true", help="train the rows, measure nothing (a later run measures them)")
    parser.add_argument("--before-weights", type=Path, default=None, help="the shipped-before row's weights: a copy of the "
                        "train/weights/builtin.pt that shipped before the mixture")
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
    if args.train_only:
        for name in (name for name in names if ROWS[name][1] != "measured"):
            train_row(name, row_arguments(name, cuda, args.vgg_weights), budgets[ROWS[name][1]], args.runs)
        return
    sets = make_sets(args.runs)
    light = {pair["name"]: pair["light"] for pair in json.loads((sets["independent"] / "kernels.json").read_text())["pairs"]}
    out = ROOT / "benchmarks" / "results" / f"quality-{'cuda' if cuda else 'cpu'}.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    measured = {row["row"]: row for row in results.get("rows", []) if "evalset" in row}
    for name in names:
        _, budget, what = ROWS[name]
        batch = 1 if name == "paper" else 16 if cuda else 8
        checkpoint = None
        if name == "shipped":
            checkpoint = ROOT / "train" / "weights" / "builtin.pt"
        elif name == "shipped-before":
            if args.before_weights is None:
                parser.error("the shipped-before row needs --before-weights (a copy of the weights that shipped before the mixture)")
            checkpoint = args.before_weights
        arguments = [] if checkpoint else row_arguments(name, cuda, args.vgg_weights)
        measured[name] = {**measure_row(name, arguments, budgets.get(budget, 0), batch, args.runs, sets, light, checkpoint), "what": what}
        write_results(out, [measured[row] for row in ROWS if row in measured], cuda)  # after each row: a stop loses none


def write_results(out: Path, rows: list[dict], cuda: bool) -> None:
    import torch

    machine = torch.cuda.get_device_name() if cuda else f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"
    base = " ".join(["train", *BASE, *(FULL if cuda else SMALL)])
    results = {"benchmark": "quality", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine, "torch": torch.__version__,
               "base": base, "rows": rows}
    out.write_text(json.dumps(results, indent=2) + "\n")
    text = (f"# Quality ({machine})\n\nEvery row: the base, `{base}`, with the row's changes and budget. PSNR gain over the "
            "blurred input (images improved / images). Photo sets: `blurgen evalset` (blurgen's blur) and its line-blurred "
            "twin (`--preset line`); the three processes of `benchmarks/independent_blur.py`, which share no code with blurgen's "
            "kernels or cameras (ind.: kernels, split into its sRGB- and linear-light-blurred halves; camera acquisition; "
            "non-uniform rotation and zoom); the gap is the evalset's gain minus the mean of the three; sharp photos: the same "
            "photos unblurred, PSNR of the output to its input (worst / mean) and its mean brightness change in 8-bit levels. "
            f"Built-in pairs: fresh pairs (seed {EVAL_SEED}) of each built-in corpus. Rows measured before the processes "
            f"existed show —.\n\n{table(rows)}\n\n"
            + "\n".join(f"- {row['row']}: {row['what']}; {row['steps']:,} steps; `{row['options'] or 'deblur only'}`"
                        + (f"; {row['images_per_s']:.1f} img/s" if row["images_per_s"] else "") for row in rows) + "\n")
    out.with_suffix(".md").write_text(text)
    print(text, flush=True)


if __name__ == "__main__":
    main()
