"""A folder of photos as a sharp source: recursive, sorted, any common format and bit depth."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from blurgen.sources.images import IMAGE_EXTENSIONS, SourceError, read_image


class FolderSource:
    """Every image file under ``root`` (jpg, jpeg, png, webp, bmp, tif, tiff; any case), sorted by
    relative path. Items are H×W, H×W×3 or H×W×4, uint8 or uint16; ids are the relative paths.

    Other files are not read; their count is ``non_images`` (reported as skipped ``not_an_image``).
    """

    def __init__(self, root: str | os.PathLike, kind: str = "folder") -> None:
        self.root, self.kind = Path(root), kind
        if not self.root.is_dir():
            raise SourceError(f"--src {self.root} is not a folder")
        paths = sorted(p for p in self.root.rglob("*") if p.is_file())
        self.paths = [p for p in paths if p.suffix.lower() in IMAGE_EXTENSIONS]
        self.non_images = len(paths) - len(self.paths)
        if not self.paths:
            raise SourceError(f"--src {self.root} holds no image files ({', '.join(IMAGE_EXTENSIONS)})")

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> np.ndarray:
        return read_image(self.paths[index])

    def id(self, index: int) -> str:
        return self.paths[index].relative_to(self.root).as_posix()

    def describe(self) -> dict:
        return {"kind": self.kind, "root": str(self.root), "images": len(self), "non_images": self.non_images}
