"""Building blocks the generator and critic variants share: normalisation, attention, spectral norm.

* :func:`norm_layer`: ``instance`` (InstanceNorm without affine parameters, DeblurGAN's),
  ``batch`` (BatchNorm, as the Keras and TensorFlow ports used) or ``none``.
* :class:`ChannelAttention`: squeeze-and-excitation (Hu et al. 2018): global average pool, a
  1×1 bottleneck (÷8) with ReLU, a 1×1 expansion with a sigmoid, and the input scaled by it.
* :class:`SelfAttention`: a non-local block as SAGAN (Zhang et al. 2019) writes it: f, g, h as
  1×1 convolutions (C→C/8, C→C/8, C→C/2), attention softmax(fᵀg) over positions applied to h, v
  (C/2→C) back to the channels, and ``x + γ·v(...)`` with a learned γ that starts at 0 (so the
  block starts as the identity).
* :func:`spectral`: every (transposed) convolution of a module under spectral normalisation,
  except the ones listed (a zero-initialised layer has no spectrum to normalise by).
"""

from __future__ import annotations

import torch
from torch import nn

NORMS = ("instance", "batch", "none")
ATTENTIONS = ("none", "self", "channel", "both")


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"--norm must be one of {', '.join(NORMS)}, got {kind!r}")


class ChannelAttention(nn.Module):
    """B×C×H×W → the same, each channel scaled by a weight in (0, 1) computed from all channels."""

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        self.weights = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, channels // reduction, 1), nn.ReLU(True),
            nn.Conv2d(channels // reduction, channels, 1), nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weights(x)


class SelfAttention(nn.Module):
    """B×C×H×W → the same: every position attends to every other (memory grows as (H·W)²)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.f = nn.Conv2d(channels, channels // 8, 1)
        self.g = nn.Conv2d(channels, channels // 8, 1)
        self.h = nn.Conv2d(channels, channels // 2, 1)
        self.v = nn.Conv2d(channels // 2, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        query = self.f(x).flatten(2).transpose(1, 2)  # B×N×C/8
        key = self.g(x).flatten(2)  # B×C/8×N
        attention = torch.softmax(query @ key, dim=-1)  # B×N×N, rows sum to 1
        value = self.h(x).flatten(2)  # B×C/2×N
        attended = (value @ attention.transpose(1, 2)).view(batch, -1, height, width)
        return x + self.gamma * self.v(attended)


def attention_layers(kind: str, channels: int) -> list[nn.Module]:
    """The attention modules ``kind`` asks for at one place: self, channel, both (channel first) or none."""
    if kind not in ATTENTIONS:
        raise ValueError(f"--attention must be one of {', '.join(ATTENTIONS)}, got {kind!r}")
    layers: list[nn.Module] = []
    if kind in ("channel", "both"):
        layers.append(ChannelAttention(channels))
    if kind in ("self", "both"):
        layers.append(SelfAttention(channels))
    return layers


def spectral(module: nn.Module, *, skip: tuple[nn.Module, ...] = ()) -> nn.Module:
    """Put every convolution of ``module`` (but those in ``skip``) under spectral normalisation, in place."""
    for name, child in list(module.named_children()):
        if isinstance(child, (nn.Conv2d, nn.ConvTranspose2d)) and child not in skip:
            if not nn.utils.parametrize.is_parametrized(child, "weight"):
                setattr(module, name, nn.utils.parametrizations.spectral_norm(child))
        else:
            spectral(child, skip=skip)
    return module
