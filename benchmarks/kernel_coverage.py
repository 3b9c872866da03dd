"""Kernel coverage: how close each generator's kernels come to camera shake measured on real captures.

For each measured kernel (by default the 8 Levin et al. recovered from hand-held captures,
``../shared/realblur-dev/levin-kernels``), the best normalised cross-correlation over shifts with
any of N kernels sampled from a generator (:mod:`blurgen.kernels.coverage`, the measure of
``blurgen kernels --coverage``). Rows: every blurgen preset (65-px canvas, as train samples them)
and the peers users pick instead (albumentations, deepinv, kornia: their responses to a bright
point, 31 px, as ``benchmarks/peers.py`` collects them), each with several sample seeds. Kernels
1–4 are the ones a change may be tuned on; 5–8 are held out, so that a change is shown to carry
over; all 8 together are the figure the targets name.

Usage: python benchmarks/kernel_coverage.py [--n 2048] [--seeds 3] [--kernels DIR] [--rows mixture,walk,...]
Writes benchmarks/results/kernel-coverage.json and .md.
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
sys.path[0] = str(ROOT)
sys.path.insert(1, str(ROOT / "benchmarks"))

import peers  # noqa: E402
from blurgen.kernels.bank import sample_kernels  # noqa: E402
from blurgen.kernels.coverage import coverage  # noqa: E402
from blurgen.kernels.measured import read_kernels  # noqa: E402
from blurgen.kernels.presets import preset_names  # noqa: E402

LEVIN = ROOT.parent / "shared" / "realblur-dev" / "levin-kernels"
PEERS = ("albumentations", "deepinv", "kornia")
TUNE, HELD = slice(0, 4), slice(4, 8)


def bank_kernels(row: str, n: int, seed: int):
    """N kernels of a blurgen preset (or preset file) or of a peer, float32 N×K×K."""
    if row in PEERS:
        return peers.peer_bank(row, n, seed=seed).kernels
    return sample_kernels(n, seed=seed, preset=row).kernels


def spread(values: list[float]) -> dict:
    return {"mean": statistics.mean(values), "min": min(values), "max": max(values)}


def measure(row: str, measured: dict, n: int, seeds: int) -> dict:
    """Per seed, the coverage of every measured kernel; summarised over seeds for tune, held-out and all."""
    per_seed = []
    for seed in range(seeds):
        found = coverage(measured, bank_kernels(row, n, seed))
        per_seed.append([found[name]["ncc"] for name in measured])
    names = list(measured)
    parts = {"tune (1-4)": TUNE, "held out (5-8)": HELD, "all": slice(None)}
    summary = {}
    for part, where in parts.items():
        summary[part] = {"mean": spread([statistics.mean(scores[where]) for scores in per_seed]),
                         "worst": spread([min(scores[where]) for scores in per_seed])}
    per_kernel = {name: spread([scores[j] for scores in per_seed]) for j, name in enumerate(names)}
    return {"seeds": seeds, "n": n, "summary": summary, "per_kernel": per_kernel}


def table(results: dict) -> str:
    lines = [f"# Kernel coverage ({results['machine']})", "",
             f"Best normalised cross-correlation over shifts between each of the {len(results['measured'])} measured kernels "
             f"({results['source']}) and any of N = {results['n']:,} sampled kernels; mean over the measured kernels and the "
             "worst of them, each the mean over the sample seeds [smallest, largest]. Kernels 1-4 are for tuning, 5-8 held out.",
             "", "| generator | seeds | mean, 1-4 | mean, 5-8 (held out) | mean, all 8 | worst, all 8 |", "| --- | --- | --- | --- | --- | --- |"]

    def cell(entry: dict) -> str:
        return f"{entry['mean']:.3f} [{entry['min']:.3f}, {entry['max']:.3f}]"

    for row, entry in results["rows"].items():
        summary = entry["summary"]
        lines.append(f"| {row} | {entry['seeds']} | {cell(summary['tune (1-4)']['mean'])} | {cell(summary['held out (5-8)']['mean'])} | "
                     f"{cell(summary['all']['mean'])} | {cell(summary['all']['worst'])} |")
    names = list(results["measured"])
    lines += ["", "Per measured kernel (mean over the seeds):", "", "| generator | " + " | ".join(names) + " |",
              "| --- |" + " --- |" * len(names)]
    for row, entry in results["rows"].items():
        lines.append(f"| {row} | " + " | ".join(f"{entry['per_kernel'][name]['mean']:.2f}" for name in names) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", type=Path, default=LEVIN, help="folder of measured kernels (.npy or .png)")
    parser.add_argument("--n", type=int, default=2048, help="kernels sampled per generator and seed")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rows", default=",".join([*preset_names(), *PEERS]), help="blurgen presets (or .json files) and peers")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "kernel-coverage.json")
    args = parser.parse_args(argv)
    measured = read_kernels(args.kernels)
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    results.update({"benchmark": "coverage", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "n": args.n,
                    "machine": f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)",
                    "source": args.kernels.name, "measured": list(measured)})
    results.setdefault("rows", {})
    for row in (part.strip() for part in args.rows.split(",") if part.strip()):
        started = time.perf_counter()
        results["rows"][Path(row).stem] = measure(row, measured, args.n, args.seeds)
        print(f"{row}: {results['rows'][Path(row).stem]['summary']['all']['mean']['mean']:.3f} ({time.perf_counter() - started:.0f} s)",
              flush=True)
        peers.write(args.results, results, render=table)
    return results


if __name__ == "__main__":
    main()
