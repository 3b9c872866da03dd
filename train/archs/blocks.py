"""Building blocks the generators and critics share: initialisation, normalisation, attention,
spectral norm, padding to the sides an architecture needs, and parameter counts.

* :func:`paper_init`: DeblurGAN's N(0, 0.02) initialisation; :func:`identity_start` zeroes a
  generator's last layer so that its residual, and so its change to the input, starts at 0.

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
import torch.nn.functional as F
from torch import nn

from blurgen.settings import check_choice

NORMS = ("instance", "batch", "none")
ATTENTIONS = ("none", "self", "channel", "both")
INITS = ("identity", "paper")


def paper_init(model: nn.Module) -> None:
    """DeblurGAN's ``weights_init``: every (transposed) convolution's weights ~ N(0, 0.02), biases 0."""
    for layer in model.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


def identity_start(last: nn.Module) -> None:
    """Zero a generator's last layer: its residual is 0 and step 0 returns the input exactly."""
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)


def norm_layer(kind: str, channels: int) -> nn.Module:
    check_choice("norm", kind, NORMS)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    return nn.Identity()


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
    check_choice("attention", kind, ATTENTIONS)
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


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def pad_to_multiple(images: torch.Tensor, multiple: int = 4, smallest: int = 1) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad B×C×H×W at the bottom and right to sides divisible by ``multiple`` and at least ``smallest``.

    The padding mirrors the image (repeatedly where it is wider than the image, so a 3-px-high
    strip pads to any height), and repeats the edge of a 1-px side. Returns the padded batch and
    the original (H, W), to crop the result back.
    """
    height, width = images.shape[-2:]
    target_h = max(smallest, height + -height % multiple)
    target_h += -target_h % multiple
    target_w = max(smallest, width + -width % multiple)
    target_w += -target_w % multiple
    padded = images
    while padded.shape[-2] < target_h or padded.shape[-1] < target_w:
        now_h, now_w = padded.shape[-2:]
        pad_h, pad_w = min(target_h - now_h, now_h - 1), min(target_w - now_w, now_w - 1)
        if (now_h < target_h and pad_h == 0) or (now_w < target_w and pad_w == 0):  # a 1-px side mirrors nothing
            padded = F.pad(padded, (0, target_w - now_w, 0, target_h - now_h), mode="replicate")
        else:
            padded = F.pad(padded, (0, pad_w, 0, pad_h), mode="reflect")
    return padded, (height, width)


def check_sides(images: torch.Tensor, multiple: int) -> None:
    if images.shape[-1] % multiple or images.shape[-2] % multiple:
        raise ValueError(f"image sides must be divisible by {multiple}, got {tuple(images.shape[-2:])}; use pad_to_multiple")
