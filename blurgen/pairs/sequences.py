"""Stills or clips → sequences: consecutive blurred video frames with their sharp frames, for video deblurring.

Two makers, each a pure function of (seed, i) for sequence i, returning a :class:`Sequence`:

* :class:`StillSequencer` — one continuous camera motion over a still photo per sequence
  (:mod:`blurgen.blurring.camera_path`): frame k is the mean of the views during its exposure
  ``[k, k + duty]`` (frame intervals), averaged in linear light through the camera; its sharp
  frame is the view at the exposure's middle. Consecutive frames continue the same motion, the
  unexposed gap between them. With ``objects``, annotated objects (COCO's instance masks) move
  along their own paths on top of it, with what they uncover filled in.
* :class:`ClipSequencer` — consecutive output frames of a clip: output frame k is centred on
  original frame ``reach + round(k·fps_in/fps_out)``, averages the ``odd(duty·interpolate·fps_in/fps_out)``
  frames around it (after optical-flow interpolation; REDS: 120 fps × 16, 24 fps, duty 0.8: 65
  frames), its sharp frame that centre frame. A clip's timeline is cut into sequences of
  ``frames`` output frames (a shorter tail is left out); a scene cut ends a sequence early.

Frames are float32 H×W×3 in [0, 1]; a sequence's frames are stacked T×H×W×3. The camera's draws
(tone curve, noise level, JPEG quality) are the sequence's, its noise field new for every frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import cv2
import numpy as np

from blurgen.blurring.camera import CAMERA_PRESETS, Camera, draw_camera, expose_light, expose_with, response_camera
from blurgen.blurring.camera_path import (
    CameraPath, PathSpec, apply, draw_camera_path, exposure_times, fit_to_photo, middle_time, view_corners,
)
from blurgen.blurring.nonuniform import inpaint_under
from blurgen.pairs.interpolate import interpolate_frames
from blurgen.pairs.motion import choose_objects, instance_masks
from blurgen.pairs.synthesizer import ALPHA_BACKGROUND, ImageTooSmall, crop_origin, source_facts, to_unit_float
from blurgen.pairs.video import SCENE_CUT, mean_light, scene_cut
from blurgen.rng import check_seed, derive_seed, stream_key, uniform
from blurgen.sources.images import BadImage, SourceError, is_transparent, to_rgb
from blurgen.sources.video import Clip, ClipReader

SEQUENCE_PURPOSE = 0x53455155  # "SEQU": sequence draws (crop, camera, paths), apart from pair draws
PATH_COUNTER = 128  # a sequence stream's counters from here on draw its camera path
OBJECT_PATH_COUNTER = 256  # ... and object k's path from 256 + 64·k
MAX_OBJECTS = 8


class Sequence(NamedTuple):
    """One sequence: ``blurred`` and ``sharp`` float32 T×H×W×3 in [0, 1], and how it was made
    (``meta["frames"]``: one record per frame)."""

    blurred: np.ndarray
    sharp: np.ndarray
    meta: dict


class Frame(NamedTuple):
    """One output frame as it is made: ``blurred`` float32 H×W×3 in [0, 1]; ``sharp`` H×W×3, float32
    in [0, 1] or the clip's own uint8/uint16 pixels (written as they are); its record."""

    blurred: np.ndarray
    sharp: np.ndarray
    record: dict


def collect(meta: dict, frames: Iterator[Frame]) -> Sequence:
    """A :class:`Sequence` of a stream's frames (every frame in memory: fine for training crops;
    the writer takes the stream frame by frame instead)."""
    made = list(frames)
    return Sequence(np.stack([frame.blurred for frame in made]), np.stack([to_unit_float(frame.sharp) for frame in made]), meta)


@dataclass(frozen=True)
class Timing:
    """Output frames per sequence, frame rate and duty cycle (exposure ÷ frame interval, in (0, 1])."""

    frames: int = 100
    fps: float = 24.0
    duty: float = 0.8

    def __post_init__(self) -> None:
        if self.frames < 1:
            raise ValueError(f"frames must be >= 1, got {self.frames}")
        if not self.fps > 0:
            raise ValueError(f"fps must be > 0, got {self.fps}")
        if not 0 < self.duty <= 1:
            raise ValueError(f"duty must be in (0, 1], got {self.duty}")


def sequence_key(seed: int, index: int) -> int:
    """The random stream of sequence ``index`` of a run with ``seed``."""
    return int(stream_key(np.uint64(derive_seed(seed, SEQUENCE_PURPOSE)), np.uint64(index)))


def draw_from(key: int) -> Callable[[int], float]:
    """Draws of stream ``key``: ``draw(counter)`` in [0, 1)."""
    def draw(counter: int) -> float:
        return uniform(np.uint64(key), np.uint64(counter))
    return draw


def frame_noise_key(key: int, frame: int) -> int:
    """Frame ``frame``'s noise field: new for every frame of a sequence."""
    return int(stream_key(np.uint64(key), np.uint64(frame)))


def warp_view(image: np.ndarray, view_to_image: np.ndarray, view: tuple[int, int]) -> np.ndarray:
    """``image`` (H×W or H×W×C float32) seen through one affine map (2×3, view px → image point):
    a (height, width) view, bilinear, reflected where it reaches outside."""
    return cv2.warpAffine(image, view_to_image, (view[1], view[0]), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


def mean_view(image: np.ndarray, maps: np.ndarray, view: tuple[int, int],
              layers: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = ()) -> np.ndarray:
    """The mean over N poses (maps N×2×3) of ``image`` (H×W×C float32) seen through each, with
    ``layers`` (premultiplied colour H×W×C, mask H×W, object offsets N×2 px in the image) composited
    over it back to front: float32 h×w×C."""
    total = np.zeros((*view, image.shape[2]), np.float32)
    for n, view_to_image in enumerate(maps):
        frame = warp_view(image, view_to_image, view)
        for colour, mask, offsets in layers:
            moved = view_to_image.copy()
            moved[:, 2] -= offsets[n]
            cover = warp_view(mask, moved, view)[..., None]
            frame = frame * (1 - cover) + warp_view(colour, moved, view)
        total += frame
    total *= np.float32(1 / len(maps))
    return total


@dataclass
class StillSequencer:
    """Sequences from still photos: sequence i is made from photo ``i // per_image``; ``len = len(source)·per_image``.

    Args:
        source: sharp photos by index (any blurgen source: H×W×C uint8, uint16 or float).
        camera: the camera pipeline (blur in linear light, noise, JPEG).
        view: frame side in px (square frames); each photo needs at least this.
        timing: frames, fps (recorded) and duty cycle.
        path: how camera paths are drawn (:class:`PathSpec`), or the one :class:`CameraPath` every sequence follows.
        objects: at most this many annotated objects move in each sequence (0: none; needs instance masks).
        seed: run seed.
        per_image: sequences per photo.
    """

    source: object
    camera: Camera = CAMERA_PRESETS["none"]
    view: int = 256
    timing: Timing = field(default_factory=Timing)
    path: PathSpec | CameraPath = field(default_factory=PathSpec)
    objects: int = 0
    seed: int = 0
    per_image: int = 1

    def __post_init__(self) -> None:
        check_seed(self.seed)
        if self.view < 8:
            raise ValueError(f"view must be at least 8 px, got {self.view}")
        if not 0 <= self.objects <= MAX_OBJECTS:
            raise ValueError(f"objects must be between 0 and {MAX_OBJECTS}, got {self.objects}")

    def __len__(self) -> int:
        return len(self.source) * self.per_image

    def __getitem__(self, index: int) -> Sequence:
        return collect(*self.stream(index))

    def stream(self, index: int) -> tuple[dict, Iterator[Frame]]:
        """Sequence ``index`` frame by frame: its record (``meta["frames"]`` fills as frames are
        made) and its frames; :class:`ImageTooSmall` for a photo smaller than the view, the
        source's :class:`BadImage` for one that cannot be read."""
        if not 0 <= index < len(self):
            raise IndexError(f"sequence {index} is out of range for {len(self)} sequences")
        return self.make(self.source[index // self.per_image], index)

    def camera_path(self, index: int, photo: tuple[int, int]) -> tuple[CameraPath, float]:
        """Sequence ``index``'s camera path over a photo of (height, width) and the factor its
        translation was scaled by to keep the view inside the photo (a given path is never scaled:
        one that leaves the photo makes it too small)."""
        view, frames, duty = (self.view, self.view), self.timing.frames, self.timing.duty
        if isinstance(self.path, CameraPath):
            try:
                _, factor = fit_to_photo(self.path, frames, duty, view, photo)
            except ValueError:
                factor = 0.0
            if factor < 1.0:
                raise ImageTooSmall(photo, self.view + 2, f"a {self.view}-px view following the given camera path")
            return self.path, 1.0
        drawn = draw_camera_path(self.path, sequence_key(self.seed, index), frames, PATH_COUNTER)
        try:
            return fit_to_photo(drawn, frames, duty, view, photo)
        except ValueError:
            raise ImageTooSmall(photo, self.view + 2, f"a {self.view}-px view turning with the camera") from None

    def make(self, image: np.ndarray, index: int) -> tuple[dict, Iterator[Frame]]:
        """:meth:`stream` of sequence ``index`` from its photo (H×W×C as the source reads it)."""
        sharp_image = np.ascontiguousarray(to_unit_float(to_rgb(image)))  # grey repeated, transparency over white
        photo = sharp_image.shape[:2]
        if min(photo) < self.view:
            raise ImageTooSmall(photo, self.view, f"a {self.view}-px view")
        key = sequence_key(self.seed, index)
        draw = draw_from(key)
        path, fitted = self.camera_path(index, photo)
        objects, fallback = self.choose_objects(index, photo, path, draw)
        moves = self.path if isinstance(self.path, PathSpec) else PathSpec()
        object_paths = [draw_camera_path(PathSpec(moves.speed, 0.0, moves.periods), key, self.timing.frames, OBJECT_PATH_COUNTER + 64 * k)
                        for k in range(len(objects))]
        draws = draw_camera(self.camera, draw)
        view = (self.view, self.view)
        masks = [mask for mask, _ in objects]
        sharp_scene = Scene(sharp_image, masks)
        light_scene: list[Scene] = []  # the photo's light is the same for every frame: its scene is made once
        meta = {
            "index": index, "seed": int(self.seed), "kind": "still", "source_index": index // self.per_image,
            "source_id": str(self.source.id(index // self.per_image)) if hasattr(self.source, "id") else str(index // self.per_image),
            "fps": self.timing.fps, "duty": self.timing.duty, "view": self.view,
            "camera_path": path.to_dict(), "path_scaled_to_fit": round(fitted, 6),
            "peak_speed_px_per_frame": round(float(np.linalg.norm(path.rate(np.linspace(0, self.timing.frames, 8 * self.timing.frames + 1))[:, :2], axis=1).max()), 4),
            "objects": [info for _, info in objects], **({"objects_fallback": fallback} if fallback else {}),
            **({"alpha": f"composited over {ALPHA_BACKGROUND}"} if is_transparent(image) else {}), "camera_draws": draws,
            **source_facts(self.source, index // self.per_image, image), "frames": [],
        }

        def frames() -> Iterator[Frame]:
            for frame in range(self.timing.frames):
                times = exposure_times(path, frame, self.timing.duty, view, photo)
                maps = path.view_to_photo(times, view, photo)
                offsets = [p.at(times)[:, :2] for p in object_paths]
                noise_key = frame_noise_key(key, frame)
                if objects:
                    def exposure(light: np.ndarray) -> np.ndarray:
                        if not light_scene:
                            light_scene.append(Scene(np.ascontiguousarray(light.transpose(1, 2, 0)), masks))
                        return light_scene[0].mean(maps, view, offsets).transpose(2, 0, 1)

                    blurred = expose_with(sharp_image, exposure, self.camera, draws, noise_key=noise_key)
                else:  # only the part of the photo the exposure sees goes through the camera
                    box, shifted = exposure_box(maps, view, photo)

                    def exposure(light: np.ndarray) -> np.ndarray:
                        return mean_view(np.ascontiguousarray(light.transpose(1, 2, 0)), shifted, view).transpose(2, 0, 1)

                    blurred = expose_with(sharp_image[box], exposure, self.camera, draws, noise_key=noise_key)
                middle = np.array([middle_time(frame, self.timing.duty)])
                middle_offsets = [p.at(middle)[:, :2] for p in object_paths]
                sharp = np.clip(sharp_scene.mean(path.view_to_photo(middle, view, photo), view, middle_offsets), 0, 1)
                pose = path.at(middle)[0]
                record = {"frame": frame, "poses": len(times), "exposure": [frame, frame + self.timing.duty],
                          "sharp_time": float(middle[0]), "view_offset_px": [round(float(v), 3) for v in pose[:2]],
                          "roll_deg": round(float(pose[2]), 5)}
                meta["frames"].append(record)
                yield Frame(blurred, sharp, record)

        return meta, frames()

    def choose_objects(self, index: int, photo: tuple[int, int], path: CameraPath, draw) -> tuple[list[tuple[np.ndarray, dict]], str | None]:
        """The objects that move in sequence ``index`` (photo-sized float32 masks, back to front, with
        their records), or why none do: annotated instances covering 1% to 50% of the part of the
        photo the view passes over."""
        if not self.objects:
            return [], None
        annotations = instance_masks(self.source, index // self.per_image)
        times = np.linspace(0, self.timing.frames - 1 + self.timing.duty, 8 * self.timing.frames + 1)
        (rows, cols), _ = exposure_box(path.view_to_photo(times, (self.view, self.view), photo), (self.view, self.view), photo, border=0)
        region = (rows.start, cols.start, rows.stop - rows.start, cols.stop - cols.start)
        chosen, fallback = choose_objects(annotations, photo, region, 0, self.objects, draw)
        return [(np.asarray(annotations[info["annotation"]]["mask"], np.float32), info) for _, info in chosen], fallback


class Scene:
    """A photo (H×W×C float32) with its moving objects cut out: the background with what they
    cover filled in, and each object's premultiplied colour and mask, back to front."""

    def __init__(self, image: np.ndarray, masks: list[np.ndarray]) -> None:
        self.background = image
        if masks:
            self.background = np.ascontiguousarray(inpaint_under(image.transpose(2, 0, 1), np.stack(masks)).transpose(1, 2, 0))
        self.layers = [(np.ascontiguousarray(image * mask[..., None]), mask) for mask in masks]

    def mean(self, maps: np.ndarray, view: tuple[int, int], offsets: list[np.ndarray]) -> np.ndarray:
        """The mean of the scene over N poses, object k displaced by ``offsets[k]`` (N×2 px): h×w×C."""
        return mean_view(self.background, maps, view, [(colour, mask, shift) for (colour, mask), shift in zip(self.layers, offsets)])


def exposure_box(maps: np.ndarray, view: tuple[int, int], photo: tuple[int, int], border: int = 2) -> tuple[tuple[slice, slice], np.ndarray]:
    """The part of the photo the views of ``maps`` touch (with a ``border`` for the bilinear taps),
    as slices, and the maps moved into it."""
    seen = apply(maps, view_corners(view)[:4]).reshape(-1, 2)
    x0, y0 = (max(0, int(math.floor(v)) - border) for v in seen.min(axis=0))
    x1, y1 = (min(photo[1], int(math.ceil(seen[:, 0].max())) + 1 + border), min(photo[0], int(math.ceil(seen[:, 1].max())) + 1 + border))
    shifted = maps.copy()
    shifted[:, 0, 2] -= x0
    shifted[:, 1, 2] -= y0
    return (slice(y0, y1), slice(x0, x1)), shifted


def averaged_frames(virtual_per_output: float, duty: float) -> int:
    """The odd number of (interpolated) frames one output frame averages: ``duty`` of the
    ``virtual_per_output`` frames of its interval, rounded to an odd number (REDS: 0.8 × 80 → 65)."""
    return 2 * int(math.floor(duty * virtual_per_output / 2 + 1e-9)) + 1


@dataclass(frozen=True)
class ClipPlan:
    """Sequence ``index``: output frames ``start``, ``start + 1``, ... of clip ``clip``'s timeline,
    centred on original frames ``centres``."""

    index: int
    clip: int
    start: int
    centres: tuple[int, ...]


class ClipSequences:
    """The sequences of clips, planned from their frame counts and rates before any pixel is read.

    Args:
        clips: from :func:`blurgen.sources.video.find_clips`.
        timing: output frames per sequence, output frame rate, duty cycle.
        interpolate: frame intervals per original interval after interpolation (1: none).
        clip_fps: the clips' frame rate when their files do not say it (folders of frames), or to override it.
        limit: the first ``limit`` sequences only.

    A clip's timeline holds the output frames whose averaged frames lie inside the clip; it is cut
    into sequences of ``timing.frames`` (a shorter tail is left out). Clips too short for one
    sequence are named in ``too_short``; no sequence at all is a :class:`SourceError`.
    """

    def __init__(self, clips: list[Clip], timing: Timing, *, interpolate: int = 1, clip_fps: float | None = None,
                 root: str = "", unreadable: list[str] | tuple = (), limit: int | None = None) -> None:
        if not clips:
            raise SourceError(f"no video clips under --src {root}" + (f" that OpenCV can read ({', '.join(unreadable)})" if unreadable else ""))
        unknown = [clip.id for clip in clips if clip.fps is None and clip_fps is None]
        if unknown:
            raise SourceError(f"the frame rate of {', '.join(unknown[:5])}{' and more' if len(unknown) > 5 else ''} is unknown "
                              "(folders of frames do not say it): give --clip-fps")
        self.clips, self.timing, self.interpolate, self.clip_fps = clips, timing, interpolate, clip_fps
        self.root, self.unreadable = root, list(unreadable)
        plans = []
        for number, clip in enumerate(clips):
            fps = self.fps(number)
            if fps * interpolate < timing.fps:
                raise SourceError(f"--fps {timing.fps:g} is faster than {clip.id}'s {fps:g} fps × --interpolate {interpolate}: "
                                  "each output frame needs at least one frame of its own")
            reach = self.reach(number)
            step = fps / timing.fps
            timeline = []
            while reach + round(len(timeline) * step) + reach <= clip.frames - 1:
                timeline.append(reach + round(len(timeline) * step))
            for start in range(0, len(timeline) - timing.frames + 1, timing.frames):
                plans.append(ClipPlan(len(plans), number, start, tuple(timeline[start : start + timing.frames])))
        used = {plan.clip for plan in plans}
        self.too_short = [clip.id for number, clip in enumerate(clips) if number not in used]
        if not plans:
            raise SourceError(f"no clip under --src {root} is long enough for a sequence of {timing.frames} frames at {timing.fps:g} "
                              f"fps: give fewer --frames or longer clips")
        self.plans = plans[:limit]

    def fps(self, clip: int) -> float:
        return float(self.clip_fps or self.clips[clip].fps)

    def averaged(self, clip: int) -> int:
        """Frames (after interpolation) each output frame of clip ``clip`` averages."""
        return averaged_frames(self.fps(clip) * self.interpolate / self.timing.fps, self.timing.duty)

    def reach(self, clip: int) -> int:
        """Original frames on each side of an output frame's centre that its average touches."""
        return math.ceil((self.averaged(clip) // 2) / self.interpolate)

    def __len__(self) -> int:
        return len(self.plans)

    def id(self, index: int) -> str:
        plan = self.plans[index]
        return f"{self.clips[plan.clip].id}@{plan.start}"

    def describe(self) -> dict:
        return {"kind": "video clips", "root": self.root, "sequences": len(self), "clips": len(self.clips),
                "frames": sum(clip.frames for clip in self.clips),
                **({"unreadable": self.unreadable} if self.unreadable else {}), **({"too_short": self.too_short} if self.too_short else {})}


class FrameBuffer:
    """A clip's frames read forward once: a window overlapping the last one reuses its frames."""

    def __init__(self, clip: Clip) -> None:
        self.reader, self.first, self.frames = ClipReader(clip), 0, None

    def read(self, first: int, stop: int) -> np.ndarray:
        """Original frames [first, stop) (N×H×W×3)."""
        held = 0 if self.frames is None else max(0, self.first + len(self.frames) - first)
        if held and first >= self.first:
            kept = self.frames[first - self.first : first - self.first + min(held, stop - first)]
            fresh = [self.reader.read(first + len(kept), stop)] if first + len(kept) < stop else []
            frames = np.concatenate([kept, *fresh]) if fresh else kept
        else:  # the usual case: windows do not overlap, and the reader decodes straight into one array
            frames = self.reader.read(first, stop)
        self.first, self.frames = first, frames
        return frames

    def close(self) -> None:
        self.reader.close()


@dataclass
class ClipSequencer:
    """Sequences from clips (:class:`ClipSequences`); ``len = len(sequences)``.

    Args:
        sequences: the planned sequences.
        camera: the camera pipeline; ``response`` replaces its tone curve for averaging, as ``--average`` does.
        crop: square crops of this many px, the same region in every frame of a sequence (default: whole frames).
        flow: the optical flow of interpolation.
        response: ``srgb``, ``gamma`` or ``none``.
        seed: run seed.
    """

    sequences: ClipSequences
    camera: Camera = CAMERA_PRESETS["none"]
    crop: int | None = None
    flow: str = "dis"
    response: str = "srgb"
    seed: int = 0

    def __post_init__(self) -> None:
        check_seed(self.seed)
        self._camera = response_camera(self.camera, self.response)
        self._buffer: FrameBuffer | None = None

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, index: int) -> Sequence:
        return collect(*self.stream(index))

    def __getstate__(self) -> dict:  # an open video cannot travel to a worker; it reopens there
        return {**self.__dict__, "_buffer": None}

    def buffer(self, clip: Clip) -> FrameBuffer:
        if self._buffer is None or self._buffer.reader.clip != clip:
            if self._buffer is not None:
                self._buffer.close()
            self._buffer = FrameBuffer(clip)
        return self._buffer

    def stream(self, index: int) -> tuple[dict, Iterator[Frame]]:
        """Sequence ``index`` frame by frame: its record (``meta["frames"]``, the crop and the bit
        depth fill as frames are made; ``meta["ended"]`` when a scene cut ends it early) and its
        frames, whose sharp frames are the clip's own pixels. The first frame raises
        :class:`BadImage` (``scene_cut``) when its window crosses a cut, :class:`ImageTooSmall` for
        frames smaller than the crop."""
        if not 0 <= index < len(self):
            raise IndexError(f"sequence {index} is out of range for {len(self)} sequences")
        plan = self.sequences.plans[index]
        clip = self.sequences.clips[plan.clip]
        key = sequence_key(self.seed, index)
        draw = draw_from(key)
        draws = draw_camera(self._camera, draw)
        curve = self._camera.tone_curve.drawn(draws)
        steps, averaged, reach = self.sequences.interpolate, self.sequences.averaged(plan.clip), self.sequences.reach(plan.clip)
        half = averaged // 2
        meta = {
            "index": index, "seed": int(self.seed), "kind": "clip", "source_id": self.sequences.id(index), "clip": clip.id,
            "start": plan.start, "clip_fps": self.sequences.fps(plan.clip), "fps": self.sequences.timing.fps,
            "duty": self.sequences.timing.duty, "interpolate": steps, **({"flow": self.flow} if steps > 1 else {}),
            "averaged": averaged, "response": self.response, "camera_draws": draws, "frames": [],
        }

        def frames() -> Iterator[Frame]:
            buffer = self.buffer(clip)
            region = previous = None
            for k, centre in enumerate(plan.centres):
                frames = buffer.read(centre - reach, centre + reach + 1)
                if region is None:
                    region = self.region(frames.shape[1:3], draw)
                    meta.update({"crop_box": dict(zip(("y", "x", "height", "width"), region)),
                                 "bit_depth": 16 if frames.dtype == np.uint16 else 8})
                y, x, height, width = region
                frames = frames[:, y : y + height, x : x + width]
                # a cut inside the window, or between the last window's last frame and this one's first
                cut = scene_cut(frames) if previous is None or scene_cut([previous, frames[0]]) is None else 0
                if cut is not None:
                    if k == 0:
                        raise BadImage(SCENE_CUT, self.sequences.id(index), f"a cut near frame {centre}")
                    meta["ended"] = SCENE_CUT
                    return
                previous = frames[-1]  # the next read makes a new array: this one stays as it is
                virtual = interpolate_frames(frames, steps, self.flow) if steps > 1 else frames
                window = virtual[reach * steps - half : reach * steps + half + 1]
                sharp = np.ascontiguousarray(frames[reach])
                blurred = expose_light(mean_light(window, curve), self._camera, draws, noise_key=frame_noise_key(key, k))
                record = {"frame": plan.start + k, "sharp_frame": centre, "first_frame": centre - reach,
                          "window": [centre * steps - half, centre * steps + half]}
                meta["frames"].append(record)
                yield Frame(blurred, sharp, record)

        return meta, frames()

    def region(self, shape: tuple[int, int], draw) -> tuple[int, int, int, int]:
        """The crop (y, x, height, width) of every frame of a sequence, from its stream."""
        height, width = shape
        if self.crop is None:
            return 0, 0, height, width
        if height < self.crop or width < self.crop:
            raise ImageTooSmall(shape, self.crop, f"crop {self.crop}")
        return (*crop_origin(height, width, self.crop, draw), self.crop, self.crop)
