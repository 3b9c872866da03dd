"""Content losses: how far the restored image is from the sharp one.

The losses (``--content``), on images in [-1, 1]:

* ``perceptual`` (the paper's): 100 × the MSE between VGG-19 ``conv3_3`` features (before its
  ReLU) of the restored and the sharp image. Images are mapped to [0, 1] and normalised with the
  ImageNet mean and std, as the weights expect; the reference fed [-1, 1] images to VGG unnormalised.
* ``l1``: 10 × the mean absolute difference of the pixels.
* ``perceptual+l1``: the sum of both, with the same weights.
* ``mse``: 10 × the mean squared difference of the pixels (the classical L2 loss).
* ``charbonnier``: 10 × the mean of sqrt(d² + ε²), ε = 1e-3, over the pixel differences d: L1
  made smooth at 0 (the loss of MPRNet and of BasicSR's restoration recipes).

Any of them can add a frequency term (``--fft-weight w``, after MIMO-UNet): 10 × w × the mean
absolute difference of the real and imaginary parts of the two images' 2-D Fourier transforms.
The transforms are orthonormal, so the term has the scale of a pixel difference whatever the crop
size (MIMO-UNet's unnormalised transform grows with the side of the crop).

The perceptual network is VGG-19 (the paper's) or VGG-16 (``--perceptual-net``; the Keras port's
block3_conv3 is the same layer, conv3_3).

``l1`` is the default: on the quality benchmark it lost the least PSNR of the three with the
VGG weights available where it was measured (random; ImageNet weights may rank them otherwise).
The L1 weight of 10 puts the two terms on one scale for a blurred input (with random VGG
weights, 100 × perceptual ≈ 1.2 and 10 × L1 ≈ 1.9 for built-in pairs at 128 px).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from blurgen.settings import check_choice
from train.checkpoint import load_tensors

PERCEPTUAL_WEIGHT = 100.0
L1_WEIGHT = 10.0
CONTENTS = ("l1", "charbonnier", "perceptual+l1", "perceptual", "mse")
CHARBONNIER_EPS = 1e-3
CONV3_3 = 15  # vgg19.features[:15] ends with conv3_3
VGG_FILES = {"vgg19": "vgg19-dcbb9e9d.pth", "vgg16": "vgg16-397923af.pth"}  # torchvision's ImageNet weights, as its cache names them
PERCEPTUAL_NETS = tuple(VGG_FILES)
MSE_WEIGHT = 10.0
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VggWeightsMissing(FileNotFoundError):
    """The VGG-19 weights are not where ``--vgg-weights`` says (nothing is downloaded)."""


class PerceptualLoss(nn.Module):
    """MSE of VGG-19 conv3_3 features; inputs B×3×H×W in [-1, 1]. The network is frozen."""

    def __init__(self, features: nn.Module) -> None:
        super().__init__()
        self.features = features.eval().requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def train(self, mode: bool = True) -> PerceptualLoss:
        return self  # always in eval mode

    def forward(self, restored: torch.Tensor, sharp: torch.Tensor) -> torch.Tensor:
        def embed(images: torch.Tensor) -> torch.Tensor:
            return self.features(((images + 1) / 2 - self.mean) / self.std)

        with torch.no_grad():
            target = embed(sharp)
        return F.mse_loss(embed(restored), target)


class ContentLoss(nn.Module):
    """The weighted content loss of ``kind`` (see the module docstring) on B×3×H×W in [-1, 1],
    plus ``fft_weight`` × the frequency term.

    ``perceptual`` is needed for the kinds that use VGG. ``forward`` returns the weighted sum
    and the unweighted terms (``perceptual``, ``l1``, ``mse``, ``charbonnier``, ``fft``) that
    make it up, detached.
    """

    def __init__(self, kind: str, perceptual: PerceptualLoss | None = None, *, fft_weight: float = 0.0) -> None:
        super().__init__()
        check_choice("content", kind, CONTENTS)
        if "perceptual" in kind and perceptual is None:
            raise ValueError(f"--content {kind} needs the VGG-19 perceptual network")
        if not fft_weight >= 0:
            raise ValueError(f"fft_weight must be at least 0, got {fft_weight}")
        self.kind, self.fft_weight = kind, fft_weight
        self.perceptual = perceptual if "perceptual" in kind else None

    def forward(self, restored: torch.Tensor, sharp: torch.Tensor) -> tuple[torch.Tensor, dict]:
        total = restored.new_zeros(())
        terms = {}
        if self.perceptual is not None:
            perceptual = self.perceptual(restored, sharp)
            total = total + PERCEPTUAL_WEIGHT * perceptual
            terms["perceptual"] = perceptual.detach()
        if "l1" in self.kind:
            l1 = F.l1_loss(restored, sharp)
            total = total + L1_WEIGHT * l1
            terms["l1"] = l1.detach()
        if self.kind == "mse":
            mse = F.mse_loss(restored, sharp)
            total = total + MSE_WEIGHT * mse
            terms["mse"] = mse.detach()
        if self.kind == "charbonnier":
            smooth = charbonnier(restored, sharp)
            total = total + L1_WEIGHT * smooth
            terms["charbonnier"] = smooth.detach()
        if self.fft_weight:
            spectral = fft_l1(restored, sharp)
            total = total + L1_WEIGHT * self.fft_weight * spectral
            terms["fft"] = spectral.detach()
        return total, terms


def charbonnier(restored: torch.Tensor, sharp: torch.Tensor, eps: float = CHARBONNIER_EPS) -> torch.Tensor:
    """Mean of sqrt((restored − sharp)² + eps²) over all elements: a scalar, ≥ eps, eps for equal images."""
    return torch.sqrt((restored - sharp).square() + eps * eps).mean()


def fft_l1(restored: torch.Tensor, sharp: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of the real and imaginary parts of the orthonormal 2-D FFTs of
    two B×C×H×W float tensors (over the last two axes, the one-sided half): a scalar, 0 for equal
    images. By Parseval's theorem it has the scale of a pixel difference at any size."""
    difference = torch.fft.rfft2(restored.float() - sharp.float(), norm="ortho")
    return torch.view_as_real(difference).abs().mean()


def vgg19_features_to_conv3_3() -> nn.Sequential:
    """The first 15 layers of torchvision's ``vgg19().features`` (same indices, so same state-dict
    keys), ending with conv3_3; built directly so the 140M-parameter classifier is never made."""
    layers: list[nn.Module] = []
    channels = 3
    for width, convs in ((64, 2), (128, 2), (256, 3)):
        for _ in range(convs):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
            channels = width
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers[:CONV3_3])


def vgg_conv3_3(weights: str, *, net: str = "vgg19", seed: int = 0) -> nn.Sequential:
    """VGG-19 or VGG-16 up to conv3_3 (their first 15 layers have the same shapes; the weights
    differ), with ``weights`` = ``imagenet`` (torchvision's cache, never downloaded), ``random``
    (an explicit choice, seeded) or a path to that network's state dict."""
    check_choice("perceptual_net", net, PERCEPTUAL_NETS)
    name = net.upper().replace("VGG", "VGG-")
    if weights == "random":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            features = vgg19_features_to_conv3_3()
            for layer in features:
                if isinstance(layer, nn.Conv2d):  # torchvision's VGG initialisation, which keeps feature scales
                    nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.zeros_(layer.bias)
            return features
    path = Path(torch.hub.get_dir()) / "checkpoints" / VGG_FILES[net] if weights == "imagenet" else Path(weights)
    if not path.is_file():
        where = f"torchvision's cache ({path})" if weights == "imagenet" else str(path)
        raise VggWeightsMissing(
            f"--vgg-weights {weights}: no {name} weights at {where}. Nothing is downloaded: put torchvision's "
            f"{VGG_FILES[net]} there, pass --vgg-weights PATH, or choose --vgg-weights random explicitly"
        )
    try:
        state = load_tensors(path)
    except ValueError as error:
        raise VggWeightsMissing(f"--vgg-weights {weights}: {path} is not a {name} state dict: {error}") from None
    try:
        features = vgg19_features_to_conv3_3()
        wanted = {key.removeprefix("features."): value for key, value in state.items() if key.startswith("features.")}
        features.load_state_dict({key: value for key, value in wanted.items() if int(key.split(".")[0]) < CONV3_3})
    except Exception as error:
        raise VggWeightsMissing(f"--vgg-weights {weights}: {path} is not a {name} state dict ({type(error).__name__})") from None
    return features
