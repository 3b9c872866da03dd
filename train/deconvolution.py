"""Non-blind restoration: undoing a blur whose kernel is known (``deblur wiener --kernel K``).

Wiener deconvolution with a gradient prior, in the Fourier domain, one FFT per channel:

    X = conj(K)·Y / (|K|² + λ·(|Dx|² + |Dy|²)),   λ = WIENER_BALANCE · σ²

where K, Dx and Dy are the spectra of the kernel and of the horizontal and vertical differences,
and σ the image's noise level, estimated from the image itself (the median absolute value of its
finest diagonal Haar detail, / 0.6745: Donoho's estimator, which edges barely move). The
difference term keeps frequencies where the kernel's spectrum is near zero from being amplified
without bound; λ grows with the noise, so a noisy image is restored more gently.

Borders: the image is padded by the kernel's side with its mirror image before the FFT, so the
periodic wrap-around of the FFT meets a continuation of the image, not its opposite edge. Within a
kernel's reach of the border the blurred image holds light from outside the frame, which no
deconvolution can know, and a mirror is only a guess: there the result fades linearly into the
blurred input (all input at the edge, all restoration one kernel side in), so no ringing starts
at the borders.

``WIENER_BALANCE`` was chosen on photos blurred by the 8 kernels Levin et al. measured, with
0–4 grey levels of Gaussian noise (benchmarks/realblur.py's sets hold the same kernels; 800, 3,200
and 12,800 tried): at 800 the whole image, borders included, gained +5.3 to +6.4 dB on average
over the blurred input, the worst image +1.4 dB.
"""

from __future__ import annotations

import numpy as np
from scipy import fft

from blurgen.blurring.camera import linear_to_srgb, srgb_to_linear
from blurgen.kernels.measured import check_kernel

WIENER_BALANCE = 800.0
LIGHTS = ("values", "linear")


def noise_level(plane: np.ndarray) -> float:
    """The standard deviation of an image plane's noise (H×W, values in [0, 1]), estimated from
    its finest diagonal Haar detail: median(|detail|) / 0.6745."""
    height, width = (plane.shape[0] // 2) * 2, (plane.shape[1] // 2) * 2
    if height < 2 or width < 2:
        return 0.0
    even = plane[:height, :width]
    detail = (even[0::2, 0::2] - even[0::2, 1::2] - even[1::2, 0::2] + even[1::2, 1::2]) / 2
    return float(np.median(np.abs(detail)) / 0.6745)


def kernel_spectrum(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The real FFT of ``kernel`` placed with its centre pixel at the origin of a ``shape`` grid."""
    placed = np.zeros(shape)
    placed[: kernel.shape[0], : kernel.shape[1]] = kernel
    placed = np.roll(placed, (-(kernel.shape[0] // 2), -(kernel.shape[1] // 2)), axis=(0, 1))
    return fft.rfft2(placed)


def wiener(image: np.ndarray, kernel: np.ndarray, *, sigma: float | None = None, light: str = "values") -> np.ndarray:
    """Deconvolve ``image`` (H×W or H×W×C, float in [0, 1]) blurred by ``kernel`` (h×w, any scale):
    float32 of the same shape, in [0, 1].

    ``sigma``: the noise level (default: estimated from the image). ``light``: ``values`` undoes a
    blur of the stored values (video frames averaged as encoded, captures of linear data);
    ``linear`` one of light (the sRGB curve undone first, and applied again after).
    """
    if light not in LIGHTS:
        raise ValueError(f"light must be one of {', '.join(LIGHTS)}, got {light!r}")
    image = np.asarray(image, dtype=np.float64)
    planes = image[:, :, None] if image.ndim == 2 else image
    kernel = check_kernel(kernel, planes.shape[:2])
    if light == "linear":
        planes = srgb_to_linear(planes)
    sigma = noise_level(planes.mean(axis=2)) if sigma is None else float(sigma)
    balance = WIENER_BALANCE * max(sigma, 1e-4) ** 2  # a floor: a noiseless image is still not divided by ~0
    pad = max(kernel.shape)
    padded_shape = (planes.shape[0] + 2 * pad, planes.shape[1] + 2 * pad)
    spectrum = kernel_spectrum(kernel, padded_shape)
    gradients = (np.abs(kernel_spectrum(np.array([[0.0, 1.0, -1.0]]), padded_shape)) ** 2
                 + np.abs(kernel_spectrum(np.array([[0.0], [1.0], [-1.0]]), padded_shape)) ** 2)
    inverse = np.conj(spectrum) / (np.abs(spectrum) ** 2 + balance * gradients)
    restored = np.empty_like(planes)
    for channel in range(planes.shape[2]):
        mirrored = np.pad(planes[:, :, channel], pad, mode="symmetric")
        restored[:, :, channel] = fft.irfft2(fft.rfft2(mirrored) * inverse, s=padded_shape)[pad:-pad, pad:-pad]
    restored = faded_into(np.clip(restored, 0.0, 1.0), planes, max(kernel.shape))
    if light == "linear":
        restored = linear_to_srgb(restored)
    return (restored[:, :, 0] if image.ndim == 2 else restored).astype(np.float32)


def faded_into(restored: np.ndarray, blurred: np.ndarray, reach: int) -> np.ndarray:
    """``restored`` (H×W×C) fading linearly into ``blurred`` over the ``reach`` pixels next to the border."""
    height, width = restored.shape[:2]
    rows = np.minimum(np.arange(height), np.arange(height)[::-1])
    cols = np.minimum(np.arange(width), np.arange(width)[::-1])
    weight = np.clip(np.minimum(rows[:, None], cols[None, :]) / max(reach, 1), 0.0, 1.0)[:, :, None]
    return weight * restored + (1 - weight) * blurred


__all__ = ["noise_level", "wiener"]
