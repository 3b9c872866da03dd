"""On a CUDA GPU (skipped elsewhere): the trainer's bf16 step, and inference as `deblur` runs it."""

import numpy as np
import pytest
import torch

from fixtures import textured, write
from train.eval.evaluate import restore, restore_images
from train.config import TrainConfig
from train.loop import train
from train.archs.registry import Generator

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")


def test_training_steps_on_the_gpu_are_finite_and_resume(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(4):
        write(tmp_path / "sharp" / f"{i}.png", textured(rng, 192, 192))
    settings = dict(mix="synth", src=str(tmp_path / "sharp"), crop=64, batch_size=4, workers=0, device="cuda",
                    log_every=100, image_every=100, steps=3)
    straight = train(TrainConfig(out=str(tmp_path / "a"), **settings), log=lambda _: None)
    assert all(np.isfinite(v) for record in straight["history"] for v in record.values())
    train(TrainConfig(out=str(tmp_path / "b"), stop_at=2, **settings), log=lambda _: None)
    resumed = train(TrainConfig(out=str(tmp_path / "b"), resume=True, **settings), log=lambda _: None)
    assert [r["step"] for r in resumed["history"]] == [3]


def test_bf16_inference_keeps_the_identity_and_stays_close_to_fp32():
    torch.manual_seed(0)
    frames = torch.rand(2, 3, 72, 128, device="cuda") * 2 - 1
    assert torch.equal(restore(Generator().cuda().eval(), frames, torch.bfloat16), frames)  # zero residual: exact
    generator = Generator(init="paper").cuda().eval()
    full, half = restore(generator, frames), restore(generator, frames, torch.bfloat16)
    assert (full - half).abs().mean() < 0.02
    images = [(i, (textured(np.random.default_rng(i), 72, 128))) for i in range(3)]
    batched = dict(restore_images(generator, images, torch.device("cuda"), batch_size=2, amp_dtype=torch.bfloat16))
    assert sorted(batched) == [0, 1, 2] and batched[0].shape == (72, 128, 3)
