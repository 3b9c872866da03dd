"""Kernel families beyond the Markov trajectory, and mixtures of families.

Every preset of :mod:`blurgen.kernels.presets` is one Markov random walk with one knob changed; real blur
is wider. These families are drawn from the same counter-based streams (kernel ``index`` of
``seed`` reads stream ``(seed, index)``), so each is reproducible from (seed, index) alone:

* ``line`` — straight motion at constant speed: length ``L`` ~ U(length), angle ~ U(0, π);
* ``arc`` — motion along a circular arc: length ~ U(length), direction turning by a total angle
  ~ U(turn) (radians; π is a half circle), clockwise or not with equal odds;
* ``walk`` — a smooth (band-limited) random walk: the velocity is a random trigonometric
  polynomial of degree ``cycles`` (coefficients N(0, 1/(k+1)²) at frequency k), so the path bends
  at most ``cycles`` times back and forth; scaled to a path length ~ U(length);
* ``still`` — almost no blur: a centred Gaussian of σ ~ U(sigma) px integrated over each pixel
  (σ → 0 is a delta). It teaches a model that an image without blur must be left alone;
* ``disk`` — defocus: a uniform disk of radius ~ U(radius) px, 8×8 supersampled.

Path families are rasterised like trajectories (:func:`blurgen.kernels.raster.kernels_from_path`:
sub-pixel splatting centred on the centroid), so their kernels are aligned with the image and
exposure fractions are prefixes of the path. ``still`` and ``disk`` have no path: every exposure
fraction gets the same kernel.

A :class:`Mixture` draws each kernel's family from a stream of its own (``FAMILY_PURPOSE``), so a
member keeps the kernels it would make alone: kernel i of a mixture, when it is a ``line``, is
kernel i of the ``line`` preset.

Stream counters of the family draws: 0 length, 1 angle, 2 shape (turn, σ or radius), 3 the
arc's sense; the walk's coefficients from counter 16 on (four per frequency).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from blurgen.rng import derive_seed, normal_pair, stream_key, uniform

COUNTER_LENGTH = 0
COUNTER_ANGLE = 1
COUNTER_SHAPE = 2
COUNTER_SENSE = 3
COUNTER_WALK = 16
FAMILY_PURPOSE = 0x46414D49  # "FAMI": the stream a mixture chooses families from
PATH_POINTS = 1000  # positions of a path family's path: sub-pixel dense for any length that fits a kernel
DISK_SUPERSAMPLING = 8


def check_range(name: str, bounds: tuple[float, float], low: float = 0.0) -> tuple[float, float]:
    """``bounds`` as a (low, high) float pair with ``low`` <= low <= high, or a ValueError naming it."""
    try:
        first, last = (float(value) for value in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (low, high) range, got {bounds!r}") from None
    if not (math.isfinite(first) and math.isfinite(last) and low <= first <= last):
        raise ValueError(f"{name} must be a range with {low:g} <= low <= high, got {bounds!r}")
    return first, last


def between(key: np.uint64, counter: int, bounds: tuple[float, float]) -> float:
    return bounds[0] + (bounds[1] - bounds[0]) * uniform(key, np.uint64(counter))


@dataclass(frozen=True)
class LineSpec:
    """Straight motion: length (px, end to end) drawn uniformly from ``length``."""

    length: tuple[float, float] = (3.0, 35.0)
    family = "line"

    def __post_init__(self) -> None:
        object.__setattr__(self, "length", check_range("line length", self.length))

    def draw(self, key: np.uint64) -> dict:
        return {"max_len": between(key, COUNTER_LENGTH, self.length), "phi": math.pi * uniform(key, np.uint64(COUNTER_ANGLE)), "shape": 0.0}

    def to_dict(self) -> dict:
        return {"family": self.family, "length": list(self.length)}


@dataclass(frozen=True)
class ArcSpec:
    """Motion along a circular arc: length (px of path) from ``length``, total turn (radians) from ``turn``."""

    length: tuple[float, float] = (5.0, 40.0)
    turn: tuple[float, float] = (0.5, 3.0)
    family = "arc"

    def __post_init__(self) -> None:
        object.__setattr__(self, "length", check_range("arc length", self.length))
        object.__setattr__(self, "turn", check_range("arc turn", self.turn))

    def draw(self, key: np.uint64) -> dict:
        sense = 1.0 if uniform(key, np.uint64(COUNTER_SENSE)) < 0.5 else -1.0
        return {"max_len": between(key, COUNTER_LENGTH, self.length), "phi": 2 * math.pi * uniform(key, np.uint64(COUNTER_ANGLE)),
                "shape": sense * between(key, COUNTER_SHAPE, self.turn)}

    def to_dict(self) -> dict:
        return {"family": self.family, "length": list(self.length), "turn": list(self.turn)}


@dataclass(frozen=True)
class WalkSpec:
    """A smooth random walk: velocity band-limited to ``cycles`` cycles per exposure; path length from ``length``."""

    length: tuple[float, float] = (5.0, 45.0)
    cycles: int = 3

    family = "walk"

    def __post_init__(self) -> None:
        object.__setattr__(self, "length", check_range("walk length", self.length))
        if isinstance(self.cycles, bool) or int(self.cycles) != self.cycles or not 1 <= self.cycles <= 64:
            raise ValueError(f"walk cycles must be an integer in 1..64, got {self.cycles}")

    def draw(self, key: np.uint64) -> dict:
        return {"max_len": between(key, COUNTER_LENGTH, self.length), "phi": 0.0, "shape": float(self.cycles)}

    def to_dict(self) -> dict:
        return {"family": self.family, "length": list(self.length), "cycles": int(self.cycles)}


@dataclass(frozen=True)
class StillSpec:
    """Almost no blur: a pixel-integrated Gaussian of σ (px) from ``sigma``; 0 is a delta."""

    sigma: tuple[float, float] = (0.0, 0.8)
    family = "still"

    def __post_init__(self) -> None:
        object.__setattr__(self, "sigma", check_range("still sigma", self.sigma))

    def draw(self, key: np.uint64) -> dict:
        return {"max_len": 0.0, "phi": 0.0, "shape": between(key, COUNTER_SHAPE, self.sigma)}

    def to_dict(self) -> dict:
        return {"family": self.family, "sigma": list(self.sigma)}


@dataclass(frozen=True)
class DiskSpec:
    """Defocus: a uniform disk of radius (px) from ``radius``."""

    radius: tuple[float, float] = (1.0, 6.0)
    family = "disk"

    def __post_init__(self) -> None:
        object.__setattr__(self, "radius", check_range("disk radius", self.radius, low=0.5))

    def draw(self, key: np.uint64) -> dict:
        return {"max_len": 0.0, "phi": 0.0, "shape": between(key, COUNTER_SHAPE, self.radius)}

    def to_dict(self) -> dict:
        return {"family": self.family, "radius": list(self.radius)}


FamilySpec = LineSpec | ArcSpec | WalkSpec | StillSpec | DiskSpec
FAMILY_SPECS: dict[str, type] = {spec.family: spec for spec in (LineSpec, ArcSpec, WalkSpec, StillSpec, DiskSpec)}
PATH_FAMILIES = ("line", "arc", "walk")


@njit(cache=True)
def walk_velocity(key: np.uint64, cycles: int, points: int) -> tuple[np.ndarray, np.ndarray]:
    """The walk's velocity at ``points`` equally spaced times t = j/points of a periodic exposure:
    float64 (points,) x and y, each a trigonometric polynomial of degree ``cycles``."""
    vx = np.zeros(points)
    vy = np.zeros(points)
    for k in range(cycles + 1):
        ax, bx = normal_pair(key, np.uint64(COUNTER_WALK + 4 * k))
        ay, by = normal_pair(key, np.uint64(COUNTER_WALK + 4 * k + 2))
        weight = 1.0 / (k + 1)
        for j in range(points):
            angle = 2.0 * math.pi * k * j / points
            c = math.cos(angle)
            s = math.sin(angle) if k > 0 else 0.0  # frequency 0 is a constant drift
            vx[j] += weight * (ax * c + bx * s)
            vy[j] += weight * (ay * c + by * s)
    return vx, vy


def family_path(family: str, seed: int, index: int, length: float, angle: float, shape: float) -> np.ndarray:
    """The path of a path family's kernel: complex128 (PATH_POINTS,), x = real (columns), in px.

    ``length``, ``angle`` and ``shape`` are the drawn values (a bank row's ``max_len``, ``phi`` and
    ``shape``); the walk also reads its coefficients from stream (seed, index).
    """
    t = np.linspace(0.0, 1.0, PATH_POINTS)
    if family == "line":
        return (t - 0.5) * length * np.exp(1j * angle)
    if family == "arc":
        turn = shape
        if abs(turn) < 1e-9:
            return (t - 0.5) * length * np.exp(1j * angle)
        radius = length / abs(turn)
        # Direction at arc length s is angle + turn·s/length; integrate it in closed form.
        heading = angle + turn * t
        return (np.exp(1j * heading) - np.exp(1j * angle)) * (radius / 1j) * np.sign(turn)
    if family == "walk":
        key = np.uint64(stream_key(np.uint64(seed), np.uint64(index)))
        vx, vy = walk_velocity(key, int(shape), PATH_POINTS)
        velocity = vx + 1j * vy
        path = np.concatenate([[0.0], np.cumsum(velocity[:-1])])
        travelled = np.abs(np.diff(path)).sum()
        return path * (length / travelled) if travelled > 0 else path
    raise ValueError(f"{family!r} is not a path family ({', '.join(PATH_FAMILIES)})")


def still_kernel(sigma: float, size: int) -> np.ndarray:
    """A centred Gaussian of ``sigma`` px integrated over each pixel: float32 (size, size), sum 1."""
    from scipy.special import erf

    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2
    if sigma <= 1e-6:
        profile = (offsets == 0).astype(np.float64)
    else:
        scale = 1.0 / (sigma * math.sqrt(2.0))
        profile = 0.5 * (erf((offsets + 0.5) * scale) - erf((offsets - 0.5) * scale))
    profile /= profile.sum()
    return np.outer(profile, profile).astype(np.float32)


def disk_kernel(radius: float, size: int) -> np.ndarray:
    """A uniform disk of ``radius`` px, each pixel's coverage supersampled 8×8: float32 (size, size), sum 1.

    A radius larger than the kernel allows is shrunk to fit (half the side minus one pixel)."""
    radius = min(radius, (size - 1) / 2)
    n = DISK_SUPERSAMPLING
    sub = (np.arange(size * n, dtype=np.float64) + 0.5) / n - 0.5 - (size - 1) / 2
    inside = (sub[:, None] ** 2 + sub[None, :] ** 2 <= radius * radius).astype(np.float64)
    kernel = inside.reshape(size, n, size, n).mean(axis=(1, 3))
    return (kernel / kernel.sum()).astype(np.float32)


def kernel_draws(spec: FamilySpec, seed: int, index: int) -> dict:
    """The values drawn for kernel ``index`` of ``seed``: ``max_len`` (length, px), ``phi`` (angle) and ``shape``."""
    return spec.draw(np.uint64(stream_key(np.uint64(seed), np.uint64(index))))


@dataclass(frozen=True)
class Mixture:
    """A mixture of named presets (Markov ones such as ``deblurgan`` and the families above),
    each kernel's member drawn with probability proportional to its weight."""

    weights: tuple[tuple[str, float], ...]

    def __post_init__(self) -> None:
        weights = tuple((str(name), float(weight)) for name, weight in dict(self.weights).items())
        if not weights or any(not math.isfinite(w) or w < 0 for _, w in weights) or sum(w for _, w in weights) <= 0:
            raise ValueError(f"a mixture needs weights >= 0 that add up to more than 0, got {dict(weights)}")
        object.__setattr__(self, "weights", weights)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.weights)

    def shares(self) -> np.ndarray:
        """float64 (members,): the weights normalised to sum to 1."""
        values = np.array([w for _, w in self.weights], dtype=np.float64)
        return values / values.sum()

    def choose(self, seed: int, indices: np.ndarray) -> np.ndarray:
        """int64 member number of each kernel index: a pure function of (seed, index)."""
        key_seed = np.uint64(derive_seed(seed, FAMILY_PURPOSE))
        edges = np.cumsum(self.shares())
        draws = np.array([uniform(np.uint64(stream_key(key_seed, np.uint64(i))), np.uint64(0)) for i in np.asarray(indices).reshape(-1)])
        return np.minimum(np.searchsorted(edges, draws, side="right"), len(edges) - 1).astype(np.int64)

    def to_dict(self) -> dict:
        return {"family": "mixture", "weights": {name: weight for name, weight in self.weights}}
