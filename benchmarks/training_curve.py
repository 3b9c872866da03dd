"""A training curve: the shipped model's recipe trained from scratch, its loss and its validation
gain on real photographs (``blurgen evalset``) against the images it has seen.

The run is ``train`` itself with the recipe's options (the small ResNet, content L1 alone, views
and the kernel mixture; see benchmarks/quality.py) and ``--val`` on a fresh evaluation set every
``--val-every`` steps; the curve is read back from the run's ``metrics.jsonl``. A finished run is
not trained again. Usage:
python benchmarks/training_curve.py [--images 12000] [--runs runs/curve].
Writes benchmarks/results/training-curve-cpu.json (``figures.py`` plots it).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run from the repository root without installing: import this checkout
sys.path.insert(1, str(ROOT / "benchmarks"))

from quality import SHIPPED  # noqa: E402

RECIPE = [*SHIPPED, "--amp", "off"]


def main() -> None:
    from typer.testing import CliRunner

    from blurgen.output.evalset import EvalsetSpec, build_evalset
    from train.cli import train_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12000)
    parser.add_argument("--val-every", type=int, default=150, help="steps")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "curve")
    args = parser.parse_args()
    steps = args.images // 8
    evalset, run = args.runs / "evalset", args.runs / f"recipe-{args.images}"
    build_evalset(evalset, EvalsetSpec(per_image=1))
    options = [*RECIPE, "--steps", str(steps), "--val", str(evalset), "--val-every", str(args.val_every),
               "--log-every", "100", "--out", str(run)]
    if not (run / "checkpoint.pt").is_file() or json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["step"] < steps:
        resume = ["--resume"] if (run / "checkpoint.pt").is_file() else []
        result = CliRunner().invoke(train_app, [*options, *resume], prog_name="train")
        print(result.output[-2000:])
        if result.exit_code != 0:
            raise SystemExit(result.exit_code)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    losses = [record for record in records if "content" in record]
    every = max(1, len(losses) // 300)
    curve = {
        "benchmark": "training-curve",
        "machine": {"cpu": platform.processor() or platform.machine(), "precision": "fp32"},
        "title": f"the recipe, {args.images:,} images, CPU fp32: validation on blurgen evalset (7 photos)",
        "options": " ".join(options[:-2]).replace(f"{ROOT}/", ""),  # paths as the repository names them, not this machine's
        "loss_name": "content loss (10 x L1)",
        "steps": [{"step": r["step"], "images": r["step"] * 8, "loss": r["content"]} for r in losses[::every]],
        "validation": [{"step": r["step"], "images": r["step"] * 8, **r["validation"]} for r in records if "validation" in r],
    }
    out = ROOT / "benchmarks" / "results" / "training-curve-cpu.json"
    out.write_text(json.dumps(curve, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
