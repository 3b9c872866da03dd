"""GoPro_Large (and blurgen's own output): ``<split>/<scene>/{blur,blur_gamma,sharp}/<frame>.png``.

Frame names repeat across scenes, so every id is ``<scene>/<frame>``. :class:`GoProPairs` reads
(blurred, sharp) pairs (the trainer's WILD regime, evaluation); :class:`GoProSharp` offers the
sharp frames as a sharp source for synthetic blur. Both accept the dataset root with ``split``,
or a split folder itself (``GoPro_Large/test``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from blurgen.sources.images import IMAGE_EXTENSIONS, MISSING, BadImage, SourceError, read_image

BLUR_KINDS = ("blur", "blur_gamma")


def split_folder(root: Path, split: str | None) -> Path:
    """``root/split`` when it exists, else ``root`` itself if it holds scenes; else a SourceError."""
    if split is not None and (root / split).is_dir():
        return root / split
    if any((scene / "sharp").is_dir() for scene in root.iterdir() if scene.is_dir()):
        return root
    where = f"{root / split} or {root}" if split else str(root)
    raise SourceError(f"no GoPro-style scenes (<scene>/sharp/) under {where}")


def is_gopro(root: Path) -> bool:
    """Whether ``root`` looks like a GoPro_Large root or split folder."""
    candidates = [root / "train", root / "test", root]
    return any(
        c.is_dir() and any((scene / "sharp").is_dir() for scene in c.iterdir() if scene.is_dir()) for c in candidates
    )


class GoProPairs:
    """(blurred, sharp) pairs, sorted by scene then frame; items are RGB uint8 (or uint16) arrays."""

    def __init__(self, root: str | os.PathLike, split: str | None = "train", blur: str = "blur") -> None:
        if blur not in BLUR_KINDS:
            raise ValueError(f"blur must be one of {BLUR_KINDS}, got {blur!r}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise SourceError(f"{self.root} is not a folder")
        self.folder = split_folder(self.root, split)
        self.blur = blur
        self.frames = [
            (scene.name, frame.name)
            for scene in sorted(p for p in self.folder.iterdir() if (p / "sharp").is_dir())
            for frame in sorted((scene / "sharp").iterdir())
            if frame.suffix.lower() in IMAGE_EXTENSIONS
        ]
        if not self.frames:
            raise SourceError(f"no sharp frames under {self.folder}")

    def __len__(self) -> int:
        return len(self.frames)

    def path(self, index: int, kind: str) -> Path:
        scene, frame = self.frames[index]
        return self.folder / scene / kind / frame

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        blurred_path = self.path(index, self.blur)
        if not blurred_path.exists():
            raise BadImage(MISSING, blurred_path, f"no {self.blur} partner for this sharp frame")
        return read_image(blurred_path), read_image(self.path(index, "sharp"))

    def id(self, index: int) -> str:
        scene, frame = self.frames[index]
        return f"{scene}/{frame}"

    def scenes(self) -> list[str]:
        return sorted({scene for scene, _ in self.frames})


class GoProSharp:
    """The sharp frames of a GoPro-style tree, as a sharp source."""

    def __init__(self, root: str | os.PathLike, split: str | None = "train", kind: str = "gopro") -> None:
        self.pairs, self.kind = GoProPairs(root, split), kind

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> np.ndarray:
        return read_image(self.pairs.path(index, "sharp"))

    def id(self, index: int) -> str:
        return self.pairs.id(index)

    def describe(self) -> dict:
        return {"kind": self.kind, "root": str(self.pairs.folder), "images": len(self), "scenes": len(self.pairs.scenes())}
