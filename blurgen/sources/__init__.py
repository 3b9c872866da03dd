"""Sharp-image sources (docs/design.md §7): a folder, COCO, GoPro_Large sharp frames, or a built-in
corpus (procedural dead leaves, or photographs that ship in scikit-image). Every source has ``len``, ``[i]`` (an H×W(×C) uint8/uint16 image, or
:class:`BadImage` with a reason), ``id(i)`` (a stable name) and ``describe()``.
"""

from __future__ import annotations

import os
from pathlib import Path

from blurgen.sources.coco import CocoSource, coco_splits
from blurgen.sources.dead_leaves import DeadLeaves, PhotoLeaves, dead_leaves_image
from blurgen.sources.folder import FolderSource
from blurgen.sources.gopro import GoProPairs, GoProSharp, is_gopro
from blurgen.settings import literal
from blurgen.sources.images import BadImage, MissingSource, SourceError, read_image
from blurgen.sources.packaged import TrainingPhotos
from blurgen.sources.paired import FolderPairs, KohlerPairs, TarPairs, open_pairs, tar_pairs

__all__ = [
    "BadImage", "CocoSource", "DeadLeaves", "FirstN", "Joined", "PhotoLeaves", "FolderPairs", "FolderSource", "GoProPairs", "KohlerPairs", "GoProSharp",
    "BUILTIN_CORPORA", "SourceError", "TarPairs", "TrainingPhotos", "builtin_corpus", "dead_leaves_image", "left_out", "open_pairs", "open_source", "read_image",
]


class FirstN:
    """The first ``n`` images of a source (its sorted order), for ``--limit``."""

    def __init__(self, source: object, n: int) -> None:
        if n < 1:
            raise SourceError(f"--limit must be >= 1, got {n}")
        self.source = source
        self.n = min(n, len(source))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> object:
        if not 0 <= index < self.n:
            raise IndexError(index)
        return self.source[index]

    def id(self, index: int) -> str:
        return self.source.id(index)

    def describe(self) -> dict:
        return {**self.source.describe(), "first": self.n}


class Joined:
    """Several sources one after the other: image i of the first, then of the second, ..."""

    def __init__(self, *sources: object) -> None:
        self.sources = sources
        self.starts = [sum(len(s) for s in sources[:k]) for k in range(len(sources))]

    def __len__(self) -> int:
        return sum(len(source) for source in self.sources)

    def part(self, index: int) -> tuple[object, int]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        k = max(k for k, start in enumerate(self.starts) if start <= index)
        return self.sources[k], index - self.starts[k]

    def __getitem__(self, index: int) -> object:
        source, at = self.part(index)
        return source[at]

    def id(self, index: int) -> str:
        source, at = self.part(index)
        return source.id(at)

    def describe(self) -> dict:
        return {"kind": "joined", "images": len(self), "parts": [source.describe() for source in self.sources]}


BUILTIN_CORPORA = ("dead-leaves", "photos", "photos+leaves")


def builtin_corpus(name: str, *, n: int | None = None, seed: int = 0) -> object:
    """A built-in corpus: ``dead-leaves`` (``n`` procedural images, default 100, from ``seed``),
    ``photos`` (:class:`TrainingPhotos`, 18 images; ``n`` keeps the first n), or ``photos+leaves``
    (those 18 photos, then as many dead-leaves images in colour whose leaves are cut from the six
    grey photos, :class:`~blurgen.sources.dead_leaves.PhotoLeaves`; ``n`` keeps the first n)."""
    if name == "dead-leaves":
        return DeadLeaves(n=n or 100, seed=seed)
    if name in ("photos", "photos+leaves"):
        photos = TrainingPhotos()
        if name == "photos+leaves":
            greys = [photos[i] for i in range(len(photos)) if photos[i].ndim == 2]
            photos = Joined(photos, PhotoLeaves(greys, n=len(photos), seed=seed))
        return FirstN(photos, n) if n is not None and n < len(photos) else photos
    raise SourceError(f"unknown built-in corpus {name!r}: choose from {', '.join(BUILTIN_CORPORA)}")


def open_source(
    src: str | os.PathLike | None, *, n: int | None = None, coco_split: str | None = None,
    gopro_split: str = "train", seed: int = 0, builtin: str = "dead-leaves", exclude: tuple[str | os.PathLike, ...] = (),
) -> object:
    """The sharp source for ``--src``: the built-in corpus ``builtin`` when None
    (:func:`builtin_corpus`), else COCO (``annotations/instances_*.json`` present), one GoPro scene or paired folder (its
    ``sharp/`` frames only), earlier ``blurgen dataset`` output (its sharp crops), GoPro
    (``<scene>/sharp/`` folders), or a plain folder; ``describe()["kind"]`` says which. ``n`` keeps the first n images. A plain
    folder never reads blurgen output inside it, nor the folders in ``exclude`` (the run's own output):
    ``left_out(source)`` names them. Raises :class:`SourceError` for a missing or empty source or
    unreadable annotations.
    """
    if src is None:
        return builtin_corpus(builtin, n=n, seed=seed)
    root = Path(src)
    if not root.exists():
        raise MissingSource("{src} " + literal(f"{root} does not exist"))
    if not root.is_dir():
        raise MissingSource("{src} " + literal(f"{root} is not a folder"))
    if coco_splits(root):
        source = CocoSource(root, coco_split)
    elif (root / "sharp").is_dir() and any((root / blur).is_dir() for blur in ("blur", "blur_gamma")):
        # One GoPro scene or paired folder: its blur/ frames are not sharp, so only sharp/ is read.
        source = FolderSource(root / "sharp", kind="paired folder (its sharp/ frames only)")
    elif (root / "dataset.json").is_file() or any((root / child.name / "dataset.json").is_file() for child in root.iterdir() if child.is_dir()):
        source = dataset_output(root, gopro_split)
    elif is_gopro(root):
        source = GoProSharp(root, gopro_split)
    else:
        source = FolderSource(root, exclude=exclude)
    return FirstN(source, n) if n is not None else source


class SharpOfPairs:
    """The sharp images of paired data (e.g. :class:`TarPairs`) as a sharp source."""

    def __init__(self, pairs: object, kind: str) -> None:
        self.pairs, self.kind = pairs, kind

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> object:
        return self.pairs[index][1]

    def id(self, index: int) -> str:
        return self.pairs.id(index)

    def describe(self) -> dict:
        return {"kind": self.kind, "root": str(self.pairs.root), "images": len(self)}


def dataset_output(root: Path, split: str) -> object:
    """Earlier ``blurgen dataset`` output as a sharp source: the sharp crops of its ``split``, in
    shard folders or WebDataset tar shards. ``root`` is the output folder or one split of it."""
    split_dir = root if (root / "dataset.json").is_file() else root / split
    if not (split_dir / "dataset.json").is_file():
        splits = sorted(child.name for child in root.iterdir() if (child / "dataset.json").is_file())
        raise SourceError(f"--src {root} is blurgen dataset output without a {split}/ split (it has {', '.join(splits)}); "
                          "give the split folder itself as --src")
    tars = sorted(split_dir.glob("*.tar"))
    if tars:
        return SharpOfPairs(tar_pairs(split_dir, tars), kind="blurgen dataset output (the sharp images of its tar shards)")
    return GoProSharp(split_dir, None, kind="blurgen dataset output (its sharp/ crops)")


def left_out(source: object) -> list[str]:
    """The folders of a source that were not read because they hold blurgen output (see :class:`FolderSource`)."""
    return getattr(getattr(source, "source", source), "left_out", [])
