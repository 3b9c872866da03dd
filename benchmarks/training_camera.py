"""Which training camera restores real photographs best? The shipped model's recipe (README:
"A model that deblurs photographs, shipped"), trained once per `--camera` of its synthetic pairs
(none: blur applied to the sRGB values; gamma: in linear light; realistic: in linear light with the
sRGB curve, a random saturation change and sensor noise), each for the same 72,000 images from
the same seed, then measured on both sets of real photographs no run trains on: `blurgen evalset`
(blurgen's kernels, camera gamma) and `benchmarks/independent_blur.py` (OpenCV line and
random-walk kernels, half applied in sRGB and half in linear light, which the table splits).

A run folder that already holds a finished checkpoint is not trained again, and a report newer
than its checkpoint is not measured again, so the script can be rerun after a stop; on this
2-core CPU one run takes about 27 minutes and its two evaluations about 5.

Usage: python benchmarks/training_camera.py --runs runs/camera [--cameras none,gamma,realistic]
Writes benchmarks/results/training-camera-cpu.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ["--mix", "synth", "--generator", "resnet", "--ngf", "16", "--blocks", "4", "--ndf", "8", "--crop", "96",
          "--batch-size", "8", "--lr", "5e-4", "--adv-weight", "0", "--critic-steps", "1", "--gp-every", "4", "--steps", "9000",
          "--log-every", "500", "--checkpoint-every", "1000"]
STEPS = 9000


def run(command: list[str], log: Path | None = None) -> None:
    """Run a command, its console output appended to ``log`` when given."""
    print("$", " ".join(command), flush=True)
    if log is None:
        subprocess.run(command, check=True)
        return
    with open(log, "a") as handle:
        subprocess.run(command, check=True, stderr=handle)


def trained(folder: Path) -> bool:
    metrics = folder / "metrics.jsonl"
    return (folder / "checkpoint.pt").exists() and metrics.exists() and f'"step": {STEPS},' in metrics.read_text()


def fresh(report: Path, checkpoint: Path) -> bool:
    return report.exists() and report.stat().st_mtime > checkpoint.stat().st_mtime


def gains(report: dict, names: set[str] | None = None) -> dict:
    rows = [row for row in report["per_image"] if names is None or row["id"] in names]
    psnr = [row["psnr_gain"] for row in rows]
    return {"images": len(rows), "psnr_gain": sum(psnr) / len(psnr), "improved": sum(gain > 0 for gain in psnr),
            "ssim_gain": sum(row["ssim_gain"] for row in rows) / len(rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, required=True, help="folder for the runs, photos and evaluation sets")
    parser.add_argument("--cameras", default="none,gamma,realistic")
    args = parser.parse_args()
    runs = args.runs
    photos, evalset, independent = runs / "photos", runs / "evalset", runs / "independent"
    python = sys.executable
    if not photos.exists():
        run([python, str(ROOT / "benchmarks" / "training_photos.py"), "--out", str(photos)])
    if not evalset.exists():
        run([python, "-m", "blurgen", "evalset", "--out", str(evalset)])
    if not independent.exists():
        run([python, str(ROOT / "benchmarks" / "independent_blur.py"), "--out", str(independent)])
    light = {pair["name"]: pair["light"] for pair in json.loads((independent / "kernels.json").read_text())["pairs"]}
    train = [python, "-c", "import sys; sys.argv[0] = 'train'; from train.cli import main; main()"]
    deblur = [python, "-c", "import sys; sys.argv[0] = 'deblur'; from train.cli import deblur_main; deblur_main()"]
    rows = []
    for camera in args.cameras.split(","):
        folder = runs / camera
        if not trained(folder):
            resume = ["--resume"] if (folder / "checkpoint.pt").exists() else []
            run([*train, *RECIPE, "--src", str(photos), "--camera", camera, "--out", str(folder), *resume], log=runs / f"{camera}.log")
        checkpoint = folder / "checkpoint.pt"
        reports = {}
        for name, pairs in (("evalset", evalset), ("independent", independent)):
            report = folder / f"{name}.json"
            if not fresh(report, checkpoint):
                run([*deblur, str(checkpoint), "--pairs", str(pairs), "--report", str(report)])
            reports[name] = json.loads(report.read_text())
        last = json.loads((folder / "metrics.jsonl").read_text().splitlines()[-1])
        rows.append({
            "camera": camera, "images": STEPS * 8, "final_l1": last["l1"],
            "evalset": gains(reports["evalset"]), "independent": gains(reports["independent"]),
            "independent_srgb": gains(reports["independent"], {n for n, kind in light.items() if kind == "sRGB"}),
            "independent_linear": gains(reports["independent"], {n for n, kind in light.items() if kind == "linear"}),
        })
    results = {"benchmark": "training-camera", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
               "machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()},
               "recipe": " ".join(["train", *RECIPE, "--src", "photos/", "--camera", "CAMERA"]), "rows": rows}
    out = ROOT / "benchmarks" / "results" / "training-camera-cpu.json"
    out.write_text(json.dumps(results, indent=2) + "\n")

    def cell(part: dict) -> str:
        return f"{part['psnr_gain']:+.2f} dB ({part['improved']}/{part['images']}), SSIM {part['ssim_gain']:+.4f}"

    lines = ["| training camera | evalset (camera gamma) | independent set | its sRGB-blurred half | its linear-light half |",
             "| --- | --- | --- | --- | --- |"]
    lines += [f"| {row['camera']} | {cell(row['evalset'])} | {cell(row['independent'])} | {cell(row['independent_srgb'])} | "
              f"{cell(row['independent_linear'])} |" for row in rows]
    table = "\n".join(lines)
    (out.with_suffix(".md")).write_text(f"# Training camera (CPU, {STEPS * 8:,} images per row)\n\n{results['recipe']}\n\n"
                                        "PSNR gain over the blurred input (images improved / images), SSIM gain.\n\n" + table + "\n")
    print(table)


if __name__ == "__main__":
    main()
