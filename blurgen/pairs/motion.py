"""Poses → pair: training pairs whose blur varies across the image (``--motion``).

Modes:

* ``rotation``: the camera rotates (:class:`blurgen.blurring.motion.RotationShake`); every pixel blurs along
  its own projected path.
* ``objects``: the camera is still and up to ``max_objects`` annotated objects move, each along
  its own path; the rest of the image stays exactly sharp.
* ``mixed``: both.

Objects come from the source's instance masks (COCO: ``CocoSource.masks``). The rule: an
instance qualifies when between 1% and 50% of the crop is covered by it; the sample draws how
many to move, 1 to ``max_objects``, and which (in a random order of its own); they are layered
with the largest at the back. Each object's path is the kernels' walk with a path length of
U(8, 40) px. When a pair asked for objects cannot have any (a source without masks, an image
without annotations, masks of the wrong size, all empty, none in the crop), it falls back to
camera blur and says why in ``meta["motion"]["fallback"]`` (the dataset writer counts these).

Randomness: the camera path is trajectories 2i and 2i+1 and object k's path trajectory 8i + k
of seeds derived from the run seed for these purposes alone; the roll length, object count,
choice and lengths are counters of sample i's stream. So pair i still depends only on (seed, i).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from blurgen.settings import check_choice
from blurgen.blurring.motion import MOTION_ALIASES, MOTIONS, STEP_PX, RotationPath, RotationShake, draw_rotation_path, draw_object_path, evenly, project, shake_preset
from blurgen.blurring.nonuniform import render
from blurgen.rng import PairCounter, derive_seed
from blurgen.kernels.trajectory import TrajectorySpec

ROTATION_PURPOSE = 0x43414D  # "CAM"
OBJECT_PURPOSE = 0x4F424A  # "OBJ"
AREA_RANGE = (0.01, 0.5)
OBJECT_LENGTH = (8.0, 40.0)
CANDIDATES_MAX = 28  # instances considered per image (their order keys fit the counters above)


@dataclass(frozen=True)
class Motion:
    """What moves during the exposure: ``kind`` is one of ``rotation``, ``objects``, ``mixed``
    (``camera``, the former name of ``rotation``, is accepted)."""

    kind: str = "rotation"
    shake: RotationShake = field(default_factory=shake_preset)
    max_objects: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", MOTION_ALIASES.get(self.kind, self.kind))
        check_choice("motion", self.kind, MOTIONS[1:])
        if not 1 <= self.max_objects <= 8:
            raise ValueError(f"max_objects must be between 1 and 8, got {self.max_objects}")

    def to_dict(self) -> dict:
        return {"kind": self.kind, "shake": self.shake.to_dict(), "max_objects": self.max_objects,
                "object_area": AREA_RANGE, "object_path_px": OBJECT_LENGTH}


def instance_masks(source: object, index: int) -> list[dict] | None:
    """The instance annotations of source image ``index``, or None when the source has none."""
    while not hasattr(source, "masks") and hasattr(source, "source"):
        source = source.source  # FirstN and other wrappers
    return source.masks(index) if hasattr(source, "masks") else None


def rotation_path(motion: Motion, seed: int, index: int, draw: object, image_shape: tuple[int, ...]) -> RotationPath:
    return draw_rotation_path(motion.shake, derive_seed(seed, ROTATION_PURPOSE), index, draw(PairCounter.ROLL), image_shape)


def margin_for(path: RotationPath | None, image_shape: tuple[int, ...]) -> int:
    """Pixels around a crop that every camera pose keeps inside the region (the photo's corners move most)."""
    if path is None:
        return 1
    height, width = image_shape[:2]
    corners = np.array([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1]])
    moved = project(np.linalg.inv(path.homographies((width - 1) / 2, (height - 1) / 2, len(path.dense))), corners)
    return int(math.ceil(np.abs(moved - corners).max())) + 2


def choose_objects(annotations: list[dict] | None, image_shape: tuple[int, ...], region: tuple[int, int, int, int],
                   margin: int, max_objects: int, draw: object) -> tuple[list[tuple[np.ndarray, dict]], str | None]:
    """Objects to move (region-sized float32 masks with their annotation, back to front) or the fallback reason."""
    if annotations is None:
        return [], "no_masks"
    if not annotations:
        return [], "no_annotations"
    y, x, height, width = region
    crop_area = (height - 2 * margin) * (width - 2 * margin)
    candidates, sizes_wrong = [], 0
    for k, annotation in enumerate(annotations[:CANDIDATES_MAX]):
        mask = np.asarray(annotation.get("mask"))
        if mask.shape != tuple(image_shape[:2]):
            sizes_wrong += 1
            continue
        inside = mask[y + margin : y + height - margin, x + margin : x + width - margin]
        share = float(np.count_nonzero(inside)) / crop_area
        if AREA_RANGE[0] <= share <= AREA_RANGE[1]:
            candidates.append((draw(PairCounter.OBJECTS + 2 * k), k, share, mask[y : y + height, x : x + width]))
    if not candidates:
        reason = "mask_size" if sizes_wrong == len(annotations[:CANDIDATES_MAX]) else (
            "empty_mask" if all(not np.any(a.get("mask")) for a in annotations) else "no_object_in_crop")
        return [], reason
    count = min(len(candidates), 1 + int(draw(PairCounter.OBJECT_COUNT) * max_objects))
    chosen = sorted(sorted(candidates, key=lambda c: c[0])[:count], key=lambda c: -c[2])  # random choice, largest at the back
    return [(mask.astype(np.float32), {"annotation": k, "category_id": annotations[k].get("category_id"), "crop_share": round(share, 4)})
            for _, k, share, mask in chosen], None


def render_pair_planes(planes: np.ndarray, plan: object, motion: Motion, seed: int, image_shape: tuple[int, ...],
                       objects: list[tuple[np.ndarray, dict]], draw: object) -> tuple[np.ndarray, np.ndarray, dict]:
    """Blurred linear light (C×S×S), the blur map and the motion metadata of one pair."""
    y, x, height, _ = plan.region
    margin, size = plan.margin, height - 2 * plan.margin
    full_h, full_w = image_shape[:2]
    path: RotationPath | None = plan.rotation_path
    object_paths = []
    for k, (_, info) in enumerate(objects):
        length = OBJECT_LENGTH[0] + (OBJECT_LENGTH[1] - OBJECT_LENGTH[0]) * draw(PairCounter.OBJECTS + 1 + 2 * info["annotation"])
        object_paths.append(draw_object_path(TrajectorySpec(), derive_seed(seed, OBJECT_PURPOSE), 8 * plan.index + k, length))
        info["path_px"] = round(length, 3)
    poses = max([path.poses if path else 8] + [min(len(p), math.ceil(np.abs(np.diff(p)).sum() / STEP_PX) + 1) for p in object_paths])
    if path is not None:  # the principal point is the photo's centre, in region coordinates
        camera = path.homographies((full_w - 1) / 2 - x, (full_h - 1) / 2 - y, poses)
    else:
        camera = np.tile(np.eye(3), (poses, 1, 1))
    pose_inverse = np.linalg.inv(camera)
    masks, object_inverse = None, None
    if objects:
        masks = np.stack([mask for mask, _ in objects])
        moves = np.stack([p[evenly(poses, len(p))] for p in object_paths])  # K×N complex
        shift = np.tile(np.eye(3), (len(objects), poses, 1, 1))
        shift[..., 0, 2], shift[..., 1, 2] = moves.real, moves.imag
        object_inverse = np.linalg.inv(camera[None] @ shift)
    blurred, blur_map = render(planes, pose_inverse, margin, size, masks=masks, object_inverse=object_inverse)
    meta = {"kind": motion.kind, "poses": poses, "rotation": path.describe() if path else None,
            "objects": [info for _, info in objects],
            "blur_map": {"units": "px of path (PNG: 1/100 px)", "mean": round(float(blur_map.mean()), 4), "max": round(float(blur_map.max()), 4)}}
    return blurred, blur_map, meta
