"""Training on the machine a user has: network sizes, bf16 on the CPU, NAFNet, and threads that
fit the cores."""

from dataclasses import asdict

import numpy as np
import pytest
import torch

from fixtures import cli, textured, wild_config, write
from blurgen.settings import SettingError
from blurgen.sources import read_image
from train.checkpoint import load_checkpoint
from train.archs.critics import Critic
from train.eval.evaluate import restore, to_image, to_tensor
from train.loop import train
from train.machine import amp_dtype, autocast, cpu_has_bf16, plan_threads
from train.config import TrainConfig, recorded
from train.archs.registry import Generator, NAFNet, make_generator, parameter_count

needs_bf16 = pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no bf16 instructions")




def test_size_options_change_the_parameter_counts_as_the_architectures_say():
    assert parameter_count(Generator(ngf=16, blocks=4)) == 346_371  # the small CPU model
    for ngf in (8, 16):
        channels = 4 * ngf  # a ResBlock: two 3×3 convolutions at 4·ngf channels
        assert parameter_count(Generator(ngf=ngf, blocks=5)) - parameter_count(Generator(ngf=ngf, blocks=4)) == 2 * (9 * channels**2 + channels)
    widths = [(3, 8), (8, 16), (16, 32), (32, 64), (64, 1)]  # the critic's 4×4 convolutions at ndf 8
    assert parameter_count(Critic(ndf=8)) == sum(16 * a * b + b for a, b in widths)
    assert parameter_count(NAFNet(width=32, blocks=28)) == 17_111_907  # NAFNet-width32 as published for GoPro: 17.11 M
    assert parameter_count(make_generator(asdict(TrainConfig(generator="unet", ngf=32)))) < parameter_count(make_generator(asdict(TrainConfig(generator="unet")))) / 3


def test_sizes_survive_the_checkpoint_through_deblur_and_resume_only_as_themselves(gopro, tmp_path):
    run = tmp_path / "run"
    result = cli("train", "--mix", "wild", "--gopro", str(gopro), "--steps", "1", "--batch-size", "2", "--crop", "32", "--workers", "0",
                 "--device", "cpu", "--out", str(run), "--ngf", "8", "--blocks", "2", "--ndf", "8")
    assert result.returncode == 0, result.stderr
    assert "generator resnet 50,947 parameters (ngf 8, 2 blocks" in result.stderr and "GFLOP per 256² image" in result.stderr
    assert "critic spectral 44,537 (ndf 8)" in result.stderr
    state = load_checkpoint(run / "checkpoint.pt")
    assert (state["args"]["ngf"], state["args"]["blocks"], state["args"]["ndf"]) == (8, 2, 8)
    image = textured(np.random.default_rng(0), 45, 71)
    write(tmp_path / "in.png", image)
    result = cli("deblur", str(run / "checkpoint.pt"), str(tmp_path / "in.png"), "--out", str(tmp_path / "out"), "--device", "cpu", "--amp", "off")
    assert result.returncode == 0, result.stderr
    generator = make_generator(recorded(state["args"]))
    generator.load_state_dict(state["generator"])
    assert np.array_equal(read_image(tmp_path / "out" / "in.png"), to_image(restore(generator.eval(), to_tensor(image, torch.device("cpu"))), grey=False))
    result = cli("train", "--mix", "wild", "--gopro", str(gopro), "--steps", "2", "--batch-size", "2", "--crop", "32", "--workers", "0",
                 "--device", "cpu", "--out", str(run), "--ngf", "16", "--blocks", "2", "--ndf", "8", "--resume")
    assert result.returncode == 2 and "--ngf 16 differs from the checkpoint's 8" in result.stderr
    with pytest.raises(SettingError, match="ndf 16 differs"):
        train(wild_config(gopro, run, steps=2, resume=True, ngf=8, blocks=2, ndf=16), log=lambda _: None)
    result = cli("train", "--mix", "wild", "--gopro", str(gopro), "--steps", "1", "--crop", "32", "--device", "cpu",
                 "--out", str(tmp_path / "paper"), "--paper", "--blocks", "4")
    assert result.returncode == 2 and "--paper sets --blocks 9" in result.stderr


@needs_bf16
def test_bf16_on_the_cpu_trains_a_step_and_the_identity_start_stays_exact(gopro, tmp_path):
    lines = []
    result = train(wild_config(gopro, tmp_path / "run", ngf=8, blocks=2, ndf=8), log=lines.append)
    assert np.isfinite(result["history"][0]["loss_g"]) and any("bf16 autocast" in line for line in lines)
    assert amp_dtype("bf16", torch.device("cpu")) == torch.bfloat16
    torch.manual_seed(0)
    image = torch.rand(2, 3, 37, 53) * 2 - 1
    for kind in ("resnet", "unet", "nafnet"):
        generator = make_generator(asdict(TrainConfig(generator=kind, init="identity", ngf=8, blocks=2 if kind != "unet" else None))).eval()
        assert torch.equal(restore(generator, image, torch.bfloat16), image), kind
        with autocast(torch.device("cpu"), torch.bfloat16):
            assert generator(torch.zeros(1, 3, 64, 64)).dtype == torch.float32  # the input passes at full precision


def test_fp16_on_the_cpu_is_refused_by_name():
    with pytest.raises(SettingError, match="amp fp16 is for CUDA"):
        amp_dtype("fp16", torch.device("cpu"))
    assert amp_dtype("off", torch.device("cpu")) is None


@pytest.mark.parametrize("cores", [1, 2, 3, 4, 8, 16, 64])
def test_threads_and_workers_fit_the_cores(monkeypatch, cores):
    monkeypatch.setattr("train.machine.cores_here", lambda: cores)
    cpu = torch.device("cpu")
    light = plan_threads(cpu)  # uniform blur: torch computes on every core, a few workers prefetch
    assert light.threads == cores and 1 <= light.workers <= max(1, cores // 4)
    heavy = plan_threads(cpu, heavy_data=True)  # the workers render the blur: the cores are split
    assert heavy.threads >= 1 and heavy.workers >= 1 and heavy.threads + heavy.workers <= max(cores, 2)
    assert plan_threads(cpu, heavy_data=True, workers=1).threads == max(1, cores - 1)
    assert plan_threads(cpu, heavy_data=True, threads=1).workers == max(1, cores - 1)
    assert plan_threads(cpu, workers=0).threads == cores
    two_ranks = plan_threads(cpu, ranks_here=2, heavy_data=True)
    assert two_ranks.threads + two_ranks.workers <= max(cores // 2, 2)
    assert plan_threads(cpu, workers=3, threads=5) == type(light)(5, 3)  # both given: as given


def test_the_console_states_the_thread_plan(gopro, tmp_path):
    lines = []
    train(wild_config(gopro, tmp_path / "run", ngf=8, blocks=1, ndf=8, workers=1, threads=1), log=lines.append)
    assert any("1 torch thread(s), 1 data worker(s) of 1 thread each" in line for line in lines)
