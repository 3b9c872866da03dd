"""Trajectory → blur kernel: sub-pixel bilinear splatting, centred on the centroid (docs/design.md §2).

Each trajectory position spreads equal weight over its four nearest pixels with weights
``(1-|dx|)(1-|dy|)``. Bilinear splatting keeps mass and the first moment exactly, so shifting the
positions by their mean before splatting puts the kernel's centroid exactly on the centre pixel:
blurred and sharp images stay aligned. The PSF for exposure fraction ``T`` uses the positions of
the first fraction ``T`` of the exposure, each fraction centred on its own centroid.

Fitting rule: a K×K kernel holds offsets up to ``(K-1)/2`` from the centre. When a (centred)
exposure reaches further, its positions are scaled about the centroid by the factor that makes it
fit (``scale < 1``, ``rescaled`` in the metadata). The centroid stays exact and the shape is kept;
only the extent shrinks. With the default size 65 and the ``deblurgan`` preset this is rare.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from blurgen.rng import stream_key
from blurgen.kernels.trajectory import draw_params, walk

# Columns of the per-kernel statistics the batch sampler returns, in this order.
STAT_FIELDS = (
    "expl", "centripetal", "prob_big_shake", "gaussian_shake", "phi",
    "n_big_shakes", "path_length", "footprint", "radius_of_gyration", "scale",
)
EXPOSURES_ALL = (0.01, 0.1, 0.5, 1.0)


def exposure_counts(exposures: tuple[float, ...], iters: int) -> np.ndarray:
    """Number of leading positions in each exposure fraction: ``round(T·(iters-1)) + 1``.

    Fractions must lie in (0, 1]. Returns int64 of shape (len(exposures),).
    """
    if len(exposures) == 0:
        raise ValueError("give at least one exposure fraction")
    for fraction in exposures:
        if not (0.0 < fraction <= 1.0):
            raise ValueError(f"exposure fractions must be in (0, 1], got {fraction}")
    return np.array([round(f * (iters - 1)) + 1 for f in exposures], dtype=np.int64)


@njit(cache=True)
def prefix_geometry(xs: np.ndarray, ys: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Running sums of a path, read at each prefix length in ``counts``, in one pass.

    Returns float64 (F, 8): sum x, sum y, sum x²+y², min x, max x, min y, max y, path length.
    """
    n_fractions = counts.shape[0]
    geometry = np.empty((n_fractions, 8))
    sum_x = sum_y = sum_squares = path_length = 0.0
    min_x = max_x = xs[0]
    min_y = max_y = ys[0]
    for t in range(counts.max()):
        x = xs[t]
        y = ys[t]
        sum_x += x
        sum_y += y
        sum_squares += x * x + y * y
        min_x = min(min_x, x)
        max_x = max(max_x, x)
        min_y = min(min_y, y)
        max_y = max(max_y, y)
        if t > 0:
            path_length += math.sqrt((x - xs[t - 1]) ** 2 + (y - ys[t - 1]) ** 2)
        for f in range(n_fractions):
            if counts[f] == t + 1:
                geometry[f, 0] = sum_x
                geometry[f, 1] = sum_y
                geometry[f, 2] = sum_squares
                geometry[f, 3] = min_x
                geometry[f, 4] = max_x
                geometry[f, 5] = min_y
                geometry[f, 6] = max_y
                geometry[f, 7] = path_length
    return geometry


@njit(cache=True)
def splat(xs: np.ndarray, ys: np.ndarray, n: int, scale: float, offset_x: float, offset_y: float, out: np.ndarray) -> None:
    """Add weight 1 per position ``p = (x, y)·scale + offset`` for the first ``n`` positions.

    ``out`` is float64 K×K; columns are x, rows are y. Every p must lie in [0, K-1]².
    """
    size = out.shape[0]
    for t in range(n):
        px = xs[t] * scale + offset_x
        py = ys[t] * scale + offset_y
        # Clamp so a position on the last pixel splats onto it with weight 1, and rounding at
        # the edges never makes a negative weight.
        col = min(max(int(math.floor(px)), 0), size - 2)
        row = min(max(int(math.floor(py)), 0), size - 2)
        fx = min(max(px - col, 0.0), 1.0)
        fy = min(max(py - row, 0.0), 1.0)
        out[row, col] += (1.0 - fx) * (1.0 - fy)
        out[row, col + 1] += fx * (1.0 - fy)
        out[row + 1, col] += (1.0 - fx) * fy
        out[row + 1, col + 1] += fx * fy


@njit(cache=True)
def splat_span(low: float, high: float, size: int) -> tuple[int, int]:
    """First and last pixel index that :func:`splat` can write for positions in [low, high]."""
    return min(max(int(math.floor(low)), 0), size - 2), min(max(int(math.floor(high)), 0), size - 2) + 1


@njit(cache=True)
def kernels_from_path(xs: np.ndarray, ys: np.ndarray, counts: np.ndarray, kernels: np.ndarray, stats: np.ndarray) -> None:
    """Rasterise one path into ``kernels`` (float32 F×K×K), one per exposure prefix length.

    ``xs, ys``: float64 positions in pixels; ``counts`` (int64, F) the prefix lengths, each in
    [1, len(xs)]; ``stats`` (float64 F×4) receives (path_length, footprint, radius_of_gyration,
    scale) per fraction, in pixels after scaling.
    """
    size = kernels.shape[1]
    half = (size - 1) / 2.0
    geometry = prefix_geometry(xs, ys, counts)
    accumulator = np.zeros((size, size))
    for f in range(counts.shape[0]):
        n = counts[f]
        sum_x, sum_y, sum_squares, min_x, max_x, min_y, max_y, path_length = geometry[f]
        mean_x = sum_x / n
        mean_y = sum_y / n
        reach = max(max_x - mean_x, mean_x - min_x, max_y - mean_y, mean_y - min_y)
        scale = half / reach if reach > half else 1.0
        offset_x = half - mean_x * scale
        offset_y = half - mean_y * scale
        # The pixels the splat can touch: x·scale + offset is monotonic, so its extremes are those
        # of the path. Outside them the accumulator is exactly 0, which adds nothing to a sum.
        col_low, col_high = splat_span(min_x * scale + offset_x, max_x * scale + offset_x, size)
        row_low, row_high = splat_span(min_y * scale + offset_y, max_y * scale + offset_y, size)
        splat(xs, ys, n, scale, offset_x, offset_y, accumulator)
        total = 0.0
        for row in range(row_low, row_high + 1):  # row by row, as accumulator.sum() adds: the same bits
            for col in range(col_low, col_high + 1):
                total += accumulator[row, col]
        inverse_total = 1.0 / total
        for row in range(size):
            for col in range(size):
                kernels[f, row, col] = accumulator[row, col] * inverse_total
        accumulator[row_low : row_high + 1, col_low : col_high + 1] = 0.0
        stats[f, 0] = path_length * scale
        stats[f, 1] = max(max_x - min_x, max_y - min_y) * scale
        stats[f, 2] = math.sqrt(max(sum_squares / n - mean_x * mean_x - mean_y * mean_y, 0.0)) * scale
        stats[f, 3] = scale


@njit(cache=True)
def kernel_set(
    seed: np.uint64, index: int, expl_low: float, expl_high: float, expl_choices: np.ndarray,
    centripetal_max: float, prob_big_shake_max: float, gaussian_shake_max: float, max_len: float, iters: int,
    counts: np.ndarray, kernels: np.ndarray, stats: np.ndarray,
) -> None:
    """Sample trajectory ``index`` of ``seed`` and rasterise it into ``kernels`` (float32 F×K×K),
    with its statistics in ``stats`` (float64 F×len(STAT_FIELDS))."""
    key = stream_key(seed, np.uint64(index))
    expl, centripetal, prob_big_shake, gaussian_shake, phi = draw_params(
        key, expl_low, expl_high, expl_choices, centripetal_max, prob_big_shake_max, gaussian_shake_max
    )
    xs = np.empty(iters)
    ys = np.empty(iters)
    n_big_shakes = walk(key, expl, centripetal, prob_big_shake, gaussian_shake, phi, max_len, xs, ys)
    geometry = np.empty((counts.shape[0], 4))
    kernels_from_path(xs, ys, counts, kernels, geometry)
    for f in range(counts.shape[0]):
        stats[f, 0] = expl
        stats[f, 1] = centripetal
        stats[f, 2] = prob_big_shake
        stats[f, 3] = gaussian_shake
        stats[f, 4] = phi
        stats[f, 5] = n_big_shakes
        stats[f, 6:10] = geometry[f]


@njit(cache=True, parallel=True)
def sample_kernel_sets(
    seed: np.uint64, indices: np.ndarray, expl_low: float, expl_high: float, expl_choices: np.ndarray,
    centripetal_max: float, prob_big_shake_max: float, gaussian_shake_max: float, max_len: float, iters: int,
    counts: np.ndarray, kernels: np.ndarray, stats: np.ndarray,
) -> None:
    """:func:`kernel_set` for every ``indices[j]`` into ``kernels[j]`` (float32 N×F×K×K) and
    ``stats[j]`` (float64 N×F×len(STAT_FIELDS)), in parallel threads.

    Row j depends only on (seed, indices[j]) and the spec, never on N, order or thread count.
    """
    for j in prange(indices.shape[0]):
        kernel_set(seed, indices[j], expl_low, expl_high, expl_choices, centripetal_max, prob_big_shake_max,
                   gaussian_shake_max, max_len, iters, counts, kernels[j], stats[j])


@njit(cache=True)
def sample_kernel_sets_serial(
    seed: np.uint64, indices: np.ndarray, expl_low: float, expl_high: float, expl_choices: np.ndarray,
    centripetal_max: float, prob_big_shake_max: float, gaussian_shake_max: float, max_len: float, iters: int,
    counts: np.ndarray, kernels: np.ndarray, stats: np.ndarray,
) -> None:
    """:func:`sample_kernel_sets` on the calling thread only: no thread pool, so it is safe in forked
    processes (DataLoader workers), where numba's OpenMP layer would abort."""
    for j in range(indices.shape[0]):
        kernel_set(seed, indices[j], expl_low, expl_high, expl_choices, centripetal_max, prob_big_shake_max,
                   gaussian_shake_max, max_len, iters, counts, kernels[j], stats[j])


def rasterise(positions: np.ndarray, size: int = 65, exposures: tuple[float, ...] = (1.0,)) -> np.ndarray:
    """Kernels of a path for each exposure fraction: float32 (F, size, size), each summing to 1.

    ``positions``: complex (n,) in pixels (x = real, columns; y = imag, rows), as
    :class:`blurgen.kernels.trajectory.Trajectory` holds them. Each kernel is centred on its centroid.
    """
    check_size(size)
    positions = np.asarray(positions, dtype=np.complex128)
    if positions.ndim != 1 or positions.size == 0 or not np.all(np.isfinite(positions)):
        raise ValueError("positions must be a non-empty 1-D array of finite complex numbers")
    counts = exposure_counts(tuple(exposures), positions.size)
    kernels = np.empty((counts.size, size, size), dtype=np.float32)
    kernels_from_path(
        np.ascontiguousarray(positions.real), np.ascontiguousarray(positions.imag), counts,
        kernels, np.empty((counts.size, 4)),
    )
    return kernels


def check_size(size: int) -> None:
    """A kernel side must be an integer >= 3 (odd, so the centre is a pixel, is the default)."""
    if isinstance(size, bool) or int(size) != size or size < 3:
        raise ValueError(f"kernel size must be an integer >= 3, got {size}")
