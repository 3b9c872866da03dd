"""A trainer that demonstrably deblurs: the evaluation set, paired folders of every layout, the
identity start, the discriminating critic, content losses, diagnostics and the checkpoint's memory."""

import hashlib
import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from fixtures import TINY_NETS, cli, make_gopro, textured, write
from blurgen.blurring.camera import camera_preset
from blurgen.output.dataset import DatasetSpec
from blurgen.output.distribute import build_dataset
from blurgen.output.evalset import EvalsetExists, EvalsetSpec, build_evalset, fit_within
from blurgen.pairs.synthesizer import LiveKernels
from blurgen.sources import FolderSource, SourceError, open_pairs
from blurgen.sources.packaged import PackagedPhotos
from blurgen.settings import SettingError
from train.eval.evaluate import evaluate, restore, to_image, to_tensor
from train.losses.content import CHARBONNIER_EPS, L1_WEIGHT, PERCEPTUAL_WEIGHT, ContentLoss, PerceptualLoss, charbonnier, fft_l1, vgg_conv3_3
from train.config import TrainConfig
from train.loop import train
from train.archs.registry import Generator, make_critic
from train.eval.probe import critic_probe

SMALL = EvalsetSpec(per_image=2, kernel_size=15, max_side=80)


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i, (height, width) in enumerate([(96, 120), (80, 80), (100, 70)]):
        write(root / f"p{i}.png", textured(rng, height, width))
    return root


def digest(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_evalset_of_packaged_photos_is_real_photos_blurred_and_aligned(tmp_path):
    settings = build_evalset(tmp_path / "ev", EvalsetSpec(per_image=1, max_side=256))
    assert settings["pairs"] == 7 and settings["source"]["kind"] == "packaged photos"
    assert all(photo["licence"] for photo in settings["source"]["photos"])
    pairs = open_pairs(tmp_path / "ev")
    assert len(pairs) == 7 and pairs.id(0) == "astronaut-0.png"
    blurred, sharp = pairs[0]
    assert blurred.shape == sharp.shape == (256 - 64, 256 - 64, 3)  # borders cropped by the 65-px kernel's margin
    assert not np.array_equal(blurred, sharp)
    photo, scale = fit_within(PackagedPhotos()[0], 256)
    assert scale == 0.5 and np.array_equal(sharp, photo[32:-32, 32:-32])  # the sharp image is the photo, borders cropped
    meta = [json.loads(line) for line in (tmp_path / "ev" / "meta.jsonl").read_text().splitlines()]
    assert meta[0]["camera"]["name"] == "gamma" and meta[0]["crop_box"]["x"] == 32


def test_evalset_is_byte_identical_for_a_seed_and_refuses_another_into_the_same_folder(tmp_path, photos):
    source = FolderSource(photos)
    build_evalset(tmp_path / "a", SMALL, source)
    build_evalset(tmp_path / "b", SMALL, source)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    build_evalset(tmp_path / "a", SMALL, source)  # the same set again: left as it is
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    other = EvalsetSpec(per_image=2, kernel_size=15, max_side=80, seed=1)
    build_evalset(tmp_path / "c", other, source)
    assert digest(tmp_path / "c")["blur/p0-0.png"] != digest(tmp_path / "a")["blur/p0-0.png"]
    with pytest.raises(EvalsetExists, match="--out"):
        build_evalset(tmp_path / "a", other, source)


def test_evalset_kernels_are_not_the_ones_training_with_the_same_seed_sees(tmp_path, photos):
    build_evalset(tmp_path / "ev", SMALL, FolderSource(photos))
    first = json.loads((tmp_path / "ev" / "meta.jsonl").read_text().splitlines()[0])
    _, training = LiveKernels(seed=0, size=15).kernel(0, lambda _: 0.0)
    assert first["kernel"]["phi"] != training["phi"]


def test_open_pairs_reads_every_layout(tmp_path, photos):
    build_evalset(tmp_path / "ev", SMALL, FolderSource(photos))
    assert len(open_pairs(tmp_path / "ev")) == 6 and open_pairs(tmp_path / "ev").layout == "folders"

    make_gopro(tmp_path / "gopro", {"GOPR0372_07_00": 2, "GOPR0374_11_00": 1}, split="train")
    make_gopro(tmp_path / "gopro", {"GOPR0384_11_00": 2}, split="test")
    gopro = open_pairs(tmp_path / "gopro")  # a GoPro_Large root: its test split
    assert len(gopro) == 2 and gopro.id(1) == "GOPR0384_11_00/000002.png"
    assert len(open_pairs(tmp_path / "gopro" / "train")) == 3

    for fmt in ("files", "webdataset"):
        spec = DatasetSpec(out=tmp_path / fmt, source=FolderSource(photos), kernels=LiveKernels(size=15),
                           camera=camera_preset("none"), crop=32, per_image=2, format=fmt, shard_size=2)
        build_dataset(spec, workers=1)
        found = open_pairs(tmp_path / fmt)
        assert len(found) == 6 and found.layout == fmt.replace("files", "folders")
        blurred, sharp = found[5]
        assert blurred.shape == sharp.shape == (32, 32, 3)
    assert len(open_pairs(tmp_path / "webdataset" / "train" / "shard-00000.tar")) == 4


def test_open_pairs_names_the_first_unmatched_file(tmp_path):
    rng = np.random.default_rng(1)
    for name in ("a.png", "b.png"):
        write(tmp_path / "pairs" / "sharp" / name, textured(rng, 32, 32))
    write(tmp_path / "pairs" / "blur" / "a.png", textured(rng, 32, 32))
    write(tmp_path / "pairs" / "blur" / "c.png", textured(rng, 32, 32))
    with pytest.raises(SourceError, match=r"sharp/b\.png has no partner of the same name in .*/blur/ \(and 1 more\)"):
        open_pairs(tmp_path / "pairs")
    with pytest.raises(SourceError, match="does not exist"):
        open_pairs(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no paired folders"):
        open_pairs(tmp_path / "empty")


def test_the_default_generator_starts_at_the_identity_and_the_paper_one_does_not(tmp_path, photos):
    build_evalset(tmp_path / "ev", SMALL, FolderSource(photos))
    pairs = open_pairs(tmp_path / "ev")
    torch.manual_seed(0)
    report = evaluate(Generator(), pairs, torch.device("cpu"))
    assert report["mean"]["psnr_gain"] == 0.0 and report["mean"]["ssim_gain"] == pytest.approx(0.0, abs=1e-12)
    blurred, _ = pairs[0]
    assert np.array_equal(to_image(restore(Generator(), to_tensor(blurred, torch.device("cpu"))), grey=False), blurred)
    paper = evaluate(Generator(init="paper"), pairs, torch.device("cpu"))
    assert paper["mean"]["psnr_gain"] < -1.0


def test_the_default_critic_tells_sharp_from_blurred():
    small = dict(steps=20, crop=32, train_pairs=24, heldout_pairs=24)  # the benchmark's probe: 40 steps, 64-px crops
    torch.manual_seed(0)
    default = critic_probe(make_critic(TrainConfig.critic), **small)
    assert default["pairwise_accuracy"] >= 0.75 and default["mean_gap"] > 0
    # The paper's critic is allowed to fail this; that it does is why the default exists.
    torch.manual_seed(0)
    paper = critic_probe(make_critic("paper"), **small)
    assert paper["pairwise_accuracy"] < default["pairwise_accuracy"]


def test_content_losses_have_their_stated_weights():
    torch.manual_seed(0)
    sharp = torch.rand(2, 3, 16, 16) * 2 - 1
    restored = (sharp + 0.1).clamp(-1, 1)
    l1 = (restored - sharp).abs().mean()
    total, terms = ContentLoss("l1")(restored, sharp)
    assert float(total) == pytest.approx(L1_WEIGHT * float(l1)) and set(terms) == {"l1"}
    perceptual = PerceptualLoss(vgg_conv3_3("random"))
    both, terms = ContentLoss("perceptual+l1", perceptual)(restored, sharp)
    assert float(both) == pytest.approx(PERCEPTUAL_WEIGHT * float(perceptual(restored, sharp)) + L1_WEIGHT * float(l1), rel=1e-5)
    with pytest.raises(ValueError, match="content must be one of"):
        ContentLoss("ssim")
    with pytest.raises(ValueError, match="VGG"):
        ContentLoss("perceptual")


def test_charbonnier_and_the_frequency_term_are_zero_for_equal_images_and_right_on_a_known_pair():
    torch.manual_seed(1)
    sharp = (torch.rand(2, 3, 12, 10) * 2 - 1).requires_grad_(False)
    assert float(fft_l1(sharp, sharp)) == 0.0
    assert float(charbonnier(sharp, sharp)) == pytest.approx(CHARBONNIER_EPS)
    # a constant offset c puts all its energy in the DC coefficient: sqrt(H*W) * c (orthonormal),
    # one real part among the one-sided half's H * (W // 2 + 1) complex coefficients (2 parts each)
    offset = 0.25
    expected = math.sqrt(12 * 10) * offset / (2 * 12 * (10 // 2 + 1))
    assert float(fft_l1(sharp + offset, sharp)) == pytest.approx(expected, rel=1e-5)
    assert float(charbonnier(sharp + offset, sharp)) == pytest.approx(math.sqrt(offset**2 + CHARBONNIER_EPS**2), rel=1e-6)
    restored = (sharp + 0.1 * torch.randn_like(sharp)).requires_grad_(True)
    total, terms = ContentLoss("charbonnier", fft_weight=0.5)(restored, sharp)
    assert set(terms) == {"charbonnier", "fft"}
    assert float(total.detach()) == pytest.approx(L1_WEIGHT * (float(terms["charbonnier"]) + 0.5 * float(terms["fft"])), rel=1e-6)
    total.backward()
    assert torch.isfinite(restored.grad).all() and restored.grad.abs().sum() > 0
    # the frequency term is Parseval-scaled: the same noise on a 4x larger image keeps its size
    noise = 0.1 * torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    small, large = float(fft_l1(noise[..., :32, :32], 0 * noise[..., :32, :32])), float(fft_l1(noise, 0 * noise))
    assert large == pytest.approx(small, rel=0.1)
    with pytest.raises(ValueError, match="fft_weight"):
        ContentLoss("l1", fft_weight=-1)


def gopro_config(root: Path, out: Path, **changes) -> TrainConfig:
    settings = dict(mix="wild", gopro=str(root), out=str(out), steps=1, batch_size=2, crop=32, vgg_weights="random",
                    workers=0, device="cpu", log_every=1, image_every=100, **TINY_NETS)
    return TrainConfig(**{**settings, **changes})


def test_diagnostics_and_validation_gain_are_logged(tmp_path, photos):
    make_gopro(tmp_path / "gopro", {"GOPR0372_07_00": 2}, size=(144, 176))
    build_evalset(tmp_path / "ev", SMALL, FolderSource(photos))
    lines = []
    result = train(gopro_config(tmp_path / "gopro", tmp_path / "run", val=str(tmp_path / "ev"), val_every=1), log=lines.append)
    record = result["history"][0]
    assert {"d_real", "d_fake", "wasserstein", "gp", "grad_norm", "l1", "content"} <= set(record)
    step_line = next(line for line in lines if line.startswith("step 1/1"))
    assert "D(real)" in step_line and "D(fake)" in step_line and "|grad D|" in step_line and "gap" in step_line
    assert "gap +0.000e+00" not in step_line
    validation = next(line for line in lines if line.startswith("validation"))
    assert "blurred input" in validation and "gain" in validation
    with pytest.raises(SourceError, match="does not exist"):
        train(gopro_config(tmp_path / "gopro", tmp_path / "run2", val=str(tmp_path / "nope")), log=lines.append)
    assert not (tmp_path / "run2").exists()


@pytest.mark.parametrize("change", [{"critic": "paper"}, {"content": "perceptual"}, {"init": "paper"}])
def test_resume_refuses_another_critic_content_or_init(tmp_path, change):
    make_gopro(tmp_path / "gopro", {"GOPR0372_07_00": 2}, size=(144, 176))
    train(gopro_config(tmp_path / "gopro", tmp_path / "run"), log=lambda _: None)
    key = next(iter(change))
    with pytest.raises(SettingError, match=f"{key} {change[key]} differs from the checkpoint's"):
        train(gopro_config(tmp_path / "gopro", tmp_path / "run", steps=2, resume=True, **change), log=lambda _: None)


def test_paper_flag_and_deblur_pairs_report_blurred_and_restored(tmp_path, photos):
    make_gopro(tmp_path / "gopro", {"GOPR0372_07_00": 2}, size=(144, 176))
    result = cli("train", "--mix", "wild", "--gopro", str(tmp_path / "gopro"), "--steps", "1", "--crop", "32", "--paper",
                 "--vgg-weights", "random", "--workers", "0", "--device", "cpu", "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    assert "paper init, instance norm, attention none, spectral norm none)" in result.stderr and "; critic paper" in result.stderr and "content perceptual," in result.stderr and "of 1 images" in result.stderr
    build_evalset(tmp_path / "ev", SMALL, FolderSource(photos))
    report = tmp_path / "report.json"
    sheet = tmp_path / "sheet.png"
    result = cli("deblur", str(tmp_path / "run" / "checkpoint.pt"), "--pairs", str(tmp_path / "ev"), "--report", str(report), "--device", "cpu",
                 "--sheet", str(sheet))
    assert result.returncode == 0, result.stderr
    assert "[6/6]" in result.stderr and "blurred input" in result.stdout
    picture = cv2.imread(str(sheet))
    assert picture is not None and picture.shape[0] > 6 * 40  # six rows: the three worst and the three best
    metrics = json.loads(report.read_text())
    assert metrics["images"] == 6 and metrics["pairs"]["layout"] == "folders"
    row = metrics["per_image"][0]
    assert row["psnr_gain"] == pytest.approx(row["psnr"] - row["psnr_blurred"]) and "ssim_blurred" in row
    (tmp_path / "ev" / "blur" / "p0-0.png").rename(tmp_path / "ev" / "blur" / "zz.png")
    result = cli("deblur", str(tmp_path / "run" / "checkpoint.pt"), "--pairs", str(tmp_path / "ev"), "--device", "cpu")
    assert result.returncode == 2 and "p0-0.png has no partner" in result.stderr and "Traceback" not in result.stderr
