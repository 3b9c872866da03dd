"""Frames → pair: the average of consecutive video frames, blurred as the camera would have, with
the middle frame as its sharp partner (how GoPro, REDS and DVD were made).

:class:`FrameAverager` is the video counterpart of :class:`blurgen.pairs.synthesizer.PairSynthesizer`: sample
``i`` is window ``i // per_image`` of a :class:`blurgen.sources.video.VideoWindows` source, a pure
function of (seed, i). For each window it

1. refuses a window that crosses a scene cut (:func:`scene_cut`);
2. takes the crop (``crop``: its position from the pair's stream; all frames alike);
3. measures the motion across the window (mean optical-flow magnitude, px) and refuses windows
   that move less than ``min_motion``;
4. interpolates ``interpolate - 1`` frames between neighbours (:mod:`blurgen.pairs.interpolate`);
5. averages the window's frames in linear light through the inverse camera response
   (``response``: the sRGB curve, a 2.2 power law as GoPro's authors used, or none: the encoded
   values, as data sets made so), then applies the camera's noise and JPEG, as kernel pairs do,
   and re-encodes.

The sharp image is the window's middle original frame, untouched.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import NamedTuple

import cv2
import numpy as np
from numba import njit

from blurgen.blurring.camera import (
    CAMERA_PRESETS, Camera, CameraDraws, ToneCurve, draw_camera, expose_light, linear_table, linearise, response_camera,
)
from blurgen.pairs.interpolate import interpolate_frames, mean_motion, thumbnail
from blurgen.pairs.settings import PAIR_DEFAULTS, PairSettings
from blurgen.pairs.synthesizer import PAIRS_PURPOSE, ImageTooSmall, Pair, crop_origin, source_facts, to_unit_float
from blurgen.rng import check_seed, derive_seed, stream_key, uniform
from blurgen.settings import check_setting
from blurgen.sources.images import BadImage
from blurgen.sources.video import parse_lengths

SCENE_CUT = "scene_cut"
STILL = "below_min_motion"
CUT_MIN = 0.08  # a cut's thumbnail difference (mean |Δ| of grey in [0, 1]) is at least this ...
CUT_RATIO = 3.0  # ... and this many times the window's median difference between neighbours,
CUT_UNEXPLAINED = 0.05  # ... or what is left of it once the best shift is undone is at least this
THUMB = 64  # px: the side of the grey thumbnails compared


@dataclass(frozen=True)
class Averaging:
    """How a window of frames becomes a blurred image.

    Args:
        lengths: (low, high): each window averages an odd number of frames in this range,
            counted after interpolation (GoPro: 7 to 23 at 240 fps).
        interpolate: frame intervals per original interval (1: the clip's own frames).
        flow: the optical flow of interpolation, ``"dis"`` or ``"farneback"``.
        min_motion: windows whose content moves less than this many px across them are skipped.
        response: the inverse camera response averaging happens through: ``"srgb"``,
            ``"gamma"`` (a 2.2 power law) or ``"none"`` (the encoded values).
    """

    lengths: tuple[int, int] = (7, 23)
    interpolate: int = PAIR_DEFAULTS["interpolate"]
    flow: str = PAIR_DEFAULTS["flow"]
    min_motion: float = PAIR_DEFAULTS["min_motion"]
    response: str = PAIR_DEFAULTS["response"]

    def __post_init__(self) -> None:  # the pair settings table's own rules, not a second copy of them
        parse_lengths(f"{self.lengths[0]}-{self.lengths[1]}")
        for name in ("interpolate", "flow", "min_motion", "response"):
            check_setting(PairSettings, name, getattr(self, name))
        if self.caveat:
            warnings.warn(self.caveat, stacklevel=3)

    @property
    def caveat(self) -> str | None:
        """What a user should know before using these settings, or None."""
        if self.lengths[0] == 1:
            return (f"average {self.lengths[0]}-{self.lengths[1]} includes windows of 1 frame, whose blurred image is the sharp "
                    "frame itself (with the camera's noise only)")
        return None

    def to_dict(self) -> dict:
        return {**asdict(self), "lengths": list(self.lengths)}


def unexplained_change(first: np.ndarray, second: np.ndarray) -> float:
    """Mean |Δ| between two grey thumbnails (float32 in [0, 1]) after undoing the translation that
    best maps one onto the other (phase correlation): small for frames of one shot, however fast
    the camera pans, large for unrelated pictures."""
    side = first.shape[0]
    taper = cv2.createHanningWindow((side, side), cv2.CV_64F)  # without it the frame's edges dominate the match
    (dx, dy), _ = cv2.phaseCorrelate(first.astype(np.float64), second.astype(np.float64), taper)
    margin = int(np.ceil(max(abs(dx), abs(dy)))) + 1
    if margin >= side // 4:  # too little overlap to compare: the change stays unexplained
        return float(np.abs(second - first).mean())
    aligned = cv2.warpAffine(second, np.float32([[1, 0, -dx], [0, 1, -dy]]), (side, side), borderMode=cv2.BORDER_REFLECT)
    return float(np.abs(aligned - first)[margin:-margin, margin:-margin].mean())


def scene_cut(frames: np.ndarray | list[np.ndarray]) -> int | None:
    """The first frame after a cut in ``frames`` (N×H×W×C, or a list of H×W×C), or None: a difference between
    neighbours (64-px grey thumbnails) that no shift of the picture explains, or one far above the
    others of the window and large. The first rule needs no typical step, so a window of
    unrelated stills, every step of which is a cut, is caught too."""
    if len(frames) < 2:
        return None
    thumbs = [cv2.resize(thumbnail(frame, 2 * THUMB), (THUMB, THUMB), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
              for frame in frames]
    steps = np.array([np.abs(b - a).mean() for a, b in zip(thumbs, thumbs[1:])])
    typical = np.median(steps)
    for k, step in enumerate(steps):
        if step >= CUT_UNEXPLAINED and unexplained_change(thumbs[k], thumbs[k + 1]) >= CUT_UNEXPLAINED:
            return k + 1
        if step >= CUT_MIN and step >= CUT_RATIO * max(typical, 1e-3) - 1e-9 and (len(steps) > 1 or step >= 2 * CUT_MIN):
            return k + 1
    return None


def mean_light(frames: np.ndarray, curve: ToneCurve) -> np.ndarray:
    """The mean linear light of ``frames`` (N×H×W×C, uint8, uint16 or float in [0, 1], encoded by
    ``curve``): float32 C×H×W, each frame summed in order in float32, then scaled by 1/N."""
    if frames.dtype in (np.uint8, np.uint16):  # one pass through a lookup table, not a float image per frame
        table = linear_table(curve, np.iinfo(frames.dtype).max + 1)
        out = np.empty((frames.shape[3], frames.shape[1], frames.shape[2]), np.float32)
        _mean_through_table(np.ascontiguousarray(frames), table, out)
        return out
    total = np.zeros(frames.shape[1:], np.float32)
    for frame in frames:
        total += linearise(np.ascontiguousarray(frame), curve)
    total *= np.float32(1 / len(frames))
    return np.ascontiguousarray(total.transpose(2, 0, 1))


@njit(cache=True)
def _mean_through_table(frames: np.ndarray, table: np.ndarray, out: np.ndarray) -> None:
    # Frame by frame over the whole image (long runs the CPU streams through), each sum in frame
    # order in float32 and then scaled: the very values of summing float images one by one.
    count, height, width, channels = frames.shape
    size = height * width * channels
    total = np.empty(size, np.float32)
    first = frames[0].reshape(size)
    for i in range(size):
        total[i] = table[first[i]]
    for frame in range(1, count):
        values = frames[frame].reshape(size)
        for i in range(size):
            total[i] += table[values[i]]
    scale = np.float32(1.0 / count)
    for y in range(height):
        for x in range(width):
            for channel in range(channels):
                out[channel, y, x] = total[(y * width + x) * channels + channel] * scale


class AveragePlan(NamedTuple):
    """What sample ``index`` was made from (a writer stores ``kernel``: None, there is none)."""

    index: int
    key: int
    region: tuple[int, int, int, int]  # y, x, height, width of the crop in the frames
    draws: CameraDraws
    kernel: None = None


@dataclass
class FrameAverager:
    """Deterministic (blurred, sharp) pairs from video windows; ``len = len(source) · per_image``."""

    source: object  # blurgen.sources.video.VideoWindows
    camera: Camera = CAMERA_PRESETS["none"]
    crop: int | None = None
    seed: int = 0
    per_image: int = 1
    averaging: Averaging = Averaging()

    def __post_init__(self) -> None:
        check_seed(self.seed)
        self._pair_seed = np.uint64(derive_seed(self.seed, PAIRS_PURPOSE))
        self._camera = response_camera(self.camera, self.averaging.response)

    def __len__(self) -> int:
        return len(self.source) * self.per_image

    def __getitem__(self, index: int) -> Pair:
        if not 0 <= index < len(self):
            raise IndexError(f"sample {index} is out of range for {len(self)} samples")
        return self.make_with_map(self.source[index // self.per_image], index)[0]

    def make_with_map(self, frames: np.ndarray, index: int) -> tuple[Pair, AveragePlan, None]:
        """Sample ``index`` from its window's original frames (N×H×W×3, as the source reads them).

        Raises :class:`BadImage` (``scene_cut``, ``below_min_motion``) for a window that cannot
        make a pair and :class:`ImageTooSmall` for frames smaller than the crop.
        """
        number = index // self.per_image
        window = self.source.windows[number]
        first, _ = window.span(self.averaging.interpolate)
        name = self.source.id(number)
        cut = scene_cut(frames)
        if cut is not None:
            raise BadImage(SCENE_CUT, name, f"a cut before frame {first + cut}")
        key = np.uint64(stream_key(self._pair_seed, np.uint64(index)))

        def draw(counter: int) -> float:
            return uniform(key, np.uint64(counter))

        height, width = frames.shape[1:3]
        region = (0, 0, height, width)
        if self.crop is not None:
            if height < self.crop or width < self.crop:
                raise ImageTooSmall(frames.shape[1:3], self.crop, f"crop {self.crop}")
            y, x = crop_origin(height, width, self.crop, draw)
            region = (y, x, self.crop, self.crop)
            frames = frames[:, y : y + self.crop, x : x + self.crop]
        motion = mean_motion(frames)
        if motion < self.averaging.min_motion:
            raise BadImage(STILL, name, f"{motion:.2f} px of motion, less than {self.averaging.min_motion:g}")
        steps = self.averaging.interpolate
        middle = window.centre - first
        sequence = interpolate_frames(frames, steps, self.averaging.flow) if steps > 1 else frames
        half = window.length // 2
        averaged = sequence[middle * steps - half : middle * steps + half + 1]
        sharp = np.ascontiguousarray(frames[middle])
        draws = draw_camera(self._camera, draw)
        curve = self._camera.tone_curve.drawn(draws)
        blurred = expose_light(mean_light(averaged, curve), self._camera, draws, noise_key=int(key))
        plan = AveragePlan(index, int(key), region, draws)
        meta = {**self.metadata(plan, window, first, motion), **source_facts(self.source, number, frames)}
        return Pair(blurred, to_unit_float(sharp), meta), plan, None

    def metadata(self, plan: AveragePlan, window: object, first: int, motion: float) -> dict:
        clip = self.source.clips[window.clip]
        y, x, height, width = plan.region
        steps = self.averaging.interpolate
        return {
            "index": plan.index,
            "seed": int(self.seed),
            "source_index": plan.index // self.per_image,
            "source_id": self.source.id(plan.index // self.per_image),
            "clip": clip.id,
            "first_frame": first,
            "sharp_frame": window.centre,
            "frames": window.length,  # averaged, after interpolation
            "fps": clip.fps,
            "interpolate": steps,
            **({"flow": self.averaging.flow} if steps > 1 else {}),
            "motion_px": round(motion, 3),
            "response": self.averaging.response,
            "crop_box": {"x": x, "y": y, "width": width, "height": height},
            "kernel": None,
            "camera": self._camera.to_dict(),
            "camera_draws": plan.draws,
        }
