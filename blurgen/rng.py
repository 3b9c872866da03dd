"""Counter-based random numbers that work the same in numba and in plain Python.

Every random draw in blurgen is a pure function of ``(seed, index, counter)``: sample ``index`` of
a run with seed ``seed`` reads its draws at counters 0, 1, 2, ... of its own stream. Nothing
depends on thread count, batch split or order, and there is no global state (docs/design.md §3).

The stream is SplitMix64 (Steele, Lea & Flood 2014) used in counter mode: the key of a stream is
``mix64(mix64(seed + GOLDEN) + index * GOLDEN)`` and draw ``c`` is ``mix64(key + (c + 1) * GOLDEN)``.
``mix64`` is a bijection on 64-bit integers, so distinct indices of one seed get distinct keys.
"""

from __future__ import annotations

import math
from enum import IntEnum, unique

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S40 = np.uint64(40)
_ONE = np.uint64(1)
_TWO_POW_M53 = 1.0 / 9007199254740992.0  # 2**-53

SEED_MAX = 2**64 - 1


@njit(cache=True, inline="always")
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64 finaliser: a bijective 64-bit mixer (uint64 in, uint64 out)."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def stream_key(seed: np.uint64, index: np.uint64) -> np.uint64:
    """Key of the random stream of sample ``index`` in a run with ``seed`` (both uint64)."""
    return mix64(mix64(seed + _GOLDEN) + index * _GOLDEN)


@njit(cache=True, inline="always")
def uniform(key: np.uint64, counter: np.uint64) -> float:
    """Draw ``counter`` of stream ``key`` as a float64 uniform on [0, 1) with 53 random bits."""
    z = mix64(key + (counter + _ONE) * _GOLDEN)
    return float(z >> _S11) * _TWO_POW_M53


@njit(cache=True, inline="always")
def normal_pair(key: np.uint64, counter: np.uint64) -> tuple[float, float]:
    """Two independent standard normals (Marsaglia's polar method) from stream ``key``.

    Attempt ``a`` reads draws ``counter + a·2**40`` and ``counter + a·2**40 + 1``; an attempt is
    accepted with probability π/4, so counters stay a pure function of the caller's position
    (no draw is shared with the caller's next counters) and no trigonometry is needed.
    """
    attempt = np.uint64(0)
    while True:
        base = counter + (attempt << _S40)
        u = 2.0 * uniform(key, base) - 1.0
        v = 2.0 * uniform(key, base + _ONE) - 1.0
        radius2 = u * u + v * v
        if 0.0 < radius2 < 1.0:
            factor = math.sqrt(-2.0 * math.log(radius2) / radius2)
            return u * factor, v * factor
        attempt += _ONE


@unique
class PairCounter(IntEnum):
    """The counters of a pair's stream (sample i of a run: ``stream_key(derive_seed(seed, "PAIR"), i)``),
    in one table so that no two draws share a counter; a new draw takes a free one."""

    CROP_Y = 0
    CROP_X = 1
    KERNEL = 2  # the bank's kernel
    SCALE = 3  # a view's shrinking
    ROLL = 4  # a rotation path's roll
    OBJECT_COUNT = 5
    ORIENTATION = 6  # a view's orientation
    SATURATION = 16  # camera draws: 16-31
    BETA1 = 17
    BETA2 = 18
    JPEG = 19
    GAMMA = 20
    JPEG_SHARE = 21
    RED_GAIN = 22  # the raw camera's white balance
    BLUE_GAIN = 23
    OBJECTS = 64  # object k: order key 64 + 2k, path length 65 + 2k


NOISE_COUNTER_OFFSET = 2**32  # noise fields read counters from here on, clear of per-sample draws
NORMAL_TABLE_BITS = 16


def normal_table() -> np.ndarray:
    """float32 (65536,): the standard normal quantiles at (j + 0.5) / 65536, j = 0..65535.

    Drawing a uniform 16-bit index into this table samples a normal by inverse transform to
    within 1/65536 in probability (tails reach ±4.32σ, which holds all but 1.5e-5 of the mass).
    It costs one table read per value instead of a logarithm and a cosine, which is what makes
    per-pixel sensor noise cheap.
    """
    from scipy.special import ndtri

    return ndtri((np.arange(2**NORMAL_TABLE_BITS, dtype=np.float64) + 0.5) / 2**NORMAL_TABLE_BITS).astype(np.float32)


@njit(cache=True, inline="always")
def noise_word(key: np.uint64, quad: int) -> np.uint64:
    """The draw that holds noise elements 4·quad .. 4·quad+3 of stream ``key``, as four 16-bit fields."""
    return mix64(key + (np.uint64(NOISE_COUNTER_OFFSET + quad) + _ONE) * _GOLDEN)


@njit(cache=True, inline="always")
def noise_index(word: np.uint64, part: int) -> int:
    """Field ``part`` (0–3, most significant first) of a noise word: an index into :func:`normal_table`."""
    return int((word >> np.uint64(48 - 16 * part)) & np.uint64(0xFFFF))


@njit(cache=True)
def normal_field(key: np.uint64, count: int, table: np.ndarray) -> np.ndarray:
    """``count`` standard normals (float32) of stream ``key``, for per-pixel noise.

    Element e is ``table[noise_index(noise_word(key, e // 4), e % 4)]``.
    :func:`blurgen.blurring.camera_torch.noise_field` computes the same numbers on any torch device.
    """
    out = np.empty(count, dtype=np.float32)
    for quad in range((count + 3) // 4):
        word = noise_word(key, quad)
        for part in range(min(4, count - 4 * quad)):
            out[4 * quad + part] = table[noise_index(word, part)]
    return out


def derive_seed(seed: int, purpose: int) -> int:
    """An independent seed for another use of the same run seed (e.g. pair draws vs. kernels)."""
    key = stream_key(check_seed(seed), np.uint64(purpose))
    return int(np.uint64(key))


def check_seed(seed: int) -> np.uint64:
    """Validate a user seed (an int in [0, 2**64)) and return it as uint64."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__}")
    if not 0 <= int(seed) <= SEED_MAX:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    return np.uint64(int(seed))
