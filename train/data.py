"""Training batches for the three regimes: WILD (GoPro pairs), Synth (blurred on the fly), Comb (both).

The data is one deterministic stream: training position p (sample k of rank r at step s is
position ``s·B·W + r·B + k``) maps to a sample by counter-based draws from (seed, p) alone. So
any number of workers or ranks sees the same samples, and a resumed run continues the stream at
its step with nothing to save but the step.

Epoch e covers positions ``[e·E, (e+1)·E)``. Its composition is exact: ``round(E·a/(a+b))``
synthetic and the rest GoPro samples for a ratio a:b, in an order shuffled by (seed, e). Within
an epoch, GoPro pairs and sharp images are visited in per-epoch permutations (cycling with new
permutations when an epoch asks for more than the source holds).

GoPro samples (WILD, as DeblurGAN): the pair downscaled ×2, a random crop, random horizontal and
vertical flips. Synthetic samples leave the blur to the device: the loader delivers the sharp
region with its kernel margin, the kernel and the camera draws, and :func:`assemble` makes the
pairs with :func:`blurgen.pairs_on_device`. With ``--motion`` (blur that varies across the
image) the workers make the whole pair on the CPU (:meth:`PairSynthesizer.pair_from`) and hand
it over like a GoPro pair.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, Sampler, default_collate

from blurgen.pairs.build import make_synthesizer, open_pair_source
from blurgen.pairs.synthesizer import ImageTooSmall, PairSynthesizer, to_rgb
from blurgen.files import to_uint8
from blurgen.pairs.datasets import device_item, pairs_on_device, to_chw
from blurgen.settings import SettingError, check_choice
from blurgen.sources import BadImage, GoProPairs

SYNTH, GOPRO = 0, 1
MIXES = ("wild", "synth", "comb")
RETRIES = 16  # a bad or too-small image is replaced by the next one in the epoch's order
STREAM_PURPOSE = 0x545241494E  # "TRAIN"


class UnusableSource(ValueError):
    """A run of images in a row that cannot be used: the source or the crop size is wrong."""


def parse_ratio(text: str) -> tuple[int, int]:
    """``"2:1"`` or ``"2"`` → (2, 1): synthetic to GoPro samples."""
    try:
        parts = [int(part) for part in str(text).split(":")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts.append(1)
    if len(parts) != 2 or min(parts) < 0 or sum(parts) == 0:
        raise SettingError(f"{{ratio}} must look like 2:1 (synthetic:GoPro), got {text!r}")
    return parts[0], parts[1]


def shares(mix: str, ratio: tuple[int, int]) -> tuple[int, int]:
    """(synthetic, GoPro) shares of a regime."""
    check_choice("mix", mix, MIXES)
    return {"wild": (0, 1), "synth": (1, 0), "comb": ratio}[mix]


def rng(*key: int) -> np.random.Generator:
    return np.random.default_rng([STREAM_PURPOSE, *key])


class TrainingStream(Dataset):
    """Position p → a synthetic or GoPro sample (a dict); see the module docstring."""

    def __init__(
        self, *, seed: int, epoch_size: int, crop: int, synth_share: int, gopro_share: int,
        gopro: GoProPairs | None = None, synthesizer: PairSynthesizer | None = None,
    ) -> None:
        if synth_share and synthesizer is None:
            raise SettingError("synthetic samples need a sharp source ({src})")
        if gopro_share and gopro is None:
            raise SettingError("GoPro samples need {gopro}")
        if epoch_size < 1:
            raise SettingError(f"{{epoch_size}} must be >= 1, got {epoch_size}")
        self.seed, self.epoch_size, self.crop = seed, epoch_size, crop
        self.gopro, self.synthesizer = gopro, synthesizer
        self.synth_count = round(epoch_size * synth_share / (synth_share + gopro_share))

    def __len__(self) -> int:
        return 2**62  # an endless stream; the sampler says where to read

    @lru_cache(maxsize=4)
    def composition(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """Kinds of the epoch's samples in order, and each sample's rank among its kind."""
        kinds = np.array([SYNTH] * self.synth_count + [GOPRO] * (self.epoch_size - self.synth_count), dtype=np.int8)
        kinds = rng(self.seed, epoch, 1).permutation(kinds)
        ranks = np.empty(len(kinds), dtype=np.int64)
        for kind in (SYNTH, GOPRO):
            where = kinds == kind
            ranks[where] = np.arange(where.sum())
        return kinds, ranks

    @lru_cache(maxsize=8)
    def order(self, epoch: int, kind: int, cycle: int, count: int) -> np.ndarray:
        return rng(self.seed, epoch, 2 + kind, cycle).permutation(count)

    def pick(self, epoch: int, kind: int, rank: int, count: int) -> int:
        """The source item for the ``rank``-th sample of ``kind`` in ``epoch``."""
        return int(self.order(epoch, kind, rank // count, count)[rank % count])

    def kind(self, position: int) -> int:
        epoch, offset = divmod(position, self.epoch_size)
        return int(self.composition(epoch)[0][offset])

    def __getitem__(self, position: int) -> dict:
        epoch, offset = divmod(position, self.epoch_size)
        kinds, ranks = self.composition(epoch)
        kind, rank = int(kinds[offset]), int(ranks[offset])
        source = self.synthesizer.source if kind == SYNTH else self.gopro
        reasons = []
        for attempt in range(RETRIES):
            item = self.pick(epoch, kind, rank + attempt, len(source))
            try:
                if kind == SYNTH:
                    return self.synthetic(position, item)
                return self.wild(position, item)
            except (BadImage, ImageTooSmall) as error:
                reasons.append(str(error))
        option = "--src" if kind == SYNTH else "--gopro"
        raise UnusableSource(f"{min(RETRIES, len(source))} {option} images in a row could not be used near position {position}; "
                             f"the last: {reasons[-1]}")

    def check(self) -> None:
        """Make the first sample of each kind the stream holds: a source with no usable image
        (all broken, or all smaller than the crop) raises :class:`UnusableSource` now."""
        kinds = self.composition(0)[0]
        for kind in (SYNTH, GOPRO):
            where = np.flatnonzero(kinds == kind)
            if len(where):
                self[int(where[0])]

    def synthetic(self, position: int, item: int) -> dict:
        image = self.synthesizer.source[item]
        if self.synthesizer.motion is not None:  # blur that varies across the image: made here, in the worker
            pair = self.synthesizer.pair_from(image, position)
            return {"kind": SYNTH, "position": position, "blurred": to_chw(to_uint8(pair.blurred)), "sharp": to_chw(to_uint8(pair.sharp))}
        region, plan = self.synthesizer.region_from(image, position)
        return {"kind": SYNTH, "position": position, **device_item(region, plan, self.synthesizer.camera)}

    def wild(self, position: int, item: int) -> dict:
        draw = rng(self.seed, position, 9)
        pair = []
        for image in self.gopro[item]:
            image = to_uint8(to_rgb(image))
            pair.append(cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA))
        height, width = pair[0].shape[:2]
        if height < self.crop or width < self.crop:
            raise ImageTooSmall((height, width), self.crop, f"crop {self.crop} (GoPro pair {item}, downscaled ×2)")
        y = int(draw.integers(0, height - self.crop + 1))
        x = int(draw.integers(0, width - self.crop + 1))
        flip_h, flip_v = draw.random() < 0.5, draw.random() < 0.5
        out = []
        for image in pair:
            image = image[y : y + self.crop, x : x + self.crop]
            if flip_h:
                image = image[:, ::-1]
            if flip_v:
                image = image[::-1]
            out.append(to_chw(np.ascontiguousarray(image)))
        return {"kind": GOPRO, "position": position, "blurred": out[0], "sharp": out[1]}


class StreamSampler(Sampler[int]):
    """The positions one rank reads, step by step from ``start_step`` to ``steps``."""

    def __init__(self, *, batch_size: int, steps: int, start_step: int = 0, rank: int = 0, world: int = 1) -> None:
        self.batch_size, self.steps, self.start_step, self.rank, self.world = batch_size, steps, start_step, rank, world

    def __len__(self) -> int:
        return max(0, self.steps - self.start_step) * self.batch_size

    def __iter__(self) -> Iterator[int]:
        global_batch = self.batch_size * self.world
        for step in range(self.start_step, self.steps):
            first = step * global_batch + self.rank * self.batch_size
            yield from range(first, first + self.batch_size)


def collate(items: list[dict]) -> dict:
    """Collate samples the device still has to blur (``"device"``) and finished pairs (``"ready"``:
    GoPro, and synthetic pairs with motion blur made by the workers) separately."""
    device = [item for item in items if "region" in item]
    ready = [item for item in items if "region" not in item]
    return {"device": default_collate(device) if device else None, "ready": default_collate(ready) if ready else None}


@dataclass(frozen=True)
class Batch:
    """One training batch on the device: ``blurred`` and ``sharp`` B×3×S×S in [-1, 1], finished
    pairs first; ``positions`` (B,) their stream positions; ``kernels`` B×K×K float32, each pair's
    true kernel (centred, summing to 1; all zero for a pair without one: GoPro, blur that varies
    across the image), or None when no pair of the batch has one."""

    blurred: torch.Tensor
    sharp: torch.Tensor
    positions: torch.Tensor
    kernels: torch.Tensor | None


def assemble(batch: dict, stream: TrainingStream, device: torch.device) -> Batch:
    """The :class:`Batch` of a collated batch: the pairs still to blur go through the camera of the
    stream's own synthesiser."""
    blurred, sharp, positions = [], [], []
    kernels = None
    if batch["ready"] is not None:
        part = batch["ready"]
        blurred.append(part["blurred"].to(device, non_blocking=True).float() / 127.5 - 1)
        sharp.append(part["sharp"].to(device, non_blocking=True).float() / 127.5 - 1)
        positions.append(part["position"])
    if batch["device"] is not None:
        made_blurred, made_sharp = pairs_on_device(batch["device"], stream.synthesizer.camera, device)
        blurred.append(made_blurred * 2 - 1)
        sharp.append(made_sharp * 2 - 1)
        positions.append(batch["device"]["position"])
        known = batch["device"]["kernel"].to(device, non_blocking=True).float()
        unknown = known.new_zeros(len(blurred[0]) if batch["ready"] is not None else 0, *known.shape[1:])
        kernels = torch.cat([unknown, known])
    return Batch(torch.cat(blurred), torch.cat(sharp), torch.cat(positions), kernels)


def parse_crop_stages(text: str, crop: int) -> tuple[tuple[int, float], ...]:
    """``"64:0.4,80:0.7"`` → ((64, 0.4), (80, 0.7)): window side and the fraction of the steps it
    lasts until; sides grow below ``crop``, fractions grow inside (0, 1). Empty: no stages."""
    if not text.strip():
        return ()
    stages = []
    for part in text.split(","):
        try:
            side, until = part.split(":")
            stages.append((int(side), float(until)))
        except ValueError:
            raise SettingError(f"{{crop_stages}} takes SIDE:UNTIL pairs such as 64:0.4,80:0.7, got {text!r}") from None
    sides, untils = [side for side, _ in stages], [until for _, until in stages]
    if sides != sorted(set(sides)) or sides[-1] >= crop or sides[0] < 1:
        raise SettingError(f"{{crop_stages}}: the sides must grow and stay below {{crop}} {crop}, got {text!r}")
    if untils != sorted(set(untils)) or not (0 < untils[0] and untils[-1] < 1):
        raise SettingError(f"{{crop_stages}}: the fractions of the steps must grow inside (0, 1), got {text!r}")
    return tuple(stages)


def stage_side(stages: tuple[tuple[int, float], ...], step: int, steps: int, crop: int) -> int:
    """The crop side training uses at ``step`` (1-based) of ``steps``."""
    return next((side for side, until in stages if step <= until * steps), crop)


def cut_windows(blurred: torch.Tensor, sharp: torch.Tensor, side: int, seed: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A ``side``-px window of each pair (B×C×S×S), the same place in blurred and sharp, drawn from
    (seed, step) alone so that a resumed run cuts the same windows."""
    crop = blurred.shape[-1]
    if side >= crop:
        return blurred, sharp
    offsets = rng(seed, step, 11).integers(0, crop - side + 1, size=(blurred.shape[0], 2))
    windows = [(slice(None), slice(y, y + side), slice(x, x + side)) for y, x in offsets.tolist()]
    return (torch.stack([blurred[b][w] for b, w in enumerate(windows)]), torch.stack([sharp[b][w] for b, w in enumerate(windows)]))


def build_stream(config: object) -> tuple[TrainingStream, int]:
    """The data stream of a run's settings (``TrainConfig``), and its epoch size."""
    synth_share, gopro_share = shares(config.mix, parse_ratio(config.ratio))
    if gopro_share and not config.gopro:
        raise SettingError(f"{{mix}} {config.mix} trains on GoPro pairs and needs {{gopro}} (a GoPro_Large root); "
                           "{mix} synth trains on synthetic pairs alone")
    gopro = GoProPairs(config.gopro, "train", config.gopro_blur) if gopro_share else None
    synthesizer = None
    if synth_share:
        dead_leaves = config.src is None and config.builtin == "dead-leaves"
        synthesizer = make_synthesizer(config, open_pair_source(config, n=config.sharp_images if dead_leaves else None))
    if config.epoch_size:
        epoch_size = config.epoch_size
    elif gopro is not None:  # one epoch sees every GoPro pair once, plus its share of synthetic pairs
        epoch_size = round(len(gopro) * (synth_share + gopro_share) / gopro_share)
    else:
        epoch_size = len(synthesizer.source)
    stream = TrainingStream(seed=config.seed, epoch_size=epoch_size, crop=config.crop, synth_share=synth_share,
                            gopro_share=gopro_share, gopro=gopro, synthesizer=synthesizer)
    return stream, epoch_size
