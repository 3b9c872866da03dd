import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from fixtures import TINY_FLAGS, TINY_NETS, cli, make_gopro, textured, write
from blurgen.sources import read_image
from blurgen.settings import SettingError
from train.checkpoint import CheckpointError, load_checkpoint
from torch.utils.data import DataLoader

from train.data import GOPRO, SYNTH, StreamSampler, TrainingStream, collate, cut_windows, parse_crop_stages, parse_ratio, stage_side
from train.config import TrainConfig
from train.losses.content import VggWeightsMissing, vgg_conv3_3
from train.losses.gan import gradient_penalty
from train.loop import train
from train.optim import lr_factor
from train.eval.metrics import psnr, ssim
from train.archs.registry import Critic, Generator, parameter_count


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    make_gopro(root / "gopro", {"GOPR0372_07_00": 2, "GOPR0374_11_00": 2}, size=(144, 176))
    make_gopro(root / "gopro", {"GOPR0384_11_00": 2}, split="test", size=(72, 100))
    rng = np.random.default_rng(0)
    for i in range(4):
        write(root / "sharp" / f"{i}.png", textured(rng, 112, 112))
    return root


def config(data: Path, out: Path, **changes) -> TrainConfig:
    settings = dict(mix="comb", gopro=str(data / "gopro"), src=str(data / "sharp"), out=str(out), steps=2, batch_size=3,
                    crop=32, vgg_weights="random", workers=0, device="cpu", log_every=100, image_every=100, **TINY_NETS)
    settings.update(changes)
    return TrainConfig(**settings)


def quiet(_: str) -> None:
    pass


@pytest.mark.parametrize("mix", ["wild", "synth", "comb"])
def test_one_step_of_each_regime_runs(data, tmp_path, mix):
    result = train(config(data, tmp_path, mix=mix, steps=1, camera="realistic"), log=quiet)
    assert result["step"] == 1 and len(result["history"]) == 1
    assert all(np.isfinite(v) for v in result["history"][0].values())
    assert (tmp_path / "checkpoint.pt").exists() and (tmp_path / "metrics.jsonl").exists()
    assert list((tmp_path / "tensorboard").iterdir())


def test_the_generator_learns_a_fixed_tiny_set(tmp_path):
    # Two pairs of hard-edged blocks under a strong box blur, cropped whole (64 px after the ×2 downscale).
    rng = np.random.default_rng(4)
    for frame in range(2):
        sharp = cv2.resize(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8), (128, 128), interpolation=cv2.INTER_NEAREST)
        write(tmp_path / "gopro" / "train" / "scene" / "sharp" / f"{frame}.png", sharp)
        write(tmp_path / "gopro" / "train" / "scene" / "blur" / f"{frame}.png", cv2.blur(sharp, (15, 15)))
    result = train(TrainConfig(mix="wild", gopro=str(tmp_path / "gopro"), out=str(tmp_path / "run"), steps=60, batch_size=2, crop=64,
                               critic_steps=1, ngf=16, blocks=2, ndf=8, lr=5e-4, vgg_weights="random", workers=0, device="cpu", log_every=100, image_every=100), log=quiet)
    losses = [record["loss_g"] for record in result["history"]]
    content = [record["content"] for record in result["history"]]
    assert np.mean(content[-5:]) < 0.5 * np.mean(content[:5])
    assert np.mean(losses[-5:]) < np.mean(losses[:5])


def test_resume_continues_bit_for_bit(data, tmp_path):
    straight = train(config(data, tmp_path / "straight", steps=4, checkpoint_every=100), log=quiet)
    train(config(data, tmp_path / "resumed", steps=4, stop_at=2), log=quiet)
    assert load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")["step"] == 2
    resumed = train(config(data, tmp_path / "resumed", steps=4, resume=True, workers=2, threads=2), log=quiet)
    assert [r["step"] for r in resumed["history"]] == [3, 4]
    assert resumed["history"] == straight["history"][2:]
    a = load_checkpoint(tmp_path / "straight" / "checkpoint.pt")
    b = load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")
    for part in ("generator", "critic"):
        for key, value in a[part].items():
            assert torch.equal(value, b[part][key]), (part, key)


def test_resume_refuses_changed_settings_and_other_upsampling(data, tmp_path):
    train(config(data, tmp_path, steps=1), log=quiet)
    with pytest.raises(CheckpointError, match="--upsample transpose"):
        train(config(data, tmp_path, steps=2, resume=True, upsample="resize"), log=quiet)
    with pytest.raises(SettingError, match="batch_size 2 differs"):
        train(config(data, tmp_path, steps=2, resume=True, batch_size=2), log=quiet)


def test_comb_epochs_have_the_exact_ratio_and_visit_every_gopro_pair(data):
    from blurgen.pairs.synthesizer import LiveKernels, PairSynthesizer
    from blurgen.sources import FolderSource, GoProPairs

    gopro = GoProPairs(data / "gopro", "train")
    synthesizer = PairSynthesizer(FolderSource(data / "sharp"), LiveKernels(size=15), crop=32)
    stream = TrainingStream(seed=7, epoch_size=len(gopro) * 3, crop=32, synth_share=2, gopro_share=1, gopro=gopro, synthesizer=synthesizer)
    for epoch in range(3):
        positions = range(epoch * 12, (epoch + 1) * 12)
        kinds = [stream.kind(p) for p in positions]
        assert kinds.count(SYNTH) == 8 and kinds.count(GOPRO) == 4
        kinds_ranks = stream.composition(epoch)
        gopro_items = sorted(stream.pick(epoch, GOPRO, rank, len(gopro)) for rank in range(4))
        assert gopro_items == [0, 1, 2, 3]
    again = TrainingStream(seed=7, epoch_size=12, crop=32, synth_share=2, gopro_share=1, gopro=gopro, synthesizer=synthesizer)
    assert [again.kind(p) for p in range(36)] == [stream.kind(p) for p in range(36)]
    assert parse_ratio("2:1") == (2, 1) and parse_ratio("3") == (3, 1)
    with pytest.raises(ValueError, match="ratio"):
        parse_ratio("a:b")
    # What the trainer's loader delivers, epoch by epoch: 8 pairs blurred on the device and 4 GoPro pairs each.
    loader = DataLoader(stream, batch_size=3, collate_fn=collate, sampler=StreamSampler(batch_size=3, steps=12))
    per_epoch = {}
    for step, batch in enumerate(loader):
        synthetic = len(batch["device"]["position"]) if batch["device"] is not None else 0
        gopro_pairs = len(batch["ready"]["position"]) if batch["ready"] is not None else 0
        counts = per_epoch.setdefault(step * 3 // 12, [0, 0])
        counts[0] += synthetic
        counts[1] += gopro_pairs
        assert synthetic + gopro_pairs == 3
    assert per_epoch == {0: [8, 4], 1: [8, 4], 2: [8, 4]}
    assert [int((kinds_ranks[0] == kind).sum()) for kind in (SYNTH, GOPRO)] == [8, 4]


def test_ranks_read_disjoint_positions_that_cover_each_step():
    ranks = [list(StreamSampler(batch_size=2, steps=3, start_step=1, rank=r, world=2)) for r in range(2)]
    assert sorted(ranks[0] + ranks[1]) == list(range(4, 12))


def test_lr_is_constant_then_falls_linearly_to_zero():
    factor = lr_factor(10)
    assert [factor(s) for s in range(11)] == [1, 1, 1, 1, 1, 1.0, 0.8, 0.6, 0.4, 0.2, 0.0]


def test_cosine_schedule_warms_up_linearly_then_anneals_to_zero():
    factor = lr_factor(12, "cosine", warmup=2)
    assert [factor(s) for s in range(3)] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert factor(7) == pytest.approx(0.5) and factor(12) == pytest.approx(0.0)
    values = [factor(s) for s in range(2, 13)]
    assert all(a > b for a, b in zip(values, values[1:]))
    with pytest.raises(ValueError, match="schedule must be one of"):
        lr_factor(10, "step")


def test_the_modern_recipe_trains_with_adamw_and_its_schedule_and_resumes_bit_for_bit(data, tmp_path):
    modern = dict(mix="synth", optimizer="adamw", beta1=0.9, beta2=0.99, weight_decay=1e-3, schedule="cosine", warmup=1,
                  content="charbonnier", fft_weight=0.1)
    straight = train(config(data, tmp_path / "straight", steps=4, checkpoint_every=100, **modern), log=quiet)
    saved = load_checkpoint(tmp_path / "straight" / "checkpoint.pt")
    group = saved["optimizer_g"]["param_groups"][0]
    assert (group["betas"], group["weight_decay"]) == ((0.9, 0.99), 1e-3) and group["lr"] == pytest.approx(0.0, abs=1e-12)
    assert {"charbonnier", "fft"} <= set(straight["history"][0])
    assert [r["lr"] / 1e-4 for r in straight["history"]] == pytest.approx([0.5, 1.0, 0.75, 0.25])
    train(config(data, tmp_path / "resumed", steps=4, stop_at=2, **modern), log=quiet)
    resumed = train(config(data, tmp_path / "resumed", steps=4, resume=True, **modern), log=quiet)
    assert resumed["history"] == straight["history"][2:]
    again = load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")
    assert all(torch.equal(value, again["generator"][key]) for key, value in saved["generator"].items())
    with pytest.raises(SettingError, match="optimizer adam differs"):
        train(config(data, tmp_path / "resumed", steps=5, resume=True, **{**modern, "optimizer": "adam"}), log=quiet)


def test_progressive_crops_cut_windows_for_their_share_of_the_steps_and_resume_bit_for_bit(data, tmp_path, monkeypatch):
    import train.loop as loop

    seen = []

    def recording(blurred, sharp, side, seed, step):
        cut = cut_windows(blurred, sharp, side, seed, step)
        seen.append((step, tuple(cut[0].shape[-2:])))
        return cut

    monkeypatch.setattr(loop, "cut_windows", recording)
    staged = dict(mix="synth", crop_stages="16:0.25,24:0.5")
    straight = train(config(data, tmp_path / "straight", steps=4, checkpoint_every=100, **staged), log=quiet)
    assert seen == [(1, (16, 16)), (2, (24, 24)), (3, (32, 32)), (4, (32, 32))]
    train(config(data, tmp_path / "resumed", steps=4, stop_at=1, **staged), log=quiet)
    assert train(config(data, tmp_path / "resumed", steps=4, resume=True, **staged), log=quiet)["history"] == straight["history"][1:]
    with pytest.raises(SettingError, match="crop_stages  differs from the checkpoint's 16:0.25,24:0.5"):
        train(config(data, tmp_path / "resumed", steps=5, resume=True, mix="synth"), log=quiet)


def test_a_window_is_the_same_place_in_both_images_and_depends_on_seed_and_step_alone():
    blurred, sharp = torch.rand(4, 3, 40, 40), torch.rand(4, 3, 40, 40)
    cut_b, cut_s = cut_windows(blurred, sharp, 16, seed=3, step=7)
    assert cut_b.shape == cut_s.shape == (4, 3, 16, 16)
    for b in range(4):
        where = [(y, x) for y in range(25) for x in range(25) if torch.equal(blurred[b, :, y:y + 16, x:x + 16], cut_b[b])]
        assert len(where) == 1 and torch.equal(sharp[b, :, where[0][0]:where[0][0] + 16, where[0][1]:where[0][1] + 16], cut_s[b])
    assert torch.equal(cut_windows(blurred, sharp, 16, seed=3, step=7)[0], cut_b)
    assert not torch.equal(cut_windows(blurred, sharp, 16, seed=3, step=8)[0], cut_b)
    assert cut_windows(blurred, sharp, 40, seed=3, step=7)[0] is blurred  # the whole crop: nothing to cut


@pytest.mark.parametrize("stages,message", [
    ("64", "SIDE:UNTIL"), ("16:0.5,8:0.7", "sides must grow"), ("16:0.5,32:0.7", "below"), ("8:0.6,16:0.5", "fractions"),
    ("16:1.0", "fractions"), ("18:0.5", "multiple of 4"),
])
def test_bad_crop_stages_are_refused_before_training(data, tmp_path, stages, message):
    with pytest.raises(SettingError, match=message):
        train(config(data, tmp_path, mix="synth", crop_stages=stages), log=quiet)
    assert parse_crop_stages("", 32) == () and stage_side(parse_crop_stages("16:0.5", 32), 3, 4, 32) == 32


def test_metrics_match_scikit_image():
    generator = torch.Generator().manual_seed(3)
    sharp = torch.rand(3, 3, 48, 64, generator=generator) * 2 - 1
    restored = (sharp + 0.2 * torch.randn(3, 3, 48, 64, generator=generator)).clamp(-1, 1)
    ours_psnr, ours_ssim = psnr(restored, sharp), ssim(restored, sharp)
    for b in range(3):
        x = ((restored[b].permute(1, 2, 0).double() + 1) * 127.5).round().numpy().astype(np.uint8)
        y = ((sharp[b].permute(1, 2, 0).double() + 1) * 127.5).round().numpy().astype(np.uint8)
        assert float(ours_psnr[b]) == pytest.approx(peak_signal_noise_ratio(y, x, data_range=255), abs=1e-3)
        reference = structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255, channel_axis=-1)
        assert float(ours_ssim[b]) == pytest.approx(reference, abs=1e-3)
    assert float(psnr(sharp, sharp)[0]) > 90 and float(ssim(sharp, sharp)[0]) == pytest.approx(1.0)


def test_models_have_the_paper_shapes_and_options():
    for upsample in ("transpose", "resize"):
        generator = Generator(upsample)
        out = generator(torch.rand(2, 3, 32, 48) * 2 - 1)
        assert out.shape == (2, 3, 32, 48) and out.abs().max() <= 1
    assert parameter_count(Generator()) == 11_378_179
    assert Critic()(torch.rand(2, 3, 64, 64)).shape == (2, 1, 11, 11)  # padding 2, as DeblurGAN
    with pytest.raises(ValueError, match="divisible by 4"):
        Generator()(torch.rand(1, 3, 30, 32))
    with pytest.raises(ValueError, match="upsample"):
        Generator("pixelshuffle")


def test_gradient_penalty_is_zero_for_a_unit_gradient_critic():
    class Linear(torch.nn.Module):  # D(x) = sum of x·w with ‖w‖ = 1: gradient norm 1 everywhere
        def forward(self, x):
            return (x.flatten(1) * (torch.ones(x[0].numel()) / x[0].numel() ** 0.5)).sum(1)

    sharp, restored = torch.rand(4, 3, 8, 8), torch.rand(4, 3, 8, 8)
    penalty, norms = gradient_penalty(Linear(), sharp, restored)
    assert float(penalty) == pytest.approx(0.0, abs=1e-10) and torch.allclose(norms, torch.ones(4))


def test_missing_vgg_weights_are_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(VggWeightsMissing, match="--vgg-weights"):
        vgg_conv3_3(str(tmp_path / "vgg.pth"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-cache"))
    with pytest.raises(VggWeightsMissing, match="--vgg-weights imagenet"):
        vgg_conv3_3("imagenet")
    (tmp_path / "bad.pth").write_bytes(b"junk")
    with pytest.raises(VggWeightsMissing, match="not a VGG-19"):
        vgg_conv3_3(str(tmp_path / "bad.pth"))


def test_cli_train_then_deblur_keeps_odd_sizes_and_grey(data, tmp_path):
    run = tmp_path / "run"
    result = cli("train", "--mix", "wild", "--gopro", str(data / "gopro"), "--steps", "1", "--batch-size", "2", "--crop", "32",
                 "--workers", "0", "--device", "cpu", "--out", str(run), "--upsample", "resize", *TINY_FLAGS)
    assert result.returncode == 0, result.stderr
    assert "generator resnet 32,451 parameters (ngf 8, 1 blocks" in result.stderr and "img/s" in result.stderr
    rng = np.random.default_rng(1)
    write(tmp_path / "odd.png", textured(rng, 333, 517))
    write(tmp_path / "grey.png", textured(rng, 61, 47, 1)[:, :, 0])
    result = cli("deblur", str(run / "checkpoint.pt"), str(tmp_path / "odd.png"), str(tmp_path / "grey.png"), "--out", str(tmp_path / "restored"), "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert read_image(tmp_path / "restored" / "odd.png").shape == (333, 517, 3)
    assert read_image(tmp_path / "restored" / "grey.png").shape == (61, 47)
    report = tmp_path / "metrics.json"
    result = cli("deblur", str(run / "checkpoint.pt"), "--pairs", str(data / "gopro"), "--report", str(report), "--device", "cpu")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(report.read_text())
    assert metrics["images"] == 2 and "SSIM" in metrics["protocol"] and np.isfinite(metrics["mean"]["psnr"])
    assert metrics["per_image"][0]["id"] == "GOPR0384_11_00/000001.png"
    result = cli("deblur", str(run / "checkpoint.pt"), str(tmp_path / "odd.png"), "--upsample", "transpose")
    assert result.returncode == 2 and "trained with --upsample resize" in result.stderr and "Traceback" not in result.stderr


def test_cli_reports_a_missing_vgg_file_in_one_line(data, tmp_path):
    result = cli("train", "--mix", "wild", "--gopro", str(data / "gopro"), "--steps", "1", "--crop", "32", "--device", "cpu",
                 "--content", "perceptual+l1", "--vgg-weights", str(tmp_path / "nope.pth"), "--out", str(tmp_path / "run"), *TINY_FLAGS)
    assert result.returncode == 2 and "--vgg-weights" in result.stderr and "Traceback" not in result.stderr


def test_two_processes_under_torchrun_stay_in_step(data, tmp_path):
    # As the docs start it: the installed command under torchrun, from a folder that holds a train.py of
    # the user's own (which `-m train.cli` would import instead of blurgen's trainer).
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "train.py").write_text("raise SystemExit('the wrong train')\n")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "torchrun"), "--nproc-per-node", "2", "--no-python", str(Path(sys.executable).parent / "train"),
         "--mix", "comb", "--gopro", str(data / "gopro"), "--sharp", str(data / "sharp"), "--steps", "2", "--batch-size", "2",
         "--crop", "32", "--workers", "0", "--device", "cpu", "--out", str(tmp_path / "run"), "--checkpoint-every", "1", *TINY_FLAGS],
        capture_output=True, text=True, timeout=300, cwd=tmp_path / "here",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("done at step 2") == 1  # rank 0 alone reports
    assert "2 steps of 4 images" in result.stderr
    assert load_checkpoint(tmp_path / "run" / "checkpoint.pt")["step"] == 2 and len(load_checkpoint(tmp_path / "run" / "checkpoint.pt")["rng"]) == 2


def test_one_step_equals_the_straightforward_step(data, tmp_path):
    """The loop's step (deferred host syncs, fused bookkeeping) computes what the plain algorithm does."""
    from train.data import assemble, collate
    from train.data import build_stream
    from train.losses.gan import critic_loss
    from train.archs.registry import make_critic

    settings = config(data, tmp_path, mix="wild", steps=1, amp="off")
    logged = train(settings, log=quiet)["history"][0]

    stream, _ = build_stream(settings)
    made = assemble(collate([stream[p] for p in range(settings.batch_size)]), stream, torch.device("cpu"))
    blurred, sharp = made.blurred, made.sharp
    torch.manual_seed(settings.seed)
    generator = Generator(init=settings.init, ngf=settings.ngf, blocks=settings.blocks)
    critic = make_critic(settings.critic, ndf=settings.ndf)
    torch.manual_seed(settings.seed + 1)
    optimizer_d = torch.optim.Adam(critic.parameters(), lr=settings.lr, betas=(0.5, 0.999))
    restored = generator(blurred)
    for _ in range(settings.critic_steps):
        optimizer_d.zero_grad()
        loss_d, parts = critic_loss(critic, sharp, restored.detach())
        loss_d.backward()
        optimizer_d.step()
    adversarial = -critic(restored).mean()
    content = 10 * (restored - sharp).abs().mean()
    expected = {"critic": loss_d, "d_real": parts["d_real"], "d_fake": parts["d_fake"], "gp": parts["gp"],
                "grad_norm": parts["grad_norm"], "adversarial": adversarial, "content": content, "loss_g": adversarial + content}
    for key, value in expected.items():
        assert logged[key] == pytest.approx(float(value.detach()), rel=1e-5, abs=1e-6), key


def test_lazy_gradient_penalty_adds_k_times_the_penalty_on_every_kth_critic_step_only():
    from contextlib import nullcontext

    from train.critic_step import CriticStep
    from train.losses.gan import GRADIENT_PENALTY_WEIGHT
    from train.archs.registry import make_critic

    torch.manual_seed(0)
    sharp, restored = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1

    def losses(gp_every: int) -> list[dict]:
        torch.manual_seed(1)
        critic = make_critic("nonorm")
        optimizer = torch.optim.SGD(critic.parameters(), lr=0.0)  # the weights stay put: every step sees the same critic
        update = CriticStep(critic, optimizer, torch.amp.GradScaler("cpu", enabled=False), gan="wgan-gp", critic_steps=1,
                            gp_every=gp_every, autocast=nullcontext)
        torch.manual_seed(2)  # the same interpolation factors
        return [{key: float(value) for key, value in update.step(step, sharp, restored).items()} for step in (1, 2, 3, 4)]

    every, lazy = losses(1), losses(3)
    gap = every[0]["d_fake"] - every[0]["d_real"]
    assert every[0]["critic"] == pytest.approx(gap + GRADIENT_PENALTY_WEIGHT * every[0]["gp"], rel=1e-6)
    assert lazy[0]["critic"] == pytest.approx(gap + 3 * GRADIENT_PENALTY_WEIGHT * every[0]["gp"], rel=1e-6)  # step 0 of 3: ×3
    for record in lazy[1:3]:  # critic steps 1 and 2: no penalty, its last value still shown
        assert record["critic"] == pytest.approx(gap, rel=1e-6) and record["gp"] == lazy[0]["gp"]
    assert lazy[3]["critic"] != pytest.approx(gap, rel=1e-6)  # critic step 3: the penalty again
    with pytest.raises(SettingError, match="gp_every must be >= 1"):
        train(TrainConfig(gp_every=0), log=quiet)


def test_ssim_filters_agree_on_every_path():
    from train.eval.metrics import filter_opencv, filter_torch, gaussian_weights

    planes = torch.rand(4, 23, 31, dtype=torch.float64, generator=torch.Generator().manual_seed(5)) * 255
    weights = gaussian_weights()
    opencv, conv = filter_opencv(planes, weights), filter_torch(planes, weights)
    assert opencv.shape == conv.shape == (4, 13, 21)
    assert torch.allclose(opencv, conv, rtol=0, atol=1e-9)
    window = torch.outer(weights, weights)
    assert float(opencv[2, 3, 4]) == pytest.approx(float((planes[2, 3:14, 4:15] * window).sum()), abs=1e-9)


def test_with_no_adversarial_weight_the_critic_is_not_trained(data, tmp_path):
    from train.config import resolved
    from train.state import build_state

    settings = config(data, tmp_path, mix="synth", adv_weight=0.0, steps=2)
    result = train(settings, log=quiet)
    saved = load_checkpoint(tmp_path / "checkpoint.pt")
    fresh = build_state(resolved(settings), torch.device("cpu"), steps=2, fp16=False)
    assert all(torch.equal(value, fresh.critic.state_dict()[name]) for name, value in saved["critic"].items())
    assert not all(torch.equal(value, fresh.generator.state_dict()[name]) for name, value in saved["generator"].items())
    assert "wasserstein" not in result["history"][-1] and "adversarial" not in result["history"][-1]
    assert result["history"][-1]["l1"] > 0


def test_the_default_corpus_camera_and_kernels_are_the_measured_ones():
    from blurgen.sources import TrainingPhotos
    from train.data import build_stream

    defaults = TrainConfig()
    assert (defaults.builtin, defaults.camera, defaults.preset) == ("photos", "wide", "mixture")
    stream, epoch = build_stream(TrainConfig(mix="synth"))
    assert isinstance(stream.synthesizer.source, TrainingPhotos) and epoch == 18
    with pytest.raises(SettingError, match="builtin"):
        from blurgen.pairs.settings import check_pairs_used

        check_pairs_used(TrainConfig(mix="synth", src="photos/", builtin="dead-leaves"))


def test_views_reach_the_synthetic_pairs_and_a_resumed_run_keeps_them():
    from blurgen.pairs.synthesizer import Views
    from train.config import check_resumable
    from train.data import build_stream

    stream, _ = build_stream(TrainConfig(mix="synth", orientations=True, min_scale=0.5))
    assert stream.synthesizer.views == Views(orientations=True, min_scale=0.5)
    plain = TrainConfig(mix="synth")
    saved = dataclasses.asdict(plain)
    with pytest.raises(SettingError, match="orientations"):
        check_resumable(plain, {**saved, "orientations": True, "min_scale": 0.5})
    before_views = {name: value for name, value in saved.items() if name not in ("orientations", "min_scale")}
    check_resumable(plain, before_views)  # a checkpoint written before views existed had none


def test_the_kernel_preset_reaches_the_synthetic_pairs_and_a_resumed_run_keeps_it():
    from train.config import check_resumable
    from train.data import build_stream

    stream, _ = build_stream(TrainConfig(mix="synth", preset="line"))
    plan = stream.synthesizer.plan(3, (400, 400))
    assert stream.synthesizer.kernels.preset == "line" and plan.kernel_meta["family"] == "line"
    mixture = TrainConfig(mix="synth", preset="mixture")
    saved = dataclasses.asdict(mixture)
    with pytest.raises(SettingError, match="preset"):
        check_resumable(TrainConfig(mix="synth", preset="deblurgan"), saved)
    before_presets = {name: value for name, value in saved.items() if name != "preset"}
    check_resumable(TrainConfig(mix="synth", preset="deblurgan"), before_presets)  # older checkpoints trained on deblurgan


def test_the_checkpoint_before_the_last_is_kept_and_a_damaged_one_says_how_to_use_it(data, tmp_path):
    train(config(data, tmp_path, mix="wild", steps=2, checkpoint_every=1), log=quiet)
    latest, previous = tmp_path / "checkpoint.pt", tmp_path / "previous-checkpoint.pt"
    assert load_checkpoint(latest)["step"] == 2 and load_checkpoint(previous)["step"] == 1
    latest.write_bytes(latest.read_bytes()[:1000])  # damaged: a write cut short
    with pytest.raises(CheckpointError, match="move .*previous-checkpoint.pt to .*checkpoint.pt and run again with --resume"):
        train(config(data, tmp_path, mix="wild", steps=3, resume=True), log=quiet)
    previous.replace(latest)
    resumed = train(config(data, tmp_path, mix="wild", steps=3, resume=True), log=quiet)
    assert [record["step"] for record in resumed["history"]] == [2, 3]


def test_a_run_says_how_long_a_step_takes_and_the_run_will_take_before_its_first_logging_window(data, tmp_path):
    lines = []
    train(config(data, tmp_path, mix="synth", steps=6, log_every=100), log=lines.append)
    estimate = next(line for line in lines if line.startswith("steps take "))
    assert "img/s" in estimate and "the 3 steps left need about" in estimate and "next line at step 6" in estimate
    assert not any(line.startswith("steps take ") for line in lines[lines.index(estimate) + 1 :])  # said once


def test_a_gopro_pair_too_small_for_the_crop_says_so(data):
    from blurgen.pairs.synthesizer import ImageTooSmall
    from blurgen.sources import GoProPairs

    gopro = GoProPairs(data / "gopro", "test")  # 72×100 frames: 36×50 once downscaled, smaller than a 48-px crop
    stream = TrainingStream(seed=7, epoch_size=len(gopro), crop=48, synth_share=0, gopro_share=1, gopro=gopro, synthesizer=None)
    with pytest.raises(ImageTooSmall, match=r"image 36×50 is smaller than crop 48 \(GoPro pair 0, downscaled ×2\)"):
        stream.wild(0, 0)


def test_the_weight_average_follows_its_formula_resumes_exactly_and_is_what_restores(data, tmp_path):
    from train.checkpoint import restoring_weights
    from train.export import export_generator

    decay = 0.9
    straight = train(config(data, tmp_path / "straight", mix="synth", steps=4, checkpoint_every=100, ema=decay), log=quiet)
    saved = load_checkpoint(tmp_path / "straight" / "checkpoint.pt")
    assert saved["generator_ema"].keys() == saved["generator"].keys()
    # the formula, replayed from the initial weights and those after each step of runs stopped at every step
    from train.config import resolved
    from train.state import build_state

    start = build_state(resolved(config(data, tmp_path / "x", mix="synth", steps=4, ema=decay)), torch.device("cpu"), 4, False)
    expected = {k: v.clone() for k, v in start.generator.state_dict().items()}
    for step in range(1, 5):
        run = tmp_path / f"to-{step}"
        train(config(data, run, mix="synth", steps=4, checkpoint_every=100, stop_at=step, ema=decay), log=quiet)
        weights = load_checkpoint(run / "checkpoint.pt")["generator"]
        expected = {k: decay * v + (1 - decay) * weights[k] if v.is_floating_point() else weights[k] for k, v in expected.items()}
    for key, value in saved["generator_ema"].items():
        assert torch.allclose(value, expected[key], atol=1e-6), key
    assert any(not torch.equal(saved["generator_ema"][k], saved["generator"][k]) for k in saved["generator"])
    # a resumed run keeps the average exactly
    train(config(data, tmp_path / "resumed", mix="synth", steps=4, stop_at=2, ema=decay), log=quiet)
    resumed = train(config(data, tmp_path / "resumed", mix="synth", steps=4, resume=True, ema=decay), log=quiet)
    assert resumed["history"] == straight["history"][2:]
    again = load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")
    assert all(torch.equal(value, again["generator_ema"][key]) for key, value in saved["generator_ema"].items())
    # deblur and the export restore with the average
    assert restoring_weights(saved) is saved["generator_ema"]
    exported = load_checkpoint(export_generator(tmp_path / "straight" / "checkpoint.pt", tmp_path / "small.pt"))
    assert all(torch.equal(value.float(), saved["generator_ema"][key].half().float()) for key, value in exported["generator"].items())
