"""Kernel → blurred batch in torch: per-sample kernels, FFT, on the CPU or a GPU.

The same conventions as :mod:`blurgen.blurring.convolve` (true convolution, kernels normalised to sum 1,
even kernels made odd by a half-pixel shift, ``"valid"`` and ``"reflect"`` borders), batched:
B images and B kernels, which may have different sizes. There is no Python loop over the batch
when kernels come as one B×K×K tensor; a list of differently sized kernels is centred and padded
to the largest first. Work is done in float32 (cuFFT has no bf16 transforms) and the result is
returned in the input's dtype.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from blurgen.blurring.convolve import BORDERS, Border

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def fast_fft_size(n: int) -> int:
    """Smallest m >= n whose prime factors are 2, 3, 5 and 7 (sizes cuFFT and pocketfft like)."""
    m = n
    while True:
        rest = m
        for prime in (2, 3, 5, 7):
            while rest % prime == 0:
                rest //= prime
        if rest == 1:
            return m
        m += 1


def stack_kernels(kernels: torch.Tensor | Sequence[torch.Tensor | np.ndarray], device: torch.device) -> torch.Tensor:
    """B kernels (a B×K×K tensor, or a list of square 2-D kernels of any sizes) → float32 B×K×K.

    Listed kernels are first made odd (even ones by the half-pixel shift) and then centred in
    the largest odd side, so padding never moves a centre.
    """
    if isinstance(kernels, torch.Tensor):
        if kernels.ndim != 3 or kernels.shape[1] != kernels.shape[2]:
            raise ValueError(f"kernels must be B×K×K, got shape {tuple(kernels.shape)}")
        return make_odd(kernels.to(device=device, dtype=torch.float32))
    odd = []
    for kernel in kernels:
        kernel = torch.as_tensor(np.asarray(kernel) if not isinstance(kernel, torch.Tensor) else kernel)
        if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.numel() == 0:
            raise ValueError(f"each kernel must be a non-empty square 2-D array, got shape {tuple(kernel.shape)}")
        odd.append(make_odd(kernel.to(device=device, dtype=torch.float32)[None])[0])
    if not odd:
        raise ValueError("no kernels given")
    side = max(k.shape[0] for k in odd)
    return torch.stack([F.pad(k, [(side - k.shape[0]) // 2] * 4) for k in odd])


def make_odd(kernels: torch.Tensor) -> torch.Tensor:
    """B×K×K → B×K'×K' with K' odd: even kernels are averaged with their one-pixel shifts."""
    if kernels.shape[-1] % 2 == 1:
        return kernels
    padded = F.pad(kernels, (1, 1, 1, 1))
    return (padded[:, :-1, :-1] + padded[:, 1:, :-1] + padded[:, :-1, 1:] + padded[:, 1:, 1:]) / 4.0


def check_and_normalise(kernels: torch.Tensor) -> torch.Tensor:
    """Reject NaN/inf and negative mass (one clear error for the batch); scale each to sum 1."""
    if not torch.isfinite(kernels).all():
        raise ValueError("a kernel holds NaN or infinite values")
    totals = kernels.sum(dim=(1, 2))
    negative = (-kernels.clamp(max=0)).sum(dim=(1, 2))
    bad = (totals <= 0) | (negative > 1e-6 * totals.abs())
    if bad.any():
        raise ValueError(f"kernels {bad.nonzero().flatten().tolist()} have no positive mass or have negative mass")
    kernels = kernels.clamp(min=0)
    return kernels / kernels.sum(dim=(1, 2), keepdim=True)


def trim_kernels(kernels: torch.Tensor) -> torch.Tensor:
    """Crop a batch of centred odd kernels to the smallest centred square holding every kernel's mass."""
    side = kernels.shape[-1]
    centre = side // 2
    occupied = (kernels.amax(dim=0) > 0).nonzero()
    if occupied.numel() == 0:
        return kernels
    reach = int((occupied - centre).abs().max())
    return kernels[:, centre - reach : centre + reach + 1, centre - reach : centre + reach + 1]


def blur_batch(
    images: torch.Tensor,
    kernels: torch.Tensor | Sequence[torch.Tensor | np.ndarray],
    *,
    border: Border = "valid",
) -> torch.Tensor:
    """Blur each image of a batch with its own kernel.

    Args:
        images: B×C×H×W float32, float64, float16 or bfloat16, on any device.
        kernels: B×K×K tensor, or a sequence of B square kernels of possibly different sizes
            (tensors or arrays); moved to the images' device.
        border: ``"valid"`` (output H-K+1 × W-K+1, K the largest odd kernel side; crops carry
            their K-1 margin) or ``"reflect"`` (output H×W).

    Returns:
        B×C×H'×W' in the images' dtype and device. Equals :func:`blurgen.blurring.convolve.blur` per sample.
    """
    if border not in BORDERS:
        raise ValueError(f"border must be one of {BORDERS}, got {border!r}")
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError("images must be a B×C×H×W tensor")
    if images.dtype not in FLOAT_DTYPES:
        raise ValueError(f"unsupported image dtype {images.dtype}; use float32, float64, float16 or bfloat16")
    batch, channels, height, width = images.shape
    if batch == 0 or channels == 0 or height == 0 or width == 0:
        raise ValueError(f"the batch is empty (shape {tuple(images.shape)})")
    weights = stack_kernels(kernels, images.device)
    if weights.shape[0] != batch:
        raise ValueError(f"{batch} images but {weights.shape[0]} kernels")
    side = weights.shape[-1]
    if side > height or side > width:
        raise ValueError(f"the kernels ({side}×{side}) are larger than the images ({height}×{width})")
    weights = trim_kernels(check_and_normalise(weights))
    reach = weights.shape[-1] // 2
    compute_dtype = torch.float64 if images.dtype == torch.float64 else torch.float32
    values = images.to(compute_dtype)
    if border == "reflect":
        values = F.pad(values, (reach, reach, reach, reach), mode="reflect")
    else:
        trim = side // 2 - reach  # trimmed kernels read less margin: skip it
        values = values[:, :, trim : height - trim, trim : width - trim]
    return convolve_valid(values, weights.to(compute_dtype)).to(images.dtype)


def convolve_valid(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """'valid' FFT convolution of B×C×H×W with B×k×k (k odd): B×C×(H-k+1)×(W-k+1).

    Circular convolution of size ≥ H×W wraps only into the k-1 leading rows and columns that
    'valid' drops, so the images need no zero padding.
    """
    height, width = values.shape[-2:]
    k = weights.shape[-1]
    if k == 1:
        return values * weights[:, None, :, :]
    shape = (fast_fft_size(height), fast_fft_size(width))
    spectrum = torch.fft.rfft2(values, s=shape)
    spectrum *= torch.fft.rfft2(weights, s=shape)[:, None]
    full = torch.fft.irfft2(spectrum, s=shape)
    return full[:, :, k - 1 : height, k - 1 : width]
