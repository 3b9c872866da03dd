"""(blurred, sharp) pairs from any paired layout, for evaluation and validation.

These layouts are read, and :func:`open_pairs` says which it found (and which public benchmark,
when it recognises one: :mod:`blurgen.sources.public_sets`):

* ``folders``: a folder with ``blur/`` and ``sharp/`` holding files of the same names (plain
  paired folders, and ``blurgen evalset`` output); or a tree whose groups each hold such a pair
  of folders: GoPro_Large scenes (``<split>/<scene>/{blur,blur_gamma,sharp}/``) and
  ``blurgen dataset --format files`` shards (``<split>/shard-NNNNN/{blur,sharp}/``). Given a
  GoPro_Large root that has a ``test/`` split, the test split is read.
* ``webdataset``: a ``.tar`` shard, or a folder of them, whose members are
  ``<key>.blur.<ext>`` and ``<key>.sharp.<ext>`` (``blurgen dataset --format webdataset``).
* ``list``: a benchmark's list file of ``<sharp> <blurred>`` lines (RealBlur-J, RealBlur-R,
  RSBlur), or a root that holds one; ``hide``: HIDE's ``GT/`` and ``test/`` folders; ``levin``:
  Levin et al.'s captures (``.mat`` files, or ``im<i>_kernel<k>_img.png`` with ``gt/``);
  ``kohler``: Köhler et al.'s (``Blurry<i>_<k>.png`` with their recorded sharp frames,
  :class:`KohlerPairs`).

Names must match exactly: a blurred file without a sharp partner (or the reverse) is a
:class:`SourceError` naming the first such file, never a silently shorter set. Folders whose
name starts with a dot (unfinished shards) are not read. Items are the two images as
:func:`read_image` returns them (H×W or H×W×C, uint8 or uint16); ``id(i)`` is
``<group>/<name>`` (``<name>`` for a single pair of folders).
"""

from __future__ import annotations

import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from blurgen.sources.public_sets import (
    LIST_FILES,
    default_protocol,
    find_list_file,
    hide_items,
    is_hide,
    kohler_items,
    levin_items,
    list_items,
    read_kohler_frames,
    read_levin_mat,
)
from blurgen.sources.gopro import BLUR_KINDS
from blurgen.sources.images import IMAGE_EXTENSIONS, SourceError, decode_image, read_image

MAX_DEPTH = 3  # root/split/scene/{blur,sharp}: deep enough for GoPro_Large and dataset output


def visible_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def image_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def matched(names_a: list[str], names_b: list[str], where_a: str, where_b: str) -> list[str]:
    """The common names, or a SourceError naming the first file that has no partner."""
    a, b = set(names_a), set(names_b)
    unmatched = sorted([(name, where_a, where_b) for name in a - b] + [(name, where_b, where_a) for name in b - a])
    if unmatched:
        name, here, there = unmatched[0]
        more = f" (and {len(unmatched) - 1} more)" if len(unmatched) > 1 else ""
        raise SourceError(f"{here}/{name} has no partner of the same name in {there}/{more}")
    return sorted(a)


@dataclass(frozen=True)
class FolderPairs:
    """Pairs of same-named files in ``<group>/<blur>/`` and ``<group>/sharp/``, group by group."""

    root: Path
    items: tuple[tuple[str, Path, Path], ...]  # (id, blurred path, sharp path)
    layout: str = "folders"
    benchmark: str | None = None  # the public benchmark recognised, if any

    @property
    def protocol(self) -> str:
        """The scoring protocol its benchmark publishes: ``realblur`` (aligned) or ``plain``."""
        return default_protocol(self.benchmark)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        _, blurred, sharp = self.items[index]
        if blurred.suffix.lower() == ".mat":
            return read_levin_mat(blurred)[:2]
        return read_image(blurred), read_image(sharp)

    def id(self, index: int) -> str:
        return self.items[index][0]

    def describe(self) -> dict:
        groups = {Path(item[0]).parent.as_posix() for item in self.items}
        return {"layout": self.layout, "benchmark": self.benchmark, "root": str(self.root), "pairs": len(self), "groups": len(groups)}


@dataclass(frozen=True)
class TarPairs:
    """Pairs stored as ``<key>.blur.<ext>`` and ``<key>.sharp.<ext>`` members of tar shards."""

    root: Path
    items: tuple[tuple[str, Path, tarfile.TarInfo, tarfile.TarInfo], ...]  # (id, tar, blurred, sharp)
    layout: str = "webdataset"
    benchmark: str | None = None
    protocol: str = "plain"

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        _, path, *members = self.items[index]
        with tarfile.open(path) as tar:
            return tuple(decode_image(tar.extractfile(member).read(), f"{path}:{member.name}") for member in members)

    def id(self, index: int) -> str:
        return self.items[index][0]

    def describe(self) -> dict:
        return {"layout": self.layout, "benchmark": None, "root": str(self.root), "pairs": len(self),
                "groups": len({item[1] for item in self.items})}


@dataclass(frozen=True)
class KohlerPairs:
    """Köhler et al.'s blurred images, each with the sharp frames recorded along its shake.

    ``[i]`` gives (blurred, the middle recorded frame), as any paired source does;
    :meth:`frames` gives every recorded frame (N×H×W×3 uint8), which the ``kohler`` protocol
    scores against (:func:`train.eval.protocols.kohler_scores`)."""

    root: Path
    items: tuple[tuple[str, Path, tuple[Path, ...]], ...]  # (id, blurred path, ground-truth frame files or one .mat)
    layout: str = "kohler"
    benchmark: str | None = "Kohler"
    protocol: str = "kohler"

    def __len__(self) -> int:
        return len(self.items)

    def frames(self, index: int) -> np.ndarray:
        return read_kohler_frames(self.items[index][2])

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        _, blurred, truth = self.items[index]
        if truth[0].suffix.lower() == ".mat":
            frames = self.frames(index)
            middle = frames[len(frames) // 2]
        else:
            middle = read_image(truth[len(truth) // 2])
        return read_image(blurred), middle

    def id(self, index: int) -> str:
        return self.items[index][0]

    def describe(self) -> dict:
        return {"layout": self.layout, "benchmark": self.benchmark, "root": str(self.root), "pairs": len(self),
                "groups": len({item[0].split("_")[0] for item in self.items})}


def tar_pairs(root: Path, tars: list[Path]) -> TarPairs:
    items = []
    for path in tars:
        try:
            with tarfile.open(path) as tar:
                members = [m for m in tar.getmembers() if m.isfile()]
        except (tarfile.TarError, OSError) as error:
            raise SourceError(f"{path} is not a readable tar shard ({error})") from None
        found: dict[str, dict[str, tarfile.TarInfo]] = {"blur": {}, "sharp": {}}
        for member in members:
            stem, _, ext = member.name.rpartition(".")
            key, _, kind = stem.rpartition(".")
            if kind in found and f".{ext.lower()}" in IMAGE_EXTENSIONS:
                found[kind][key] = member
        keys = matched(list(found["blur"]), list(found["sharp"]), f"{path.name}:*.blur", f"{path.name}:*.sharp")
        items += [(f"{path.stem}/{key}", path, found["blur"][key], found["sharp"][key]) for key in keys]
    if not items:
        raise SourceError(f"no <key>.blur.png / <key>.sharp.png members in the tar shards under {root}")
    return TarPairs(root, tuple(items))


def pair_groups(root: Path, depth: int = 0) -> list[Path]:
    """Folders under ``root`` (itself included) that hold a ``sharp/`` folder, in sorted order."""
    if (root / "sharp").is_dir():
        return [root]
    if depth >= MAX_DEPTH:
        return []
    return [group for child in visible_dirs(root) for group in pair_groups(child, depth + 1)]


def folder_pairs(root: Path, blur: str) -> FolderPairs:
    groups = pair_groups(root)
    if not groups:
        raise SourceError(f"no paired folders under {root}: expected blur/ and sharp/ (or <group>/blur/ and <group>/sharp/), or .tar shards")
    items = []
    for group in groups:
        blur_dir = group / blur
        if not blur_dir.is_dir():
            raise SourceError(f"{group}/sharp/ has no {blur}/ folder beside it")
        names = matched(image_names(blur_dir), image_names(group / "sharp"), str(blur_dir), str(group / "sharp"))
        prefix = group.relative_to(root).as_posix()
        items += [(name if prefix == "." else f"{prefix}/{name}", blur_dir / name, group / "sharp" / name) for name in names]
    if not items:
        raise SourceError(f"the paired folders under {root} hold no images")
    gopro = all(Path(item[0]).parts[0].startswith("GOPR") for item in items)  # GoPro_Large's scenes are GOPRnnnn_nn_nn
    return FolderPairs(root, tuple(items), benchmark="GoPro" if gopro and len(Path(items[0][0]).parts) > 1 else None)


def dataset_metadata(pairs: FolderPairs) -> tuple[dict, list[dict]]:
    """For ``blurgen dataset --format files`` output: its ``dataset.json`` settings and each pair's
    metadata line (``meta.jsonl``), in the pairs' order; a :class:`SourceError` for other layouts."""
    import json

    settings_file = pairs.items[0][1].parent.parent.parent / "dataset.json" if pairs.layout == "folders" else None
    if settings_file is None or not settings_file.is_file():
        raise SourceError(f"{pairs.root} is not 'blurgen dataset --format files' output (no dataset.json beside its shards)")
    settings = json.loads(settings_file.read_text())
    by_group: dict[Path, dict[str, dict]] = {}
    metadata = []
    for _, blurred, _ in pairs.items:
        group = blurred.parent.parent
        if group not in by_group:
            lines = (group / "meta.jsonl").read_text().splitlines() if (group / "meta.jsonl").is_file() else []
            by_group[group] = {record["key"]: record for record in map(json.loads, lines)}
        record = by_group[group].get(blurred.stem)
        if record is None:
            raise SourceError(f"{group}/meta.jsonl has no line for {blurred.name}")
        metadata.append(record)
    return settings, metadata


def open_pairs(path: str | os.PathLike, *, blur: str = "blur") -> FolderPairs | TarPairs | KohlerPairs:
    """Open any paired layout (see the module docstring); ``blur`` picks GoPro's ``blur_gamma``.

    Raises :class:`SourceError` for a missing path, a tree with no pairs, or unmatched names.
    """
    if blur not in BLUR_KINDS:
        raise SourceError(f"the blurred folder must be one of {', '.join(BLUR_KINDS)}, got {blur!r}")
    root = Path(path)
    if not root.exists():
        raise SourceError(f"{root} does not exist")
    if root.is_file() and root.suffix == ".txt":
        return FolderPairs(root.parent, tuple(list_items(root)), layout="list", benchmark=LIST_FILES.get(root.name))
    if root.is_file():
        if not tarfile.is_tarfile(root):
            raise SourceError(f"{root} is a file but not a tar shard or a benchmark list; give a folder of pairs, a .tar or a .txt list")
        return tar_pairs(root, [root])
    listed = find_list_file(root)
    if listed is not None:
        return FolderPairs(root, tuple(list_items(listed)), layout="list", benchmark=LIST_FILES[listed.name])
    if is_hide(root):
        return FolderPairs(root, tuple(hide_items(root)), layout="hide", benchmark="HIDE")
    levin = levin_items(root)
    if levin:
        return FolderPairs(root, tuple(levin), layout="levin", benchmark="Levin")
    kohler = kohler_items(root)
    if kohler:
        return KohlerPairs(root, tuple(kohler))
    if (root / "test").is_dir() and pair_groups(root / "test") and not (root / "sharp").is_dir():
        root = root / "test"  # a GoPro_Large root: evaluate on its test split
    if pair_groups(root):
        return folder_pairs(root, blur)
    tars = sorted(p for p in root.rglob("*.tar") if not p.name.startswith("."))
    if tars:
        return tar_pairs(root, tars)
    return folder_pairs(root, blur)


__all__ = ["FolderPairs", "KohlerPairs", "TarPairs", "dataset_metadata", "open_pairs"]
