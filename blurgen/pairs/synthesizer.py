"""Camera → pair: sample i = (blurred, sharp, metadata), a pure function of (seed, i).

A :class:`PairSynthesizer` combines a sharp source (anything with ``len`` and integer indexing
that returns H×W×C images), a kernel source (a bank, or live sampling), a camera and a crop size.
Sample ``i`` reads source image ``i // per_image``; its crop position, kernel choice, camera
values and noise come from the counter-based stream of (seed, i), so the same seed gives the same
pair in any process, in any order.

With ``crop=S`` the synthesiser cuts a sharp region of side S+K-1 (K the kernel source's odd
side), blurs it with ``border="valid"`` and pairs the S×S result with the centre of the region:
no border artefacts, no shift. With ``views`` (:class:`Views`) the region is first read larger and
shrunk, and turned or flipped, so that few source images give many scenes. With ``motion``
(:class:`blurgen.pairs.motion.Motion`) the blur varies across the image instead (camera rotation,
moving objects): the region's margin is then what the sample's camera path needs, and
:meth:`PairSynthesizer.make_with_map` also returns the per-pixel blur map. With ``crop=None`` the
whole image is blurred with reflected borders (``whole_border="reflect"``: the pair keeps the image's
size), or 'valid' (``whole_border="valid"``: both images lose the kernel's margin, as evaluation
sets are made: no border artefact at all). Pairs are always 3-channel RGB float32 in [0, 1]:
grey sources are repeated to three channels and transparent ones composited over white.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NamedTuple, Protocol

import cv2
import numpy as np

from blurgen.kernels.bank import KernelBank, sample_kernels
from blurgen.blurring.camera import CAMERA_PRESETS, Camera, CameraDraws, draw_camera, expose, expose_with
from blurgen.blurring.convolve import as_float_image, odd_size
from blurgen.pairs.motion import choose_objects, instance_masks, margin_for, render_pair_planes, rotation_path
from blurgen.pairs.settings import PAIR_DEFAULTS, PairSettings, check_views
from blurgen.kernels.presets import KernelSpec, kernel_spec
from blurgen.rng import PairCounter, check_seed, derive_seed, stream_key, uniform
from blurgen.settings import check_choice, check_setting
from blurgen.sources.images import is_transparent, json_safe_name, to_rgb

PAIRS_PURPOSE = 0x50414952  # "PAIR": pair draws use derive_seed(seed, PAIRS_PURPOSE)


class SharpSource(Protocol):
    """Sharp images by index: H×W or H×W×C (C = 1, 3, 4), uint8, uint16 or float in [0, 1]."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> np.ndarray: ...


class KernelSource(Protocol):
    """Kernels by sample: ``kernel(i, uniform)`` returns (K×K float32 PSF, metadata dict)."""

    size: int

    def kernel(self, index: int, uniform: Callable[[int], float]) -> tuple[np.ndarray, dict]: ...


def source_facts(source: object, source_index: int, image: np.ndarray) -> dict:
    """What a pair records of the source image it was made from, beyond its id: the EXIF
    orientation it was stored in, when it was read turned upright, and its bit depth (8 or 16)."""
    turned = getattr(getattr(source, "source", source), "orientations", {})
    return {**({"exif_orientation": turned[source_index]} if source_index in turned else {}),
            "bit_depth": 16 if np.asarray(image).dtype == np.uint16 else 8}


class ImageTooSmall(ValueError):
    """The source image is smaller than a pair needs: ``needed`` px a side (a crop: the crop plus
    the blur's margin on both sides; a whole image: the kernel's side, or the camera motion's
    margin on both sides)."""

    def __init__(self, shape: tuple[int, ...], needed: int, why: str) -> None:
        self.shape, self.needed = tuple(shape[:2]), needed
        super().__init__(f"image {shape[0]}×{shape[1]} is smaller than {why} ({needed} px a side)")


@dataclass(frozen=True)
class BankKernels:
    """Each sample picks a kernel of ``bank`` uniformly at random (from its own stream)."""

    bank: KernelBank

    @property
    def size(self) -> int:
        return self.bank.size

    def kernel(self, index: int, uniform: Callable[[int], float]) -> tuple[np.ndarray, dict]:
        if len(self.bank) == 0:
            raise ValueError("the kernel bank is empty")
        choice = min(int(uniform(PairCounter.KERNEL) * len(self.bank)), len(self.bank) - 1)
        kernel, meta = self.bank[choice]
        return kernel, {"bank_index": choice, **meta}


@dataclass(frozen=True)
class LiveKernels:
    """Sample i gets trajectory i of ``seed``: the same kernel ``sample_kernels(n, seed=seed)`` holds at i.

    The preset (a name or a ``.json`` file, with ``overrides`` of a Markov spec) is resolved once,
    here: an unknown preset fails now, and a preset file is read once, not for every sample.
    """

    seed: int = PAIR_DEFAULTS["seed"]
    preset: str = PAIR_DEFAULTS["preset"]
    size: int = PAIR_DEFAULTS["kernel_size"]
    exposure: float = 1.0
    overrides: dict = field(default_factory=dict)
    spec: KernelSpec = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spec", kernel_spec(self.preset, **self.overrides))

    def kernel(self, index: int, uniform: Callable[[int], float]) -> tuple[np.ndarray, dict]:
        bank = sample_kernels([index], seed=self.seed, size=self.size, preset=self.preset, spec=self.spec,
                              exposure=self.exposure, workers=1)
        kernel, meta = bank[0]
        return kernel, {"preset": self.preset, **meta}


@dataclass(frozen=True)
class Views:
    """Random views of the sharp source, taken before the blur: more scenes from few images.

    Args:
        orientations: each sample turns its region into one of the square's 8 orientations
            (identity, quarter turns, flips, transposes), drawn uniformly.
        min_scale: each sample shrinks its region by a factor drawn uniformly from
            [min_scale, 1] (area averaging: the view stays sharp); 1 keeps the source's pixels.
            Views are never enlarged, which would blur the sharp image.
    """

    orientations: bool = PAIR_DEFAULTS["orientations"]
    min_scale: float = PAIR_DEFAULTS["min_scale"]

    def __post_init__(self) -> None:
        check_setting(PairSettings, "min_scale", self.min_scale)

    @property
    def identity(self) -> bool:
        return not self.orientations and self.min_scale == 1.0


def orient(image: np.ndarray, orientation: int) -> np.ndarray:
    """``image`` (H×W or H×W×C) in orientation 0–7: ``orientation % 4`` quarter turns, transposed when >= 4."""
    if not 0 <= orientation < 8:
        raise ValueError(f"orientation must be 0..7, got {orientation}")
    if orientation >= 4:
        image = image.swapaxes(0, 1)
    return np.rot90(image, orientation % 4)


class Pair(NamedTuple):
    """One training pair: blurred and sharp float32 S×S×3 in [0, 1], and how it was made."""

    blurred: np.ndarray
    sharp: np.ndarray
    meta: dict


@dataclass(frozen=True)
class PairPlan:
    """Everything random about sample ``index``, decided before any pixel is touched."""

    index: int
    source_index: int
    key: int
    region: tuple[int, int, int, int]  # y, x, height, width of the sharp region read
    margin: int  # pixels the blur consumes on each side of the pair inside the region
    kernel: np.ndarray | None  # None for motion blur, which has no single kernel
    kernel_meta: dict
    draws: CameraDraws
    rotation_path: object = None  # blurgen.blurring.motion.RotationPath of a motion pair
    orientation: int = 0  # of the view (see :func:`orient`); the region is read, shrunk, then oriented


ALPHA_BACKGROUND = "white"  # what a transparent source is composited over, as pair metadata records it


def crop_origin(height: int, width: int, side: int, draw: Callable[[int], float]) -> tuple[int, int]:
    """(y, x) of a ``side``-px square in a height×width image, uniform over every position, from a
    sample's draws (``draw(counter)`` in [0, 1)): the crop of pairs and of video sequences alike."""
    y = min(int(draw(PairCounter.CROP_Y) * (height - side + 1)), height - side)
    x = min(int(draw(PairCounter.CROP_X) * (width - side + 1)), width - side)
    return y, x


def to_unit_float(image: np.ndarray) -> np.ndarray:
    """float32 in [0, 1] from uint8, uint16 or float pixels (floats are taken as already in [0, 1])."""
    return as_float_image(image)[0].astype(np.float32, copy=False)


@dataclass
class PairSynthesizer:
    """Deterministic (blurred, sharp) pairs from a sharp source; ``len = len(source) · per_image``."""

    source: SharpSource
    kernels: KernelSource
    camera: Camera | str = field(default_factory=lambda: CAMERA_PRESETS["none"])  # a Camera, or a preset's name
    crop: int | None = 256
    seed: int = 0
    per_image: int = 1
    motion: object = None  # blurgen.pairs.motion.Motion, or None for one kernel per image
    views: Views = field(default_factory=Views)
    whole_border: str = "reflect"  # with crop=None: "reflect" (same size) or "valid" (the kernel's margin cut off)

    def __post_init__(self) -> None:
        check_seed(self.seed)
        if isinstance(self.camera, str):
            check_choice("camera", self.camera, CAMERA_PRESETS)
            self.camera = CAMERA_PRESETS[self.camera]
        elif not isinstance(self.camera, Camera):
            raise TypeError(f"camera must be a Camera or a preset's name ({', '.join(CAMERA_PRESETS)}), got {type(self.camera).__name__}")
        check_setting(PairSettings, "crop", self.crop)
        check_views(self.crop, self.motion is None, self.views.orientations, self.views.min_scale)
        check_choice("whole_border", self.whole_border, ("reflect", "valid"))
        if self.per_image < 1:
            raise ValueError(f"per_image must be >= 1, got {self.per_image}")
        self._pair_seed = np.uint64(derive_seed(self.seed, PAIRS_PURPOSE))

    def __len__(self) -> int:
        return len(self.source) * self.per_image

    @property
    def margin(self) -> int:
        """Pixels a 'valid' blur consumes on each side: (K-1)/2 for the source's odd kernel side K."""
        return odd_size(self.kernels.size) // 2

    def plan(self, index: int, image_shape: tuple[int, ...]) -> PairPlan:
        """Draw crop, kernel and camera values of sample ``index`` for a source of ``image_shape``.

        Any index >= 0 has a plan (a trainer streams more samples than the source has images);
        :meth:`__getitem__` bounds it to ``len(self)``.
        """
        if index < 0:
            raise IndexError(f"sample {index} is negative")
        key = np.uint64(stream_key(self._pair_seed, np.uint64(index)))

        def draw(counter: int) -> float:
            return uniform(key, np.uint64(counter))

        height, width = image_shape[:2]
        path, margin = None, self.margin
        if self.motion is not None:
            path = rotation_path(self.motion, self.seed, index, draw, image_shape)
            margin = margin_for(path, image_shape)
        if self.crop is None:
            region = (0, 0, height, width)
            if self.motion is not None and min(height, width) <= 2 * margin:
                raise ImageTooSmall(image_shape, 2 * margin + 1, "the camera motion's margin on both sides")
            if self.motion is None and min(height, width) < 2 * margin + 1:
                raise ImageTooSmall(image_shape, 2 * margin + 1, "the kernel")
        else:
            side = self.crop + 2 * margin
            scale = 1.0 - (1.0 - self.views.min_scale) * draw(PairCounter.SCALE) if self.views.min_scale < 1 else 1.0
            side = max(side, min(math.ceil(side / scale), height, width))  # the source pixels a shrunk view reads
            if height < side or width < side:
                raise ImageTooSmall(image_shape, side, f"crop {self.crop} plus the blur's margin of {(side - self.crop) // 2} px on "
                                    "each side" + (" at this view's scale" if self.views.min_scale < 1 else ""))
            y, x = crop_origin(height, width, side, draw)
            region = (y, x, side, side)
        if self.motion is not None:
            return PairPlan(index, index // self.per_image, int(key), region, margin, None, {}, draw_camera(self.camera, draw), path)
        kernel, kernel_meta = self.kernels.kernel(index, draw)
        orientation = min(int(draw(PairCounter.ORIENTATION) * 8), 7) if self.views.orientations else 0
        valid = self.crop is not None or self.whole_border == "valid"
        return PairPlan(index, index // self.per_image, int(key), region, self.margin if valid else 0,
                        kernel, kernel_meta, draw_camera(self.camera, draw), orientation=orientation)

    def sharp_region(self, index: int) -> tuple[np.ndarray, PairPlan]:
        """The sharp region sample ``index`` blurs (RGB, in the source's dtype) and its plan."""
        return self.region_from(self.source[index // self.per_image], index)

    def region_from(self, image: np.ndarray, index: int) -> tuple[np.ndarray, PairPlan]:
        """As :meth:`sharp_region`, for the source image already read (sample ``index`` uses it)."""
        plan = self.plan(index, np.shape(image))
        y, x, height, width = plan.region
        region = to_rgb(np.asarray(image)[y : y + height, x : x + width])
        side = self.crop + 2 * plan.margin if self.crop else height
        if height != side:
            region = cv2.resize(region, (side, side), interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(orient(region, plan.orientation)), plan

    def metadata(self, plan: PairPlan) -> dict:
        """What a pair's metadata records: source, crop box, kernel and the camera's draws."""
        y, x, height, width = plan.region
        m = plan.margin
        source_id = self.source.id(plan.source_index) if hasattr(self.source, "id") else str(plan.source_index)
        view = {}
        if not self.views.identity:
            scale = (self.crop + 2 * m) / height
            view = {"view": {"scale": scale, "orientation": plan.orientation}}
            m = round(m / scale)
        source_id, source_bytes = json_safe_name(source_id) if isinstance(source_id, str) else (source_id, None)
        return {
            "index": plan.index,
            "seed": int(self.seed),
            "source_index": plan.source_index,
            "source_id": source_id,
            **({"source_id_bytes": source_bytes} if source_bytes else {}),
            "crop_box": {"x": x + m, "y": y + m, "width": width - 2 * m, "height": height - 2 * m},
            **view,
            "kernel": plan.kernel_meta if plan.kernel is not None else None,
            "camera": self.camera.to_dict(),
            "camera_draws": plan.draws,
        }

    def pair_from(self, image: np.ndarray, index: int) -> Pair:
        """Sample ``index`` made from its source image, already read (the writer reads each once)."""
        return self.make(image, index)[0]

    def make(self, image: np.ndarray, index: int) -> tuple[Pair, PairPlan]:
        """:meth:`pair_from` and the plan it followed (its kernel, for writers that store it)."""
        pair, plan, _ = self.make_with_map(image, index)
        return pair, plan

    def make_with_map(self, image: np.ndarray, index: int) -> tuple[Pair, PairPlan, np.ndarray | None]:
        """:meth:`make` and, for motion blur, the blur map (float32 S×S, px of path; else None)."""
        region, plan = self.region_from(image, index)
        m = plan.margin
        sharp = to_unit_float(region[m : region.shape[0] - m, m : region.shape[1] - m])
        meta = self.metadata(plan)
        if is_transparent(image):
            meta["alpha"] = f"composited over {ALPHA_BACKGROUND}"
        if self.motion is None:
            border = "reflect" if plan.margin == 0 else "valid"
            blurred = expose(region, plan.kernel, self.camera, plan.draws, noise_key=plan.key, border=border)
            return Pair(blurred, sharp, {**meta, **source_facts(self.source, plan.source_index, image)}), plan, None
        blurred, blur_map, meta["motion"] = self.motion_blur(region, plan, np.shape(image))
        return Pair(blurred, sharp, {**meta, **source_facts(self.source, plan.source_index, image)}), plan, blur_map

    def motion_blur(self, region: np.ndarray, plan: PairPlan, image_shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, dict]:
        key = np.uint64(plan.key)

        def draw(counter: int) -> float:
            return uniform(key, np.uint64(counter))

        objects, fallback = [], None
        if self.motion.kind in ("objects", "mixed"):
            annotations = instance_masks(self.source, plan.source_index)
            objects, fallback = choose_objects(annotations, image_shape, plan.region, plan.margin, self.motion.max_objects, draw)
        if self.motion.kind == "objects" and objects:
            plan = replace(plan, rotation_path=None)  # a still camera: only the objects move
        made = {}

        def blur(planes: np.ndarray) -> np.ndarray:
            made["blurred"], made["map"], made["meta"] = render_pair_planes(planes, plan, self.motion, self.seed, image_shape, objects, draw)
            return made["blurred"]

        blurred = expose_with(to_rgb(region), blur, self.camera, plan.draws, noise_key=plan.key)
        return blurred, made["map"], {**made["meta"], "fallback": fallback}

    def __getitem__(self, index: int) -> Pair:
        if not 0 <= index < len(self):
            raise IndexError(f"sample {index} is out of range for {len(self)} samples")
        return self.pair_from(self.source[index // self.per_image], index)
