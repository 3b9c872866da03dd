"""Gain per CPU-minute: one recipe trained once, from scratch, with its model scored at several
points of the run on real photographs blurred by the three independent processes (and on
``blurgen evalset`` and sharp photos), against the minutes it had trained.

The run is ``train`` itself, stopped at each point (``--stop-at``) and resumed (bit-exact, so the
points are those of one uninterrupted run); each point's checkpoint is kept beside the run and
scored with ``deblur --pairs``. The minutes are the wall-clock time of the ``train`` processes up
to that point, start-up included, on this machine. A stopped script continues where it was: a
point already reached is not trained again, a report newer than its checkpoint is not measured
again.

Recipes (``--recipe``; the learning-rate schedule spans the whole run, up to the last point):
  shipped   the shipped model's recipe (see benchmarks/quality.py): the small ResNet, content L1
            alone, Adam β 0.5/0.999 at 5e-4 with the paper's schedule, views and the kernel mixture
  modern    the same network and data with the restoration toolboxes' recipe: AdamW β 0.9/0.99,
            cosine annealing after 500 warm-up steps, and the frequency (FFT) loss term at weight 1
            (each measured as a lever by ``benchmarks/peers.py --extra``; docs/training/index.md)

Usage: python benchmarks/gain_curve.py --recipe modern [--points 12000,50000,100000,200000]
       [--extra "--camera wide"] [--runs runs/gain-curve] [--sets runs/peers] [--quick]
Writes benchmarks/results/gain-curve-cpu.json (``figures.py`` plots it); recipes measured before are kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run from the repository root without installing: import this checkout
sys.path.insert(1, str(ROOT / "benchmarks"))

import quality  # noqa: E402

SHIPPED = shlex.join(quality.SHIPPED)
RECIPES = {
    "shipped": SHIPPED,
    "modern": f"{SHIPPED} --optimizer adamw --beta1 0.9 --beta2 0.99 --schedule cosine --warmup 500 --fft-weight 1",
}
QUICK = "--ngf 4 --blocks 1 --ndf 4 --crop 32 --batch-size 2 --workers 0"  # tiny sizes, for the test of this script


def train_to(run: Path, options: list[str], step: int, total: int) -> float:
    """Train ``run`` up to ``step`` of ``total`` (resuming it when it has a checkpoint); the seconds it took."""
    from typer.testing import CliRunner

    from train.cli import train_app

    resume = ["--resume"] if (run / "checkpoint.pt").exists() else []
    started = time.perf_counter()
    result = CliRunner().invoke(train_app, [*options, "--steps", str(total), "--stop-at", str(step), "--log-every", "500",
                                            "--checkpoint-every", "2500", "--out", str(run), *resume], prog_name="train")
    print(result.output[-1500:], flush=True)
    if result.exit_code != 0:
        raise SystemExit(f"train failed ({result.exit_code})")
    return time.perf_counter() - started


def machine() -> str:
    from train.machine import cpu_has_bf16

    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, {'bf16' if cpu_has_bf16() else 'fp32'})"


def main(argv: list[str] | None = None) -> dict:
    import peers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=tuple(RECIPES), default="modern")
    parser.add_argument("--points", default="12000,50000,100000,200000", help="training images at which the model is scored")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "gain-curve")
    parser.add_argument("--sets", type=Path, default=ROOT / "runs" / "peers", help="where the evaluation sets are (made once)")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "gain-curve-cpu.json")
    parser.add_argument("--extra", default="", help="train options added to the recipe (e.g. '--camera wide'); its "
                        "run folder and results are named with them")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and one tiny evaluation set (the test of this script)")
    args = parser.parse_args(argv)
    recipe = " ".join(part for part in (RECIPES[args.recipe], QUICK if args.quick else "", args.extra) if part)
    name = " ".join([args.recipe, *shlex.split(args.extra)])
    options = shlex.split(recipe)  # a later value of an option replaces an earlier one
    batch = int(options[len(options) - 1 - options[::-1].index("--batch-size") + 1])
    points = sorted(int(images) for images in args.points.split(","))
    steps = [images // batch for images in points]
    run = args.runs / "-".join([args.recipe, *(part.strip("-") for part in shlex.split(args.extra))])
    run.mkdir(parents=True, exist_ok=True)
    timing = run / "segments.json"  # seconds of each segment trained, kept across stops of this script
    seconds = json.loads(timing.read_text()) if timing.exists() else {}
    for step in steps:
        kept = run / f"checkpoint-{step * batch}.pt"
        if kept.exists():
            continue
        seconds[str(step)] = train_to(run, options, step, steps[-1])
        timing.write_text(json.dumps(seconds, indent=2) + "\n")
        shutil.copyfile(run / "checkpoint.pt", kept)
    sets = peers.quick_sets(args.runs) if args.quick else quality.make_sets(args.sets)
    curve, elapsed = [], 0.0
    for step in steps:
        elapsed += seconds[str(step)]
        checkpoint = run / f"checkpoint-{step * batch}.pt"
        curve.append({"images": step * batch, "steps": step, "minutes": elapsed / 60,
                      **peers.score(checkpoint, sets, lambda name, kept=checkpoint: kept.with_name(f"{kept.stem}-{name}.json"))})
        print(f"{step * batch:>7,} images  {elapsed / 60:5.1f} min  independent {curve[-1]['independent_mean']:+.3f} dB", flush=True)
    results = json.loads(args.results.read_text()) if args.results.exists() else {"benchmark": "gain-curve", "recipes": {}}
    results["recipes"][name] = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                       "options": f"{recipe} --steps {steps[-1]}", "points": curve}
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
