"""Written shards → the layouts other training frameworks read, and BasicSR's LMDB.

A dataset is written in shards (the unit of work and of resuming, :mod:`blurgen.output.dataset`);
once every shard is complete, :func:`build_layout` arranges the pairs as a framework expects
them, in ``<split>/<layout>/``, beside an options file to paste into that framework:

* ``basicsr`` (BasicSR's ``PairedImageDataset``, and NAFNet, Restormer, HINet built on it):
  ``blur/`` and ``sharp/`` with the same file names, ``meta_info.txt`` (one sharp name per line);
  with LMDB (``blurgen dataset --format lmdb``) ``blur.lmdb`` and ``sharp.lmdb`` instead;
  ``basicsr.yml``.
* ``nafnet``: NAFNet's GoPro preparation: crops of 512 px every 256 px (BasicSR's
  ``extract_subimages``: the last crop of a row or column ends at the image's edge), named
  ``<name>_s<idx:03d>.png``, in ``blur_crops.lmdb`` and ``sharp_crops.lmdb``; ``nafnet.yml``.
* ``restormer``: Restormer's ``generate_patches_gopro.py``: crops of 512 px overlapping by 256,
  named ``<name>-<n>.png`` (n from 1), in ``input_crops/`` and ``target_crops/``; ``restormer.yml``
  (its progressive schedule trains on crops up to 384 px of these).
* ``kair``: ``trainH/`` (sharp) and ``trainL/`` (blurred), paired by sorted names; ``kair.json``.
* ``deblurganv2``: ``blur/`` and ``sharp/``, whose sorted globs its loader pairs by position;
  ``deblurganv2.yaml``.

LMDB is BasicSR's format exactly: one database per side, keys the file names without extension,
values the PNG bytes, ``meta_info.txt`` with ``<name>.png (h,w,c) <compression>`` per line, the same
keys on both sides. These frameworks read 8-bit images: 16-bit pairs are converted (rounded) and
the count is recorded in ``layout.json``. Files are hard links to the shards' PNGs where no
conversion is needed (no second copy on disk; a copy where links are not possible).

A layout is built under a temporary name and renamed when complete, so it is there whole or not
at all; a run killed while building it builds it again. The options files hold absolute paths to
the data beside them.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple
from pathlib import Path

import numpy as np

from blurgen.files import folder_lock, remove
from blurgen.sources.images import decode_image, encode_png, read_image

LAYOUTS = ("basicsr", "nafnet", "restormer", "kair", "deblurganv2")
NAFNET_CROP, NAFNET_STEP = 512, 256
RESTORMER_CROP, RESTORMER_OVERLAP = 512, 256
PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}  # by the IHDR colour type: grey, RGB, palette, grey+alpha, RGBA
LMDB_COMPRESSION = 1  # OpenCV's default PNG level: what the shards' PNGs are written with unless --png-compression says otherwise


@dataclass(frozen=True)
class Pair:
    """One written pair: its name (``<key>``, sorting as the pairs were made) and its two PNG files."""

    name: str
    blurred: Path
    sharp: Path


def written_pairs(split_dir: Path) -> list[Pair]:
    """Every pair of the complete shards (those with ``stats.json``) of a ``files`` dataset, by name."""
    pairs = []
    for shard in sorted(split_dir.glob("shard-*")):
        if shard.is_dir() and (shard / "stats.json").exists():
            pairs += [Pair(path.stem, path, shard / "sharp" / path.name) for path in sorted((shard / "blur").glob("*.png"))]
    return sorted(pairs, key=lambda pair: pair.name)


def eight_bit(image: np.ndarray) -> np.ndarray:
    """uint16 → uint8 (v / 257, rounded); uint8 as it is."""
    if image.dtype == np.uint8:
        return image
    return np.clip(np.rint(image.astype(np.float64) / 257.0), 0, 255).astype(np.uint8)


class PngHeader(NamedTuple):
    """What a PNG's IHDR chunk says: its size, bit depth and channels."""

    width: int
    height: int
    depth: int
    channels: int


def png_header(data: bytes) -> PngHeader:
    """The header of PNG bytes (at least their first 26)."""
    return PngHeader(int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"), data[24], PNG_CHANNELS[data[25]])


def read_png_header(path: Path) -> PngHeader:
    with open(path, "rb") as file:
        return png_header(file.read(26))


def png_bytes(path: Path) -> tuple[bytes, bool]:
    """The 8-bit PNG of ``path``: its own bytes when it is 8-bit, else re-encoded (and True)."""
    data = path.read_bytes()
    if png_header(data).depth == 8:
        return data, False
    return encode_png(eight_bit(read_image(path))), True


def place(source: Path, target: Path) -> bool:
    """``source`` at ``target`` as an 8-bit PNG: a hard link (or a copy) when it is 8-bit already;
    whether it was converted."""
    if read_png_header(source).depth == 8:
        try:
            os.link(source, target)
        except OSError:  # another file system, or links not allowed: a copy
            shutil.copyfile(source, target)
        return False
    target.write_bytes(png_bytes(source)[0])
    return True


def nafnet_starts(length: int) -> list[int]:
    """Crop starts along one side, as BasicSR's ``extract_subimages`` (crop 512, step 256, threshold 0)."""
    if length < NAFNET_CROP:
        return []
    starts = list(range(0, length - NAFNET_CROP + 1, NAFNET_STEP))
    if length - (starts[-1] + NAFNET_CROP) > 0:
        starts.append(length - NAFNET_CROP)
    return starts


def restormer_starts(length: int) -> list[int]:
    """Crop starts along one side, as Restormer's ``generate_patches_gopro.py`` (512 px, overlap 256)."""
    if length < RESTORMER_CROP:
        return []
    return [*range(0, length - RESTORMER_CROP, RESTORMER_CROP - RESTORMER_OVERLAP), length - RESTORMER_CROP]


def crops(image: np.ndarray, starts: Callable[[int], list[int]], side: int) -> Iterator[np.ndarray]:
    """The crops of ``image`` (H×W×C) at every (row, column) start, rows outermost."""
    for top in starts(image.shape[0]):
        for left in starts(image.shape[1]):
            yield image[top:top + side, left:left + side]


class LmdbWriter:
    """A BasicSR LMDB being written: ``put`` PNG bytes under a key, ``close`` writes ``meta_info.txt``."""

    def __init__(self, path: Path, map_size: int) -> None:
        import lmdb

        self.path = path
        self.env = lmdb.open(str(path), map_size=map_size)
        self.txn = self.env.begin(write=True)
        self.lines: list[str] = []

    def put(self, key: str, data: bytes) -> None:
        """``data``: PNG bytes; its size and channels are read from its header for ``meta_info.txt``."""
        header = png_header(data)
        self.txn.put(key.encode("ascii"), data)
        self.lines.append(f"{key}.png ({header.height},{header.width},{header.channels}) {LMDB_COMPRESSION}\n")

    def close(self) -> None:
        self.txn.commit()
        self.env.close()
        (self.path / "meta_info.txt").write_text("".join(self.lines))


def map_size(pairs: list[Pair]) -> int:
    """Room for the databases: LMDB needs its largest size up front (a sparse file: unused room costs nothing)."""
    return 4 * sum(pair.blurred.stat().st_size + pair.sharp.stat().st_size for pair in pairs) + (64 << 20)


def write_lmdb_pairs(folder: Path, pairs: list[Pair], names: tuple[str, str], cut: Callable[[np.ndarray], list[np.ndarray]] | None,
                     crop_name: str = "{name}_s{index:03d}") -> dict:
    """Both sides' LMDBs (``folder/names[0]`` blurred, ``folder/names[1]`` sharp); ``cut`` makes
    crops of an H×W×C image, each stored as ``crop_name``."""
    size = map_size(pairs)
    blurred_db, sharp_db = LmdbWriter(folder / names[0], size), LmdbWriter(folder / names[1], size)
    converted = entries = too_small = 0
    for pair in pairs:
        (blurred, changed), (sharp, _) = png_bytes(pair.blurred), png_bytes(pair.sharp)
        converted += changed
        if cut is None:
            blurred_db.put(pair.name, blurred)
            sharp_db.put(pair.name, sharp)
            entries += 1
            continue
        sides = [cut(decode_image(data, path, orient=False)) for data, path in ((blurred, pair.blurred), (sharp, pair.sharp))]
        too_small += not sides[0]
        for index, (blurred_crop, sharp_crop) in enumerate(zip(*sides), start=1):
            key = crop_name.format(name=pair.name, index=index)
            blurred_db.put(key, encode_png(np.ascontiguousarray(blurred_crop)))
            sharp_db.put(key, encode_png(np.ascontiguousarray(sharp_crop)))
            entries += 1
    blurred_db.close()
    sharp_db.close()
    return {"entries": entries, "converted_16_bit": converted, "too_small_for_crops": too_small}


def write_folder_pairs(folder: Path, pairs: list[Pair], names: tuple[str, str]) -> dict:
    """Both sides as same-named PNG files in ``folder/names[0]`` (blurred) and ``folder/names[1]`` (sharp)."""
    for name in names:
        (folder / name).mkdir()
    converted = 0
    for pair in pairs:
        converted += place(pair.blurred, folder / names[0] / f"{pair.name}.png")
        place(pair.sharp, folder / names[1] / f"{pair.name}.png")
    return {"entries": len(pairs), "converted_16_bit": converted, "too_small_for_crops": 0}


def write_folder_crops(folder: Path, pairs: list[Pair], names: tuple[str, str]) -> dict:
    """Restormer's crops of both sides as ``<name>-<n>.png`` in ``folder/names[0]`` and ``folder/names[1]``."""
    for name in names:
        (folder / name).mkdir()
    converted = entries = too_small = 0
    for pair in pairs:
        images = [read_image(path) for path in (pair.blurred, pair.sharp)]
        converted += images[0].dtype != np.uint8
        found = [list(crops(eight_bit(image), restormer_starts, RESTORMER_CROP)) for image in images]
        too_small += not found[0]
        for index, (blurred, sharp) in enumerate(zip(*found), start=1):
            for side, crop in zip(names, (blurred, sharp)):
                (folder / side / f"{pair.name}-{index}.png").write_bytes(encode_png(np.ascontiguousarray(crop)))
            entries += 1
    return {"entries": entries, "converted_16_bit": converted, "too_small_for_crops": too_small}


def training_crop(pairs: list[Pair]) -> int:
    """The training crop the options files ask for: 256 px, or a pair's smaller side when it is smaller."""
    header = read_png_header(pairs[0].sharp)
    return min(256, header.width, header.height)


def options_file(layout: str, folder: Path, lmdb: bool, crop: int) -> tuple[str, str]:
    """(file name, text) of the options a user pastes into the framework, pointing at ``folder``,
    training on ``crop``-px crops (Restormer: its own progressive schedule on the 512-px crops)."""
    root = folder.resolve()
    if layout in ("basicsr", "nafnet"):
        sides = {"basicsr": ("blur.lmdb", "sharp.lmdb") if lmdb else ("blur", "sharp"), "nafnet": ("blur_crops.lmdb", "sharp_crops.lmdb")}[layout]
        backend = "lmdb" if lmdb or layout == "nafnet" else "disk"
        meta = "" if backend == "lmdb" else f"    meta_info_file: {root / 'meta_info.txt'}\n"
        return f"{layout}.yml", (
            f"# blurgen's pairs for {'NAFNet' if layout == 'nafnet' else 'BasicSR'}: paste under datasets: in your options file.\n"
            "datasets:\n  train:\n    name: blurgen\n    type: PairedImageDataset\n"
            f"    dataroot_gt: {root / sides[1]}\n    dataroot_lq: {root / sides[0]}\n{meta}"
            "    filename_tmpl: '{}'\n"
            f"    io_backend:\n      type: {backend}\n"
            f"    gt_size: {crop}\n    use_flip: true\n    use_rot: true\n")
    if layout == "restormer":
        return "restormer.yml", (
            "# blurgen's pairs for Restormer: paste under datasets: in its Deblurring_Restormer.yml.\n"
            "datasets:\n  train:\n    name: TrainSet\n    type: Dataset_PairedImage\n"
            f"    dataroot_gt: {root / 'target_crops'}\n    dataroot_lq: {root / 'input_crops'}\n"
            "    geometric_augs: true\n    filename_tmpl: '{}'\n    io_backend:\n      type: disk\n"
            "    mini_batch_sizes: [8, 5, 4, 2, 1, 1]\n    iters: [92000, 64000, 48000, 36000, 36000, 24000]\n"
            "    gt_size: 384\n    gt_sizes: [128, 160, 192, 256, 320, 384]\n")
    if layout == "kair":
        options = {"datasets": {"train": {"name": "train_dataset", "dataset_type": "plain", "dataroot_H": str(root / "trainH"),
                                          "dataroot_L": str(root / "trainL"), "H_size": crop, "dataloader_shuffle": True,
                                          "dataloader_num_workers": 8, "dataloader_batch_size": 16}}}
        return "kair.json", json.dumps(options, indent=2) + "\n"
    return "deblurganv2.yaml", (
        "# blurgen's pairs for DeblurGANv2: its loader sorts each glob and pairs the lists by position.\n"
        f"train:\n  files_a: &FILES_A {root / 'blur'}/*.png\n  files_b: &FILES_B {root / 'sharp'}/*.png\n"
        f"  size: &SIZE {crop}\n  crop: random\n  preload: &PRELOAD false\n  preload_size: &PRELOAD_SIZE 0\n"
        "  bounds: [0, .9]\n  scope: geometric\n  corrupt: &CORRUPT []\n"
        "val:\n  files_a: *FILES_A\n  files_b: *FILES_B\n  size: *SIZE\n  scope: geometric\n  crop: center\n"
        "  preload: *PRELOAD\n  preload_size: *PRELOAD_SIZE\n  bounds: [.9, 1]\n  corrupt: *CORRUPT\n")


def write_layout(folder: Path, layout: str, pairs: list[Pair], lmdb: bool, final: Path) -> dict:
    """The pairs in ``layout`` inside the (new, empty) ``folder``, which will be renamed ``final``;
    the counts of what was written."""
    if layout == "basicsr" and lmdb:
        counts = write_lmdb_pairs(folder, pairs, ("blur.lmdb", "sharp.lmdb"), None)
    elif layout == "basicsr":
        counts = write_folder_pairs(folder, pairs, ("blur", "sharp"))
        (folder / "meta_info.txt").write_text("".join(f"{pair.name}.png\n" for pair in pairs))
    elif layout == "nafnet":
        counts = write_lmdb_pairs(folder, pairs, ("blur_crops.lmdb", "sharp_crops.lmdb"),
                                  lambda image: list(crops(image, nafnet_starts, NAFNET_CROP)))
    elif layout == "restormer":
        counts = write_folder_crops(folder, pairs, ("input_crops", "target_crops"))
    elif layout == "kair":
        counts = write_folder_pairs(folder, pairs, ("trainL", "trainH"))
    else:
        counts = write_folder_pairs(folder, pairs, ("blur", "sharp"))
    name, text = options_file(layout, final, lmdb, 256 if layout == "nafnet" else training_crop(pairs))
    (folder / name).write_text(text)
    return {**counts, "options": name}


def check_layout(layout: str) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")


def build_layout(split_dir: Path, layout: str, *, lmdb: bool = False) -> dict:
    """``<split_dir>/<layout>/`` from the complete shards of a ``files`` dataset (see the module
    docstring), unless it is there already; returns its ``layout.json`` record: ``layout``,
    ``pairs``, ``entries`` (files or keys per side: crops for nafnet and restormer),
    ``converted_16_bit``, ``too_small_for_crops`` (pairs smaller than the 512-px crops, left out),
    ``options`` (the options file's name) and ``built_now``.

    Raises ValueError for an unknown layout or a split with no complete shard,
    :class:`blurgen.files.FolderBusy` while another run builds it, and an ``OSError`` when the
    folder cannot be written (nothing half-built is left).
    """
    check_layout(layout)
    pairs = written_pairs(split_dir)
    if not pairs and not (split_dir / layout / "layout.json").exists():
        raise ValueError(f"{split_dir} holds no complete shard of pairs to arrange as {layout}")

    def write(folder: Path) -> dict:
        counts = write_layout(folder, layout, pairs, lmdb, split_dir / layout)
        return {"layout": layout, "lmdb": lmdb or layout == "nafnet", "pairs": len(pairs), **counts}

    return arrange_once(split_dir, layout, write)


def arrange_once(split_dir: Path, layout: str, write: Callable[[Path], dict]) -> dict:
    """``<split_dir>/<layout>/``, written by ``write`` into an empty temporary folder (it returns
    the record) and renamed when whole, unless it is there already; its ``layout.json`` record with
    ``built_now``. A folder lock keeps two runs from building it together (:class:`blurgen.files.FolderBusy`
    for the second); a failure leaves nothing half-built, and a full disk is an ``OSError`` that
    says the shards are kept."""
    final = split_dir / layout
    record = final / "layout.json"
    if record.exists():
        return {**json.loads(record.read_text()), "built_now": False}
    with folder_lock(split_dir / f".{layout}.lock", f"another run is arranging {split_dir} as {layout} now"):
        if record.exists():  # another job built it while this one waited
            return {**json.loads(record.read_text()), "built_now": False}
        partial = split_dir / f".{layout}.partial"
        remove(partial)
        remove(final)  # renamed by a run that died before its record: redo it
        partial.mkdir()
        try:
            written = write(partial)
            (partial / "layout.json").write_text(json.dumps(written, indent=2, sort_keys=True) + "\n")
            os.replace(partial, final)
        except BaseException as error:
            remove(partial)
            if isinstance(error, OSError) or type(error).__module__ == "lmdb":  # a full disk, as the lmdb package or the OS says it
                raise OSError(f"cannot arrange {split_dir} as {layout} ({getattr(error, 'strerror', None) or error}); the "
                              "shards are complete and kept: make room and run the same command again") from None
            raise
    return {**written, "built_now": True}


__all__ = ["LAYOUTS", "build_layout", "check_layout", "written_pairs"]
