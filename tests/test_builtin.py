"""The model shipped with blurgen restores real photographs: a positive mean gain on the evaluation set,
and it leaves a sharp photo as the manual says it does."""

import re
from pathlib import Path

import numpy as np
import torch

from blurgen.output.evalset import EvalsetSpec, build_evalset, fit_within
from blurgen.sources.packaged import PackagedPhotos
from blurgen.sources import open_pairs
from fixtures import cli, write
from train.checkpoint import BUILTIN, load_checkpoint
from train.eval.evaluate import evaluate, restore, to_tensor
from train.eval.metrics import psnr, to_uint8_levels
from train.config import recorded
from train.archs.registry import make_generator


def test_the_builtin_model_restores_the_evalset_with_a_positive_mean_gain(tmp_path):
    assert BUILTIN.is_file() and BUILTIN.stat().st_size < 8e6
    state = load_checkpoint("builtin")
    generator = make_generator(recorded(state["args"]))
    generator.load_state_dict(state["generator"])
    build_evalset(tmp_path / "ev", EvalsetSpec(max_side=320))  # half the benchmark's size: a quarter of the time
    report = evaluate(generator, open_pairs(tmp_path / "ev"), torch.device("cpu"))
    assert report["images"] == 28
    assert report["mean"]["psnr_gain"] > 0 and report["mean"]["ssim_gain"] > 0
    assert sum(row["psnr_gain"] > 0 for row in report["per_image"]) > 0.8 * report["images"]


def test_deblur_builtin_needs_no_checkpoint_of_ones_own(tmp_path):
    write(tmp_path / "photo.png", np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8))
    result = cli("deblur", "builtin", str(tmp_path / "photo.png"), "--out", str(tmp_path / "out"), "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "photo.png").is_file() and "from builtin" in result.stderr


def test_the_builtin_model_leaves_sharp_photos_as_the_manual_states():
    readme = (Path(__file__).resolve().parents[1] / "docs" / "training" / "index.md").read_text()
    sentence = r"returns each sharp photo at ([\d.]+) dB or more of itself and changes its mean brightness by less than ([\d.]+) grey levels"
    stated = re.search(sentence.replace(" ", r"\s+"), readme)  # as the page wraps it
    assert stated, "the manual states what the shipped model does to a sharp photo"
    worst_psnr, largest_shift = float(stated.group(1)), float(stated.group(2))
    state = load_checkpoint("builtin")
    generator = make_generator(recorded(state["args"])).eval()
    generator.load_state_dict(state["generator"])
    photos = PackagedPhotos()
    for index in range(len(photos)):
        photo, _ = fit_within(photos[index][:, :, :3], 640)  # as the quality benchmark's sharp set
        sharp = to_tensor(photo, torch.device("cpu"))
        with torch.no_grad():
            restored = restore(generator, sharp)
        shift = float(to_uint8_levels(restored).mean() - to_uint8_levels(sharp).mean())
        assert float(psnr(restored, sharp)[0]) >= worst_psnr and abs(shift) < largest_shift, photos.id(index)


def test_deblur_keeps_the_alpha_channel_of_a_transparent_photo(tmp_path):
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (40, 56, 4), dtype=np.uint8)
    write(tmp_path / "logo.png", rgba)
    result = cli("deblur", "builtin", str(tmp_path / "logo.png"), "--out", str(tmp_path / "out"), "--device", "cpu")
    assert result.returncode == 0, result.stderr
    from blurgen.sources import read_image

    restored = read_image(tmp_path / "out" / "logo.png")
    assert restored.shape == (40, 56, 4) and np.array_equal(restored[:, :, 3], rgba[:, :, 3])
