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


def gaussian_window(size: int = 11, sigma: float = 1.5, device: torch.device | None = None) -> torch.Tensor:
    coordinates = torch.arange(size, dtype=torch.float64, device=device) - (size - 1) / 2
    weights = torch.exp(-(coordinates**2) / (2 * sigma**2))
    weights /= weights.sum()
    return torch.outer(weights, weights)


def ssim(restored: torch.Tensor, sharp: torch.Tensor) -> torch.Tensor:
    """Per-image Gaussian SSIM of B×C×H×W batches in [-1, 1] (sides ≥ 11): a (B,) float64 tensor."""
    x, y = to_uint8_levels(restored), to_uint8_levels(sharp)
    channels = x.shape[1]
    window = gaussian_window(device=x.device).expand(channels, 1, 11, 11)

    def local_mean(values: torch.Tensor) -> torch.Tensor:
        return F.conv2d(values, window, groups=channels)

    mu_x, mu_y = local_mean(x), local_mean(y)
    var_x = local_mean(x * x) - mu_x**2
    var_y = local_mean(y * y) - mu_y**2
    cov = local_mean(x * y) - mu_x * mu_y
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return index.flatten(1).mean(dim=1)
