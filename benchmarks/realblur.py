"""Real blur as the judge: does a model restore blur that blurgen did not make?

Sets, each scored by the protocol its authors use (``deblur --protocol``):

  gopro-dev     real GoPro pairs (``--gopro``; by default ``../shared/realblur-dev/gopro`` beside
                the repository): 8–10 real 240 fps frames averaged, the middle frame sharp; plain PSNR
  levin, levin-linear, levin-dark
                the 8 camera-shake kernels Levin et al. measured from real hand-held captures
                (``--levin-kernels``), applied to the held-out scikit-image photos by
                ``independent_blur.py`` (no blurgen code): on the stored values, in linear light,
                and on dark grey photos like the captures themselves
  --pairs NAME=PATH
                any paired set ``deblur --pairs`` reads, public benchmarks included (Levin's own
                captures, RealBlur, RSBlur, HIDE, GoPro), each by its own protocol

Models: the shipped one (``builtin``), an unsharp mask (Gaussian σ 2 px, amount 1, the classical
baseline), Wiener deconvolution with each pair's true kernel on the measured-kernel sets
(``wiener-true``: ``deblur wiener --kernel``, the non-blind ceiling a blind model aims at), any checkpoint (``--checkpoint NAME=PATH``), and lever rows (``--levers``, :data:`LEVERS`:
the shipped recipe with one change, trained with ``--train`` for ``--seeds`` seeds at the same
budget): every ``<lever-runs>/<row>-seed<k>/checkpoint.pt``, summarised over the seeds. Lever rows are also scored on
the quality benchmark's sets (blurgen's evalset, the three independent processes, sharp photos).

Per model and set: PSNR gain over the blurred input (mean, images improved, worst), and the mean
brightness change of the output against its input in 8-bit levels (a model that darkens shows a
negative one).

Usage: python benchmarks/realblur.py [--runs runs/realblur] [--checkpoint NAME=PATH ...] [--levers noisy,gamma [--train]]
Writes benchmarks/results/realblur-cpu.json and .md (models measured before are kept).
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

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run from the repository root without installing: import this checkout
sys.path.insert(1, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

SHARED = ROOT.parent / "shared" / "realblur-dev"
MEASURED_SETS = ("levin", "levin-linear", "levin-dark")
MAX_SIDE = 320  # the measured-kernel sets' photos: 56 pairs each stay quick to restore on a CPU
UNSHARP_SIGMA, UNSHARP_AMOUNT = 2.0, 1.0
# Lever rows: the shipped recipe (quality.SHIPPED) with one change each.
LEVERS = {
    "gamma": ["--camera", "gamma"],
    "none": ["--camera", "none"],
    "noisy": ["--camera", "noisy"],
    "realistic": ["--camera", "realistic"],
    "wide": ["--camera", "wide"],
    "wide-walk": ["--camera", "wide", "--preset", "walk"],  # the family that holds measured shake best (kernel_coverage.py)
    "short": ["--preset", "benchmarks/presets/mixture-short.json"],  # kernel lengths: shorter shake than the mixture's
    "long": ["--preset", "benchmarks/presets/mixture-long.json"],  # kernel lengths: longer shake
    "dead-leaves": ["--builtin", "dead-leaves"],  # the other built-in corpus (the shipped recipe trains on photos)
    "kernel-resnet": ["--generator", "kernel-resnet"],  # kernel-aware: estimate the kernel, deconvolve, refine
}
# Rows whose step costs more than the recipe's train fewer steps, for the same CPU minutes: kernel-resnet's
# steps took 1.15x the recipe's here (50 against 57 img/s, two runs of each back to back on the AVX512-BF16 EPYC).
LEVER_STEPS = {"kernel-resnet": 1300}


class UnsharpMask(nn.Module):
    """The classical baseline: x + amount·(x − Gaussian(x)), on B×3×H×W in [-1, 1]."""

    def __init__(self, sigma: float = UNSHARP_SIGMA, amount: float = UNSHARP_AMOUNT) -> None:
        super().__init__()
        self.sigma, self.amount = sigma, amount

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        from torchvision.transforms.functional import gaussian_blur

        side = 2 * int(3 * self.sigma + 0.5) + 1
        smooth = gaussian_blur(images, [side, side], [self.sigma, self.sigma])
        return (images + self.amount * (images - smooth)).clamp(-1, 1)


def make_sets(runs: Path, gopro: Path, kernels: Path, pairs: dict[str, Path]) -> dict[str, Path]:
    """The real-blur sets that exist here (made once under ``runs``), by name."""
    import independent_blur

    sets = {}
    if (gopro / "blur").is_dir():
        sets["gopro-dev"] = gopro
    else:
        print(f"{gopro}: no GoPro pairs here; the gopro-dev set is left out")
    if any(kernels.glob("*.npy")):
        for process in MEASURED_SETS:
            folder = runs / "sets" / process
            if not (folder / "kernels.json").exists():
                independent_blur.build(folder, MAX_SIDE, seed=7, process=process, kernels=kernels)
            sets[process] = folder
    else:
        print(f"{kernels}: no measured kernels here; the levin sets are left out")
    return {**sets, **pairs}


def wiener_true(sets: dict[str, Path], kernels: Path, reports: Path) -> dict:
    """Wiener deconvolution with each pair's own measured kernel, on the measured-kernel sets."""
    from train.deconvolution import wiener

    def restore(blurred: np.ndarray, kernel: np.ndarray, light: str) -> np.ndarray:
        return np.rint(wiener(blurred / 255, kernel, light=light) * 255)

    return true_kernel_scores(sets, kernels, reports, restore)


def learned_true(checkpoint: Path, sets: dict[str, Path], kernels: Path, reports: Path) -> dict:
    """A kernel-aware checkpoint restoring non-blind, given each pair's measured kernel (``deblur CHECKPOINT --kernel``)."""
    from train.cli import kernel_aware_model

    model = kernel_aware_model(checkpoint, dict(device="cpu", upsample=None, amp="bf16"))
    return true_kernel_scores(sets, kernels, reports, lambda blurred, kernel, light: model(blurred.astype(np.uint8), kernel).astype(np.float64))


def true_kernel_scores(sets: dict[str, Path], kernels: Path, reports: Path, restore) -> dict:
    """``restore(blurred levels H×W×3 float, kernel, light)`` → restored levels, with each pair's own
    measured kernel, on the measured-kernel sets (plain PSNR, as ``evaluate`` scores them; the
    brightness change of the output); reports cached in ``reports/<set>.json``."""
    from blurgen.sources import open_pairs
    from blurgen.kernels.measured import read_kernel

    scored = {}
    for set_name in (name for name in MEASURED_SETS if name in sets):
        report = reports / f"{set_name}.json"
        if not report.exists():
            light = "linear" if set_name == "levin-linear" else "values"
            made = {pair["name"]: pair["kernel"] for pair in json.loads((sets[set_name] / "kernels.json").read_text())["pairs"]}
            pairs, rows = open_pairs(sets[set_name]), []
            for index in range(len(pairs)):
                blurred, sharp = (image.astype(np.float64) for image in pairs[index])
                restored = restore(blurred, read_kernel(kernels / f"{made[pairs.id(index)]}.npy"), light)
                rows.append({"id": pairs.id(index), "psnr_gain": psnr(restored, sharp) - psnr(blurred, sharp),
                             "brightness_shift": float(restored.mean() - blurred.mean())})
            gains = [row["psnr_gain"] for row in rows]
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(json.dumps({"per_image": rows, "mean": {"psnr_gain": statistics.mean(gains)}}, indent=2) + "\n")
        rows = json.loads(report.read_text())["per_image"]
        gains = [row["psnr_gain"] for row in rows]
        scored[set_name] = {"images": len(rows), "protocol": "plain", "psnr_gain": statistics.mean(gains),
                            "improved": sum(gain > 0 for gain in gains), "worst": min(gains),
                            "brightness_shift": statistics.mean(row["brightness_shift"] for row in rows)}
    return scored


def psnr(image, truth) -> float:
    return float(10 * np.log10(255.0**2 / max(float(np.mean((image - truth) ** 2)), 1e-12)))


def load_model(name: str, path: Path | None) -> tuple[nn.Module, torch.dtype | None]:
    """A model to score and its autocast dtype: the unsharp mask, or a checkpoint's generator as ``deblur`` loads it."""
    if name == "unsharp":
        return UnsharpMask(), None
    from train.cli import load_generator

    generator, _, amp_dtype, _ = load_generator(path, device="cpu", upsample=None, amp="bf16")
    return generator, amp_dtype


def score(name: str, path: Path | None, sets: dict[str, Path], reports: Path) -> dict:
    """``name``'s report on each set (cached in ``reports/<set>.json`` while newer than the checkpoint)."""
    from blurgen.sources import open_pairs
    from train.eval.evaluate import evaluate

    reports.mkdir(parents=True, exist_ok=True)
    model = None
    scored = {}
    for set_name, folder in sets.items():
        report = reports / f"{set_name}.json"
        stale = not report.exists() or (path is not None and path.exists() and path.stat().st_mtime > report.stat().st_mtime)
        if stale:
            if model is None:
                model = load_model(name, path)
            pairs = open_pairs(folder)
            started = time.perf_counter()
            result = evaluate(model[0], pairs, torch.device("cpu"), amp_dtype=model[1])
            result["seconds"] = time.perf_counter() - started
            report.write_text(json.dumps(result, indent=2) + "\n")
            print(f"{name} on {set_name}: {result['mean']['psnr_gain']:+.2f} dB", flush=True)
        scored[set_name] = summary(json.loads(report.read_text()))
    return scored


def summary(report: dict) -> dict:
    rows = report["per_image"]
    gains = [row["psnr_gain"] for row in rows]
    return {"images": len(rows), "protocol": report["protocol_name"], "psnr_gain": statistics.mean(gains),
            "improved": sum(gain > 0 for gain in gains), "worst": min(gains), "psnr_blurred": report["mean"]["psnr_blurred"],
            "ssim_gain": report["mean"]["ssim_gain"], "brightness_shift": report["mean"]["brightness_shift"]}


def lever_runs(runs: Path, row: str) -> list[Path]:
    return sorted(path for path in runs.glob(f"{row}-seed*/checkpoint.pt"))


def spread(values: list[float]) -> dict:
    return {"mean": statistics.mean(values), "min": min(values), "max": max(values), "seeds": len(values)}


def lever_summary(runs: list[dict], sets: list[str]) -> dict:
    """Per set: the PSNR gain and the brightness change over the seeds (mean, smallest, largest)."""
    out = {}
    for set_name in sets:
        present = [run[set_name] for run in runs if set_name in run]
        if present:
            out[set_name] = {"psnr_gain": spread([entry["psnr_gain"] for entry in present])}
            if all("brightness_shift" in entry for entry in present):
                out[set_name]["brightness_shift"] = spread([entry["brightness_shift"] for entry in present])
    sharp = [run["sharp"] for run in runs if "sharp" in run]
    if sharp:
        out["sharp"] = {"psnr_worst": spread([entry["psnr_worst"] for entry in sharp]),
                        "brightness_shift": spread([entry["brightness_shift_mean"] for entry in sharp])}
    return out


def synthetic_scores(checkpoint: Path, runs: Path) -> dict:
    """The quality benchmark's sets (evalset, the three independent processes, sharp photos)."""
    import peers
    import quality

    sets = quality.make_sets(runs / "quality-sets")
    return peers.score(checkpoint, sets, lambda set_name: checkpoint.parent / f"{set_name}.json")


def signed(value: float) -> str:
    return f"{round(value, 2) + 0.0:+.2f}"


def table(results: dict) -> str:
    sets = results["sets"]
    lines = [f"# Real blur ({results['machine']})", "",
             "PSNR gain over the blurred input (images improved / images, worst image), and the mean brightness change of the "
             "output against its input in 8-bit levels. Sets: " + "; ".join(f"{name}: {what}" for name, what in sets.items()), "",
             "| model | " + " | ".join(sets) + " |", "| --- |" + " --- |" * len(sets)]
    for name, model in results["models"].items():
        cells = []
        for set_name in sets:
            entry = model["sets"].get(set_name)
            cells.append("—" if entry is None else f"{signed(entry['psnr_gain'])} ({entry['improved']}/{entry['images']}, worst "
                         f"{signed(entry['worst'])}), {signed(entry['brightness_shift'])} lv")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    levers = results.get("levers", {})
    if levers:
        columns = [*sets, "evalset", "independent", "camera", "nonuniform"]
        columns += [f"nonblind-{name}" for name in MEASURED_SETS if any(f"nonblind-{name}" in entry["summary"] for entry in levers.values())]
        lines += ["", "Lever rows: the shipped recipe at the same CPU minutes, one change each; PSNR gain mean over the seeds "
                  "[smallest, largest]; sharp photos: worst PSNR of the output to its input, and its brightness change; "
                  "nonblind-*: a kernel-aware model given each pair's measured kernel.", "",
                  "| row | seeds | " + " | ".join(columns) + " | sharp photos |", "| --- | --- |" + " --- |" * (len(columns) + 1)]
        for row, entry in levers.items():
            summary_ = entry["summary"]

            def cell(key: str) -> str:
                if key not in summary_:
                    return "—"
                gain = summary_[key]["psnr_gain"]
                return f"{signed(gain['mean'])} [{signed(gain['min'])}, {signed(gain['max'])}]"

            sharp = summary_.get("sharp")
            sharp_cell = "—" if sharp is None else (f"{sharp['psnr_worst']['mean']:.1f} dB, "
                                                   f"{signed(sharp['brightness_shift']['mean'])} lv")
            lines.append(f"| {row} | {len(entry['runs'])} | " + " | ".join(cell(key) for key in columns) + f" | {sharp_cell} |")
        lines += [""] + [f"- {row}: `{entry['options']}`, {entry.get('steps', 1500):,} steps" for row, entry in levers.items()]
    return "\n".join(lines) + "\n"


SET_NOTES = {"gopro-dev": "real GoPro frames averaged (plain)", "levin": "Levin's measured kernels on the stored values",
             "levin-linear": "Levin's kernels in linear light", "levin-dark": "Levin's kernels on dark grey photos"}


def named_paths(values: list[str], option: str) -> dict[str, Path]:
    named = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"{option} takes NAME=PATH, got {value!r}")
        named[name] = Path(path)
    return named


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "realblur", help="folder for sets and reports")
    parser.add_argument("--gopro", type=Path, default=SHARED / "gopro")
    parser.add_argument("--levin-kernels", type=Path, default=SHARED / "levin-kernels")
    parser.add_argument("--pairs", action="append", default=[], help="NAME=PATH: another paired set (any layout deblur reads)")
    parser.add_argument("--checkpoint", action="append", default=[], help="NAME=PATH: a checkpoint to score")
    parser.add_argument("--levers", default="", help="comma-separated rows: <--lever-runs>/<row>-seed<k>/checkpoint.pt")
    parser.add_argument("--lever-runs", type=Path, default=ROOT / "runs" / "real")
    parser.add_argument("--train", action="store_true", help="train the lever runs that are missing or unfinished first")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1500, help="steps of 8 images per lever run (1,500: 12,000 images)")
    parser.add_argument("--no-baselines", action="store_true", help="score only the given checkpoints and levers")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "realblur-cpu.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)
    sets = make_sets(args.runs, args.gopro, args.levin_kernels, named_paths(args.pairs, "--pairs"))
    if not sets:
        raise SystemExit("no real-blur set here: give --gopro, --levin-kernels or --pairs")
    models = {} if args.no_baselines else {"builtin": ROOT / "train" / "weights" / "builtin.pt", "unsharp": None}
    models.update(named_paths(args.checkpoint, "--checkpoint"))
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    results.update({"benchmark": "realblur", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "machine": f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)", "torch": torch.__version__,
                    "sets": {name: SET_NOTES.get(name, str(path)) for name, path in sets.items()}})
    results.setdefault("models", {})
    for name, path in models.items():
        results["models"][name] = {"path": str(path.relative_to(ROOT)) if path and path.is_relative_to(ROOT) else str(path),
                                   "sets": score(name, path, sets, args.runs / "reports" / name)}
        write(args.results, results)
    if not args.no_baselines and any(name in sets for name in MEASURED_SETS):
        results["models"]["wiener-true"] = {"path": "deblur wiener --kernel (each pair's measured kernel)",
                                            "sets": wiener_true(sets, args.levin_kernels, args.runs / "reports" / "wiener-true")}
        write(args.results, results)
    results.setdefault("levers", {})
    rows = [part.strip() for part in args.levers.split(",") if part.strip()]
    if args.train:
        train_levers(rows, args.seeds, args.steps, args.lever_runs)
    for row in rows:
        checkpoints = lever_runs(args.lever_runs, row)
        if not checkpoints:
            print(f"{row}: no {args.lever_runs}/{row}-seed*/checkpoint.pt; left out")
            continue
        runs = []
        for checkpoint in checkpoints:
            scored = score(checkpoint.parent.name, checkpoint, sets, checkpoint.parent / "realblur")
            runs.append({"run": checkpoint.parent.name, **scored, **synthetic_scores(checkpoint, args.runs)})
            if "kernel-resnet" in LEVERS[row]:  # given each pair's measured kernel: the non-blind mode
                known = learned_true(checkpoint, sets, args.levin_kernels, checkpoint.parent / "realblur" / "nonblind")
                runs[-1].update({f"nonblind-{name}": entry for name, entry in known.items()})
        measured = [*sets, "evalset", "independent", "camera", "nonuniform", *(f"nonblind-{name}" for name in MEASURED_SETS)]
        results["levers"][row] = {"runs": runs, "options": " ".join(lever_arguments(row)), "steps": LEVER_STEPS.get(row, args.steps),
                                  "summary": lever_summary(runs, measured)}
        write(args.results, results)
    return results


def lever_arguments(row: str) -> list[str]:
    """``train``'s options of a lever row: the shipped recipe with the row's change."""
    import quality

    if row not in LEVERS:
        raise SystemExit(f"unknown lever {row!r}; choose from {', '.join(LEVERS)}")
    return [*quality.SHIPPED, *LEVERS[row]]


def train_levers(rows: list[str], seeds: int, steps: int, runs: Path) -> None:
    """Train every (row, seed) not finished yet (or continue it), one process at a time."""
    import quality

    for seed in range(seeds):
        for row in rows:
            quality.train_row(f"{row}-seed{seed}", [*lever_arguments(row), "--seed", str(seed)], LEVER_STEPS.get(row, steps), runs)


def write(out: Path, results: dict) -> None:
    import peers

    peers.write(out, results, render=table)


if __name__ == "__main__":
    main()
