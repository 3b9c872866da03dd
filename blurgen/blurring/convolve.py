"""Kernel → blurred image: shift-free FFT convolution of one image (NumPy/SciPy, no torch).

Conventions shared with :mod:`blurgen.blurring.convolve_torch`:

* Blur is a true convolution with the PSF: a bright point at p becomes the kernel drawn with
  its centre pixel ``(K-1)/2`` on p. Kernels are normalised to sum 1 (a PSF conserves light).
* Even-sized kernels have their centre between pixels; :func:`prepare_kernel` first averages
  the kernel with a copy shifted by one pixel (a half-pixel bilinear shift), which keeps the
  mass and moves the centroid by exactly half a pixel onto the grid of a K+1 odd kernel. So
  neither odd nor even kernels shift the image.
* ``border="valid"``: an input of side S+K-1 gives an output of side S with no border effects
  (for training pairs); output pixel (y, x) is centred on input pixel (y + K//2, x + K//2). An
  even kernel acts as its odd K+1 version here, so it needs an input of side S+K. ``border="reflect"``: the output has the input's size and the image is
  mirrored at its edges (``cv2.BORDER_REFLECT_101``, NumPy's ``"reflect"``), for whole images.
* Kernels are trimmed to the smallest centred odd square that holds their mass before the DFT.
  Zero rows and columns add nothing, so this changes only the speed.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

Border = Literal["reflect", "valid"]
BORDERS = ("reflect", "valid")
SUPPORTED_DTYPES = (np.uint8, np.uint16, np.float16, np.float32, np.float64)
_UNIT_FROM_UINT8 = (np.arange(256) / 255.0).astype(np.float32)


def odd_size(size: int) -> int:
    """The side a kernel of side ``size`` convolves as: itself if odd, ``size + 1`` if even."""
    return size + 1 - size % 2


def check_kernel(kernel: np.ndarray) -> np.ndarray:
    """Validate a PSF (2-D, square, finite, no negative mass, positive sum); return it as float64.

    Tiny negative values (≤ 1e-6 of the total, as resampling leaves) are clipped to 0.
    """
    kernel = np.asarray(kernel)
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.size == 0:
        raise ValueError(f"a kernel must be a non-empty square 2-D array, got shape {kernel.shape}")
    if not np.issubdtype(kernel.dtype, np.floating) and not np.issubdtype(kernel.dtype, np.integer):
        raise ValueError(f"a kernel must hold numbers, got dtype {kernel.dtype}")
    kernel = kernel.astype(np.float64)
    if not np.isfinite(kernel).all():
        raise ValueError("the kernel holds NaN or infinite values")
    total = kernel.sum()
    negative = -kernel[kernel < 0].sum()
    if total <= 0 or negative > 1e-6 * total:
        raise ValueError(f"a kernel must have positive mass and no negative mass (sum {total:.3g}, negative {negative:.3g})")
    return np.clip(kernel, 0.0, None)


def prepare_kernel(kernel: np.ndarray) -> np.ndarray:
    """Validated, normalised (sum 1), odd-sized, trimmed float64 kernel for shift-free convolution.

    Even K → K+1 by the half-pixel shift described in the module docstring. The result is the
    smallest centred odd square holding all of the mass (at least 1×1).
    """
    kernel = check_kernel(kernel)
    if kernel.shape[0] % 2 == 0:
        padded = np.pad(kernel, 1)
        kernel = (padded[:-1, :-1] + padded[1:, :-1] + padded[:-1, 1:] + padded[1:, 1:]) / 4.0
    kernel = kernel / kernel.sum()
    centre = kernel.shape[0] // 2
    rows, cols = np.nonzero(kernel)
    reach = int(max(np.abs(rows - centre).max(), np.abs(cols - centre).max()))
    return kernel[centre - reach : centre + reach + 1, centre - reach : centre + reach + 1]


def as_float_image(image: np.ndarray) -> tuple[np.ndarray, float]:
    """Validate an image (H×W or H×W×C with C in 1, 3, 4) and return (float copy, value scale).

    uint8/uint16 become float32 in [0, 1] (scale 255 or 65535); float16/32 become float32 and
    float64 stays float64, values untouched (scale 1). The array is always H×W×C.
    """
    image = np.asarray(image)
    if image.dtype.type not in SUPPORTED_DTYPES:
        raise ValueError(f"unsupported image dtype {image.dtype}; use uint8, uint16 or float")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ValueError(f"an image must be H×W or H×W×C with 1, 3 or 4 channels, got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"the image is empty (shape {image.shape})")
    if image.dtype == np.uint8:
        return cv2.LUT(image, _UNIT_FROM_UINT8).reshape(image.shape), 255.0  # 5× numpy's astype and divide
    if image.dtype == np.uint16:
        return image.astype(np.float32) / 65535.0, 65535.0
    if image.dtype == np.float64:
        return image.copy(), 1.0
    return image.astype(np.float32), 1.0


def to_dtype(values: np.ndarray, dtype: np.dtype, scale: float) -> np.ndarray:
    """Inverse of :func:`as_float_image`: round and clip to integer dtypes, cast floats."""
    if np.issubdtype(dtype, np.integer):
        return np.clip(np.rint(values * scale), 0, scale).astype(dtype)
    return values.astype(dtype)


def convolve_planes(planes: np.ndarray, kernel: np.ndarray, reflect: int = 0) -> np.ndarray:
    """Convolve every plane of a C×H×W float array with one odd k×k kernel, keeping the 'valid' part.

    With ``reflect`` > 0 each plane is first mirrored by that many pixels on every side
    (``BORDER_REFLECT_101``). Output: C×(H+2r-k+1)×(W+2r-k+1), same dtype.

    Circular DFT convolution of size ≥ the (mirrored) plane wraps only into the first k-1 rows
    and columns, which 'valid' drops, so zeros up to OpenCV's preferred DFT size change nothing.
    OpenCV's DFT is used because it is about three times faster per plane than pocketfft here.
    """
    channels, height, width = planes.shape
    height_in, width_in = height + 2 * reflect, width + 2 * reflect
    k = kernel.shape[0]
    if k == 1:
        return planes * kernel[0, 0].astype(planes.dtype)
    rows, cols = cv2.getOptimalDFTSize(height_in), cv2.getOptimalDFTSize(width_in)
    padded_kernel = np.zeros((rows, cols), dtype=planes.dtype)
    padded_kernel[:k, :k] = kernel
    kernel_spectrum = cv2.dft(padded_kernel)  # (nonzeroRows= would skip zero rows but is 3× slower)
    out = np.empty((channels, height_in - k + 1, width_in - k + 1), dtype=planes.dtype)
    # One zeroed DFT-sized buffer for every plane: each plane (mirrored when asked) is written into
    # its top-left corner, and the zeros beyond it stay, as a second padding copy would give them.
    padded = np.zeros((rows, cols), dtype=planes.dtype)
    corner = padded[:height_in, :width_in]
    for channel in range(channels):
        if reflect:
            cv2.copyMakeBorder(planes[channel], reflect, reflect, reflect, reflect, cv2.BORDER_REFLECT_101, dst=corner)
        else:
            corner[...] = planes[channel]
        product = cv2.mulSpectrums(cv2.dft(padded), kernel_spectrum, 0)
        full = cv2.idft(product, flags=cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT)
        out[channel] = full[k - 1 : height_in, k - 1 : width_in]
    return out


def blur(image: np.ndarray, kernel: np.ndarray, *, border: Border = "reflect") -> np.ndarray:
    """Blur ``image`` with the PSF ``kernel``, without shifting it.

    Args:
        image: H×W or H×W×C (C = 1, 3 or 4), uint8, uint16 or float (any range).
        kernel: K×K non-negative PSF, odd or even K; normalised to sum 1 here.
        border: ``"reflect"`` (output H×W) or ``"valid"`` (output (H-K+1)×(W-K+1), with K+1 in
            place of an even K).

    Returns:
        The blurred image with the input's dtype and layout (integers rounded and clipped).
        With 4 channels the 4th is alpha: colour is blurred premultiplied by alpha and divided
        back, so transparent pixels do not bleed dark fringes; alpha itself is blurred.
    """
    original = np.asarray(image)
    values, scale = as_float_image(original)
    has_alpha = values.shape[2] == 4
    if has_alpha:
        values[:, :, :3] *= values[:, :, 3:]
    planes = blur_planes(np.stack(cv2.split(values)), kernel, border=border)
    blurred = cv2.merge(list(planes)) if len(planes) > 1 else planes[0][:, :, None]
    if has_alpha:
        alpha = blurred[:, :, 3:]
        blurred[:, :, :3] = np.where(alpha > 1e-12, blurred[:, :, :3] / np.maximum(alpha, 1e-12), 0.0)
    if original.ndim == 2:
        blurred = blurred[:, :, 0]
    return np.ascontiguousarray(to_dtype(blurred, original.dtype, scale))


def blur_planes(planes: np.ndarray, kernel: np.ndarray, *, border: Border = "reflect") -> np.ndarray:
    """The core of :func:`blur` for float C×H×W arrays with any number of planes: same dtype out.

    Every plane is convolved with the same kernel and one kernel spectrum, which is how the
    camera blurs colour and its saturation mask together.
    """
    if border not in BORDERS:
        raise ValueError(f"border must be one of {BORDERS}, got {border!r}")
    prepared = prepare_kernel(kernel)
    size = odd_size(np.asarray(kernel).shape[0])
    height, width = planes.shape[1:]
    if size > height or size > width:
        raise ValueError(f"the kernel ({size}×{size}) is larger than the image ({height}×{width})")
    reach = prepared.shape[0] // 2
    if border == "reflect":
        return convolve_planes(planes, prepared, reflect=reach)
    trim = size // 2 - reach  # the prepared kernel may be smaller: drop the margin it does not read
    return convolve_planes(planes[:, trim : height - trim, trim : width - trim], prepared)
