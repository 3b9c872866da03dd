"""Kernels from files: measured on real captures, estimated by another tool, or written by hand.

A kernel file is a ``.npy`` array (any float type) or an image (8 or 16 bit; a colour one is
averaged over its channels). Every kernel read is checked and normalised the same way, for
``blurgen kernels --coverage`` and ``deblur wiener --kernel`` alike: a 2-D, finite, non-negative
array (a value below −1 % of the peak means a filter, not a blur) that sums to more than zero,
returned as float64 summing to 1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

KERNEL_SUFFIXES = (".npy", ".png", ".tif", ".tiff", ".bmp")


class KernelError(ValueError):
    """A kernel that cannot be used; the message names it and says why, in one line."""


def check_kernel(kernel: np.ndarray, image_shape: tuple[int, ...] | None = None, name: str = "the kernel") -> np.ndarray:
    """``kernel`` as float64 (h, w), non-negative and summing to 1; a :class:`KernelError` for one
    that is empty, not 2-D, not finite, negative, summing to zero, or (given ``image_shape``)
    larger than the image."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim == 3:
        kernel = kernel.mean(axis=2)
    if kernel.ndim != 2 or kernel.size == 0:
        raise KernelError(f"{name} must be a 2-D array, got shape {kernel.shape}")
    if not np.all(np.isfinite(kernel)):
        raise KernelError(f"{name} holds values that are not finite")
    if kernel.min() < -0.01 * max(kernel.max(), 0.0):
        raise KernelError(f"{name} has negative values (down to {kernel.min():.3g}); a blur kernel is non-negative")
    kernel = np.clip(kernel, 0.0, None)
    if kernel.sum() <= 0:
        raise KernelError(f"{name} sums to zero: it is no blur")
    if image_shape is not None and (kernel.shape[0] > image_shape[0] or kernel.shape[1] > image_shape[1]):
        raise KernelError(f"{name} ({kernel.shape[1]}x{kernel.shape[0]} px) is larger than the image "
                          f"({image_shape[1]}x{image_shape[0]} px)")
    return kernel / kernel.sum()


def read_kernel(path: str | Path) -> np.ndarray:
    """One kernel file, checked (:func:`check_kernel`); a :class:`KernelError` naming the file."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".npy":
            kernel = np.load(path, allow_pickle=False)
        else:
            import cv2

            kernel = cv2.imread(str(path), cv2.IMREAD_UNCHANGED | cv2.IMREAD_ANYDEPTH)
            if kernel is None:
                raise ValueError("not a readable image")
    except (OSError, ValueError) as error:
        raise KernelError(f"cannot read the kernel {path}: {error}") from None
    return check_kernel(kernel, name=f"the kernel {path}")


def read_kernels(folder: str | Path) -> dict[str, np.ndarray]:
    """Every kernel file in ``folder`` (or the one file ``folder``), by file stem, in name order."""
    folder = Path(folder)
    if folder.is_file():
        return {folder.stem: read_kernel(folder)}
    if not folder.is_dir():
        raise KernelError(f"{folder} does not exist; give a folder of kernels (.npy or images)")
    paths = sorted(path for path in folder.iterdir() if path.suffix.lower() in KERNEL_SUFFIXES and path.is_file())
    if not paths:
        raise KernelError(f"{folder} holds no .npy or image kernels")
    return {path.stem: read_kernel(path) for path in paths}


__all__ = ["KernelError", "check_kernel", "read_kernel", "read_kernels"]
