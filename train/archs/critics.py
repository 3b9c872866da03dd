"""The critics: DeblurGAN's PatchGAN, variants of it, and DeblurGAN-v2's double-scale critic.

The paper's critic (``--critic paper``) is a 70×70 PatchGAN without a sigmoid, not conditioned on
the blurred input, with InstanceNorm without affine parameters. After a non-affine InstanceNorm
every channel has zero mean and unit variance per image, so that critic scores only the shape of
feature distributions and stays near chance at telling sharp from blurred crops. The default
(``spectral``) drops those layers and bounds each convolution's spectral norm instead.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from blurgen.settings import check_choice
from train.archs.blocks import paper_init

CRITICS = ("spectral", "nonorm", "paper", "double")


class Critic(nn.Module):
    """PatchGAN critic: B×3×H×W → B×1×h×w scores (no sigmoid).

    4×4 convs: 3→ndf /2 (LeakyReLU 0.2), ndf→2ndf /2, 2ndf→4ndf /2, 4ndf→8ndf /1 (each followed
    by ``norm``, then LeakyReLU), 8ndf→1 /1; padding 2 as in DeblurGAN (ndf 64, the paper's).
    ``norm="instance"`` is the paper's; ``"none"`` drops those layers. ``spectral=True`` wraps
    every convolution in spectral normalisation (one power iteration per training-mode forward).
    """

    def __init__(self, ndf: int = 64, norm: str = "instance", spectral: bool = False) -> None:
        super().__init__()
        check_choice("critic norm", norm, ("instance", "none"))

        def conv(in_channels: int, out_channels: int, stride: int) -> nn.Module:
            layer = nn.Conv2d(in_channels, out_channels, 4, stride=stride, padding=2)
            paper_init(layer)
            return nn.utils.parametrizations.spectral_norm(layer) if spectral else layer

        layers: list[nn.Module] = [conv(3, ndf, 2), nn.LeakyReLU(0.2, True)]
        channels = ndf
        for stride in (2, 2, 1):
            layers.append(conv(channels, channels * 2, stride))
            if norm == "instance":
                layers.append(nn.InstanceNorm2d(channels * 2, affine=False))
            layers.append(nn.LeakyReLU(0.2, True))
            channels *= 2
        layers.append(conv(channels, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


class DoubleScaleCritic(nn.Module):
    """DeblurGAN-v2's double-scale critic: a PatchGAN on the image (local, 70-px patches) and one
    on the image averaged down ×4 (global: each score sees most of a 256 crop). Returns both score
    maps; the GAN objectives average their losses over the two."""

    def __init__(self, ndf: int = 64, spectral: bool = True) -> None:
        super().__init__()
        self.local = Critic(ndf, norm="none", spectral=spectral)
        self.whole = Critic(ndf, norm="none", spectral=spectral)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.local(images), self.whole(F.avg_pool2d(images, 4))


def make_critic(kind: str, spectral_norm: bool = False, ndf: int = 64) -> nn.Module:
    """The critic of ``--critic``: ``spectral`` (no InstanceNorm, spectral norm; the default),
    ``nonorm`` (no InstanceNorm), ``paper`` (the paper's exactly) or ``double`` (double scale,
    spectral norm); ``spectral_norm`` adds spectral normalisation to any of them."""
    check_choice("critic", kind, CRITICS)
    if kind == "double":
        return DoubleScaleCritic(ndf)
    return Critic(ndf, norm="instance" if kind == "paper" else "none", spectral=spectral_norm or kind == "spectral")


def scores(critic_output: torch.Tensor | tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """A critic's output as a tuple of score maps (one for single-scale critics)."""
    return critic_output if isinstance(critic_output, tuple) else (critic_output,)
