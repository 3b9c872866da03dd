"""A folder of photos as a sharp source: recursive, sorted, any common format and bit depth."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from blurgen.sources.images import IMAGE_EXTENSIONS, SourceError, read_oriented, walk_once


OUTPUT_MARKERS = ("dataset.json", "evalset.json")  # blurgen's own pair output: blurred images, never sharp sources


class FolderSource:
    """Every image file under ``root`` (jpg, jpeg, png, webp, bmp, tif, tiff; any case), sorted by
    relative path. Items are H×W, H×W×3 or H×W×4, uint8 or uint16; ids are the relative paths.

    Other files are not read; their count is ``non_images`` (reported as skipped ``not_an_image``).
    Folders that hold blurgen output (a ``dataset.json`` or ``evalset.json``, at any depth) and the
    folders in ``exclude`` (a run's own ``--out``) are not read either: their images are pairs, half
    of them blurred. ``left_out`` names the folders left out this way (relative to ``root``).
    Images are read upright (their EXIF orientation applied); ``orientations`` records which.
    Links to folders are followed, and each real folder and file is read once however many paths
    lead to it: ``repeated`` names the paths passed over (a link loop, a second link to a file).
    """

    def __init__(self, root: str | os.PathLike, kind: str = "folder", exclude: tuple[str | os.PathLike, ...] = ()) -> None:
        self.root, self.kind = Path(root), kind
        if not self.root.is_dir():
            raise SourceError(f"--src {self.root} is not a folder")
        excluded = {Path(folder).resolve() for folder in exclude}
        paths, self.left_out, self.repeated = [], [], []

        def leave_out(folder: Path) -> bool:
            if folder.resolve() in excluded or any((folder / marker).is_file() for marker in OUTPUT_MARKERS):
                self.left_out.append(folder.relative_to(self.root).as_posix())
                return True
            return False

        for here, _, files in walk_once(self.root, self.repeated, prune=leave_out):
            paths += [here / name for name in files]
        paths.sort()
        self.left_out.sort()
        self.paths = [p for p in paths if p.suffix.lower() in IMAGE_EXTENSIONS]
        self.orientations: dict[int, int] = {}  # images read so far that were stored turned (EXIF orientation ≠ 1)
        self.non_image_files = [p.relative_to(self.root).as_posix() for p in paths if p.suffix.lower() not in IMAGE_EXTENSIONS]
        self.non_images = len(self.non_image_files)
        if not self.paths:
            besides = f" besides blurgen output ({', '.join(self.left_out)})" if self.left_out else ""
            raise SourceError(f"--src {self.root} holds no image files{besides} ({', '.join(IMAGE_EXTENSIONS)})")

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> np.ndarray:
        image, orientation = read_oriented(self.paths[index])
        if orientation != 1:
            self.orientations[index] = orientation
        return image

    def id(self, index: int) -> str:
        return self.paths[index].relative_to(self.root).as_posix()

    def describe(self) -> dict:
        return {"kind": self.kind, "root": str(self.root), "images": len(self), "non_images": self.non_images,
                **({"repeated": self.repeated} if self.repeated else {})}
