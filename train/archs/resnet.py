"""DeblurGAN's ResNet generator (Kupyn et al., CVPR 2018), as its code builds it.

It predicts a residual: output = clamp(input + residual, -1, 1), images in [-1, 1]. The layers:
reflect-pad 3, conv7×7 3→ngf, norm, ReLU; conv3×3/2 ngf→2·ngf and 2·ngf→4·ngf (norm, ReLU);
``blocks`` ResBlocks at 4·ngf; two ×2 upsamplings 4·ngf→2·ngf→ngf; reflect-pad 3, conv7×7
ngf→3, tanh. The paper's sizes are ``ngf=64, blocks=9`` (11,378,179 parameters); InstanceNorm
without affine parameters.

``in_channels`` > 3 feeds it more than the image (the kernel-aware generator's deconvolved
image beside the blurred one); the residual is added to the first three.

``upsample="transpose"`` is the paper's transposed convolution; ``"resize"`` replaces each with
nearest-neighbour ×2 upsampling and a 3×3 convolution, the usual fix for the checkerboard
artefacts users of the reference report. ``init="identity"`` (the default) zeroes the last
convolution so step 0 returns the input; ``"paper"`` is DeblurGAN's N(0, 0.02) everywhere, under
which an untrained generator maps an image to ~17 dB of itself. Sides must be divisible by 4
(:func:`train.archs.blocks.pad_to_multiple`).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from blurgen.settings import check_choice
from train.archs.blocks import INITS, attention_layers, check_sides, identity_start, norm_layer, paper_init, spectral

Upsample = Literal["transpose", "resize"]
UPSAMPLES = ("transpose", "resize")
ATTENTION_AFTER = (3, 6, 9)  # ResBlocks followed by --attention modules (the bottleneck)


class ResnetBlock(nn.Module):
    """x + (pad, conv3×3, norm, ReLU, Dropout(0.5), pad, conv3×3, norm)(x)."""

    def __init__(self, channels: int, dropout: float = 0.5, norm: str = "instance") -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), norm_layer(norm, channels), nn.ReLU(True),
            nn.Dropout(dropout),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), norm_layer(norm, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def up_block(in_channels: int, out_channels: int, upsample: Upsample, norm: str = "instance") -> list[nn.Module]:
    if upsample == "transpose":
        conv = nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1, output_padding=1)
        return [conv, norm_layer(norm, out_channels), nn.ReLU(True)]
    return [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1), nn.Conv2d(in_channels, out_channels, 3),
            norm_layer(norm, out_channels), nn.ReLU(True)]


class Generator(nn.Module):
    """B×3×H×W in [-1, 1] (H, W divisible by 4) → restored B×3×H×W in [-1, 1].

    ``norm`` is the paper's InstanceNorm by default (``batch``, ``none``); ``attention`` puts
    channel and/or self-attention after ResBlocks 3, 6 and 9 (at a quarter of the resolution)
    and channel attention also after each down- and upsampling; ``spectral_norm`` puts every
    convolution but the last (which starts at zero) under spectral normalisation.
    """

    multiple = 4

    @staticmethod
    def smallest_side(norm: str) -> int:
        """The smallest side it takes: 2 px at a quarter of the resolution, for its mirrored borders."""
        return 8

    def __init__(self, upsample: Upsample = "transpose", init: str = "identity", ngf: int = 64, blocks: int = 9,
                 dropout: float = 0.5, norm: str = "instance", attention: str = "none", spectral_norm: bool = False,
                 in_channels: int = 3) -> None:
        super().__init__()
        check_choice("upsample", upsample, UPSAMPLES)
        check_choice("init", init, INITS)
        self.upsample, self.init = upsample, init
        self.smallest = self.smallest_side(norm)
        channel_only = "channel" if attention in ("channel", "both") else "none"
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7), norm_layer(norm, ngf), nn.ReLU(True)]
        for scale in (1, 2):
            layers += [nn.Conv2d(ngf * scale, ngf * scale * 2, 3, stride=2, padding=1), norm_layer(norm, ngf * scale * 2), nn.ReLU(True)]
            layers += attention_layers(channel_only, ngf * scale * 2)
        for block in range(1, blocks + 1):
            layers.append(ResnetBlock(ngf * 4, dropout, norm))
            if block in ATTENTION_AFTER:
                layers += attention_layers(attention, ngf * 4)
        for in_channels, out_channels in ((ngf * 4, ngf * 2), (ngf * 2, ngf)):
            layers += up_block(in_channels, out_channels, upsample, norm) + attention_layers(channel_only, out_channels)
        last = nn.Conv2d(ngf, 3, 7)
        layers += [nn.ReflectionPad2d(3), last, nn.Tanh()]
        self.net = nn.Sequential(*layers)
        paper_init(self)
        if init == "identity":  # tanh(0) = 0: the residual, not the image, starts at zero
            identity_start(last)
        if spectral_norm:
            spectral(self, skip=(last,))

    def forward(self, blurred: torch.Tensor) -> torch.Tensor:
        """``blurred``: B×3×H×W, or B×in_channels×H×W whose first 3 channels are the image the residual is added to."""
        check_sides(blurred, self.multiple)
        return torch.clamp(blurred[:, :3] + self.net(blurred), -1.0, 1.0)
