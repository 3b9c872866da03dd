"""The settings that describe a pair, each written once: source, kernels, camera, motion, views,
seed, and video averaging.

:class:`PairSettings` is the table. ``blurgen dataset`` (:class:`blurgen.output.dataset.DatasetConfig`
adds where and how the pairs are written) and ``train`` (``train.config.TrainConfig`` takes these
fields with its own defaults) generate their options from it, and :func:`check_pairs` applies the
same bounds and rules to all three ways in: the two commands and Python. Adding a pair setting is
one field here, plus the code that uses it.

What the settings build (the source, the kernels, the pair maker) is :mod:`blurgen.pairs.build`.
"""

from __future__ import annotations

import os

from dataclasses import dataclass, fields, replace
from typing import Any

from blurgen.blurring.camera import CAMERA_PRESETS, RESPONSES, camera_preset, response_camera
from blurgen.pairs.interpolate import FLOWS
from blurgen.blurring.motion import MOTION_ALIASES, MOTIONS, SHAKES
from blurgen.kernels.presets import kernel_spec
from blurgen.settings import SettingError, check_options, convert_types, defaults, literal, option, options
from blurgen.sources import BUILTIN_CORPORA
from blurgen.sources.video import parse_lengths


@dataclass
class PairSettings:
    """What decides each pair's pixels (``blurgen dataset --help`` shows them); the defaults are
    ``blurgen dataset``'s."""

    src: str | None = option(None, "Sharp images: a COCO root, a GoPro_Large root or split, the output of 'blurgen dataset', or "
                             "any folder. Default: the built-in corpus of --builtin.", path=True)
    builtin: str = option("dead-leaves", "The built-in corpus when no --src is given: dead-leaves (procedural), photos (18 "
                          "greyscale and tinted photographs that ship in scikit-image, in no evaluation set) or "
                          "photos+leaves (those, and 18 colour dead-leaves images whose leaves are cut from them).",
                          choices=BUILTIN_CORPORA)
    crop: int | None = option(None, "Square crops of this many px (default: whole images, reflected borders). A crop is cut "
                              "from a region with the kernel's margin on each side, so an image needs crop + kernel size - 1 "
                              "px a side (320 for --crop 256 with 65-px kernels; whole images: the kernel's size); smaller "
                              "ones are skipped as too_small.", minimum=1)
    kernels: str | None = option(None, "Kernel bank (.npz from 'blurgen kernels'); default: sample kernels live.", path=True)
    preset: str = option("deblurgan", "Live kernels: preset, as for 'blurgen kernels': a Markov preset (deblurgan: the paper's, "
                         "mild, strong, anxious), one family (line, arc, walk, still, disk), mixture (Markov shake, lines, arcs, "
                         "smooth walks and near-still kernels) or a preset .json.", group="live")
    expl: str | None = option(None, "Live kernels: anxiety value, range or set, as for 'blurgen kernels'.", group="live")
    kernel_size: int = option(65, "Live kernels: side in px.", minimum=3, maximum=1025, group="live")
    camera: str = option("none", "Camera pipeline: none blurs the sRGB values, gamma blurs in linear light, noisy blurs the sRGB values and adds shot and read noise, mixed draws each "
                         "pair's gamma exponent from U(1, 2.2), realistic adds saturation and sensor noise, wide draws per pair "
                         "mixed's exponent, saturation, noise from none to 1.5x and JPEG 75-95 for half the pairs, raw blurs in camera raw "
                         "(white balance divided out, saturation, an RGGB Bayer mosaic with shot and read noise, demosaicking, "
                         "JPEG 75-95 for half the pairs; after RSBlur).",
                         choices=tuple(CAMERA_PRESETS))
    motion: str = option("uniform", "uniform (one kernel per pair), rotation (the camera rotates: blur varies across the image; "
                         "'camera' is its former name), objects (annotated objects move, the camera is still) or mixed (both). "
                         "Non-uniform pairs come with a blur map.", choices=MOTIONS + tuple(MOTION_ALIASES))
    shake: str = option("shake", "With --motion rotation/mixed: shake (the centre blurs like a deblurgan kernel, roll up to 2 "
                        "degrees), kohler (recorded hand shake: fractions of a degree) or roll.", choices=SHAKES)
    fov: float = option(60.0, "With --motion: the photos' horizontal field of view in degrees (sets the focal length).",
                        minimum=1.0, maximum=170.0)
    orientations: bool = option(False, "With --crop: each pair's sharp region in one of its 8 orientations (quarter turns, "
                                "flips), drawn per pair.", flags=("--orientations/--no-orientations",))
    min_scale: float = option(1.0, "With --crop: each pair's sharp region shrunk by a factor drawn from [min-scale, 1] before the "
                              "blur (more scenes per photo, finer detail); 1 keeps the source's pixels.", above=0.0, maximum=1.0)
    seed: int = option(0, "Run seed; pair i depends only on (seed, i).", minimum=0)
    # Pairs from video: the average of consecutive frames, the middle one sharp (blurgen.pairs.video)
    average: str | None = option(None, "Make pairs from video instead of kernels: --src holds clips (video files, folders of "
                                 "frames, GoPro_Large's sharp frames); each pair averages an odd number of consecutive frames "
                                 "drawn from this range (7-23: GoPro's) and pairs it with the middle frame.")
    interpolate: int = option(1, "With --average: frames per original frame interval after optical-flow interpolation (8: "
                              "7 frames inserted), for clips too slow for smooth blur (motion of more than a pixel or two "
                              "between frames); 1: none.", minimum=1, maximum=64, group="video")
    flow: str = option("dis", "With --interpolate: OpenCV's optical flow, dis or farneback.", choices=FLOWS, group="video")
    stride: int | None = option(None, "With --average: original frames between successive windows' middle frames (default: "
                                "the longest window's span, so windows do not overlap).", minimum=1, group="video")
    per_clip: int | None = option(None, "With --average: at most this many windows of each clip, spread evenly over it.", minimum=1, group="video")
    min_motion: float = option(0.0, "With --average: skip windows whose content moves less than this many px across them "
                               "(mean optical-flow magnitude); 0 keeps every window.", minimum=0.0, group="video")
    response: str = option("srgb", "With --average: the inverse camera response frames are averaged through: srgb, gamma (a 2.2 "
                           "power law, as GoPro's authors used) or none (the encoded values, as data sets made so); --camera "
                           "adds its noise and JPEG after.", choices=RESPONSES, group="video")
    def __post_init__(self) -> None:
        """Refuse here, in the commands' words, what ``blurgen dataset`` refuses: a value of the
        wrong type (text of a number is converted, as on a command line), out of bounds, or that
        the other settings would leave unused."""
        convert_types(self)
        check_pairs(self)
        check_pairs_used(self)


PAIR_SETTINGS = tuple(f.name for f in fields(PairSettings))
PAIR_DEFAULTS = defaults(PairSettings)
LIVE_KERNEL_SETTINGS = tuple(name for name, described in options(PairSettings).items() if described.group == "live")
VIDEO_SETTINGS = tuple(name for name, described in options(PairSettings).items() if described.group == "video")


def pair_option(name: str, default: Any = None, *, note: str = "", **changes: Any) -> Any:
    """A field of another settings table that is pair setting ``name``: its help, choices and bounds
    come from :class:`PairSettings`; ``note`` is added to the help (what the setting means in that
    command); ``default`` and ``changes`` (e.g. ``kept``, ``paper``) are the table's own."""
    table = options(PairSettings)[name]
    described = replace(table, **{"help": f"{table.help} {note}" if note else table.help, **changes})
    return option(default, **{f.name: getattr(described, f.name) for f in fields(described)})


def pair_value(settings: Any, name: str) -> Any:
    """Setting ``name`` of any table that holds pair settings; a table that does not hold it (the
    trainer's has no video averaging, kernel size or field of view) gets the pair table's default."""
    return getattr(settings, name, PAIR_DEFAULTS[name])


def check_views(crop: int | None, uniform: bool, orientations: bool, min_scale: float) -> None:
    """Views (orientations, shrinking) turn a crop of uniform blur: a :class:`SettingError` otherwise."""
    if orientations or min_scale != 1:
        which = "orientations" if orientations else "min_scale"
        if crop is None:
            raise SettingError(f"{{{which}}} needs {{crop}}: whole images keep their own geometry")
        if not uniform:
            raise SettingError(f"{{{which}}} applies to uniform blur; motion blur follows the source's own geometry")


def check_pairs(settings: Any) -> None:
    """The pair settings' choices, bounds and rules, for any table that holds them (those it holds),
    as a :class:`SettingError` naming the settings; nothing is read or built."""
    held = [name for name in PAIR_SETTINGS if hasattr(settings, name)]
    check_options(settings, held)
    uniform = settings.motion == "uniform"
    check_views(pair_value(settings, "crop"), uniform, settings.orientations, settings.min_scale)
    if not uniform and settings.kernels:
        raise SettingError(f"{{motion}} {settings.motion} blurs by camera and object motion, not kernels: drop {{kernels}}")
    if settings.kernels and not os.path.exists(settings.kernels):
        raise SettingError("{kernels} " + literal(f"{settings.kernels} does not exist (a kernel bank is the kernels.npz 'blurgen kernels' writes)"))
    if pair_value(settings, "average") is not None:
        try:
            parse_lengths(settings.average)
        except ValueError as error:
            raise SettingError("{average} " + literal(str(error))) from None
        if not uniform or settings.kernels or settings.orientations or settings.min_scale != 1:
            which = "motion" if not uniform else "kernels" if settings.kernels else "orientations" if settings.orientations else "min_scale"
            raise SettingError(f"{{average}} makes pairs from video frames, which {{{which}}} does not apply to: drop one of them")
        try:
            response_camera(camera_preset(settings.camera), pair_value(settings, "response"))
        except ValueError as error:
            raise SettingError("{camera}: " + literal(str(error))) from None
    try:
        kernel_spec(settings.preset, expl=pair_value(settings, "expl"))
    except (ValueError, TypeError) as error:
        raise SettingError("{preset}: " + literal(str(error))) from None


def check_pairs_used(settings: Any) -> None:
    """For a command line: a pair setting given that the others make unused is a :class:`SettingError`
    (given = different from the table's default)."""
    start = defaults(type(settings))

    def given(name: str) -> bool:
        return hasattr(settings, name) and getattr(settings, name) != start[name]

    if settings.src is not None and given("builtin"):
        raise SettingError("{builtin} chooses the corpus used when no {src} is given: drop one of them")
    live = [name for name in LIVE_KERNEL_SETTINGS if given(name)]
    if settings.kernels and live:
        raise SettingError(f"{{kernels}} uses the bank's kernels; {{{live[0]}}} applies to live kernels only: drop one or the other")
    if settings.motion != "uniform" and live:
        raise SettingError(f"{{motion}} {settings.motion} blurs by camera and object motion, not kernels: drop {{{live[0]}}}")
    video = [name for name in VIDEO_SETTINGS if given(name)]
    if pair_value(settings, "average") is None and video:
        raise SettingError(f"{{{video[0]}}} applies to pairs from video: add {{average}} (e.g. 7-23)")
    if pair_value(settings, "average") is not None and live:
        raise SettingError(f"{{average}} makes pairs from video frames, not kernels: drop {{{live[0]}}}")
    moved = [name for name in ("shake", "fov") if given(name)]
    if settings.motion == "uniform" and moved:
        raise SettingError(f"{{{moved[0]}}} applies to {{motion}} rotation, objects or mixed")
