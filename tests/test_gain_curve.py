"""The gain-per-minute benchmark: one run stopped and resumed at each point, each point's model scored."""

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import gain_curve  # noqa: E402

from train.checkpoint import load_checkpoint  # noqa: E402


def test_each_point_is_a_checkpoint_of_one_run_scored_and_a_second_call_trains_nothing(tmp_path):
    arguments = ["--quick", "--recipe", "modern", "--points", "8,4", "--runs", str(tmp_path / "runs"),
                 "--results", str(tmp_path / "curve.json")]
    results = gain_curve.main(arguments)
    points = results["recipes"]["modern"]["points"]
    assert [point["images"] for point in points] == [4, 8] and [point["steps"] for point in points] == [2, 4]
    assert 0 < points[0]["minutes"] < points[1]["minutes"]
    run = tmp_path / "runs" / "modern"
    for point in points:
        saved = load_checkpoint(run / f"checkpoint-{point['images']}.pt")
        assert saved["step"] == point["steps"] and saved["args"]["optimizer"] == "adamw" and saved["args"]["steps"] == 4
        assert np.isfinite(point["independent_mean"]) and point["sharp"]["images"] > 0
    kept = (run / "checkpoint-8.pt").stat().st_mtime_ns
    again = gain_curve.main(arguments)
    assert (run / "checkpoint-8.pt").stat().st_mtime_ns == kept
    assert again["recipes"]["modern"]["points"] == points
    assert json.loads((tmp_path / "curve.json").read_text())["recipes"]["modern"]["options"].endswith("--steps 4")
