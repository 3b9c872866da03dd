"""Can each critic tell sharp from blurred? Every ``--critic`` is trained alone with WGAN-GP on
sharp vs blurred crops of the built-in dead-leaves corpus (the blurred crops playing the
generator's output at step 0), then ranks held-out pairs (:mod:`train.eval.probe`): the measurement
behind the default ``--critic spectral``.

Usage: python benchmarks/critic_probe.py     Writes benchmarks/results/critic-probe-{cpu,cuda}.json and .md.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run as a script, this file's folder would make "train" mean this file

from train.archs.critics import CRITICS  # noqa: E402
from train.archs.registry import make_critic  # noqa: E402
from train.eval.probe import critic_probe  # noqa: E402


def main() -> None:
    seed = 0
    rows = []
    for kind in CRITICS:
        torch.manual_seed(seed)
        rows.append({"critic": kind, **critic_probe(make_critic(kind), seed=seed)})
    device = "cuda" if torch.cuda.is_available() else "cpu"
    out = ROOT / "benchmarks" / "results" / f"critic-probe-{device}.json"
    out.write_text(json.dumps({"benchmark": "critic-probe", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "torch": torch.__version__,
                               "rows": rows}, indent=2) + "\n")
    first = rows[0]
    lines = [f"Each critic trained alone for {first['steps']} steps (batch {first['batch_size']}, {first['crop']}-px crops); "
             f"{first['heldout_pairs']} held-out pairs.", "", "| critic | pairwise accuracy | mean gap D(sharp) − D(blurred) |",
             "| --- | --- | --- |"]
    lines += [f"| {row['critic']} | {row['pairwise_accuracy']:.2f} | {row['mean_gap']:+.4f} |" for row in rows]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
