"""Time → poses: one continuous camera motion across the frames of a video, and the exposures cut from it.

A video frame is an exposure of ``duty`` of the frame interval (the duty cycle: 1/48 s at 24 fps
is 0.5; REDS's recipe is about 0.8); time is counted in frame intervals, so frame k is exposed
during ``[k, k + duty]`` and the next starts one interval later, after the unexposed gap of
``1 - duty``. Over a still photo, the camera's view is a rectangle that moves and turns:

* its centre travels ``(x(t), y(t))`` px from the photo's centre and it turns by ``roll(t)``
  degrees about its centre; each is a constant rate plus a sum of sinusoids (:class:`CameraPath`),
  smooth at every instant and continuous from one frame to the next;
* a drawn path (:func:`draw_camera_path`) has no constant rate (a pan would leave any photo
  within a few dozen frames): three sinusoids per axis with periods drawn log-uniformly from
  ``periods`` frames and random phases, scaled so the view's peak speed is a drawn
  U(``speed``) px per frame interval and the roll's peak rate U(0, ``roll``) degrees per frame
  interval; and scaled down as a whole when the view would leave the photo (recorded);
* a pixel of the view at q sees the photo at ``rotate(roll(t))·(q - view centre) + photo centre +
  (x(t), y(t))`` (:meth:`CameraPath.view_to_photo`): the scene moves across the frames by minus
  the camera's motion.

An exposure is rendered as the mean of the photo seen at poses at the midpoints of equal parts of
``[k, k + duty]``, as many as keep every pixel's step between poses within a pixel
(:func:`exposure_times`), each sampled bilinearly: a streak, not ghost copies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from blurgen.rng import uniform

STEP_PX = 1.0  # the most a pixel moves between consecutive poses of an exposure
MAX_POSES = 1024  # poses of one exposure at most (a 1000-px streak)
WAVES = 3  # sinusoids per axis of a drawn path
DENSE = 8  # samples per frame interval where a drawn path's peak speed is measured
FIT_DENSE = 32  # ... and where the view is checked to stay inside the photo
FIT_MARGIN_PX = 0.5


@dataclass(frozen=True)
class PathSpec:
    """How camera paths are drawn.

    Args:
        speed: (low, high) px per frame interval: the view's peak speed is drawn from this range.
        roll: degrees per frame interval: the roll's peak rate is drawn from U(0, roll).
        periods: (shortest, longest) frames: the sinusoids' periods (short ones shake, long ones pan back and forth).
    """

    speed: tuple[float, float] = (2.0, 12.0)
    roll: float = 0.3
    periods: tuple[float, float] = (8.0, 64.0)

    def __post_init__(self) -> None:
        if not 0.0 <= self.speed[0] <= self.speed[1]:
            raise ValueError(f"speed must be a range low-high of px per frame with 0 <= low <= high, got {self.speed}")
        if self.roll < 0:
            raise ValueError(f"roll must be >= 0 degrees per frame, got {self.roll}")
        if not 1.0 <= self.periods[0] <= self.periods[1]:
            raise ValueError(f"periods must be a range shortest-longest of frames with 1 <= shortest <= longest, got {self.periods}")

    def to_dict(self) -> dict:
        return {"speed_px_per_frame": list(self.speed), "roll_deg_per_frame": self.roll, "periods_frames": list(self.periods)}


@dataclass(frozen=True)
class CameraPath:
    """A camera's motion over time t (frame intervals): for each axis (x px, y px, roll degrees),
    ``rate·t + Σ amplitude·sin(2π·t/period + phase)``.

    ``rates`` (3,), ``amplitudes``, ``periods``, ``phases`` (3×K); K may be 0 (a constant-rate
    path: :meth:`linear`)."""

    rates: np.ndarray = field(default_factory=lambda: np.zeros(3))
    amplitudes: np.ndarray = field(default_factory=lambda: np.zeros((3, 0)))
    periods: np.ndarray = field(default_factory=lambda: np.ones((3, 0)))
    phases: np.ndarray = field(default_factory=lambda: np.zeros((3, 0)))

    @classmethod
    def linear(cls, velocity: tuple[float, float], roll_rate: float = 0.0) -> "CameraPath":
        """A camera that pans at ``velocity`` (dx, dy) px per frame interval and rolls at ``roll_rate`` degrees per interval."""
        return cls(rates=np.array([velocity[0], velocity[1], roll_rate], np.float64))

    def at(self, times: np.ndarray) -> np.ndarray:
        """(x px, y px, roll degrees) at each of N times: N×3 float64."""
        times = np.asarray(times, np.float64)[:, None, None]
        waves = (self.amplitudes * np.sin(2 * np.pi * times / self.periods + self.phases)).sum(axis=2)
        return self.rates[None] * times[:, :, 0] + waves

    def rate(self, times: np.ndarray) -> np.ndarray:
        """d/dt of :meth:`at`: N×3 (px and degrees per frame interval)."""
        times = np.asarray(times, np.float64)[:, None, None]
        waves = (self.amplitudes * 2 * np.pi / self.periods * np.cos(2 * np.pi * times / self.periods + self.phases)).sum(axis=2)
        return self.rates[None] + waves

    def scaled(self, translation: float, roll: float = 1.0) -> "CameraPath":
        """The same path with its translation times ``translation`` and its roll times ``roll``."""
        factors = np.array([translation, translation, roll])
        return CameraPath(self.rates * factors, self.amplitudes * factors[:, None], self.periods, self.phases)

    def view_to_photo(self, times: np.ndarray, view: tuple[int, int], photo: tuple[int, int]) -> np.ndarray:
        """N×2×3 affine maps from a view's pixel (x, y) to the photo's point it sees at each time;
        ``view`` and ``photo`` are (height, width)."""
        pose = self.at(times)
        angle = np.radians(pose[:, 2])
        cos, sin = np.cos(angle), np.sin(angle)
        view_cy, view_cx = (view[0] - 1) / 2, (view[1] - 1) / 2
        photo_cy, photo_cx = (photo[0] - 1) / 2, (photo[1] - 1) / 2
        maps = np.empty((len(pose), 2, 3))
        maps[:, 0, 0], maps[:, 0, 1] = cos, -sin
        maps[:, 1, 0], maps[:, 1, 1] = sin, cos
        maps[:, 0, 2] = photo_cx + pose[:, 0] - (cos * view_cx - sin * view_cy)
        maps[:, 1, 2] = photo_cy + pose[:, 1] - (sin * view_cx + cos * view_cy)
        return maps

    def to_dict(self) -> dict:
        return {"rates": self.rates.round(6).tolist(), "amplitudes": self.amplitudes.round(6).tolist(),
                "periods": self.periods.round(6).tolist(), "phases": self.phases.round(6).tolist()}


def view_corners(view: tuple[int, int]) -> np.ndarray:
    """The four corner pixels and the centre of a (height, width) view: 5×2 (x, y)."""
    height, width = view
    return np.array([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1], [(width - 1) / 2, (height - 1) / 2]])


def apply(maps: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Where N affine maps (N×2×3) send P×2 points: N×P×2."""
    return np.einsum("nij,pj->npi", maps[:, :, :2], points) + maps[:, None, :, 2]


def exposure_times(path: CameraPath, frame: int, duty: float, view: tuple[int, int], photo: tuple[int, int]) -> np.ndarray:
    """The times of frame ``frame``'s poses: midpoints of N equal parts of ``[frame, frame + duty]``,
    N one more than the fewest that keep every pixel's step between poses within :data:`STEP_PX`
    (so a streak shorter than a pixel still spreads over two poses; N ≤ :data:`MAX_POSES`)."""
    probe = frame + duty * (np.arange(64) + 0.5) / 64
    moved = apply(path.view_to_photo(probe, view, photo), view_corners(view))
    travelled = float(np.linalg.norm(np.diff(moved, axis=0), axis=2).sum(axis=0).max()) * 64 / 63  # the 64 probes span 63/64 of it
    count = int(min(MAX_POSES, math.ceil(travelled / STEP_PX) + 1))
    return frame + duty * (np.arange(count) + 0.5) / count


def middle_time(frame: int, duty: float) -> float:
    """The middle of frame ``frame``'s exposure: where its sharp frame is seen."""
    return frame + duty / 2


def fit_to_photo(path: CameraPath, frames: int, duty: float, view: tuple[int, int], photo: tuple[int, int]) -> tuple[CameraPath, float]:
    """``path`` with its translation scaled down (by the returned factor ≤ 1) so that the view stays
    inside the photo during every exposure of ``frames`` frames; a ValueError when even a still view does not fit."""
    times = np.linspace(0, frames - 1 + duty, max(2, int((frames - 1 + duty) * FIT_DENSE) + 1))
    still = path.scaled(0.0)
    low = apply(still.view_to_photo(times, view, photo), view_corners(view)[:4])
    height, width = photo
    if low[..., 0].min() < -1e-6 or low[..., 1].min() < -1e-6 or low[..., 0].max() > width - 1 + 1e-6 or low[..., 1].max() > height - 1 + 1e-6:
        raise ValueError(f"a {view[1]}×{view[0]} view does not fit in a {width}×{height} photo")
    shift = path.at(times)[:, None, :2]
    # half a pixel kept back: the path may peak between the times it is checked at
    room_x = np.where(shift[..., 0] > 0, width - 1 - low[..., 0], low[..., 0]) - FIT_MARGIN_PX
    room_y = np.where(shift[..., 1] > 0, height - 1 - low[..., 1], low[..., 1]) - FIT_MARGIN_PX
    needs = np.concatenate([(np.abs(shift[..., 0]) / np.maximum(room_x, 1e-9)).ravel(), (np.abs(shift[..., 1]) / np.maximum(room_y, 1e-9)).ravel()])
    factor = min(1.0, 1.0 / max(float(needs.max()), 1e-12))
    return (path if factor == 1.0 else path.scaled(factor * (1 - 1e-9))), factor


def draw_camera_path(spec: PathSpec, key: int, frames: int, counter: int = 0) -> CameraPath:
    """A smooth random camera path over ``frames`` frame intervals from stream ``key`` (counters from
    ``counter`` on, 3 + 9·:data:`WAVES` of them): see the module docstring."""
    draws = iter(uniform(np.uint64(key), np.uint64(counter + k)) for k in range(3 + 9 * WAVES))
    speed = spec.speed[0] + (spec.speed[1] - spec.speed[0]) * next(draws)
    roll_rate = spec.roll * next(draws)
    next(draws)  # kept free: a draw of a later option takes it without moving the others
    low, high = np.log(spec.periods[0]), np.log(spec.periods[1])
    periods = np.exp(low + (high - low) * np.array([next(draws) for _ in range(3 * WAVES)])).reshape(3, WAVES)
    phases = 2 * np.pi * np.array([next(draws) for _ in range(3 * WAVES)]).reshape(3, WAVES)
    weights = (0.5 + 0.5 * np.array([next(draws) for _ in range(3 * WAVES)])).reshape(3, WAVES)
    # Each sinusoid contributes a peak rate in proportion to its weight: amplitude = weight·period/2π.
    path = CameraPath(np.zeros(3), weights * periods / (2 * np.pi), periods, phases)
    times = np.linspace(0, frames, max(2, frames * DENSE + 1))
    rates = path.rate(times)
    peak_move = float(np.linalg.norm(rates[:, :2], axis=1).max())
    peak_roll = float(np.abs(rates[:, 2]).max())
    return path.scaled(speed / peak_move if peak_move > 0 else 0.0, roll_rate / peak_roll if peak_roll > 0 else 0.0)
