"""A Pix2Pix-style U-Net generator (Isola et al. 2017) with DeblurGAN's global residual.

Encoder: five 4×4 stride-2 convolutions 3→w→2w→4w→8w→8w, w = 64 the paper's base width
(LeakyReLU 0.2; normalisation
after all but the first). Decoder: five 4×4 stride-2 transposed convolutions back up, each
taking the matching encoder features concatenated to its input (ReLU, normalisation, dropout 0.5
in the two deepest), the last one to 3 channels and a tanh: the residual. Output =
clamp(input + residual, -1, 1), as the ResNet generator. Sides must be divisible by 32
(:func:`train.archs.blocks.pad_to_multiple` with ``multiple=32``). ``attention`` puts channel and/or
self-attention at the bottleneck (1/32 of the resolution) and channel attention after every
decoder stage; ``init="identity"`` zeroes the last layer so step 0 returns the input.
"""

from __future__ import annotations

import torch
from torch import nn

from blurgen.settings import check_choice
from train.archs.blocks import INITS, attention_layers, check_sides, identity_start, norm_layer, paper_init, spectral

WIDTHS = (1, 2, 4, 8, 8)  # times the base width


class UNetGenerator(nn.Module):
    """B×3×H×W in [-1, 1] (H, W divisible by 32) → restored B×3×H×W in [-1, 1]."""

    multiple = 2 ** len(WIDTHS)

    @classmethod
    def smallest_side(cls, norm: str) -> int:
        """The smallest side it takes: InstanceNorm needs more than one pixel at 1/32 of it."""
        return 2 * cls.multiple if norm == "instance" else cls.multiple

    def __init__(self, init: str = "identity", norm: str = "instance", attention: str = "none", spectral_norm: bool = False,
                 dropout: float = 0.5, ngf: int = 64) -> None:
        super().__init__()
        check_choice("init", init, INITS)
        self.init = init
        self.smallest = self.smallest_side(norm)
        widths = [ngf * factor for factor in WIDTHS]
        self.down = nn.ModuleList()
        channels = 3
        for level, width in enumerate(widths):
            layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, stride=2, padding=1)]
            layers += [norm_layer(norm, width)] if level else []
            layers.append(nn.LeakyReLU(0.2, True))
            self.down.append(nn.Sequential(*layers))
            channels = width
        self.bottleneck = nn.Sequential(*attention_layers(attention, channels))
        channel_only = "channel" if attention in ("channel", "both") else "none"
        self.up = nn.ModuleList()
        for level, width in enumerate(widths[:-1][::-1] + [3]):
            inputs = channels if level == 0 else channels * 2  # after the first, the skip is concatenated
            layers = [nn.ConvTranspose2d(inputs, width, 4, stride=2, padding=1)]
            if width != 3:
                layers += [norm_layer(norm, width), nn.ReLU(True)] + ([nn.Dropout(dropout)] if level < 2 else [])
                layers += attention_layers(channel_only, width)
            self.up.append(nn.Sequential(*layers))
            channels = width
        self.last = self.up[-1][0]
        paper_init(self)
        if init == "identity":
            identity_start(self.last)
        if spectral_norm:
            spectral(self, skip=(self.last,))

    def forward(self, blurred: torch.Tensor) -> torch.Tensor:
        check_sides(blurred, self.multiple)
        features = []
        x = blurred
        for stage in self.down:
            x = stage(x)
            features.append(x)
        x = self.bottleneck(x)
        for level, stage in enumerate(self.up):
            if level:
                x = torch.cat([x, features[-1 - level]], dim=1)
            x = stage(x)
        return torch.clamp(blurred + torch.tanh(x), -1.0, 1.0)
