"""The variants of the GAN-deblurring literature: generators, attention, norms, spectral norm,
GAN objectives, perceptual networks; each trains, restores through `deblur`, and resumes only as itself."""

import math
from dataclasses import asdict

import numpy as np
import pytest
import torch
from torch import nn

from fixtures import cli, textured, wild_config, write
from blurgen.sources import read_image
from train.archs.blocks import SelfAttention
from train.archs.nafnet import NAFBlock
from blurgen.settings import SettingError
from train.checkpoint import load_checkpoint
from train.eval.evaluate import restore, to_image, to_tensor
from train.config import TrainConfig, recorded
from train.losses.content import VggWeightsMissing, vgg_conv3_3
from train.loop import train
from train.archs.registry import make_critic, make_generator, parameter_count, scores
from train.losses.gan import critic_objective, generator_objective

GENERATOR_VARIANTS = [
    ({}, 11_378_179),
    ({"generator": "unet"}, 16_657_795),
    ({"attention": "self"}, 11_378_179 + 3 * (2 * (256 * 32 + 32) + (256 * 128 + 128) + (128 * 256 + 256) + 1)),  # f, g, h, v, γ
    ({"attention": "channel"}, None),
    ({"norm": "batch"}, None),
    ({"norm": "none", "spectral_norm": "both"}, None),
    ({"generator": "unet", "attention": "both", "norm": "batch"}, None),
    ({"generator": "nafnet", "ngf": 8, "blocks": 2}, None),
    ({"generator": "unet", "ngf": 16}, None),
    ({"ngf": 16, "blocks": 4}, 346_371),
    ({"generator": "resnet-cpu"}, 346_371),  # the CPU size, registered by name
]


@pytest.mark.parametrize("variant, count", GENERATOR_VARIANTS, ids=[str(v) for v, _ in GENERATOR_VARIANTS])
def test_generators_keep_any_size_start_at_the_identity_and_pass_gradients_everywhere(variant, count):
    torch.manual_seed(0)
    generator = make_generator(asdict(TrainConfig(init="identity", **variant))).eval()
    if count is not None:
        assert parameter_count(generator) == count
    for height, width in ((37, 53), (64, 96)):  # odd and even sides, padded to the architecture's multiple
        image = torch.rand(1, 3, height, width) * 2 - 1
        assert torch.equal(restore(generator, image), image)  # identity start: the input, exactly
    trained = make_generator(asdict(TrainConfig(init="paper", **variant))).train()
    for module in trained.modules():
        if isinstance(module, SelfAttention):
            module.gamma.data.fill_(0.5)  # γ starts at 0, which stops gradients to f, g, h, v
        if isinstance(module, NAFBlock):
            module.beta.data.fill_(0.5)  # β and γ start at 0 (each block the identity), which stops gradients to the block
            module.gamma.data.fill_(0.5)
    image = torch.rand(2, 3, 64, 64) * 2 - 1
    trained(image).square().mean().backward()
    silent = [name for name, p in trained.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not silent, silent


@pytest.mark.parametrize("kind, spectral", [("spectral", False), ("nonorm", False), ("paper", True), ("double", False)])
def test_critics_score_every_size_and_pass_gradients_everywhere(kind, spectral):
    torch.manual_seed(0)
    critic = make_critic(kind, spectral_norm=spectral)
    for side in (48, 64):
        heads = scores(critic(torch.rand(2, 3, side, side)))
        assert all(head.shape[0] == 2 and head.shape[1] == 1 for head in heads) and len(heads) == (2 if kind == "double" else 1)
    sum(head.mean() for head in scores(critic(torch.rand(2, 3, 64, 64)))).backward()
    silent = [name for name, p in critic.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not silent, silent


def test_spectral_norm_bounds_every_weight_to_one():
    torch.manual_seed(0)
    for model in (make_critic("paper", spectral_norm=True), make_generator(asdict(TrainConfig(init="paper", spectral_norm="both")))):
        model.train()
        with torch.no_grad():
            for _ in range(100):  # one power iteration per training-mode forward pass
                model(torch.rand(1, 3, 32, 32) * 2 - 1)
        normalised = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and nn.utils.parametrize.is_parametrized(m, "weight")]
        assert normalised
        for module in normalised:
            weight = module.weight.detach()
            matrix = weight.transpose(0, 1) if isinstance(module, nn.ConvTranspose2d) else weight
            assert torch.linalg.matrix_norm(matrix.flatten(1), ord=2) == pytest.approx(1.0, abs=1e-2)


class Fixed(nn.Module):
    """A 'critic' whose scores are the per-sample means of its input: D(x) = mean(x)."""

    def forward(self, x):
        return x.mean(dim=(1, 2, 3)).view(-1, 1, 1, 1)


def test_each_gan_objective_equals_its_hand_computed_value():
    sharp = torch.tensor([0.5, 1.0]).view(2, 1, 1, 1).expand(2, 3, 2, 2)  # D(real) = 0.5, 1.0
    restored = torch.tensor([-1.0, 0.0]).view(2, 1, 1, 1).expand(2, 3, 2, 2)  # D(fake) = -1.0, 0.0
    critic = Fixed()
    sigmoid = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    bce = lambda v, target: -math.log(sigmoid(v)) if target else -math.log(1 - sigmoid(v))  # noqa: E731
    expected_critic = {
        "vanilla": (bce(0.5, 1) + bce(1.0, 1)) / 2 + (bce(-1.0, 0) + bce(0.0, 0)) / 2,
        "lsgan": 0.5 * ((0.5 - 1) ** 2 + 0) / 2 + 0.5 * (1.0 + 0.0) / 2,
        # Δr = real − mean(fake) = (1.0, 1.5); Δf = fake − mean(real) = (−1.75, −0.75)
        "ragan-ls": 0.5 * (((1.0 - 1) ** 2 + (1.5 - 1) ** 2) / 2 + ((-1.75 + 1) ** 2 + (-0.75 + 1) ** 2) / 2),
    }
    expected_generator = {
        "vanilla": (bce(-1.0, 1) + bce(0.0, 1)) / 2,
        "lsgan": 0.5 * ((-1.0 - 1) ** 2 + (0.0 - 1) ** 2) / 2,
        "ragan-ls": 0.5 * (((1.0 + 1) ** 2 + (1.5 + 1) ** 2) / 2 + ((-1.75 - 1) ** 2 + (-0.75 - 1) ** 2) / 2),
        "wgan-gp": -(-1.0 + 0.0) / 2,
    }
    for gan, value in expected_critic.items():
        loss, parts = critic_objective(gan, critic, sharp, restored, 0.0)
        assert float(loss) == pytest.approx(value, rel=1e-6), gan
        assert float(parts["wasserstein"]) == pytest.approx(0.75 - (-0.5))
    loss, _ = critic_objective("wgan-gp", critic, sharp, restored, 0.0)
    assert float(loss) == pytest.approx(-0.5 - 0.75)
    for gan, value in expected_generator.items():
        assert float(generator_objective(gan, critic, restored, sharp)) == pytest.approx(value, rel=1e-6), gan


def test_vgg16_is_a_perceptual_net_and_its_missing_weights_are_named(tmp_path, monkeypatch):
    features = vgg_conv3_3("random", net="vgg16")
    assert features(torch.rand(1, 3, 32, 32)).shape == (1, 256, 8, 8)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(VggWeightsMissing, match="vgg16-397923af.pth"):
        vgg_conv3_3("imagenet", net="vgg16")




def settings(gopro, out, **changes) -> TrainConfig:
    unet_depth = {"blocks": None} if changes.get("generator") == "unet" else {}  # the unet's depth is fixed
    return wild_config(gopro, out, **{"vgg_weights": "random", "critic_steps": 2, **unet_depth, **changes})


RUNS = [
    {"gan": "vanilla"}, {"gan": "lsgan"}, {"gan": "ragan-ls", "critic": "double"},
    {"generator": "unet", "attention": "both", "norm": "batch", "spectral_norm": "both", "content": "mse"},
    {"content": "perceptual+l1", "perceptual_net": "vgg16"},
    {"generator": "nafnet", "ngf": 8, "blocks": 1},
]


@pytest.mark.parametrize("variant", RUNS, ids=[str(v) for v in RUNS])
def test_each_variant_trains_restores_through_deblur_and_resumes_only_as_itself(gopro, tmp_path, variant):
    result = train(settings(gopro, tmp_path / "run", **variant), log=lambda _: None)
    assert all(np.isfinite(v) or key in ("gp", "grad_norm") for key, v in result["history"][0].items())
    state = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert all(state["args"][key] == value for key, value in variant.items())
    image = textured(np.random.default_rng(0), 45, 71)
    write(tmp_path / "in.png", image)
    outcome = cli("deblur", str(tmp_path / "run" / "checkpoint.pt"), str(tmp_path / "in.png"), "--out", str(tmp_path / "out"), "--device", "cpu",
                     "--amp", "off")
    assert outcome.returncode == 0, outcome.stderr
    generator = make_generator(recorded(state["args"]))
    generator.load_state_dict(state["generator"])
    expected = to_image(restore(generator.eval(), to_tensor(image, torch.device("cpu"))), grey=False)
    assert np.array_equal(read_image(tmp_path / "out" / "in.png"), expected)
    key, value = next(iter(variant.items()))
    other = {"gan": "wgan-gp", "critic": "spectral", "generator": "resnet", "content": "l1"}[key]
    with pytest.raises(SettingError, match=f"{key} {other} differs"):
        train(settings(gopro, tmp_path / "run", steps=2, resume=True, **{**variant, key: other}), log=lambda _: None)


def test_unet_crops_must_fit_its_resolution_levels(gopro, tmp_path):
    with pytest.raises(ValueError, match="multiple of 32 and at least 64 for the unet"):
        train(settings(gopro, tmp_path, generator="unet", crop=48), log=lambda _: None)
