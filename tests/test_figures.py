"""The documentation's figures come from a script: it runs on tiny sizes and writes every figure it promises."""

import importlib.util
import json
import shutil
from pathlib import Path

import cv2
import numpy as np

from fixtures import textured, write

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str) -> object:
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_figure_script_writes_every_figure_it_promises(tmp_path):
    figures = load_script("figures")
    results = tmp_path / "results"
    shutil.copytree(ROOT / "benchmarks" / "results", results)
    curve = {"title": "tiny", "steps": [{"step": s, "images": 8 * s, "loss": 1 / s} for s in range(1, 20)],
             "validation": [{"step": s, "images": 8 * s, "psnr_gain": 0.01 * s} for s in (5, 10, 15)]}
    (results / "training-curve-cpu.json").write_text(json.dumps(curve))
    rng = np.random.default_rng(0)
    for name in ("a", "b", "c"):  # real pairs stand-in, in the GoPro pairs' layout (the tests never read ../shared)
        sharp = textured(rng, 72, 96)
        write(tmp_path / "gopro" / "sharp" / f"{name}.png", sharp)
        write(tmp_path / "gopro" / "blur" / f"{name}.png", cv2.GaussianBlur(sharp, (0, 0), 1.5))
    written = figures.main(["--out", str(tmp_path / "images"), "--results", str(results), "--quick", "--gopro", str(tmp_path / "gopro"),
                              "--levin-set", str(tmp_path / "levin")])
    assert sorted(path.name for path in written) == sorted(figures.FIGURES)
    for name in figures.FIGURES:
        picture = cv2.imread(str(tmp_path / "images" / name))
        assert picture is not None and min(picture.shape[:2]) > 50, name


def test_the_figures_say_what_was_not_measured_instead_of_failing(tmp_path):
    figures = load_script("figures")
    (tmp_path / "empty").mkdir()
    for plot in (figures.quality_plot, figures.training_plot, figures.gain_curve_plot, figures.throughput_plot):
        assert plot(tmp_path / "empty", tmp_path).is_file()
