"""The networks a run's settings describe: one of the generators and one of the critics.

* ``resnet``: DeblurGAN's generator (:mod:`train.archs.resnet`), sized by ``ngf`` and ``blocks``;
* ``resnet-cpu``: the same network at the size that gained most per CPU-minute of training
  among those compared on 2 cores (width 16, 4 blocks, 0.35 M parameters; NAFNet width 16 with
  2 blocks, given the same minutes, gained no more): what the shipped CPU model is;
* ``unet``: a Pix2Pix-style U-Net (:mod:`train.archs.unet`), sized by ``ngf``;
* ``nafnet``: NAFNet (:mod:`train.archs.nafnet`), sized by ``ngf`` (its width) and ``blocks``;
* ``kernel-resnet``: kernel-aware (:mod:`train.archs.kernel_aware`): it estimates the kernel
  (supervised by each synthetic pair's true one), deconvolves with it, and refines with the
  ResNet generator sized by ``ngf`` and ``blocks`` (default resnet-cpu's); given a kernel
  (``deblur CHECKPOINT --kernel K``) it restores non-blind.

All of them predict a residual added to the input, start at the identity by default, and are
built by :func:`make_generator` from a run's settings or a checkpoint's record of them; the
critics (:mod:`train.archs.critics`) by :func:`make_critic`. The building blocks they share are in
:mod:`train.archs.blocks`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from torch import nn

from blurgen.settings import check_choice
from train.archs.blocks import pad_to_multiple, parameter_count
from train.archs.critics import CRITICS, Critic, DoubleScaleCritic, make_critic, scores
from train.archs.kernel_aware import KernelAwareGenerator
from train.archs.nafnet import NAFNet
from train.archs.resnet import UPSAMPLES, Generator
from train.archs.unet import UNetGenerator


@dataclass(frozen=True)
class GeneratorKind:
    """One generator, registered once: its class, its width and depth when a run leaves them unset
    (``blocks`` None: fixed by the class), and how a run's settings build it."""

    cls: type[nn.Module]
    ngf: int
    blocks: int | None
    build: Callable[[Mapping, int, int | None], nn.Module]


def _conv_options(settings: Mapping, width: int) -> dict:
    return dict(init=settings["init"], norm=settings["norm"], attention=settings["attention"],
                spectral_norm=settings["spectral_norm"] == "both", ngf=width)


GENERATORS: dict[str, GeneratorKind] = {
    "resnet": GeneratorKind(Generator, 64, 9, lambda s, width, depth: Generator(s["upsample"], blocks=depth, **_conv_options(s, width))),
    "resnet-cpu": GeneratorKind(Generator, 16, 4, lambda s, width, depth: Generator(s["upsample"], blocks=depth, **_conv_options(s, width))),
    "unet": GeneratorKind(UNetGenerator, 64, None, lambda s, width, depth: UNetGenerator(**_conv_options(s, width))),
    "nafnet": GeneratorKind(NAFNet, 32, 28, lambda s, width, depth: NAFNet(s["init"], width=width, blocks=depth)),
    "kernel-resnet": GeneratorKind(KernelAwareGenerator, 16, 4,
                                   lambda s, width, depth: KernelAwareGenerator(s["upsample"], blocks=depth, **_conv_options(s, width))),
}

__all__ = ["CRITICS", "GENERATORS", "UPSAMPLES", "Critic", "DoubleScaleCritic", "Generator", "GeneratorKind", "KernelAwareGenerator", "NAFNet",
           "UNetGenerator", "generator_class", "make_critic", "make_critic_for", "make_generator", "pad_to_multiple",
           "parameter_count", "scores"]


def generator_class(kind: str) -> type[nn.Module]:
    check_choice("generator", kind, GENERATORS)
    return GENERATORS[kind].cls


def make_generator(settings: Mapping) -> nn.Module:
    """The generator a run's settings describe: every ``TrainConfig`` field the generator reads
    (a checkpoint's record goes through ``train.config.recorded`` first, which fills the values of
    settings it predates); ``ngf``/``blocks`` None take the generator's own."""
    kind = settings["generator"]
    check_choice("generator", kind, GENERATORS)
    entry = GENERATORS[kind]
    return entry.build(settings, settings["ngf"] or entry.ngf, settings["blocks"] or entry.blocks)


def make_critic_for(settings: Mapping) -> nn.Module:
    """The critic a run's settings describe (``critic``, ``spectral_norm``, ``ndf``)."""
    return make_critic(settings["critic"], spectral_norm=settings["spectral_norm"] in ("critic", "both"), ndf=settings["ndf"])
