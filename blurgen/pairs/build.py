"""What the pair settings build: the source of the pairs and the pair maker, one way for
``blurgen dataset``, ``train`` and Python.

The settings themselves, their bounds and rules, are the table's (:mod:`blurgen.pairs.settings`);
this module turns checked settings into the objects of the flow: sharp source or video windows
(:func:`open_pair_source`) → kernels (:func:`kernel_source`, a preset resolved once), motion,
camera and views → a :class:`~blurgen.pairs.synthesizer.PairSynthesizer` or a
:class:`~blurgen.pairs.video.FrameAverager` (:func:`make_synthesizer`, :func:`pair_maker`).

Python::

    settings = PairSettings(crop=256, preset="mixture", camera="gamma")
    synthesizer = make_synthesizer(settings, open_pair_source(settings))
    blurred, sharp, meta = synthesizer[0]
"""

from __future__ import annotations

from typing import Any, NamedTuple

from blurgen.kernels.bank import KernelBank
from blurgen.blurring.camera import Camera, camera_preset, response_camera
from blurgen.blurring.motion import shake_preset
from blurgen.pairs.motion import Motion
from blurgen.pairs.settings import check_pairs, pair_value
from blurgen.pairs.synthesizer import BankKernels, LiveKernels, PairSynthesizer, Views
from blurgen.settings import SettingError
from blurgen.sources import SourceError, open_source
from blurgen.sources.video import VideoWindows, find_clips, parse_lengths
from blurgen.pairs.video import Averaging, FrameAverager


def open_pair_source(settings: Any, *, n: int | None = None, coco_split: str | None = None, exclude: tuple = ()) -> Any:
    """The source of ``settings``' pairs: with ``average``, the windows of the clips under ``src``
    (:func:`open_clip_windows`); otherwise the sharp images (:func:`blurgen.sources.open_source` of
    ``src``, or the built-in corpus). ``n``: the first ``n`` images or windows only (the
    dead-leaves corpus: how many to make); ``exclude``: folders not to read (a run's own output)."""
    if pair_value(settings, "average") is not None:
        if coco_split is not None:
            raise SettingError("{coco_split} applies to a COCO root, not to video clips")
        return open_clip_windows(settings, limit=n, exclude=exclude)
    return open_source(settings.src, seed=settings.seed, builtin=settings.builtin, n=n, coco_split=coco_split, exclude=exclude)


def open_clip_windows(settings: Any, *, limit: int | None = None, exclude: tuple = ()) -> Any:
    """The windows of the clips under ``settings.src`` (:class:`~blurgen.sources.video.VideoWindows`),
    the first ``limit`` only when given."""
    if settings.src is None:
        raise SourceError("--average makes pairs from video: give --src (video files, folders of frames or GoPro_Large)")
    clips, unreadable = find_clips(settings.src, exclude=exclude)
    return VideoWindows(clips, parse_lengths(settings.average), interpolate=settings.interpolate, stride=settings.stride,
                        per_clip=settings.per_clip, seed=settings.seed, unreadable=unreadable, root=str(settings.src), limit=limit)


def averaging_of(settings: Any) -> Any:
    """The :class:`~blurgen.pairs.video.Averaging` of pairs from video, or None for kernel pairs."""
    if pair_value(settings, "average") is None:
        return None
    return Averaging(parse_lengths(settings.average), settings.interpolate, settings.flow, settings.min_motion, settings.response)


def kernel_source(settings: Any) -> tuple[Any, dict]:
    """The kernels of uniform blur (a :class:`~blurgen.pairs.synthesizer.BankKernels` or
    :class:`~blurgen.pairs.synthesizer.LiveKernels`), and what a dataset's record says of them."""
    if settings.kernels:
        bank = KernelBank.load(settings.kernels)
        return BankKernels(bank), {"bank": str(settings.kernels), "kernels": len(bank), "size": bank.size,
                                   "bank_seed": bank.info["seed"], "preset": bank.info["preset"]}
    expl, size = pair_value(settings, "expl"), pair_value(settings, "kernel_size")
    live = LiveKernels(seed=settings.seed, preset=settings.preset, size=size, overrides={"expl": expl} if expl else {})
    return live, {"live": True, "preset": settings.preset, "size": size, "spec": live.spec.to_dict()}


def motion_of(settings: Any) -> Any:
    """The :class:`~blurgen.pairs.motion.Motion` of non-uniform blur, or None for one kernel per pair."""
    if settings.motion == "uniform":
        return None
    return Motion(settings.motion, shake_preset(settings.shake, pair_value(settings, "fov")))


class PairParts(NamedTuple):
    """The resolved parts a pair maker is built from, and what a dataset's record says of its kernels."""

    kernels: Any  # BankKernels or LiveKernels; None for pairs from video
    kernel_info: dict
    camera: Camera  # for pairs from video: through the frames' response (response_camera)
    motion: Any  # Motion, or None: one kernel per pair
    views: Views
    averaging: Any  # Averaging, or None: pairs from kernels or motion


def pair_parts(settings: Any) -> PairParts:
    """The parts of ``settings``' pairs, checked first: every setting becomes an object here, once,
    for ``blurgen dataset``, ``train`` and Python alike (a setting added to the table is turned into
    its part in this function and nowhere else)."""
    check_pairs(settings)
    camera = camera_preset(settings.camera)
    averaging = averaging_of(settings)
    if averaging is not None:
        return PairParts(None, {"average": settings.average}, response_camera(camera, averaging.response), None, Views(), averaging)
    kernels, kernel_info = kernel_source(settings)
    motion = motion_of(settings)
    return PairParts(kernels, {"motion": motion.kind} if motion is not None else kernel_info, camera, motion,
                     Views(settings.orientations, settings.min_scale), None)


def make_synthesizer(settings: Any, source: Any, *, per_image: int = 1) -> Any:
    """The pair maker of ``settings`` over ``source`` (:func:`open_pair_source` of the same
    settings), checked first: a :class:`~blurgen.pairs.synthesizer.PairSynthesizer` of kernel or motion blur,
    or with ``average`` a :class:`~blurgen.pairs.video.FrameAverager` of video windows."""
    parts = pair_parts(settings)
    return pair_maker(source, kernels=parts.kernels, camera=parts.camera, crop=settings.crop, seed=settings.seed,
                      per_image=per_image, motion=parts.motion, views=parts.views, averaging=parts.averaging)


def pair_maker(source: Any, *, kernels: Any, camera: Any, crop: int | None, seed: int, per_image: int, motion: Any,
               views: Any, averaging: Any) -> Any:
    """The one place a pair maker is built from its resolved parts, for Python, ``train`` and each
    ``blurgen dataset`` worker: a :class:`~blurgen.pairs.video.FrameAverager` when ``averaging``
    is given (``source`` must then be video windows), else a :class:`~blurgen.pairs.synthesizer.PairSynthesizer`."""
    if averaging is not None:
        if not isinstance(source, VideoWindows):
            raise SettingError("{average} makes pairs from video windows: open the source with open_pair_source(settings)")
        return FrameAverager(source, camera, crop=crop, seed=seed, per_image=per_image, averaging=averaging)
    return PairSynthesizer(source, kernels, camera, crop=crop, seed=seed, per_image=per_image, motion=motion, views=views)
