"""Pair → evaluation set: real photographs blurred by blurgen, as plain ``blur/`` + ``sharp/`` folders.

A deblurring model is judged on real photographs blurred by a process it did not train on. By
default the photos are the colour photographs that ship inside scikit-image
(:class:`~blurgen.sources.packaged.PackagedPhotos`); any sharp source works. Each photo is
downscaled (area averaging) so its longer side is at most ``max_side``, then blurred
``per_image`` times. The kernels are sampled live (any preset, ``deblurgan`` by default) from a
seed derived from ``seed`` for this purpose alone, so a training run with the same seed never sees
them; the default camera is ``gamma`` (blur in linear light, as GoPro's ``blur_gamma``, and as
``train`` blurs by default). This is
blurgen's own blur process: judge a model on blur made otherwise too. Blur is 'valid': the sharp image is cropped by the kernel's margin on
every side, so no pair has border artefacts or a shift.

Layout (read by ``deblur --pairs`` and ``train --val``)::

    <out>/blur/<photo>-<j>.png     8-bit RGB (16-bit for 16-bit sources)
    <out>/sharp/<photo>-<j>.png    its sharp partner, same name
    <out>/meta.jsonl               one line per pair: photo, crop box, kernel, camera draws
    <out>/evalset.json             settings, photos with their licences, counts (written last)
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from blurgen.blurring.camera import camera_preset
from blurgen.files import to_pixels
from blurgen.pairs.settings import pair_option
from blurgen.pairs.synthesizer import LiveKernels, PairSynthesizer, to_rgb
from blurgen.rng import derive_seed
from blurgen.settings import check_options, option
from blurgen.sources.images import BadImage, counted, encode_png
from blurgen.sources.packaged import PackagedPhotos

EVALSET_PURPOSE = 0x4556414C  # "EVAL": kernels and draws of an evaluation set never match training's
EVALSET_VERSION = 1


class EvalsetExists(ValueError):
    """``--out`` already holds something other than this very evaluation set."""


@dataclass(frozen=True)
class EvalsetSpec:
    """How an evaluation set is made (``blurgen evalset``'s settings, whose help, choices and bounds
    the pair table gives where they are pair settings); ``to_dict()`` is what ``evalset.json``
    records. Values out of bounds are a :class:`~blurgen.settings.SettingError`, as on the command line."""

    seed: int = pair_option("seed", 0, help="Seed; the same seed gives the same bytes.")
    per_image: int = option(4, "Blurred versions of each photo.", minimum=1)
    preset: str = pair_option("preset", "deblurgan", help="Kernel preset, as for 'blurgen kernels'.")
    kernel_size: int = pair_option("kernel_size", 65, help="Kernel side in px (the border cropped off is half of it).")
    camera: str = pair_option("camera", "gamma")
    max_side: int | None = option(640, "Downscale photos so the longer side is at most this (0: keep the full size).",
                                  minimum=0)

    def __post_init__(self) -> None:
        check_options(self)
        object.__setattr__(self, "max_side", self.max_side or None)  # 0 and None both keep the full size

    def to_dict(self) -> dict:
        return {"seed": self.seed, "per_image": self.per_image, "preset": self.preset, "kernel_size": self.kernel_size,
                "camera": self.camera, "max_side": self.max_side}


def fit_within(image: np.ndarray, max_side: int | None) -> tuple[np.ndarray, float]:
    """Downscale by area averaging so the longer side is at most ``max_side``; returns the scale."""
    height, width = image.shape[:2]
    if max_side is None or max(height, width) <= max_side:
        return image, 1.0
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def build_evalset(out: str | os.PathLike, spec: EvalsetSpec = EvalsetSpec(), source: object | None = None,
                  on_pair: Callable[[str], None] | None = None) -> dict:
    """Write the evaluation set of ``spec`` from ``source`` (default: the packaged photos) to ``out``.

    The set is written to ``<out>.partial`` and renamed when complete. If ``out`` already holds
    the same set it is left as it is; anything else there is an :class:`EvalsetExists` error.
    Unreadable or too-small images are skipped and counted. Returns the ``evalset.json`` content.
    """
    out = Path(out)
    source = PackagedPhotos() if source is None else source
    settings = {"format": "blurgen-evalset", "version": EVALSET_VERSION, **spec.to_dict(),
                "source": source.describe() if hasattr(source, "describe") else {"images": len(source)}}
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):
        try:
            existing = json.loads((out / "evalset.json").read_text())
        except (OSError, ValueError):
            existing = None
        if existing is not None and {k: existing.get(k) for k in settings} == settings:
            return existing
        raise EvalsetExists(f"--out {out} already exists and is not this evaluation set; choose another folder or remove it")
    own_seed = derive_seed(spec.seed, EVALSET_PURPOSE)
    kernels = LiveKernels(seed=own_seed, preset=spec.preset, size=spec.kernel_size)
    synthesizer = PairSynthesizer(source, kernels, camera_preset(spec.camera), crop=None, seed=own_seed, per_image=spec.per_image,
                                  whole_border="valid")
    partial = out.with_name(f".{out.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        lines, skipped, pairs = write_pairs(partial, source, spec, synthesizer, on_pair)
        if not pairs:
            raise ValueError(f"no pair could be made: every source image was skipped ({counted(skipped)})")
        settings.update(pairs=pairs, skipped=skipped)
        (partial / "meta.jsonl").write_text("".join(line + "\n" for line in lines))
        (partial / "evalset.json").write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
        os.replace(partial, out)
    except BaseException:  # a full disk, Ctrl-C: no half-written set left behind, holding the space
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return settings


def write_pairs(partial: Path, source: object, spec: EvalsetSpec, synthesizer: PairSynthesizer,
                on_pair: Callable[[str], None] | None) -> tuple[list[str], dict, int]:
    """Every photo's pairs into ``partial``: (metadata lines, skipped by reason, pairs written)."""
    margin = synthesizer.margin
    (partial / "blur").mkdir(parents=True)
    (partial / "sharp").mkdir()
    lines, skipped, pairs = [], {}, 0
    for photo in range(len(source)):
        try:
            image, scale = fit_within(to_rgb(source[photo]), spec.max_side or None)
        except BadImage as error:
            skipped[error.reason] = skipped.get(error.reason, 0) + 1
            continue
        if min(image.shape[:2]) <= 2 * margin + 8:
            skipped["too_small"] = skipped.get("too_small", 0) + 1
            continue
        bit_depth = 16 if image.dtype == np.uint16 else 8
        name = str(source.id(photo)).replace("/", "_").rsplit(".", 1)[0] if hasattr(source, "id") else f"{photo:05d}"
        for j in range(spec.per_image):
            pair = synthesizer.pair_from(image, photo * spec.per_image + j)
            key = f"{name}-{j}"
            (partial / "blur" / f"{key}.png").write_bytes(encode_png(to_pixels(pair.blurred, bit_depth)))
            (partial / "sharp" / f"{key}.png").write_bytes(encode_png(to_pixels(pair.sharp, bit_depth)))
            lines.append(json.dumps({**pair.meta, "key": key, "scale": scale}, sort_keys=True))
            pairs += 1
            if on_pair is not None:
                on_pair(key)
    return lines, skipped, pairs
