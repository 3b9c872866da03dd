"""The networks a run's settings describe: one of three generators and one of the critics.

* ``resnet``: DeblurGAN's generator (:mod:`train.resnet`), sized by ``ngf`` and ``blocks``;
* ``unet``: a Pix2Pix-style U-Net (:mod:`train.unet`), sized by ``ngf``;
* ``nafnet``: NAFNet (:mod:`train.nafnet`), sized by ``ngf`` (its width) and ``blocks``.

All three predict a residual added to the input, start at the identity by default, and are
built by :func:`make_generator` from a run's settings or a checkpoint's record of them; the
critics (:mod:`train.critics`) by :func:`make_critic`. The building blocks they share are in
:mod:`train.blocks`.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import nn

from blurgen.settings import check_choice
from train.blocks import pad_to_multiple, parameter_count
from train.critics import CRITICS, Critic, DoubleScaleCritic, make_critic, scores
from train.nafnet import NAFNet
from train.resnet import UPSAMPLES, Generator
from train.unet import UNetGenerator

GENERATORS = ("resnet", "unet", "nafnet")
GENERATOR_SIZES = {"resnet": (64, 9), "unet": (64, None), "nafnet": (32, 28)}  # (ngf, blocks) when not given

__all__ = ["CRITICS", "GENERATORS", "GENERATOR_SIZES", "UPSAMPLES", "Critic", "DoubleScaleCritic", "Generator", "NAFNet",
           "UNetGenerator", "generator_class", "make_critic", "make_critic_for", "make_generator", "pad_to_multiple",
           "parameter_count", "scores"]


def generator_class(kind: str) -> type[nn.Module]:
    check_choice("generator", kind, GENERATORS)
    return {"resnet": Generator, "unet": UNetGenerator, "nafnet": NAFNet}[kind]


def make_generator(settings: Mapping) -> nn.Module:
    """The generator a run's settings (``TrainConfig`` fields, or a checkpoint's ``args``) describe;
    settings a checkpoint predates take the values of that time."""
    kind = settings.get("generator", "resnet")
    check_choice("generator", kind, GENERATORS)
    width, depth = GENERATOR_SIZES[kind]
    width, depth = settings.get("ngf") or width, settings.get("blocks") or depth
    init = settings.get("init", "paper")
    if kind == "nafnet":
        return NAFNet(init, width=width, blocks=depth)
    options = dict(init=init, norm=settings.get("norm", "instance"), attention=settings.get("attention", "none"),
                   spectral_norm=settings.get("spectral_norm", "none") == "both", ngf=width)
    if kind == "unet":
        return UNetGenerator(**options)
    return Generator(settings.get("upsample", "transpose"), blocks=depth, **options)


def make_critic_for(settings: Mapping) -> nn.Module:
    """The critic a run's settings describe (``critic``, ``spectral_norm``, ``ndf``)."""
    return make_critic(settings.get("critic", "paper"), spectral_norm=settings.get("spectral_norm", "none") in ("critic", "both"),
                       ndf=settings.get("ndf", 64))
