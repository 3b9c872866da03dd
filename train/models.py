"""DeblurGAN's generator and critic (Kupyn et al., CVPR 2018), as its code builds them (DESIGN §10).

Generator: a ResNet that predicts a residual; output = clamp(input + residual, -1, 1), with
images in [-1, 1]. Critic: a 70×70 PatchGAN without a sigmoid (WGAN-GP), not conditioned on the
blurred input. Both use InstanceNorm without affine parameters.

Two choices leave the paper's architecture (``--paper`` keeps it exact):

* ``init="identity"`` (the default) zeroes the generator's last convolution, so at step 0 the
  residual is exactly 0 and the output equals the input; ``"paper"`` is DeblurGAN's N(0, 0.02)
  initialisation everywhere, under which an untrained generator maps an image to ~17 dB of itself.
* ``Critic(norm="none", spectral=True)`` (the default ``--critic spectral``) drops the critic's
  InstanceNorm layers and bounds each convolution's spectral norm instead. After a non-affine
  InstanceNorm every channel has zero mean and unit variance per image, so the paper's critic
  scores only the shape of feature distributions and stays near chance at telling sharp from
  blurred crops; without it, the critic can tell them apart.

``upsample="transpose"`` is the paper's transposed convolution; ``"resize"`` replaces each with
nearest-neighbour ×2 upsampling and a 3×3 convolution, the usual fix for the checkerboard
artefacts users of the reference report. Inputs must have sides divisible by 4 (see
:func:`pad_to_multiple`).

The variants the GAN-deblurring literature tried are options of the same classes, chosen by
:func:`make_generator` and :func:`make_critic` from a run's settings: ``norm`` (instance, batch,
none), ``attention`` and ``spectral`` building blocks (:mod:`train.blocks`), the Pix2Pix U-Net
(:mod:`train.unet`), and DeblurGAN-v2's :class:`DoubleScaleCritic`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from train.blocks import attention_layers, norm_layer, spectral
from train.unet import UNetGenerator

Upsample = Literal["transpose", "resize"]
UPSAMPLES = ("transpose", "resize")
INITS = ("identity", "paper")
CRITICS = ("spectral", "nonorm", "paper", "double")
GENERATORS = ("resnet", "unet")
SPECTRAL_NORMS = ("none", "critic", "both")
ATTENTION_AFTER = (3, 6, 9)  # ResBlocks followed by --attention modules (the bottleneck)


def paper_init(model: nn.Module) -> None:
    """DeblurGAN's ``weights_init``: every (transposed) convolution's weights ~ N(0, 0.02), biases 0."""
    for layer in model.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


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

    reflect-pad 3, conv7×7 3→64, norm, ReLU; conv3×3/2 64→128 and 128→256 (norm, ReLU); 9
    ResBlocks; two ×2 upsamplings 256→128→64; reflect-pad 3, conv7×7 64→3, tanh; plus the input,
    clamped. ``norm`` is the paper's InstanceNorm by default (``batch``, ``none``); ``attention``
    puts channel and/or self-attention after ResBlocks 3, 6 and 9 (at a quarter of the resolution)
    and channel attention also after each down- and upsampling; ``spectral_norm`` puts every
    convolution but the last (which starts at zero) under spectral normalisation.
    """

    multiple = 4

    def __init__(self, upsample: Upsample = "transpose", init: str = "identity", ngf: int = 64, blocks: int = 9,
                 dropout: float = 0.5, norm: str = "instance", attention: str = "none", spectral_norm: bool = False) -> None:
        super().__init__()
        if upsample not in UPSAMPLES:
            raise ValueError(f"upsample must be one of {UPSAMPLES}, got {upsample!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        self.upsample, self.init = upsample, init
        channel_only = "channel" if attention in ("channel", "both") else "none"
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7), norm_layer(norm, ngf), nn.ReLU(True)]
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
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        if spectral_norm:
            spectral(self, skip=(last,))

    def forward(self, blurred: torch.Tensor) -> torch.Tensor:
        if blurred.shape[-1] % self.multiple or blurred.shape[-2] % self.multiple:
            raise ValueError(f"image sides must be divisible by {self.multiple}, got {tuple(blurred.shape[-2:])}; use pad_to_multiple")
        return torch.clamp(blurred + self.net(blurred), -1.0, 1.0)


class Critic(nn.Module):
    """PatchGAN critic: B×3×H×W → B×1×h×w scores (no sigmoid).

    4×4 convs: 3→64 /2 (LeakyReLU 0.2), 64→128 /2, 128→256 /2, 256→512 /1 (each followed by
    ``norm``, then LeakyReLU), 512→1 /1; padding 2 as in DeblurGAN. ``norm="instance"`` is the
    paper's; ``"none"`` drops those layers. ``spectral=True`` wraps every convolution in
    spectral normalisation (one power iteration per forward pass in training mode).
    """

    def __init__(self, ndf: int = 64, norm: str = "instance", spectral: bool = False) -> None:
        super().__init__()
        if norm not in ("instance", "none"):
            raise ValueError(f"critic norm must be 'instance' or 'none', got {norm!r}")

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

    def __init__(self, spectral: bool = True) -> None:
        super().__init__()
        self.local = Critic(norm="none", spectral=spectral)
        self.whole = Critic(norm="none", spectral=spectral)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.local(images), self.whole(F.avg_pool2d(images, 4))


def make_critic(kind: str, spectral_norm: bool = False) -> nn.Module:
    """The critic of ``--critic``: ``spectral`` (no InstanceNorm, spectral norm; the default),
    ``nonorm`` (no InstanceNorm), ``paper`` (DESIGN §10 exactly) or ``double`` (double scale,
    spectral norm); ``spectral_norm`` adds spectral normalisation to any of them."""
    if kind == "paper":
        return Critic(norm="instance", spectral=spectral_norm)
    if kind == "nonorm":
        return Critic(norm="none", spectral=spectral_norm)
    if kind == "spectral":
        return Critic(norm="none", spectral=True)
    if kind == "double":
        return DoubleScaleCritic()
    raise ValueError(f"--critic must be one of {', '.join(CRITICS)}, got {kind!r}")


def make_generator(settings: Mapping) -> nn.Module:
    """The generator a run's settings (``TrainConfig`` fields, or a checkpoint's ``args``) describe;
    settings a checkpoint predates take the values of that time."""
    kind = settings.get("generator", "resnet")
    options = dict(init=settings.get("init", "paper"), norm=settings.get("norm", "instance"),
                   attention=settings.get("attention", "none"), spectral_norm=settings.get("spectral_norm", "none") == "both")
    if kind == "resnet":
        return Generator(settings.get("upsample", "transpose"), **options)
    if kind == "unet":
        return UNetGenerator(**options)
    raise ValueError(f"--generator must be one of {', '.join(GENERATORS)}, got {kind!r}")


def scores(critic_output: torch.Tensor | tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """A critic's output as a tuple of score maps (one for single-scale critics)."""
    return critic_output if isinstance(critic_output, tuple) else (critic_output,)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def pad_to_multiple(images: torch.Tensor, multiple: int = 4) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad B×C×H×W at the bottom and right to sides divisible by ``multiple``.

    Returns the padded batch and the original (H, W), to crop the result back.
    """
    height, width = images.shape[-2:]
    pad_h, pad_w = -height % multiple, -width % multiple
    mode = "reflect" if pad_h < height and pad_w < width else "replicate"
    return F.pad(images, (0, pad_w, 0, pad_h), mode=mode), (height, width)
