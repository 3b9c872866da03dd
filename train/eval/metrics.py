"""Image-quality metrics in torch, on the device: PSNR on uint8 RGB and Gaussian SSIM.

Protocol (stated in every report): images are quantised to 8 bits (values rounded to 0..255)
before measuring. PSNR = 10·log10(255² / MSE) over all pixels and channels of one image. SSIM is
Wang et al.'s, with an 11×11 Gaussian window of σ 1.5, K1 = 0.01, K2 = 0.03, data range 255,
population (not sample) covariances, computed per channel over the window positions that lie
inside the image ('valid'), averaged over positions and channels; this is scikit-image's
``structural_similarity(..., gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
data_range=255, channel_axis=-1)``.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

PROTOCOL = (
    "8-bit RGB (rounded); PSNR over all pixels and channels per image; SSIM: Gaussian window 11, "
    "sigma 1.5, K1 0.01, K2 0.03, data range 255, population covariance, valid window positions, "
    "mean over positions and channels (= skimage structural_similarity with gaussian_weights=True, "
    "use_sample_covariance=False); averages are means over images"
)


def to_uint8_levels(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float → float64 levels 0..255, rounded as an 8-bit image would be."""
    return torch.round((images.double().clamp(-1, 1) + 1) * 127.5)


def psnr(restored: torch.Tensor, sharp: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (dB) of B×C×H×W batches in [-1, 1]: a (B,) float64 tensor."""
    mse = ((to_uint8_levels(restored) - to_uint8_levels(sharp)) ** 2).flatten(1).mean(dim=1)
    return 10 * torch.log10(255.0**2 / mse.clamp(min=1e-10))


def gaussian_weights(size: int = 11, sigma: float = 1.5, device: torch.device | None = None) -> torch.Tensor:
    """The normalised 1-D Gaussian (float64, ``size`` taps); SSIM's 2-D window is its outer product."""
    coordinates = torch.arange(size, dtype=torch.float64, device=device) - (size - 1) / 2
    weights = torch.exp(-(coordinates**2) / (2 * sigma**2))
    return weights / weights.sum()


def gaussian_filter_valid(planes: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """float64 ``planes`` (…×H×W) filtered by the separable window ``outer(weights, weights)`` at
    the positions where it lies inside the image: …×(H−n+1)×(W−n+1), on their device."""
    flat = planes.reshape(-1, *planes.shape[-2:])
    # On the CPU, OpenCV's separable filter: 8× faster here than torch's float64 convolution, which has no fast CPU path.
    filtered = filter_opencv(flat, weights) if planes.device.type == "cpu" else filter_torch(flat, weights)
    return filtered.reshape(*planes.shape[:-2], *filtered.shape[-2:])


def filter_opencv(planes: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """N×H×W float64 CPU planes → N×(H−n+1)×(W−n+1), the separable window at the valid positions."""
    kernel, taps = weights.numpy(), weights.numel()
    half, height, width = taps // 2, planes.shape[-2] - taps + 1, planes.shape[-1] - taps + 1
    valid = [cv2.sepFilter2D(plane, cv2.CV_64F, kernel, kernel)[half : half + height, half : half + width]
             for plane in planes.contiguous().numpy()]
    return torch.from_numpy(np.stack(valid))


def filter_torch(planes: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """:func:`filter_opencv` with torch's convolution, on any device."""
    columns = F.conv2d(planes.unsqueeze(1), weights.view(1, 1, -1, 1))
    return F.conv2d(columns, weights.view(1, 1, 1, -1)).squeeze(1)


def ssim(restored: torch.Tensor, sharp: torch.Tensor) -> torch.Tensor:
    """Per-image Gaussian SSIM of B×C×H×W batches in [-1, 1] (sides ≥ 11): a (B,) float64 tensor."""
    x, y = to_uint8_levels(restored), to_uint8_levels(sharp)
    means = gaussian_filter_valid(torch.stack([x, y, x * x, y * y, x * y]), gaussian_weights(device=x.device))
    mu_x, mu_y, mean_xx, mean_yy, mean_xy = means.unbind(0)
    var_x = mean_xx - mu_x**2
    var_y = mean_yy - mu_y**2
    cov = mean_xy - mu_x * mu_y
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return index.flatten(1).mean(dim=1)
