"""A slow, plainly written pure-Python/NumPy version of the kernel engine, used as a test oracle.

It follows docs/design.md §1–§3 line by line with Python integers and floats, sharing no code with
``blurgen`` (only the documented stream layout), so the numba engine can be checked against it.
``benchmarks/kernels.py`` also times it as the pure-Python baseline.
"""

from __future__ import annotations

import math

import numpy as np

MASK = 2**64 - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def stream_key(seed: int, index: int) -> int:
    return mix64((mix64((seed + GOLDEN) & MASK) + index * GOLDEN) & MASK)


def uniform(key: int, counter: int) -> float:
    return (mix64((key + (counter + 1) * GOLDEN) & MASK) >> 11) / 2.0**53


def normal_pair(key: int, counter: int) -> tuple[float, float]:
    attempt = 0
    while True:
        base = counter + attempt * 2**40
        u = 2.0 * uniform(key, base) - 1.0
        v = 2.0 * uniform(key, base + 1) - 1.0
        r2 = u * u + v * v
        if 0.0 < r2 < 1.0:
            factor = math.sqrt(-2.0 * math.log(r2) / r2)
            return u * factor, v * factor
        attempt += 1


def draw_params(key: int, expl_choices=(), expl_range=(0.0, 0.0), ranges=(0.7, 0.2, 10.0)) -> dict:
    u = uniform(key, 0)
    if expl_choices:
        expl = expl_choices[min(int(u * len(expl_choices)), len(expl_choices) - 1)]
    else:
        expl = expl_range[0] + (expl_range[1] - expl_range[0]) * u
    return {
        "expl": expl,
        "centripetal": ranges[0] * uniform(key, 1),
        "prob_big_shake": ranges[1] * uniform(key, 2),
        "gaussian_shake": ranges[2] * uniform(key, 3),
        "phi": 2.0 * math.pi * uniform(key, 4),
    }


def trajectory(seed: int, index: int, params: dict, max_len: float = 60.0, iters: int = 2000) -> np.ndarray:
    """complex128 positions, shape (iters,), by the recurrence of docs/design.md §1."""
    key = stream_key(seed, index)
    expl = params["expl"]
    step = max_len / (iters - 1)
    v = complex(math.cos(params["phi"]), math.sin(params["phi"])) * (expl if expl > 0 else step)
    x = [0j] * iters
    for t in range(iters - 1):
        counter = 8 + 4 * t
        jump = 0j
        if uniform(key, counter) < params["prob_big_shake"] * expl:
            angle = math.pi + uniform(key, counter + 1) - 0.5
            jump = 2 * v * complex(math.cos(angle), math.sin(angle))
        nx, ny = normal_pair(key, counter + 2)
        dv = jump + expl * (params["gaussian_shake"] * complex(nx, ny) - params["centripetal"] * x[t]) * step
        if abs(v + dv) > 0:
            v = (v + dv) / abs(v + dv) * step
        x[t + 1] = x[t] + v
    return np.array(x)


def kernel(positions: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """Centroid-centred bilinear splat of all ``positions``; returns (float64 kernel, scale)."""
    half = (size - 1) / 2
    offsets = positions - positions.mean()
    reach = max(np.abs(offsets.real).max(), np.abs(offsets.imag).max())
    scale = half / reach if reach > half else 1.0
    k = np.zeros((size, size))
    for p in offsets * scale + complex(half, half):
        col = min(max(math.floor(p.real), 0), size - 2)
        row = min(max(math.floor(p.imag), 0), size - 2)
        fx = min(max(p.real - col, 0.0), 1.0)
        fy = min(max(p.imag - row, 0.0), 1.0)
        k[row, col] += (1 - fx) * (1 - fy)
        k[row, col + 1] += fx * (1 - fy)
        k[row + 1, col] += (1 - fx) * fy
        k[row + 1, col + 1] += fx * fy
    return k / k.sum(), scale


def kernel_set(seed: int, index: int, size: int = 65, exposures=(1.0,), max_len: float = 60.0,
               iters: int = 2000, **draw_kwargs) -> list[np.ndarray]:
    """One trajectory and its kernel for each exposure fraction (prefix of round(T·(iters-1))+1)."""
    params = draw_params(stream_key(seed, index), **draw_kwargs)
    path = trajectory(seed, index, params, max_len, iters)
    return [kernel(path[: round(T * (iters - 1)) + 1], size)[0] for T in exposures]
