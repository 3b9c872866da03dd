"""Kernel-engine speed: kernel sets/s of the numba sampler against a pure-Python loop.

A kernel set is one 2000-step trajectory and its kernel (exposure 1), or its four exposure
fractions (``all``, as DeblurGAN's PSF class makes them). The baseline is the plain Python/NumPy
oracle from ``tests/oracle.py`` (same algorithm, same random stream), timed in the same run.
Also times ``blurgen kernels --n 1000`` end to end, warm (numba's cache filled by a first run).

Usage: python benchmarks/kernels.py [--quick]. Writes benchmarks/results/kernels.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run from the repository root without installing: import this checkout
sys.path.insert(1, str(ROOT / "tests"))

import oracle  # noqa: E402  (the pure-Python baseline lives with the tests)

from blurgen.kernels.bank import sample_kernels  # noqa: E402
from blurgen.kernels.raster import EXPOSURES_ALL  # noqa: E402

DEBLURGAN_EXPL = (0.003, 0.005, 0.007, 0.008, 0.009, 0.01)


def rate(run, count: int, repeats: int) -> float:
    """Median items/s over ``repeats`` timed calls of ``run()``, which makes ``count`` items."""
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        rates.append(count / (time.perf_counter() - started))
    return statistics.median(rates)


def numba_rate(n: int, exposure: str, workers: int, repeats: int) -> float:
    sample_kernels(8, exposure=exposure, workers=workers)  # load compiled code, start threads
    return rate(lambda: sample_kernels(n, seed=1, exposure=exposure, workers=workers), n, repeats)


def python_rate(n: int, exposures: tuple[float, ...]) -> float:
    return rate(lambda: [oracle.kernel_set(1, i, 65, exposures, expl_choices=DEBLURGAN_EXPL) for i in range(n)], n, 1)


def cli_wall_seconds(n: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "blurgen", "kernels", "--n", str(n), "--out", out, "--overwrite"]
        subprocess.run(command, check=True, capture_output=True)  # fills numba's cache if empty
        walls = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            walls.append(time.perf_counter() - started)
    return statistics.median(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and trajectories")
    args = parser.parse_args()
    n, repeats, n_python = (2000, 3, 3) if args.quick else (8000, 7, 10)
    cores = numba.config.NUMBA_NUM_THREADS

    rows = []
    for exposure, exposures in (("1", (1.0,)), ("all", EXPOSURES_ALL)):
        baseline = python_rate(n_python, exposures)
        rows.append({"implementation": "pure Python loop (tests/oracle.py)", "exposures": exposure, "threads": 1, "sets_per_s": baseline})
        for workers in sorted({1, cores}):
            measured = numba_rate(n, exposure, workers, repeats)
            rows.append({"implementation": "blurgen numba", "exposures": exposure, "threads": workers, "sets_per_s": measured,
                         "speedup_vs_python": measured / baseline})
    one = {(r["exposures"], r["threads"]): r["sets_per_s"] for r in rows if r["implementation"] == "blurgen numba"}
    results = {
        "benchmark": "kernels",
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "numba_threads": cores,
                    "python": platform.python_version(), "numba": numba.__version__},
        "trajectory": {"iters": 2000, "max_len": 60, "size": 65, "preset": "deblurgan"},
        "rows": rows,
        "scaling_all_cores_vs_one": {e: one[(e, cores)] / one[(e, 1)] for e in ("1", "all")},
        "cli_kernels_n1000_wall_s": cli_wall_seconds(1000),
    }
    out = ROOT / "benchmarks" / "results" / "kernels.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")

    print(f"{'implementation':<36} {'exposures':>9} {'threads':>7} {'sets/s':>10} {'speedup':>9}")
    for r in rows:
        speedup = f"{r['speedup_vs_python']:.0f}x" if "speedup_vs_python" in r else "1x"
        print(f"{r['implementation']:<36} {r['exposures']:>9} {r['threads']:>7} {r['sets_per_s']:>10,.1f} {speedup:>9}")
    print(f"scaling {cores} threads vs 1: " + ", ".join(f"exposure {e}: {s:.2f}x" for e, s in results["scaling_all_cores_vs_one"].items()))
    print(f"blurgen kernels --n 1000 (warm): {results['cli_kernels_n1000_wall_s']:.2f} s wall")
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
