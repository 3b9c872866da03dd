"""Kernels held against measured camera shake: how close a sampled bank comes to real kernels.

For each measured kernel m (a kernel recovered from a real blurred capture), the coverage is the
best normalised cross-correlation, over every shift, with any kernel s of the bank:

    max over s and shifts d of  Σ m(x) s(x + d) / (‖m‖ ‖s‖)

1 means the bank holds m exactly (up to a shift); a bank of thin paths against a thick blob, or
of lines against a loop, scores low. It needs no training, so it can choose kernel distributions
quickly; it says nothing about how often such kernels are drawn, only whether they are.

Measured kernels are read by :mod:`blurgen.kernels.measured` (``.npy`` or images, checked and
normalised to sum 1); their side may differ from the bank's.
"""

from __future__ import annotations

import numpy as np
from scipy import fft

CHUNK = 256  # bank kernels per FFT batch: bounds the memory at a few tens of MB for 65-px kernels


def best_correlation(measured: np.ndarray, kernels: np.ndarray) -> tuple[float, int]:
    """The best normalised cross-correlation of ``measured`` (h×w) with any of ``kernels``
    (float N×K×K) over all shifts, and the index of the kernel that gives it."""
    kernels = np.asarray(kernels)
    if kernels.ndim != 3 or kernels.shape[0] == 0:
        raise ValueError(f"kernels must be a non-empty N×K×K array, got shape {kernels.shape}")
    height = fft.next_fast_len(kernels.shape[1] + measured.shape[0] - 1, real=True)
    width = fft.next_fast_len(kernels.shape[2] + measured.shape[1] - 1, real=True)
    flipped = fft.rfft2(measured[::-1, ::-1], s=(height, width))  # correlation = convolution with the flipped kernel
    measured_norm = float(np.sqrt(np.sum(measured**2)))
    best, best_index = -1.0, -1
    for start in range(0, kernels.shape[0], CHUNK):
        part = kernels[start:start + CHUNK].astype(np.float64)
        correlation = fft.irfft2(fft.rfft2(part, s=(height, width)) * flipped, s=(height, width))
        norms = np.sqrt(np.sum(part**2, axis=(1, 2))) * measured_norm
        scores = correlation.reshape(part.shape[0], -1).max(axis=1) / np.maximum(norms, 1e-30)
        chunk_best = int(np.argmax(scores))
        if scores[chunk_best] > best:
            best, best_index = float(scores[chunk_best]), start + chunk_best
    return best, best_index


def coverage(measured: dict[str, np.ndarray], kernels: np.ndarray) -> dict[str, dict]:
    """Per measured kernel: ``ncc`` (its best normalised cross-correlation with the bank) and
    ``index`` (the bank kernel that gives it)."""
    found = {}
    for name, kernel in measured.items():
        score, index = best_correlation(kernel, kernels)
        found[name] = {"ncc": score, "index": index}
    return found


def summarise(found: dict[str, dict]) -> dict:
    """Mean and worst coverage over the measured kernels."""
    scores = [entry["ncc"] for entry in found.values()]
    return {"mean": float(np.mean(scores)), "worst": float(np.min(scores))}


__all__ = ["best_correlation", "coverage", "summarise"]
