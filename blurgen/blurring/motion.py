"""Trajectory → poses: camera rotation and moving objects during one exposure, as homographies.

A static scene seen by a camera that rotates by R(t) moves in the image by the homography
H(t) = K·R(t)·K⁻¹, K from the focal length f = (W/2)/tan(FOV/2) and the principal point at the
photo's centre. Roll (about the optical axis) blurs in proportion to the distance from the
principal point; yaw and pitch blur almost uniformly with a narrow lens and less so with a wide one.

**Camera trajectories.** Yaw and pitch follow the same Markov walk as the kernels (Boracchi &
Foi, :mod:`blurgen.kernels.trajectory`), read as the path of the principal point in pixels: an angle of
atan(x/f). So with the default ``shake`` preset the centre of the image blurs exactly like a
``deblurgan`` kernel (60-px paths of the same shapes), and the rest of the frame differently.
Roll is a second walk of the same process (its own stream), whose horizontal component is taken
as the roll angle, scaled so its path length is U(0, ``roll_max_deg``) degrees. Every trajectory
is centred on its mean pose, as kernels are on their centroid, so the sharp image is the mean pose
and blur does not shift the image.

Recorded hand shake (Köhler et al., ECCV 2012: 6-DOF, 500 Hz, 1/3-s exposures) is dominated by
rotations of a fraction of a degree. At the resolutions training crops are cut from (COCO's
640-px photos, a 60° lens: f ≈ 554 px), that is a blur of a few pixels: the ``kohler`` preset,
a yaw/pitch path of 0.3° (the middle of the 0.1–0.5° we read "a fraction of a degree" as) and
roll up to 0.25°. Training sets use larger blur (DeblurGAN's
kernels are 60-px paths), which the default ``shake`` preset matches at the image centre; it is
the same rotation recorded by a camera of ~10× the resolution.

**Poses.** The walk has ``iters`` (2000) positions at constant speed; the render uses N of them,
evenly spaced, with N chosen so that between consecutive poses no pixel of the frame moves more
than one pixel (at most 2000, at least 8). Each pose is sampled bilinearly, so it spreads a
point over a tent one pixel wide on each side, and tents at most one pixel apart add up to a
continuous streak: no ghost copies. (A 60-px path needs about 60 poses.)

**Objects** move by their own translation path (the same walk, a path length of U(``min``,
``max``) px), on top of the camera's motion.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from blurgen.kernels.presets import trajectory_spec
from blurgen.settings import SettingError
from blurgen.kernels.trajectory import TrajectorySpec, sample_trajectory

MOTIONS = ("uniform", "rotation", "objects", "mixed")
MOTION_ALIASES = {"camera": "rotation"}  # former names, still accepted
SHAKES = ("shake", "kohler", "roll")  # the presets of shake_preset
STEP_PX = 1.0  # the most any pixel moves between consecutive poses: bilinear tents 1 px apart sum to a flat streak


@dataclass(frozen=True)
class RotationShake:
    """How camera rotations are drawn (see the module docstring)."""

    yaw_pitch: TrajectorySpec | None = field(default_factory=TrajectorySpec)  # principal point's path, px at focal f; None: no yaw/pitch
    roll_max_deg: float = 2.0
    fov_deg: float = 60.0

    def __post_init__(self) -> None:
        if not 1.0 <= self.fov_deg <= 170.0:
            raise ValueError(f"field of view must be between 1 and 170 degrees, got {self.fov_deg}")
        if not 0.0 <= self.roll_max_deg <= 45.0:
            raise ValueError(f"roll_max_deg must be between 0 and 45, got {self.roll_max_deg}")

    def to_dict(self) -> dict:
        return {"yaw_pitch": self.yaw_pitch.to_dict() if self.yaw_pitch else None, "roll_max_deg": self.roll_max_deg, "fov_deg": self.fov_deg}


def shake_preset(name: str = "shake", fov_deg: float = 60.0) -> RotationShake:
    """``shake`` (default: the centre blurs like a ``deblurgan`` kernel, roll up to 2°), ``kohler``
    (recorded hand shake at 640 px: a 0.3° yaw/pitch path, roll up to 0.25°) or ``roll`` (roll alone, up to 3°)."""
    if name == "shake":
        return RotationShake(trajectory_spec("deblurgan"), 2.0, fov_deg)
    if name == "kohler":  # the path length of a spec is fixed: 0.3° at the reference 640-px width
        return RotationShake(trajectory_spec("deblurgan", max_len=focal_length(640, fov_deg) * math.radians(0.3)), 0.25, fov_deg)
    if name == "roll":
        return RotationShake(None, 3.0, fov_deg)
    raise SettingError(f"unknown camera shake preset {{shake}} {name!r}; choose {', '.join(SHAKES)}")


def focal_length(width: int, fov_deg: float) -> float:
    """f in pixels for an image ``width`` px wide with horizontal field of view ``fov_deg``."""
    return (width / 2) / math.tan(math.radians(fov_deg) / 2)


def intrinsics(focal: float, centre_x: float, centre_y: float) -> np.ndarray:
    return np.array([[focal, 0.0, centre_x], [0.0, focal, centre_y], [0.0, 0.0, 1.0]])


def rotation(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """N×3×3 rotations R = Rz(roll)·Rx(pitch)·Ry(yaw), camera axes x right, y down, z forward."""
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    zeros, ones = np.zeros_like(yaw), np.ones_like(yaw)
    r_yaw = np.stack([np.stack([cy, zeros, sy], -1), np.stack([zeros, ones, zeros], -1), np.stack([-sy, zeros, cy], -1)], -2)
    r_pitch = np.stack([np.stack([ones, zeros, zeros], -1), np.stack([zeros, cp, -sp], -1), np.stack([zeros, sp, cp], -1)], -2)
    r_roll = np.stack([np.stack([cr, -sr, zeros], -1), np.stack([sr, cr, zeros], -1), np.stack([zeros, zeros, ones], -1)], -2)
    return r_roll @ r_pitch @ r_yaw


def rotation_homographies(angles: np.ndarray, K: np.ndarray) -> np.ndarray:
    """N×3×3 homographies K·R·K⁻¹ for N×3 (yaw, pitch, roll) angles in radians."""
    return K @ rotation(angles[:, 0], angles[:, 1], angles[:, 2]) @ np.linalg.inv(K)


def translation_homographies(path: np.ndarray) -> np.ndarray:
    """N×3×3 homographies of image translations by a complex path (x + iy pixels)."""
    out = np.tile(np.eye(3), (len(path), 1, 1))
    out[:, 0, 2], out[:, 1, 2] = path.real, path.imag
    return out


def project(homographies: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Where N homographies send P×2 points: N×P×2."""
    ones = np.ones((len(points), 1))
    mapped = np.einsum("nij,pj->npi", homographies, np.hstack([points, ones]))
    return mapped[..., :2] / mapped[..., 2:]


def path_length(homographies: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Length in px of each of P points' image paths through N poses: (P,)."""
    mapped = project(homographies, points)
    return np.linalg.norm(np.diff(mapped, axis=0), axis=-1).sum(axis=0)


def pose_count(dense: np.ndarray, points: np.ndarray, iters: int) -> int:
    """Poses needed so no point moves more than STEP_PX between consecutive ones (8 ≤ N ≤ iters)."""
    return int(min(iters, max(8, math.ceil(path_length(dense, points).max() / STEP_PX) + 1)))


def evenly(count: int, iters: int) -> np.ndarray:
    return np.rint(np.linspace(0, iters - 1, count)).astype(np.int64)


@dataclass(frozen=True)
class RotationPath:
    """A drawn camera rotation: (yaw, pitch, roll) radians at every position of the walk (dense,
    iters×3), centred on their mean; ``poses`` of them are rendered (see the module docstring)."""

    dense: np.ndarray
    poses: int
    focal: float
    yaw_pitch_meta: dict | None
    roll_path_deg: float

    def homographies(self, centre_x: float, centre_y: float, poses: int | None = None) -> np.ndarray:
        """N×3×3 (N = ``poses`` or the path's own count) for a principal point at (centre_x, centre_y)."""
        count = poses or self.poses
        return rotation_homographies(self.dense[evenly(count, len(self.dense))], intrinsics(self.focal, centre_x, centre_y))

    def describe(self) -> dict:
        span = np.degrees(self.dense.max(axis=0) - self.dense.min(axis=0))
        return {"poses": self.poses, "focal_px": self.focal, "span_deg": dict(zip(("yaw", "pitch", "roll"), span.round(5).tolist())),
                "roll_path_deg": self.roll_path_deg, "yaw_pitch": self.yaw_pitch_meta}


def draw_rotation_path(shake: RotationShake, seed: int, index: int, roll_draw: float, image_shape: tuple[int, int]) -> RotationPath:
    """The camera rotation of sample ``index`` (trajectories ``2·index`` and ``2·index + 1`` of ``seed``)
    for a photo of ``image_shape``; ``roll_draw`` ∈ [0, 1) sets the roll path length."""
    height, width = image_shape[:2]
    focal = focal_length(width, shake.fov_deg)
    walk_spec = shake.yaw_pitch or TrajectorySpec()
    yaw_pitch = sample_trajectory(seed, 2 * index, walk_spec)
    roll_walk = sample_trajectory(seed, 2 * index + 1, walk_spec).positions.real
    roll_length = float(np.abs(np.diff(roll_walk)).sum())
    roll_path = math.radians(roll_draw * shake.roll_max_deg)
    roll = roll_walk * (roll_path / roll_length) if roll_length > 0 else np.zeros_like(roll_walk)
    positions = yaw_pitch.positions if shake.yaw_pitch else np.zeros_like(yaw_pitch.positions)
    dense = np.stack([np.arctan(positions.real / focal), np.arctan(positions.imag / focal), roll], axis=1)
    dense -= dense.mean(axis=0)
    corners = np.array([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1], [(width - 1) / 2, (height - 1) / 2]])
    K = intrinsics(focal, (width - 1) / 2, (height - 1) / 2)
    count = pose_count(rotation_homographies(dense, K), corners, len(dense))
    meta = {"seed": seed, "index": 2 * index, **asdict(yaw_pitch.params), "max_len_px": yaw_pitch.max_len} if shake.yaw_pitch else None
    return RotationPath(dense, count, focal, meta, math.degrees(roll_path))


def draw_object_path(spec: TrajectorySpec, seed: int, index: int, length: float) -> np.ndarray:
    """A dense translation path (complex px) of path length ``length``, centred on its mean."""
    walk = sample_trajectory(seed, index, spec).positions
    walk = walk - walk.mean()
    total = float(np.abs(np.diff(walk)).sum())
    return walk * (length / total) if total > 0 else walk
