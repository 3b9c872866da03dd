"""NAFNet (Chen et al., "Simple Baselines for Image Restoration", ECCV 2022) as a generator.

A U-shaped network of NAF blocks, designed for restoration quality per FLOP. Each block is

    y = x + β · conv1×1(SCA(SimpleGate(dwconv3×3(conv1×1(LayerNorm(x))))))
    out = y + γ · conv1×1(SimpleGate(conv1×1(LayerNorm(y))))

where SimpleGate splits the channels in two halves and multiplies them (the block's only
nonlinearity), SCA ("simplified channel attention") scales the channels by a 1×1 convolution of
their global means, LayerNorm normalises each pixel over the channels, and β, γ start at 0 (so
every block starts as the identity).

Layout: conv3×3 3→w; four encoder levels (blocks, then a 2×2 stride-2 conv doubling the
channels); middle blocks at 16w; four decoder levels (1×1 conv and PixelShuffle halving the
channels, plus the encoder's features, then blocks); conv3×3 w→3: the residual. Output =
clamp(input + residual, -1, 1), images in [-1, 1]. Any size: the input is reflect-padded to a
multiple of 16 inside ``forward`` and the result cropped back.

Sizes: ``width`` (``--ngf``) and ``blocks`` (``--blocks``): the blocks at the deepest encoder
level; every other level has one, as in NAFNet's GoPro model, which is ``width=32, blocks=28``.
``init="identity"`` zeroes the last convolution (step 0 returns the input exactly);
``init="paper"`` keeps PyTorch's default initialisation there, as NAFNet's code does.
"""

from __future__ import annotations

import torch
from torch import nn

from blurgen.settings import check_choice
from train.archs.blocks import INITS, identity_start, pad_to_multiple

LEVELS = 4


class LayerNorm2d(nn.Module):
    """Normalise each pixel of B×C×H×W over its C channels, then scale and shift per channel."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(1, keepdim=True)
        variance = (x - mean).square().mean(1, keepdim=True)
        return self.weight * (x - mean) * torch.rsqrt(variance + self.eps) + self.bias


def simple_gate(x: torch.Tensor) -> torch.Tensor:
    """B×2C×H×W → B×C×H×W: the first half of the channels times the second."""
    first, second = x.chunk(2, dim=1)
    return first * second


class NAFBlock(nn.Module):
    """B×C×H×W → the same (see the module docstring); the identity at initialisation."""

    def __init__(self, channels: int, expand: int = 2) -> None:
        super().__init__()
        wide = channels * expand
        self.norm1 = LayerNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, wide, 1)
        self.depthwise = nn.Conv2d(wide, wide, 3, padding=1, groups=wide)
        self.attention = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(wide // 2, wide // 2, 1))
        self.conv2 = nn.Conv2d(wide // 2, channels, 1)
        self.norm2 = LayerNorm2d(channels)
        self.ffn_in = nn.Conv2d(channels, channels * expand, 1)
        self.ffn_out = nn.Conv2d(channels * expand // 2, channels, 1)
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mixed = simple_gate(self.depthwise(self.conv1(self.norm1(x))))
        y = x + self.beta * self.conv2(mixed * self.attention(mixed))
        return y + self.gamma * self.ffn_out(simple_gate(self.ffn_in(self.norm2(y))))


class NAFNet(nn.Module):
    """B×3×H×W in [-1, 1], any H, W → restored B×3×H×W in [-1, 1]."""

    multiple = 1  # pads itself
    padded_to = 2**LEVELS
    smallest = 1

    @staticmethod
    def smallest_side(norm: str) -> int:
        return 1

    def __init__(self, init: str = "identity", width: int = 32, blocks: int = 28, middle: int = 1) -> None:
        super().__init__()
        check_choice("init", init, INITS)
        self.init = init
        self.intro = nn.Conv2d(3, width, 3, padding=1)
        self.encoders, self.downs, self.ups, self.decoders = nn.ModuleList(), nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        channels = width
        for level in range(LEVELS):
            count = blocks if level == LEVELS - 1 else 1
            self.encoders.append(nn.Sequential(*[NAFBlock(channels) for _ in range(count)]))
            self.downs.append(nn.Conv2d(channels, channels * 2, 2, stride=2))
            channels *= 2
        self.middle = nn.Sequential(*[NAFBlock(channels) for _ in range(middle)])
        for _ in range(LEVELS):
            self.ups.append(nn.Sequential(nn.Conv2d(channels, channels * 2, 1, bias=False), nn.PixelShuffle(2)))
            channels //= 2
            self.decoders.append(NAFBlock(channels))
        self.ending = nn.Conv2d(width, 3, 3, padding=1)
        if init == "identity":
            identity_start(self.ending)

    def forward(self, blurred: torch.Tensor) -> torch.Tensor:
        padded, (height, width) = pad_to_multiple(blurred, self.padded_to)
        x = self.intro(padded)
        skips = []
        for encoder, down in zip(self.encoders, self.downs):
            x = encoder(x)
            skips.append(x)
            x = down(x)
        x = self.middle(x)
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips)):
            x = decoder(up(x) + skip)
        residual = self.ending(x)[:, :, :height, :width]
        return torch.clamp(blurred + residual, -1.0, 1.0)
