"""The model shipped with blurgen restores real photographs: a positive mean gain on the evaluation set."""

import numpy as np
import torch

from blurgen.evalset import build_evalset
from blurgen.sources import open_pairs
from fixtures import cli, write
from train.checkpoint import BUILTIN, load_checkpoint
from train.evaluate import evaluate
from train.models import make_generator


def test_the_builtin_model_restores_the_evalset_with_a_positive_mean_gain(tmp_path):
    assert BUILTIN.is_file() and BUILTIN.stat().st_size < 8e6
    state = load_checkpoint("builtin")
    generator = make_generator(state["args"])
    generator.load_state_dict(state["generator"])
    build_evalset(tmp_path / "ev")
    report = evaluate(generator, open_pairs(tmp_path / "ev"), torch.device("cpu"))
    assert report["images"] == 28
    assert report["mean"]["psnr_gain"] > 0 and report["mean"]["ssim_gain"] > 0
    assert sum(row["psnr_gain"] > 0 for row in report["per_image"]) > 0.8 * report["images"]


def test_deblur_builtin_needs_no_checkpoint_of_ones_own(tmp_path):
    write(tmp_path / "photo.png", np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8))
    result = cli("deblur", "builtin", str(tmp_path / "photo.png"), "--out", str(tmp_path / "out"), "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "photo.png").is_file() and "from builtin" in result.stderr
