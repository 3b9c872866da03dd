"""Sharp source → pairs on disk, in shards that can run anywhere and resume after any kill.

The sorted source is cut into shards of ``shard_size`` source images; shard k holds images
``[k·shard_size, (k+1)·shard_size)`` and sample ``i·per_image + j`` for image i. A shard is
written under a temporary name, renamed when complete, and its stats file is written last: a
shard is complete exactly when its stats file exists. A re-run skips complete shards and redoes
the rest, so a kill loses nothing and duplicates nothing. Because the shard layout and every pair
depend only on the settings and the seed, the bytes are the same for any number of workers,
jobs (``num_shards``/``shard_index``) or distributor.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from blurgen.blurring.camera import Camera
from blurgen.output.contact_sheet import pairs_sheet, write_png
from blurgen.files import make_writable, release_lock, remove, try_lock, write_json_atomic
from blurgen.pairs.settings import PairSettings, check_pairs
from blurgen.pairs.synthesizer import ImageTooSmall, KernelSource, PairSynthesizer, Views, is_transparent
from blurgen.settings import SettingError, check_options, option
from blurgen.sources.images import TOO_SMALL, BadImage, SourceError, json_safe_name
from blurgen.sources.paired import open_pairs
from blurgen.pairs.build import open_pair_source, pair_maker, pair_parts
from blurgen.output.frameworks import LAYOUTS, check_layout
from blurgen.output.writers import WRITERS

FORMATS = (*WRITERS, "lmdb")
DATASET_FORMAT = "blurgen.dataset"
DATASET_VERSION = 1
FAILED = "failed"  # an image that broke the pipeline in an unexpected way (the message is kept)


DIM_16_BIT = 4096  # a 16-bit image whose values all stay below this (1/16 of the range) holds 12-bit or less


def is_dim_16_bit(image: np.ndarray) -> bool:
    """A 16-bit image that uses at most 1/16 of its range, as a 12-bit (or 10-bit) sensor's data
    stored in 16 bits does: blurgen reads it as the nearly black image it encodes."""
    image = np.asarray(image)
    return image.dtype == np.uint16 and image.size > 0 and int(image.max()) < DIM_16_BIT


class DatasetMismatch(ValueError):
    """``--out`` already holds a dataset made with other settings: resuming would mix them."""


@dataclass(frozen=True)
class Shard:
    """Shard ``index``: source images ``start`` .. ``stop - 1``."""

    index: int
    start: int
    stop: int

    @property
    def name(self) -> str:
        return f"shard-{self.index:05d}"


def shards_of(count: int, size: int) -> list[Shard]:
    """``count`` sources cut into shards of ``size`` in order (the last may be shorter)."""
    return [Shard(k, start, min(start + size, count)) for k, start in enumerate(range(0, count, size))]


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that decides the bytes of a dataset (and where it goes)."""

    out: Path
    source: object
    kernels: KernelSource
    camera: Camera
    crop: int | None = None
    per_image: int = 1
    seed: int = 0
    split: str = "train"
    format: Literal["files", "webdataset", "lmdb"] = "files"  # lmdb: files shards, then BasicSR's LMDB of them
    shard_size: int = 32
    kernel_info: dict = field(default_factory=dict)
    png_compression: int | None = None
    motion: object = None  # blurgen.pairs.motion.Motion, or None: one kernel per pair
    views: Views = field(default_factory=Views)
    averaging: object = None  # blurgen.pairs.video.Averaging: pairs from video windows instead of kernels
    layout: str | None = None  # a framework's layout (blurgen.output.frameworks), arranged once every shard is complete

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if self.layout is not None:
            check_layout(self.layout)
            if self.format == "webdataset":
                raise ValueError(f"layout {self.layout} is arranged from files shards: use format files (or lmdb), not webdataset")

    @property
    def shard_format(self) -> str:
        """How the shards are written: ``files`` or ``webdataset`` (an ``lmdb`` dataset's shards are files)."""
        return "webdataset" if self.format == "webdataset" else "files"

    @property
    def framework_layout(self) -> str | None:
        """The layout arranged at the end: ``--layout``, or ``basicsr`` for ``--format lmdb``."""
        return self.layout or ("basicsr" if self.format == "lmdb" else None)
        if not self.split or "/" in self.split or self.split.startswith("."):
            raise ValueError(f"split must be a plain folder name, got {self.split!r}")

    @property
    def split_dir(self) -> Path:
        return Path(self.out) / self.split

    def open_writer(self, shard: Shard) -> object:
        """A writer of ``shard`` (under its temporary name until committed)."""
        return WRITERS[self.shard_format](self.split_dir, shard.name, self.png_compression)

    def fill(self, shard: Shard, writer: object, on_image: Callable[[int], None] | None) -> dict:
        """Make ``shard``'s pairs into ``writer`` and commit it (:func:`write_pairs`); its stats."""
        return write_pairs(self, shard, writer, on_image)

    def synthesizer(self) -> PairSynthesizer:
        return pair_maker(self.source, kernels=self.kernels, camera=self.camera, crop=self.crop, seed=self.seed,
                          per_image=self.per_image, motion=self.motion, views=self.views, averaging=self.averaging)

    def shards(self) -> list[Shard]:
        return shards_of(len(self.source), self.shard_size)

    def describe(self) -> dict:
        """The settings, as ``dataset.json`` records them (the same on every machine and job)."""
        describe = getattr(self.source, "describe", None)
        return {
            "format": DATASET_FORMAT,
            "version": DATASET_VERSION,
            "split": self.split,
            "layout": self.shard_format,
            "source": describe() if describe else {"images": len(self.source)},
            "kernels": self.kernel_info,
            "camera": self.camera.to_dict(),
            "crop": self.crop,
            "per_image": self.per_image,
            "seed": self.seed,
            "shard_size": self.shard_size,
            "png_compression": self.png_compression,
            "motion": self.motion.to_dict() if self.motion is not None else "uniform",
            **({} if self.views.identity else {"views": asdict(self.views)}),  # datasets without views keep their record
            **({"averaging": self.averaging.to_dict()} if self.averaging is not None else {}),
            "shards": len(self.shards()),
        }


@dataclass
class DatasetConfig(PairSettings):
    """``blurgen dataset``'s settings: the pair settings and where and how the pairs are written."""

    out: str = option("pairs", "Output folder.", path=True)
    limit: int | None = option(None, "Use the first N source images (dead-leaves: how many to make; default 100). (--n: the "
                               "former name.)", minimum=1, flags=("--limit", "--n"))
    per_image: int = option(1, "Pairs per source image.", minimum=1)
    format: str = option("files", "files (GoPro-style folders of PNGs), webdataset (tar shards) or lmdb (BasicSR's LMDB: "
                         "<split>/basicsr/{blur,sharp}.lmdb, arranged from files shards once all are complete).", choices=FORMATS)
    layout: str | None = option(None, "Also arrange the pairs as a training framework reads them, in <out>/<split>/<layout>/ with "
                                "an options file to paste into it, once every shard is complete: basicsr (with meta_info; "
                                "LMDB with --format lmdb), nafnet (512-px crops every 256 px in LMDB), restormer (512-px "
                                "crops), kair or deblurganv2.", choices=LAYOUTS)
    workers: int | None = option(None, "Local processes making pairs, this one included (default: one per core, fewer for a "
                                 "small job: one per 16 source images left to do). The output does not depend on it.", minimum=1)
    jobs: int = option(1, "Split the work into this many jobs (e.g. a Slurm array) ... (--num-shards: the former name.)",
                       minimum=1, flags=("--jobs", "--num-shards"))
    job_index: int = option(0, "... and run job number I (0-based) here. (--shard-index: the former name.)", minimum=0,
                            flags=("--job-index", "--shard-index"))
    distributor: str = option("local", "local (process pool) or ray (cluster; pip install 'blurgen[ray]').",
                              choices=("local", "ray"))
    split: str = option("train", "Output split folder: <out>/<split>/...")
    coco_split: str | None = option(None, "COCO split to read, e.g. val2017 (needed when there are several).")
    shard_size: int = option(32, "Source images per output shard (the unit of work and of resuming).", minimum=1)
    png_compression: int | None = option(None, "zlib level 0-9 of the PNGs (smaller files, slower writing); default: "
                                         "OpenCV's fast default.", minimum=0, maximum=9)
    preview: int = option(8, "Picture the first N pairs (blurred | sharp) in <out>/<split>/preview.png, written by the job "
                          "that holds the first shard, so you see what was made before training on it; 0: none.", minimum=0)


def dataset_spec(config: DatasetConfig) -> DatasetSpec:
    """The :class:`DatasetSpec` of ``blurgen dataset``'s settings, checked and with its source opened.

    Raises :class:`~blurgen.settings.SettingError` for settings that cannot be used, and
    :class:`~blurgen.sources.SourceError` or :class:`~blurgen.kernels.bank.BankFormatError` for inputs
    that cannot be read.
    """
    check_options(config)
    if config.layout is not None and config.format == "webdataset":
        raise SettingError(f"{{layout}} {config.layout} is arranged from files shards: use {{format}} files or lmdb, not webdataset")
    check_pairs(config)  # settings refused before any source is read (pair_parts checks them again, cheaply)
    source = open_pair_source(config, n=config.limit, coco_split=config.coco_split, exclude=(Path(config.out),))
    if config.coco_split is not None and source.describe().get("kind") != "coco":
        raise SourceError(f"--coco-split applies to a COCO root; --src {config.src} is read as "
                          f"{source.describe().get('kind', 'a source')}")
    parts = pair_parts(config)
    return DatasetSpec(
        out=Path(config.out), source=source, kernels=parts.kernels, camera=parts.camera, crop=config.crop,
        per_image=config.per_image, seed=config.seed, split=config.split, format=config.format, shard_size=config.shard_size,
        kernel_info=parts.kernel_info, png_compression=config.png_compression, motion=parts.motion, views=parts.views,
        averaging=parts.averaging, layout=config.layout,
    )


def write_preview(spec: DatasetSpec, count: int) -> Path | None:
    """``<split>/preview.png``: the first ``count`` pairs of the first shard as written (blurred |
    sharp per row), or None when that shard is not complete."""
    first = spec.shards()[0]
    if not is_complete(spec, first):
        return None
    shard = spec.split_dir / (first.name if spec.shard_format == "files" else f"{first.name}.tar")
    title = f"blurgen dataset: {spec.describe()['source'].get('kind', 'source')}, seed {spec.seed}"
    return write_png(spec.split_dir / "preview.png", pairs_sheet(open_pairs(shard), count, title=title))


class ShardFailed(RuntimeError):
    """No pair of a shard could be made, and not because of its images (e.g. out of memory)."""


def stats_path(spec: DatasetSpec, shard: Shard) -> Path:
    """Where a shard's stats go; the file exists exactly when the shard is complete."""
    if spec.shard_format == "files":
        return spec.split_dir / shard.name / "stats.json"
    return spec.split_dir / f"{shard.name}.stats.json"


def holds_finished_shards(split_dir: Path) -> bool:
    """Whether a split folder holds a complete shard of either layout (a shard's stats file)."""
    return any(split_dir.glob("shard-*/stats.json")) or any(split_dir.glob("shard-*.stats.json"))


def prepare_output(spec: DatasetSpec) -> None:
    """Create ``out/<split>`` and record the settings, refusing to mix two datasets in one folder."""
    try:
        make_writable(spec.split_dir)
    except OSError as error:
        raise OSError(f"cannot write to --out {spec.out}: {error.strerror or error}") from None
    described = json.loads(json.dumps(spec.describe()))  # as it reads back (tuples become lists)
    record = spec.split_dir / "dataset.json"
    if record.exists():
        existing = json.loads(record.read_text())
        if existing != described and holds_finished_shards(spec.split_dir):
            changed = sorted(k for k in set(existing) | set(described) if existing.get(k) != described.get(k))
            raise DatasetMismatch(
                f"{spec.split_dir} holds a dataset made with other settings ({', '.join(changed)}); "
                "use another --out or --split, or delete it"
            )
        if existing == described:
            return
        for settled in spec.split_dir.glob(".shard-*.nothing.json"):  # what other settings yielded says nothing of these
            settled.unlink()
    write_json_atomic(record, described)  # new, or replacing the settings of a folder that holds no pair yet


def is_complete(spec: DatasetSpec, shard: Shard) -> bool:
    return stats_path(spec, shard).exists()


TIMINGS = ("seconds", "pairs_per_s", "frames_per_s")  # stats that differ from run to run


def nothing_path(spec: DatasetSpec, shard: Shard) -> Path:
    """The record of a shard that was written and yielded nothing (every source skipped): not
    complete, so a rerun tries it again, but settled, so a layout need not wait for it."""
    return spec.split_dir / f".{shard.name}.nothing.json"


def is_settled(spec: DatasetSpec, shard: Shard) -> bool:
    """Complete, or written with nothing to keep (:func:`nothing_path`)."""
    return is_complete(spec, shard) or nothing_path(spec, shard).exists()


def source_name(source: object, index: int) -> str:
    """A source image's stable name (its path or id), for the list of skipped files."""
    name = getattr(source, "id", None)
    if name is None:
        return str(index)
    text, raw = json_safe_name(str(name(index)))
    return text if raw is None else f"{text} (bytes {raw})"


def lock_shard(spec: DatasetSpec, shard: Shard) -> int | None:
    """Take ``<split>/.<shard>.lock`` for this process (:func:`blurgen.files.try_lock`): its descriptor,
    or None when another run is writing the shard now."""
    return try_lock(spec.split_dir / f".{shard.name}.lock")


def unlock_shard(spec: DatasetSpec, shard: Shard, descriptor: int) -> None:
    release_lock(spec.split_dir / f".{shard.name}.lock", descriptor)


def write_shard(spec: DatasetSpec, shard: Shard, on_image: Callable[[int], None] | None = None) -> dict:
    """Make and write every pair of ``shard`` (or every sequence, for a
    :class:`blurgen.output.sequences.SequenceSpec`: whatever ``spec.fill`` makes); return its stats
    (also written, last, to disk).

    Bad source images are skipped, counted and named by reason (``skipped_files``); nothing here
    raises for one image. A shard that yields no pair is not committed and its stats are not
    written (``"complete": False``): it holds nothing to keep, and must not stop a rerun with
    corrected settings; what it skipped is recorded in :func:`nothing_path` instead, so a layout
    arranged from the complete shards does not wait for it. A shard in which every image failed for another reason (the settings,
    the machine) raises :class:`ShardFailed`. A shard that another run into the same folder is
    writing is left to it (``"busy": True``); one it finished meanwhile is not written again. A
    full disk (or any failure to write) removes the unfinished shard and raises an ``OSError``
    that names the folder and says that the same command resumes.
    """
    descriptor = lock_shard(spec, shard)
    if descriptor is None:
        return {"shard": shard.name, "sources": shard.stop - shard.start, "pairs": 0, "skipped": {}, "busy": True, "complete": False}
    try:
        if is_complete(spec, shard):
            return read_stats(spec, shard)
        writer = None
        try:
            writer = spec.open_writer(shard)
            stats = spec.fill(shard, writer, on_image)
            if stats["complete"]:
                remove(nothing_path(spec, shard))
            else:
                write_json_atomic(nothing_path(spec, shard), {k: v for k, v in stats.items() if k not in TIMINGS})
            return stats
        except OSError as error:
            if writer is not None:
                writer.abandon()
            raise OSError(f"cannot write {spec.split_dir} ({error.strerror or error}); the unfinished shard {shard.name} was "
                          "removed and complete shards are kept: make room and run the same command again to write the rest") from None
    finally:
        unlock_shard(spec, shard, descriptor)


def write_pairs(spec: DatasetSpec, shard: Shard, writer: object, on_image: Callable[[int], None] | None) -> dict:
    """The pairs of ``shard`` into ``writer``, committed when there is at least one; the stats."""
    started = time.perf_counter()
    synthesizer = spec.synthesizer()
    skipped: dict[str, list[str]] = {}
    fallbacks: Counter[str] = Counter()  # motion pairs that fell back to camera blur, by reason
    failures: list[str] = []
    dim: list[str] = []  # 16-bit images whose values use a small part of the range
    pairs = transparent = needed = 0  # needed: the largest side a too-small image fell short of
    for source_index in range(shard.start, shard.stop):
        reason = None
        try:
            image = spec.source[source_index]
            transparent += is_transparent(image)
            if is_dim_16_bit(image):
                dim.append(source_name(spec.source, source_index))
            made = [synthesizer.make_with_map(image, source_index * spec.per_image + j) for j in range(spec.per_image)]
        except BadImage as error:
            reason = error.reason
        except ImageTooSmall as error:
            reason = TOO_SMALL
            needed = max(needed, error.needed)
        except Exception as error:  # one odd file must not end a long run; keep what went wrong
            reason = FAILED
            failures.append(f"{source_name(spec.source, source_index)}: {type(error).__name__}: {error}")
        else:
            for pair, plan, blur_map in made:
                meta = {k: v for k, v in pair.meta.items() if k != "camera"}  # the camera is in dataset.json
                writer.add(f"{plan.index:08d}", pair.blurred, pair.sharp, plan.kernel, meta, meta["bit_depth"], blur_map)
                pairs += 1
                fallback = pair.meta.get("motion", {}).get("fallback")
                if fallback:
                    fallbacks[fallback] += 1
        if reason is not None:
            skipped.setdefault(reason, []).append(source_name(spec.source, source_index))
        if on_image is not None:
            on_image(1)
    seconds = time.perf_counter() - started
    stats = {
        "shard": shard.name,
        "sources": shard.stop - shard.start,
        "pairs": pairs,
        "skipped": {reason: len(names) for reason, names in sorted(skipped.items())},
        "skipped_files": dict(sorted(skipped.items())),
        **({"too_small_below_px": needed} if needed else {}),
        "motion_fallbacks": dict(sorted(fallbacks.items())),
        "transparent": transparent,  # images with an alpha channel, composited over white
        **({"dim_16_bit": dim} if dim else {}),
        "failures": failures,
        "seconds": round(seconds, 3),
        "pairs_per_s": round(pairs / seconds, 2) if seconds > 0 else 0.0,
        "complete": pairs > 0,
    }
    return close_shard(spec, shard, writer, stats, "image")


def close_shard(spec: DatasetSpec, shard: Shard, writer: object, stats: dict, source: str) -> dict:
    """Commit ``writer`` and then write ``stats`` when the shard holds something (``stats["complete"]``);
    abandon it otherwise, and raise :class:`ShardFailed` when every ``source`` (image, sequence)
    failed for reasons that are not the input's. Returns ``stats``."""
    if stats["complete"]:
        writer.commit()
        write_json_atomic(stats_path(spec, shard), stats)
        return stats
    writer.abandon()
    if FAILED in stats["skipped"]:
        raise ShardFailed(f"shard {shard.name}: every {source} failed, for reasons that are not the input's "
                          f"(so it is not marked complete; a re-run retries it): {stats['failures'][0]}")
    return stats


def warm_up(spec: DatasetSpec, tries: int = 3) -> None:
    """Make (and drop) one pair, so numba's compiled code is loaded, or compiled and cached on a
    first run, once in this process before any worker needs it. An image that fails is passed
    over: the shards report it."""
    synthesizer = spec.synthesizer()
    for index in range(min(tries, len(spec.source))):
        try:
            synthesizer.make_with_map(spec.source[index], index * spec.per_image)
            return
        except Exception:  # noqa: BLE001 - counted where it matters, in the shard that holds it
            continue


def read_stats(spec: DatasetSpec, shard: Shard) -> dict:
    return json.loads(stats_path(spec, shard).read_text())
