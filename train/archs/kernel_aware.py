"""A kernel-aware generator: estimate the blur kernel, deconvolve with it, refine.

Every synthetic pair comes with the kernel that made it; this generator uses it. Three stages:

1. :class:`KernelEstimator` looks at the blurred image and gives a kernel: strided convolutions to
   1/16 of the resolution, a global average (one estimate for the image: uniform blur), two
   linear layers to ``side``² logits, a softmax (non-negative, sums to 1), then the kernel is
   moved so its centroid sits on the centre pixel (bilinear resampling, which keeps it
   non-negative and moves its centroid exactly), as blurgen centres its kernels: the deconvolved
   image is not shifted. It starts as a near-delta (σ 0.7 px), so an untrained model deconvolves
   almost nothing (the prior smooths a little). Training supervises it with each pair's true kernel (``--kernel-weight``).
2. :func:`wiener_deconvolve`: Wiener deconvolution with a gradient prior in the Fourier domain,
   X = conj(K)·Y / (|K|² + λ·(|Dx|² + |Dy|²)), with two balances λ learned, one for a given
   kernel (it starts at 0.01) and one for the estimate (0.05: a wrong kernel rings less),
   on the image mirrored by the kernel's side (the FFT's wrap-around then meets a continuation of
   the image). The prior keeps the denominator above zero where the kernel's spectrum vanishes,
   so the gradients stay finite for any kernel; it runs in float32 whatever the autocast.
3. A refiner: DeblurGAN's ResNet generator (:class:`train.archs.resnet.Generator`) on the
   deconvolved and the blurred image side by side (6 channels), predicting a residual on the
   deconvolved one (so it starts as the deconvolution: with a known kernel, a refiner that must
   first learn to reproduce the deconvolution from the blurred image kept +1 dB of its +4.8 at this
   budget). It absorbs what a wrong kernel does (ringing, blur no single kernel explains).

``forward(blurred)`` is blind (the estimated kernel); ``forward(blurred, kernels)`` non-blind
(``deblur CHECKPOINT --kernel K``), any kernel side smaller than the image; ``given`` picks, per
sample, which of the two to deconvolve with (training deconvolves half of the pairs with a known
kernel with that kernel, so the refiner learns both); ``with_estimate=True`` also returns the
estimate, for the kernel loss. Designs this follows in spirit: DWDN (Dong et al. 2020: Wiener
deconvolution, then a refinement network) and kernel-estimation branches supervised by the true
kernel.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from train.archs.blocks import check_sides
from train.archs.resnet import Generator, Upsample

KERNEL_SIDE = 33  # the estimated kernel's side: measured camera shake spans 13-27 px
START_SIGMA = 0.7  # px: the estimator's first kernel, nearly a delta
# Wiener balances to start from: a known kernel needs little (800·σ² for 1/255 noise, as deblur wiener), an estimate more
START_BALANCE_GIVEN = 0.01
START_BALANCE_ESTIMATED = 0.05


def centred(kernels: torch.Tensor) -> torch.Tensor:
    """B×k×k non-negative kernels moved (bilinear resampling) so that each centroid is the centre pixel; renormalised."""
    batch, side, _ = kernels.shape
    coords = torch.arange(side, dtype=kernels.dtype, device=kernels.device)
    mass = kernels.sum(dim=(1, 2)).clamp_min(1e-12)
    cy = (kernels.sum(dim=2) * coords).sum(dim=1) / mass
    cx = (kernels.sum(dim=1) * coords).sum(dim=1) / mass
    centre = (side - 1) / 2
    # output(p) = input(p + offset): the centroid moves by -offset; grid_sample's coordinates span [-1, 1] over the corners
    offset = torch.stack([(cx - centre), (cy - centre)], dim=1) * (2 / (side - 1))
    theta = torch.zeros(batch, 2, 3, dtype=kernels.dtype, device=kernels.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, :, 2] = offset
    grid = F.affine_grid(theta, (batch, 1, side, side), align_corners=True)
    moved = F.grid_sample(kernels[:, None], grid, mode="bilinear", padding_mode="zeros", align_corners=True)[:, 0]
    return moved / moved.sum(dim=(1, 2), keepdim=True).clamp_min(1e-12)


def fit_kernels(kernels: torch.Tensor, side: int = KERNEL_SIDE) -> torch.Tensor:
    """B×K×K kernels (K odd, centred) on a ``side``×``side`` canvas: the centre cut out (or zeros
    around), renormalised; an all-zero kernel (a pair without one) stays zero."""
    size = kernels.shape[-1]
    if size >= side:
        start = (size - side) // 2
        cut = kernels[:, start:start + side, start:start + side]
    else:
        pad = (side - size) // 2
        cut = F.pad(kernels, (pad, side - size - pad, pad, side - size - pad))
    mass = cut.sum(dim=(1, 2), keepdim=True)
    return torch.where(mass > 0, cut / mass.clamp_min(1e-12), cut)


class KernelEstimator(nn.Module):
    """B×3×H×W in [-1, 1] → B×side×side kernels: non-negative, summing to 1, centred."""

    def __init__(self, width: int = 32, side: int = KERNEL_SIDE) -> None:
        super().__init__()
        self.side = side
        layers: list[nn.Module] = [nn.Conv2d(3, width, 3, padding=1), nn.ReLU(True)]
        for _ in range(4):
            layers += [nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU(True), nn.Conv2d(width, width, 3, padding=1), nn.ReLU(True)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(width, 4 * width), nn.ReLU(True), nn.Linear(4 * width, side * side))
        last = self.head[-1]
        nn.init.zeros_(last.weight)
        coords = torch.arange(side, dtype=torch.float32) - (side - 1) / 2
        start = -(coords[:, None] ** 2 + coords[None, :] ** 2) / (2 * START_SIGMA**2)
        with torch.no_grad():
            last.bias.copy_(start.flatten())

    def forward(self, blurred: torch.Tensor) -> torch.Tensor:
        pooled = self.features(blurred).mean(dim=(2, 3))
        logits = self.head(pooled).float()
        kernels = torch.softmax(logits, dim=1).view(-1, self.side, self.side)
        return centred(kernels)


def placed_spectrum(kernels: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """The real FFT of each kernel (B×k×k) placed with its centre pixel at the origin of a ``shape`` grid."""
    batch, height, width = kernels.shape
    canvas = kernels.new_zeros(batch, *shape)
    canvas[:, :height, :width] = kernels
    return torch.fft.rfft2(torch.roll(canvas, (-(height // 2), -(width // 2)), dims=(1, 2)))


def wiener_deconvolve(blurred: torch.Tensor, kernels: torch.Tensor, balance: torch.Tensor | float) -> torch.Tensor:
    """Deconvolve B×C×H×W images (float, [0, 1]) blurred by B×k×k kernels (k < H, W), each its own,
    with ``balance`` (one, or (B,): one per image): B×C×H×W float32, not clipped. Differentiable in
    the images, the kernels and ``balance``."""
    with torch.autocast(blurred.device.type, enabled=False):
        images, kernels = blurred.float(), kernels.float()
        pad = kernels.shape[-1]
        mirrored = F.pad(images, (pad, pad, pad, pad), mode="reflect")
        shape = tuple(mirrored.shape[-2:])
        spectrum = placed_spectrum(kernels, shape)[:, None]
        steps = torch.zeros(2, 3, 3, dtype=torch.float32, device=images.device)
        steps[0, 1, 1], steps[0, 1, 2], steps[1, 1, 1], steps[1, 2, 1] = 1, -1, 1, -1
        prior = placed_spectrum(steps, shape).abs().square().sum(dim=0)
        balance = torch.as_tensor(balance, dtype=torch.float32, device=images.device).reshape(-1, 1, 1, 1)
        inverse = spectrum.conj() / (spectrum.abs().square() + balance * prior)
        restored = torch.fft.irfft2(torch.fft.rfft2(mirrored) * inverse, s=shape)
        return restored[..., pad:pad + images.shape[-2], pad:pad + images.shape[-1]]


class KernelAwareGenerator(nn.Module):
    """B×3×H×W in [-1, 1] (H, W divisible by 4 and larger than the kernel) → restored B×3×H×W in [-1, 1],
    by an estimated (or given) kernel, Wiener deconvolution and a ResNet refiner (see the module docstring)."""

    multiple = 4

    @staticmethod
    def smallest_side(norm: str) -> int:
        """The image must be larger than the kernel, for the mirror padding."""
        return 4 * math.ceil((KERNEL_SIDE + 1) / 4)

    def __init__(self, upsample: Upsample = "transpose", init: str = "identity", ngf: int = 16, blocks: int = 4,
                 norm: str = "instance", attention: str = "none", spectral_norm: bool = False, estimator_width: int = 32) -> None:
        super().__init__()
        self.upsample, self.init = upsample, init
        self.smallest = self.smallest_side(norm)
        self.estimator = KernelEstimator(estimator_width)
        self.log_balance_given = nn.Parameter(torch.tensor(math.log(START_BALANCE_GIVEN)))
        self.log_balance_estimated = nn.Parameter(torch.tensor(math.log(START_BALANCE_ESTIMATED)))
        self.refiner = Generator(upsample, init, ngf, blocks, norm=norm, attention=attention, spectral_norm=spectral_norm, in_channels=6)

    def forward(self, blurred: torch.Tensor, kernels: torch.Tensor | None = None, given: torch.Tensor | None = None,
                with_estimate: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``kernels``: B×k×k known kernels (non-blind, any side smaller than the image); with
        ``given`` (bool (B,)) they are put on the estimate's 33-px canvas and used where it is
        True, the estimate elsewhere. Returns the restored images, and with ``with_estimate``
        the estimated kernels too (B×33×33; None when none was needed)."""
        check_sides(blurred, self.multiple)
        if kernels is not None and given is None and kernels.shape[-1] >= min(blurred.shape[-2:]):
            raise ValueError(f"a {kernels.shape[-1]}-px kernel needs an image larger than it, got {tuple(blurred.shape[-2:])}")
        needs_estimate = with_estimate or kernels is None or given is not None
        estimate = self.estimator(blurred) if needs_estimate else None
        if kernels is None:
            used, balance = estimate, self.log_balance_estimated.exp()
        elif given is None:
            used, balance = kernels.to(blurred.device, torch.float32), self.log_balance_given.exp()
        else:  # training: the known kernels on the estimate's canvas, where given
            used = torch.where(given[:, None, None], fit_kernels(kernels.float(), KERNEL_SIDE), estimate)
            balance = torch.where(given, self.log_balance_given.exp(), self.log_balance_estimated.exp())
        deconvolved = wiener_deconvolve((blurred + 1) / 2, used, balance) * 2 - 1
        # the deconvolved image first: the refiner's residual is added to it, so the model starts as the deconvolution
        restored = self.refiner(torch.cat([deconvolved.clamp(-1.5, 1.5).to(blurred.dtype), blurred], dim=1))
        return (restored, estimate) if with_estimate else restored


class WithKernel(nn.Module):
    """A kernel-aware generator restoring non-blind with one known kernel (k×k, any odd or even k):
    a generator of its own (B×3×H×W in [-1, 1] → restored), for the restoration helpers of
    :mod:`train.eval.evaluate` (whole images or windows; sides padded to what both need)."""

    multiple = 4

    def __init__(self, generator: KernelAwareGenerator, kernel: torch.Tensor) -> None:
        super().__init__()
        self.generator = generator
        self.register_buffer("kernel", kernel.float() / kernel.float().sum())
        self.smallest = max(generator.smallest, 4 * math.ceil((kernel.shape[-1] + 1) / 4))

    def forward(self, blurred: torch.Tensor) -> torch.Tensor:
        return self.generator(blurred, self.kernel.expand(blurred.shape[0], -1, -1))


def kernel_loss(estimate: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Mean over the pairs with a known kernel (``truth`` not all zero) of the L1 distance between
    the estimated and the true kernel on the estimate's canvas (in [0, 2]); 0 when none is known."""
    truth = fit_kernels(truth.float(), estimate.shape[-1])
    known = truth.sum(dim=(1, 2)) > 0
    if not bool(known.any()):
        return estimate.new_zeros(())
    return (estimate[known] - truth[known]).abs().sum(dim=(1, 2)).mean()


__all__ = ["KERNEL_SIDE", "KernelAwareGenerator", "KernelEstimator", "WithKernel", "centred", "fit_kernels", "kernel_loss",
           "wiener_deconvolve"]
