"""Sequences → disk: shards of blurred video sequences that resume after any kill, and the layouts
video deblurring trainers read.

``blurgen sequences`` writes sequence i (a pure function of (seed, i), :mod:`blurgen.pairs.sequences`)
into shard ``i // shard_size``: ``<split>/shard-NNNNN/<i:06d>/{blur,sharp}/<frame:08d>.png`` and one
line per sequence in the shard's ``meta.jsonl``; a shard is written under a temporary name, renamed
when complete, and its ``stats.json`` written last, exactly as ``blurgen dataset``'s shards
(:mod:`blurgen.output.dataset`), so the same distributors, locks and resuming apply.

Once every shard is complete, ``--layout`` arranges the sequences (hard links to the shards' PNGs
where the format allows) in ``<split>/<layout>/``, whole or not at all:

* ``reds``: ``train_blur/<clip>/<frame:08d>.png`` and ``train_sharp/...``, clips ``000``, ``001``, ...
  (the sequence's index), frames from 0; ``meta_info.txt`` with BasicSR's line ``000 100 (h,w,3)``;
  ``basicsr.yml``. BasicSR's REDS readers take every clip to hold 100 frames, so the layout needs
  ``--frames 100`` and leaves out sequences a scene cut shortened (counted).
* ``gopro``: GoPro_Large's ``<clip>/blur/<frame:06d>.png`` (and the same frames in
  ``<clip>/blur_gamma/``, the folder some of GoPro's readers take) and ``<clip>/sharp/...``, frames
  numbered on the clip's timeline (a clip's later sequences start where the earlier ended, as
  GoPro's ``000047``).
* ``dvd``: DVD's ``<clip>/input/<frame:05d>.jpg`` and ``<clip>/GT/...`` (JPEG quality 100), frames from 0.
* ``kair``: KAIR's video readers: ``train_GT_blurred/<clip>/<frame:06d>.png`` and ``train_GT/...``,
  ``meta_info.txt`` lines ``<clip> <frames> (h,w,3) <start frame:06d>``; ``kair.json``.

These trainers read 8-bit frames: 16-bit sequences are converted (rounded) in the layout
(``converted_16_bit``: output frames).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from blurgen.blurring.camera import camera_preset
from blurgen.blurring.camera_path import PathSpec
from blurgen.files import remove, to_pixels
from blurgen.output.dataset import FAILED, Shard, close_shard, shards_of, source_name
from blurgen.output.distribute import run_shards, shards_settled
from blurgen.output.frameworks import arrange_once, eight_bit, place, read_png_header
from blurgen.output.writers import FolderShard
from blurgen.pairs.sequences import ClipSequencer, ClipSequences, Frame, StillSequencer, Timing
from blurgen.pairs.settings import pair_option
from blurgen.pairs.synthesizer import ImageTooSmall
from blurgen.settings import SettingError, check_options, option
from blurgen.sources import open_source
from blurgen.sources.images import TOO_SMALL, BadImage, encode_png, read_image
from blurgen.sources.video import find_clips

SEQUENCES_FORMAT = "blurgen.sequences"
SEQUENCES_VERSION = 1
SEQUENCE_LAYOUTS = ("reds", "gopro", "dvd", "kair")
ORIGINS = ("stills", "clips")
REDS_FRAMES = 100  # BasicSR's REDS readers take every clip to hold frames 0-99
STILL_VIEW = 256  # px: the frame side of sequences from stills unless --crop says otherwise
DVD_JPEG_QUALITY = 100


def parse_range(text: str, name: str) -> tuple[float, float]:
    """``"2-12"`` or ``"6"`` → (low, high) non-negative numbers; a :class:`SettingError` naming ``name`` otherwise."""
    parts = str(text).split("-")
    try:
        low, high = (float(parts[0]), float(parts[-1])) if 1 <= len(parts) <= 2 else (1.0, 0.0)
    except ValueError:
        low, high = 1.0, 0.0
    if not 0 <= low <= high:
        raise SettingError(f"{{{name}}} must be a number or a range low-high with 0 <= low <= high, got {text!r}")
    return low, high


@dataclass
class SequencesConfig:
    """``blurgen sequences``' settings: what decides each sequence, and where and how they are written."""

    src: str | None = pair_option("src", None, help="Sharp photos (any folder, COCO, GoPro_Large's sharp frames) with --from "
                                  "stills, default the built-in corpus of --builtin; video clips (files, folders of frames, "
                                  "GoPro_Large) with --from clips.")
    origin: str = option("stills", "stills: one continuous camera motion over each photo per sequence; clips: consecutive "
                         "output frames of each clip, each averaging its frames.", choices=ORIGINS, flags=("--from",))
    builtin: str = pair_option("builtin", "dead-leaves")
    frames: int = option(100, "Output frames per sequence (REDS: 100). A clip's timeline is cut into sequences of this many; "
                         "a scene cut ends one early.", minimum=1)
    fps: float = option(24.0, "Output frame rate (clips: how many of the clip's frames an output frame interval spans; "
                        "stills: recorded).", above=0.0)
    duty: float = option(0.8, "Duty cycle: exposure / frame interval (REDS: about 0.8); 1: each exposure ends where the next "
                         "begins.", above=0.0, maximum=1.0)
    crop: int | None = option(None, f"Square frames of this many px, the same region in every frame of a sequence (default: "
                              f"whole frames from clips, {STILL_VIEW} px from stills).", minimum=8)
    speed: str = option("2-12", "Stills: the camera's peak speed in px per frame interval, drawn per sequence from this range.")
    roll: float = option(0.3, "Stills: the camera's peak roll rate in degrees per frame interval, drawn from U(0, roll).", minimum=0.0)
    objects: int = option(0, "Stills: at most this many annotated objects (COCO's instance masks) move along their own paths; 0: "
                          "none.", minimum=0, maximum=8)
    camera: str = pair_option("camera", "gamma", note="Default gamma: frames average in linear light, as exposures do (clips: "
                              "--response sets the curve).")
    interpolate: int = pair_option("interpolate", 1, note="Clips only (REDS: 16 from 120 fps).")
    flow: str = pair_option("flow", "dis")
    response: str = pair_option("response", "srgb", note="Clips only.")
    clip_fps: float | None = option(None, "Clips: their frame rate, for folders of frames (which do not say it) or to override "
                                    "the file's.", above=0.0)
    per_image: int = option(1, "Stills: sequences per photo.", minimum=1)
    limit: int | None = option(None, "The first N photos (stills; dead-leaves: how many to make, default 100) or sequences (clips).",
                               minimum=1)
    seed: int = pair_option("seed", 0, help="Run seed; sequence i depends only on (seed, i).")
    out: str = option("sequences", "Output folder.", path=True)
    split: str = option("train", "Output split folder: <out>/<split>/...")
    layout: str | None = option(None, "Also arrange the sequences as video trainers read them, in <out>/<split>/<layout>/, once "
                                "every shard is complete: reds (BasicSR's REDS readers, meta_info; needs --frames 100), gopro "
                                "(GoPro_Large), dvd (DVD) or kair (KAIR's video readers, meta_info with start frames).",
                                choices=SEQUENCE_LAYOUTS)
    workers: int | None = option(None, "Local processes making sequences, this one included (default: one per core, at most one per "
                                 "shard left). The output does not depend on it.", minimum=1)
    jobs: int = option(1, "Split the work into this many jobs (e.g. a Slurm array) ...", minimum=1)
    job_index: int = option(0, "... and run job number I (0-based) here.", minimum=0)
    distributor: str = option("local", "local (process pool) or ray (cluster; pip install 'blurgen[ray]').", choices=("local", "ray"))
    shard_size: int = option(4, "Sequences per output shard (the unit of work and of resuming).", minimum=1)
    png_compression: int | None = option(None, "zlib level 0-9 of the PNGs; default: OpenCV's fast default.", minimum=0, maximum=9)
    preview: int = option(6, "Picture the first sequence's first N frames (blurred over sharp) in <out>/<split>/preview.png; 0: "
                          "none.", minimum=0, maximum=32)

    def __post_init__(self) -> None:
        check_sequences(self)


def check_sequences(config: SequencesConfig) -> None:
    """The settings' types, bounds and rules, as a :class:`SettingError` naming them; nothing is read."""
    check_options(config)
    parse_range(config.speed, "speed")
    stills = config.origin == "stills"
    if config.origin == "clips" and config.src is None:
        raise SettingError("{origin} clips makes sequences from video: give {src} (video files, folders of frames or GoPro_Large)")
    if stills and (config.interpolate != 1 or config.clip_fps is not None):
        raise SettingError(f"{{{'interpolate' if config.interpolate != 1 else 'clip_fps'}}} applies to {{origin}} clips; "
                           "sequences from stills move the camera themselves")
    if not stills and (config.objects or config.per_image != 1):
        raise SettingError(f"{{{'objects' if config.objects else 'per_image'}}} applies to {{origin}} stills")
    if config.layout == "reds" and config.frames != REDS_FRAMES:
        raise SettingError(f"{{layout}} reds needs {{frames}} {REDS_FRAMES}: BasicSR's REDS readers take every clip to hold frames "
                           f"0-99 (got {config.frames}); {{layout}} kair records each clip's frame count")
    if not 0 <= config.job_index < config.jobs:
        raise SettingError(f"{{job_index}} must be between 0 and {{jobs}} - 1 ({config.jobs - 1}), got {config.job_index}")


def open_sequencer(config: SequencesConfig, exclude: tuple = ()) -> StillSequencer | ClipSequencer:
    """The sequence maker of ``config``: its photos or clips opened (:class:`SourceError` when they cannot be)."""
    timing = Timing(config.frames, config.fps, config.duty)
    camera = camera_preset(config.camera)
    if config.origin == "clips":
        clips, unreadable = find_clips(config.src, exclude=exclude)
        sequences = ClipSequences(clips, timing, interpolate=config.interpolate, clip_fps=config.clip_fps, root=str(config.src),
                                  unreadable=unreadable, limit=config.limit)
        return ClipSequencer(sequences, camera, config.crop, config.flow, config.response, config.seed)
    source = open_source(config.src, seed=config.seed, builtin=config.builtin, n=config.limit, exclude=exclude)
    path = PathSpec(parse_range(config.speed, "speed"), config.roll)
    return StillSequencer(source, camera, config.crop or STILL_VIEW, timing, path, config.objects, config.seed, config.per_image)


@dataclass(frozen=True)
class SequenceSpec:
    """Everything that decides the bytes of a sequences dataset (and where it goes)."""

    out: Path
    sequencer: object  # StillSequencer or ClipSequencer
    settings: dict = field(default_factory=dict)  # the settings that decide the frames, recorded in dataset.json
    split: str = "train"
    shard_size: int = 4
    png_compression: int | None = None
    layout: str | None = None
    shard_format: str = "files"

    def __post_init__(self) -> None:
        if self.layout is not None and self.layout not in SEQUENCE_LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(SEQUENCE_LAYOUTS)}, got {self.layout!r}")

    @property
    def split_dir(self) -> Path:
        return Path(self.out) / self.split

    @property
    def source(self) -> object:
        """The photos or planned clip sequences the sequences are made from."""
        return self.sequencer.sequences if isinstance(self.sequencer, ClipSequencer) else self.sequencer.source

    def shards(self) -> list[Shard]:
        return shards_of(len(self.sequencer), self.shard_size)

    def describe(self) -> dict:
        """The settings, as ``dataset.json`` records them."""
        describe = getattr(self.source, "describe", None)
        return {"format": SEQUENCES_FORMAT, "version": SEQUENCES_VERSION, "split": self.split, "layout": self.shard_format,
                "source": describe() if describe else {"images": len(self.source)}, **self.settings,
                "shard_size": self.shard_size, "png_compression": self.png_compression, "shards": len(self.shards())}

    def open_writer(self, shard: Shard) -> "SequenceShardWriter":
        return SequenceShardWriter(self.split_dir, shard.name, self.png_compression)

    def fill(self, shard: Shard, writer: "SequenceShardWriter", on_image: Callable[[int], None] | None) -> dict:
        return write_sequences(self, shard, writer, on_image)


def sequence_spec(config: SequencesConfig) -> SequenceSpec:
    """The :class:`SequenceSpec` of ``blurgen sequences``' settings, with its photos or clips opened."""
    check_sequences(config)
    sequencer = open_sequencer(config, exclude=(Path(config.out),))
    return SequenceSpec(Path(config.out), sequencer, recorded_settings(config), config.split, config.shard_size,
                        config.png_compression, config.layout)


def recorded_settings(config: SequencesConfig) -> dict:
    """What decides the frames, for ``dataset.json``: a rerun with other values is refused, not mixed in."""
    common = {"origin": config.origin, "frames": config.frames, "fps": config.fps, "duty": config.duty, "crop": config.crop,
              "camera": camera_preset(config.camera).to_dict(), "seed": config.seed}
    if config.origin == "clips":
        return {**common, "interpolate": config.interpolate, "flow": config.flow, "response": config.response, "clip_fps": config.clip_fps}
    return {**common, "view": config.crop or STILL_VIEW, "path": PathSpec(parse_range(config.speed, "speed"), config.roll).to_dict(),
            "objects": config.objects, "per_image": config.per_image}


def sequence_name(index: int) -> str:
    return f"{index:06d}"


class SequenceShardWriter(FolderShard):
    """Sequences as ``<sequence>/blur/<frame>.png`` and ``<sequence>/sharp/<frame>.png`` in a shard
    folder (named as the dataset writer names its shards, so a stopped run's leftovers are cleared the same way)."""

    def add(self, index: int, meta: dict, frames: Iterator[Frame]) -> int:
        """Sequence ``index``'s frames, written as they are made, and its record; the frame count.
        A sequence that fails part of the way leaves nothing (its error goes on)."""
        folder = self.partial / sequence_name(index)
        try:
            count = shape = 0
            for number, frame in enumerate(frames):
                if number == 0:
                    (folder / "blur").mkdir(parents=True)
                    (folder / "sharp").mkdir()
                    shape = frame.blurred.shape[:2]
                depth = meta["bit_depth"]
                (folder / "blur" / f"{number:08d}.png").write_bytes(encode_png(to_pixels(frame.blurred, depth), self.compression))
                sharp = frame.sharp if frame.sharp.dtype.kind in "ui" else to_pixels(frame.sharp, depth)  # a clip's own pixels as they are
                (folder / "sharp" / f"{number:08d}.png").write_bytes(encode_png(sharp, self.compression))
                count += 1
        except BaseException:
            remove(folder)
            raise
        if count:
            self.records.append(json.dumps({"name": sequence_name(index), "count": count, "height": shape[0], "width": shape[1], **meta},
                                           sort_keys=True))
        return count


def write_sequences(spec: SequenceSpec, shard: Shard, writer: SequenceShardWriter, on_image: Callable[[int], None] | None) -> dict:
    """The sequences of ``shard`` into ``writer``, committed when there is at least one; the stats.
    A sequence that cannot be made is skipped and named by reason; nothing here raises for one."""
    started = time.perf_counter()
    skipped: dict[str, list[str]] = {}
    failures: list[str] = []
    written = frames = shortened = 0
    for index in range(shard.start, shard.stop):
        try:
            meta, made = spec.sequencer.stream(index)
            count = writer.add(index, meta, made)
        except BadImage as error:
            skipped.setdefault(error.reason, []).append(sequence_source(spec, index))
        except ImageTooSmall:
            skipped.setdefault(TOO_SMALL, []).append(sequence_source(spec, index))
        except OSError:
            raise  # the disk, not the input: the shard is abandoned and the command says so
        except Exception as error:  # one odd file must not end a long run; keep what went wrong
            skipped.setdefault(FAILED, []).append(sequence_source(spec, index))
            failures.append(f"{sequence_source(spec, index)}: {type(error).__name__}: {error}")
        else:
            written += count > 0
            frames += count
            shortened += "ended" in meta
        if on_image is not None:
            on_image(1)
    seconds = time.perf_counter() - started
    stats = {
        "shard": shard.name, "sources": shard.stop - shard.start, "sequences": written, "frames": frames,
        "ended_early": shortened, "skipped": {reason: len(names) for reason, names in sorted(skipped.items())},
        "skipped_files": dict(sorted(skipped.items())), "failures": failures, "seconds": round(seconds, 3),
        "frames_per_s": round(frames / seconds, 2) if seconds > 0 else 0.0, "complete": written > 0,
    }
    return close_shard(spec, shard, writer, stats, "sequence")


def sequence_source(spec: SequenceSpec, index: int) -> str:
    """What sequence ``index`` was made from, by name."""
    if isinstance(spec.sequencer, ClipSequencer):
        return spec.sequencer.sequences.id(index)
    return source_name(spec.source, index // spec.sequencer.per_image)


def build_sequences(spec: SequenceSpec, *, workers: int | None = None, num_shards: int = 1, shard_index: int = 0,
                    distributor: str = "local", on_image: Callable[[int], None] | None = None,
                    on_plan: Callable[[int], None] | None = None) -> dict:
    """Write this job's shards of ``spec`` (skipping complete ones) and return a summary: ``shards``,
    ``already_complete``, ``written_now``, ``sequences``, ``frames`` (this job's shards),
    ``frames_now`` (written by this call), ``ended_early`` (sequences a scene cut shortened),
    ``skipped`` (by reason), ``skipped_files``, ``failures``, ``busy``; with a layout, ``layout``
    (its record, once every shard is complete) or ``layout_pending``. ``on_image(k)``: k more
    sequences done; ``on_plan(k)``: k sequences to do."""
    mine, complete, finished, now = run_shards(spec, workers=workers, num_shards=num_shards, shard_index=shard_index,
                                               distributor=distributor, on_image=on_image, on_shard=None, on_plan=on_plan,
                                               items_per_worker=1)
    skipped: dict[str, int] = {}
    named: dict[str, list[str]] = {}
    for stats in finished:
        for reason, count in stats.get("skipped", {}).items():
            skipped[reason] = skipped.get(reason, 0) + count
        for reason, names in stats.get("skipped_files", {}).items():
            named.setdefault(reason, []).extend(names)
    report = {
        "shards": len(mine), "already_complete": len(complete),
        "written_now": sum(1 for stats in now if stats.get("complete")), "busy": sum(1 for stats in now if stats.get("busy")),
        "sources": sum(shard.stop - shard.start for shard in mine),
        "sequences": sum(stats.get("sequences", 0) for stats in finished), "frames": sum(stats.get("frames", 0) for stats in finished),
        "frames_now": sum(stats.get("frames", 0) for stats in now), "ended_early": sum(stats.get("ended_early", 0) for stats in finished),
        "skipped": dict(sorted(skipped.items())), "skipped_files": {reason: names[:20] for reason, names in sorted(named.items())},
        "failures": [failure for stats in finished for failure in stats.get("failures", [])],
    }
    if spec.layout is not None:
        settled, total = shards_settled(spec)
        report.update({"layout": build_sequence_layout(spec.split_dir, spec.layout)} if settled == total else {"layout_pending": total - settled})
    return report


@dataclass(frozen=True)
class WrittenSequence:
    """One sequence of the complete shards: its folder (``blur/``, ``sharp/``) and record."""

    index: int
    folder: Path
    count: int
    start: int
    height: int
    width: int
    full: bool  # not shortened by a scene cut


def written_sequences(split_dir: Path) -> list[WrittenSequence]:
    """Every sequence of the complete shards of a sequences dataset, by index."""
    found = []
    for shard in sorted(split_dir.glob("shard-*")):
        if not (shard / "stats.json").exists():
            continue
        for line in (shard / "meta.jsonl").read_text().splitlines():
            record = json.loads(line)
            found.append(WrittenSequence(record["index"], shard / record["name"], record["count"], record.get("start", 0),
                                         record["height"], record["width"], "ended" not in record))
    return sorted(found, key=lambda sequence: sequence.index)


def build_sequence_layout(split_dir: Path, layout: str) -> dict:
    """``<split_dir>/<layout>/`` from the complete shards (see the module docstring), unless it is
    there already; its ``layout.json`` record: ``layout``, ``sequences``, ``frames`` (per side),
    ``left_out`` (shortened sequences the REDS layout cannot hold), ``converted_16_bit``,
    ``options`` (the options file, or None) and ``built_now``. Raises ValueError for an unknown layout or
    no complete shard, and an ``OSError`` when it cannot be written (nothing half-built is left)."""
    if layout not in SEQUENCE_LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(SEQUENCE_LAYOUTS)}, got {layout!r}")
    sequences = written_sequences(split_dir)
    if not sequences and not (split_dir / layout / "layout.json").exists():
        raise ValueError(f"{split_dir} holds no complete shard of sequences to arrange as {layout}")

    def write(folder: Path) -> dict:
        return {"layout": layout, **write_sequence_layout(folder, layout, sequences, split_dir / layout)}

    return arrange_once(split_dir, layout, write)


LAYOUT_FOLDERS = {  # layout: (blurred folders, sharp folder, frame name, frames numbered on the clip's timeline)
    "reds": (("train_blur/{clip}",), "train_sharp/{clip}", "{frame:08d}.png", False),
    # GoPro's readers take blur/ or blur_gamma/ (its two averages): both hold blurgen's frames
    "gopro": (("{clip}/blur", "{clip}/blur_gamma"), "{clip}/sharp", "{frame:06d}.png", True),
    "dvd": (("{clip}/input",), "{clip}/GT", "{frame:05d}.jpg", False),
    "kair": (("train_GT_blurred/{clip}",), "train_GT/{clip}", "{frame:06d}.png", True),
}


def clip_name(layout: str, sequence: WrittenSequence) -> str:
    """The clip folder of a sequence in a layout: REDS's three digits, else six."""
    return f"{sequence.index:03d}" if layout == "reds" else sequence_name(sequence.index)


def write_sequence_layout(folder: Path, layout: str, sequences: list[WrittenSequence], final: Path) -> dict:
    """The sequences in ``layout`` inside the (new, empty) ``folder``, which will be renamed ``final``; what was written."""
    blur_sides, sharp_side, frame_name, on_timeline = LAYOUT_FOLDERS[layout]
    kept = [sequence for sequence in sequences if sequence.full] if layout == "reds" else sequences
    converted = frames = 0
    for sequence in kept:
        clip = clip_name(layout, sequence)
        converted += sequence.count * (read_png_header(sequence.folder / "blur" / "00000000.png").depth == 16)
        frames += sequence.count
        for side, target in [("blur", blurred) for blurred in blur_sides] + [("sharp", sharp_side)]:
            target_folder = folder / target.format(clip=clip)
            target_folder.mkdir(parents=True)
            for number in range(sequence.count):
                source = sequence.folder / side / f"{number:08d}.png"
                name = frame_name.format(frame=sequence.start + number if on_timeline else number)
                if layout == "dvd":
                    image = eight_bit(read_image(source))
                    _, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, DVD_JPEG_QUALITY])
                    (target_folder / name).write_bytes(data.tobytes())
                else:
                    place(source, target_folder / name)
    options = None
    if layout in ("reds", "kair"):
        lines = [meta_info_line(layout, clip_name(layout, sequence), sequence) for sequence in kept]
        (folder / "meta_info.txt").write_text("".join(line + "\n" for line in lines))
        options, text = layout_options(layout, final, kept)
        (folder / options).write_text(text)
    return {"sequences": len(kept), "frames": frames, "left_out": len(sequences) - len(kept), "converted_16_bit": converted,
            "options": options}


def meta_info_line(layout: str, clip: str, sequence: WrittenSequence) -> str:
    """BasicSR's ``<clip> <frames> (h,w,3)``; KAIR's adds the first frame's number (six digits)."""
    line = f"{clip} {sequence.count} ({sequence.height},{sequence.width},3)"
    return line + f" {sequence.start:06d}" if layout == "kair" else line


def layout_options(layout: str, root: Path, sequences: list[WrittenSequence]) -> tuple[str, str]:
    """The options file to paste into the trainer: (name, text)."""
    crop = min(256, min(min(s.height, s.width) for s in sequences)) if sequences else 256
    shortest = min((s.count for s in sequences), default=REDS_FRAMES)
    if layout == "reds":
        return "basicsr.yml", (
            "# blurgen's sequences for BasicSR's REDS readers (REDSRecurrentDataset: BasicVSR, BasicVSR++; REDSDataset: EDVR).\n"
            "# BasicSR leaves the clips of val_partition out of training: REDS4 is clips 000, 011, 015 and 020 (read them with\n"
            "# test_mode: true to validate), official is 240-269.\n"
            f"datasets:\n  train:\n    name: blurgen\n    type: REDSRecurrentDataset\n    dataroot_gt: {root / 'train_sharp'}\n"
            f"    dataroot_lq: {root / 'train_blur'}\n    meta_info_file: {root / 'meta_info.txt'}\n    val_partition: REDS4\n"
            f"    test_mode: false\n    io_backend:\n      type: disk\n    num_frame: 15\n    gt_size: {crop}\n    interval_list: [1]\n"
            "    random_reverse: false\n    use_flip: true\n    use_rot: true\n    scale: 1\n")
    return "kair.json", json.dumps({"datasets": {"train": {
        "name": "blurgen", "dataset_type": "VideoRecurrentTrainDataset", "dataroot_gt": str(root / "train_GT"),
        "dataroot_lq": str(root / "train_GT_blurred"), "meta_info_file": str(root / "meta_info.txt"), "filename_tmpl": "06d",
        "filename_ext": "png", "test_mode": False, "io_backend": {"type": "disk"}, "num_frame": min(6, shortest), "gt_size": crop,
        "interval_list": [1], "random_reverse": False, "use_hflip": True, "use_rot": True, "scale": 1}}}, indent=2) + "\n"
