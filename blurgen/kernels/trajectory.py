"""Camera-shake trajectories: the Markov random walk of Boracchi & Foi (2012) as DeblurGAN codes it.

A trajectory is ``iters`` positions of a point that moves at constant speed along a path of
length ``max_len`` pixels (docs/design.md §1). Per trajectory four parameters are drawn, ``centripetal``,
``prob_big_shake``, ``gaussian_shake`` and the initial angle ``phi``, plus ``expl`` (the
"anxiety") when the spec gives a range or a set of values. Then, for each step::

    jump = 2·v·exp(i(π + U − 0.5))          if U < prob_big_shake·expl, else 0
    dv   = jump + expl·(gaussian_shake·(N + iN) − centripetal·x[t])·step
    v    = (v + dv) / |v + dv| · step
    x[t+1] = x[t] + v

Random draws come from :mod:`blurgen.rng`, so trajectory ``index`` of seed ``seed`` is the same
wherever and however it is computed. Stream layout, fixed so any draw can be located:

* counter 0: ``expl`` (when not fixed), 1: ``centripetal``, 2: ``prob_big_shake``,
  3: ``gaussian_shake``, 4: ``phi`` (5–7 unused);
* step ``t`` reads counters ``8 + 4t`` (jump test), ``+1`` (jump angle) and ``+2, +3`` (the
  complex Gaussian, polar method; its rare retries read the same offsets ``+ a·2**40``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from blurgen.rng import check_seed, normal_pair, stream_key, uniform

COUNTER_EXPL = 0
COUNTER_CENTRIPETAL = 1
COUNTER_PROB_BIG_SHAKE = 2
COUNTER_GAUSSIAN_SHAKE = 3
COUNTER_PHI = 4
COUNTER_FIRST_STEP = 8
DRAWS_PER_STEP = 4


EXPL_MAX = 1.0  # ten times the reference's largest anxiety; far beyond it the walk overflows to NaN


@dataclass(frozen=True)
class Expl:
    """How each trajectory's ``expl`` (anxiety) is chosen.

    ``choices`` non-empty: one of them, uniformly. Otherwise uniform on ``[low, high]`` (a single
    value when ``low == high``). Parse command-line text with :meth:`parse`.
    """

    low: float = 0.0
    high: float = 0.0
    choices: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        values = self.choices or (self.low, self.high)
        if not all(math.isfinite(v) and 0 <= v <= EXPL_MAX for v in values):
            raise ValueError(f"expl values must lie in [0, {EXPL_MAX:g}] (DeblurGAN draws at most 0.1), got {values}")
        if not self.choices and self.low > self.high:
            raise ValueError(f"expl range is empty: {self.low} > {self.high}")

    @classmethod
    def fixed(cls, value: float) -> Expl:
        return cls(float(value), float(value))

    @classmethod
    def parse(cls, text: str | float | Expl) -> Expl:
        """``"0.005"`` (fixed), ``"0.003:0.01"`` (uniform range) or ``"0.003,0.005"`` (choices)."""
        if isinstance(text, Expl):
            return text
        if isinstance(text, (int, float)):
            return cls.fixed(text)
        try:
            if ":" in text:
                low, high = (float(part) for part in text.split(":"))
                return cls(low, high)
            if "," in text:
                return cls(choices=tuple(float(part) for part in text.split(",")))
            return cls.fixed(float(text))
        except ValueError as error:
            raise ValueError(
                f"cannot read expl {text!r}: give a value (0.005), a range (0.003:0.01) "
                f"or a set of values (0.003,0.005,0.01); {error}"
            ) from None

    def __str__(self) -> str:
        if self.choices:
            return ",".join(f"{v:g}" for v in self.choices)
        if self.low == self.high:
            return f"{self.low:g}"
        return f"{self.low:g}:{self.high:g}"


@dataclass(frozen=True)
class TrajectorySpec:
    """Everything that defines the distribution of trajectories (not the seed).

    ``max_len`` is the path length in pixels, ``iters`` the number of positions, and the
    ``*_max`` fields the upper ends of the uniform ranges the per-trajectory parameters are drawn
    from (DeblurGAN: 0.7, 0.2, 10).
    """

    expl: Expl = field(default_factory=lambda: Expl(choices=(0.003, 0.005, 0.007, 0.008, 0.009, 0.01)))
    max_len: float = 60.0
    iters: int = 2000
    centripetal_max: float = 0.7
    prob_big_shake_max: float = 0.2
    gaussian_shake_max: float = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "expl", Expl.parse(self.expl))
        if not (math.isfinite(self.max_len) and self.max_len > 0):
            raise ValueError(f"max_len must be a positive number of pixels, got {self.max_len}")
        if int(self.iters) != self.iters or self.iters < 2:
            raise ValueError(f"iters must be an integer >= 2, got {self.iters}")
        for name in ("centripetal_max", "prob_big_shake_max", "gaussian_shake_max"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and >= 0, got {value}")

    def to_dict(self) -> dict:
        return {
            "expl": str(self.expl),
            "max_len": self.max_len,
            "iters": self.iters,
            "centripetal_max": self.centripetal_max,
            "prob_big_shake_max": self.prob_big_shake_max,
            "gaussian_shake_max": self.gaussian_shake_max,
        }


@dataclass(frozen=True)
class TrajectoryParams:
    """The values drawn for one trajectory: enough, with (seed, index), to rebuild it."""

    expl: float
    centripetal: float
    prob_big_shake: float
    gaussian_shake: float
    phi: float


@dataclass(frozen=True)
class Trajectory:
    """One sampled path: ``positions`` is complex128 of shape (iters,), in pixels, starting at 0."""

    seed: int
    index: int
    params: TrajectoryParams
    max_len: float
    positions: np.ndarray
    n_big_shakes: int


@njit(cache=True)
def draw_params(
    key: np.uint64,
    expl_low: float,
    expl_high: float,
    expl_choices: np.ndarray,
    centripetal_max: float,
    prob_big_shake_max: float,
    gaussian_shake_max: float,
) -> tuple[float, float, float, float, float]:
    """Draw (expl, centripetal, prob_big_shake, gaussian_shake, phi) from stream ``key``."""
    u = uniform(key, np.uint64(COUNTER_EXPL))
    n_choices = expl_choices.shape[0]
    if n_choices > 0:
        expl = expl_choices[min(int(u * n_choices), n_choices - 1)]
    else:
        expl = expl_low + (expl_high - expl_low) * u
    centripetal = centripetal_max * uniform(key, np.uint64(COUNTER_CENTRIPETAL))
    prob_big_shake = prob_big_shake_max * uniform(key, np.uint64(COUNTER_PROB_BIG_SHAKE))
    gaussian_shake = gaussian_shake_max * uniform(key, np.uint64(COUNTER_GAUSSIAN_SHAKE))
    phi = 2.0 * math.pi * uniform(key, np.uint64(COUNTER_PHI))
    return expl, centripetal, prob_big_shake, gaussian_shake, phi


@njit(cache=True)
def walk(
    key: np.uint64,
    expl: float,
    centripetal: float,
    prob_big_shake: float,
    gaussian_shake: float,
    phi: float,
    max_len: float,
    xs: np.ndarray,
    ys: np.ndarray,
) -> int:
    """Fill ``xs, ys`` (float64, shape (iters,)) with the path; return the number of big shakes."""
    iters = xs.shape[0]
    step = max_len / (iters - 1)
    initial_speed = expl if expl > 0 else step
    vx = math.cos(phi) * initial_speed
    vy = math.sin(phi) * initial_speed
    jump_threshold = prob_big_shake * expl
    xs[0] = 0.0
    ys[0] = 0.0
    n_big_shakes = 0
    for t in range(iters - 1):
        counter = np.uint64(COUNTER_FIRST_STEP + DRAWS_PER_STEP * t)
        jump_x = 0.0
        jump_y = 0.0
        if uniform(key, counter) < jump_threshold:
            # Reverse direction, give or take half a radian, at twice the speed.
            angle = math.pi + uniform(key, counter + np.uint64(1)) - 0.5
            c = math.cos(angle)
            s = math.sin(angle)
            jump_x = 2.0 * (vx * c - vy * s)
            jump_y = 2.0 * (vx * s + vy * c)
            n_big_shakes += 1
        noise_x, noise_y = normal_pair(key, counter + np.uint64(2))
        new_vx = vx + jump_x + expl * (gaussian_shake * noise_x - centripetal * xs[t]) * step
        new_vy = vy + jump_y + expl * (gaussian_shake * noise_y - centripetal * ys[t]) * step
        speed = math.sqrt(new_vx * new_vx + new_vy * new_vy)
        if speed > 0.0:  # v + dv == 0 exactly has probability 0; then keep the direction
            vx = new_vx / speed * step
            vy = new_vy / speed * step
        xs[t + 1] = xs[t] + vx
        ys[t + 1] = ys[t] + vy
    return n_big_shakes


def trajectory_from_params(
    seed: int, index: int, params: TrajectoryParams, *, max_len: float, iters: int
) -> Trajectory:
    """Rebuild trajectory ``index`` of ``seed`` from its drawn parameters (as stored in a bank)."""
    key = np.uint64(stream_key(check_seed(seed), np.uint64(index)))  # numba hands back a Python int
    xs = np.empty(int(iters))
    ys = np.empty(int(iters))
    n_big_shakes = walk(
        key, params.expl, params.centripetal, params.prob_big_shake, params.gaussian_shake,
        params.phi, float(max_len), xs, ys,
    )
    return Trajectory(seed, index, params, float(max_len), xs + 1j * ys, int(n_big_shakes))


def sample_trajectory(seed: int, index: int, spec: TrajectorySpec | None = None) -> Trajectory:
    """Trajectory ``index`` of ``seed`` under ``spec`` (default: the ``deblurgan`` preset)."""
    spec = spec or TrajectorySpec()
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    key = np.uint64(stream_key(check_seed(seed), np.uint64(index)))
    params = TrajectoryParams(*draw_params(key, *spec_arrays(spec)))
    return trajectory_from_params(seed, index, params, max_len=spec.max_len, iters=spec.iters)


def spec_arrays(spec: TrajectorySpec) -> tuple[float, float, np.ndarray, float, float, float]:
    """The arguments :func:`draw_params` takes after ``key``, from a spec."""
    return (
        float(spec.expl.low),
        float(spec.expl.high),
        np.asarray(spec.expl.choices, dtype=np.float64),
        float(spec.centripetal_max),
        float(spec.prob_big_shake_max),
        float(spec.gaussian_shake_max),
    )
