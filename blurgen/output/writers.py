"""Pair → disk: one shard at a time, written under a temporary name and renamed when complete.

Two layouts (see ``datasets/blurgen-output.md``):

* ``files``: ``<split>/<shard>/{blur,sharp}/<key>.png`` (and ``blurmap/<key>.png`` for motion
  blur: 16-bit, hundredths of a pixel of path) and ``<split>/<shard>/meta.jsonl``; the
  shard folder plays the part of a GoPro scene, so GoPro readers and paired-folder loaders (two
  sorted file lists zipped together) read it as it is.
* ``webdataset``: ``<split>/<shard>.tar`` holding ``<key>.blur.png``, ``<key>.sharp.png``,
  ``<key>.kernel.npy`` (uniform blur) or ``<key>.blurmap.png`` (motion blur) and ``<key>.json``,
  in that order for each key.

Every byte is a function of the pairs: PNG encoding is deterministic and tar headers carry no
time, owner or permission from the machine, so the same seed gives the same files anywhere.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import numpy as np

from blurgen.files import remove, to_pixels
from blurgen.blurring.nonuniform import blur_map_png
from blurgen.sources.images import encode_png


class FolderShard:
    """A shard folder: ``<split>/<name>/`` written as ``<split>/.<name>.partial/`` and renamed, with
    its ``meta.jsonl`` (one line per record), on :meth:`commit`; what goes inside is the subclass's."""

    def __init__(self, split_dir: Path, name: str, png_compression: int | None = None) -> None:
        self.compression = png_compression
        self.final = split_dir / name
        self.partial = self.partial_path(split_dir, name)
        remove(self.partial)
        remove(self.final)  # renamed by a run that died before its stats: incomplete, redo it
        self.partial.mkdir(parents=True)
        self.records: list[str] = []

    @staticmethod
    def partial_path(split_dir: Path, name: str) -> Path:
        """Where shard ``name`` lies while it is written."""
        return split_dir / f".{name}.partial"

    def abandon(self) -> None:
        remove(self.partial)

    def commit(self) -> Path:
        (self.partial / "meta.jsonl").write_text("".join(line + "\n" for line in self.records))
        os.replace(self.partial, self.final)
        return self.final


class FilesShardWriter(FolderShard):
    """Pairs as ``blur/<key>.png``, ``sharp/<key>.png`` (and ``blurmap/``) in a shard folder."""

    def __init__(self, split_dir: Path, name: str, png_compression: int | None = None) -> None:
        super().__init__(split_dir, name, png_compression)
        (self.partial / "blur").mkdir()
        (self.partial / "sharp").mkdir()

    def add(self, key: str, blurred: np.ndarray, sharp: np.ndarray, kernel: np.ndarray | None, meta: dict, bit_depth: int,
            blur_map: np.ndarray | None = None) -> None:
        (self.partial / "blur" / f"{key}.png").write_bytes(encode_png(to_pixels(blurred, bit_depth), self.compression))
        (self.partial / "sharp" / f"{key}.png").write_bytes(encode_png(to_pixels(sharp, bit_depth), self.compression))
        if blur_map is not None:
            (self.partial / "blurmap").mkdir(exist_ok=True)
            (self.partial / "blurmap" / f"{key}.png").write_bytes(encode_png(blur_map_png(blur_map), self.compression))
        self.records.append(json.dumps({"key": key, **meta}, sort_keys=True))


class WebDatasetShardWriter:
    """Writes ``<split>/<name>.tar`` as ``<split>/.<name>.tar.partial`` and renames it on :meth:`commit`."""

    def __init__(self, split_dir: Path, name: str, png_compression: int | None = None) -> None:
        self.compression = png_compression
        self.final = split_dir / f"{name}.tar"
        self.partial = self.partial_path(split_dir, name)
        remove(self.partial)
        remove(self.final)
        split_dir.mkdir(parents=True, exist_ok=True)
        self.tar = tarfile.open(self.partial, "w", format=tarfile.USTAR_FORMAT)

    @staticmethod
    def partial_path(split_dir: Path, name: str) -> Path:
        """Where shard ``name`` lies while it is written."""
        return split_dir / f".{name}.tar.partial"

    def member(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o644
        info.mtime = 0
        self.tar.addfile(info, io.BytesIO(data))

    def add(self, key: str, blurred: np.ndarray, sharp: np.ndarray, kernel: np.ndarray | None, meta: dict, bit_depth: int,
            blur_map: np.ndarray | None = None) -> None:
        self.member(f"{key}.blur.png", encode_png(to_pixels(blurred, bit_depth), self.compression))
        self.member(f"{key}.sharp.png", encode_png(to_pixels(sharp, bit_depth), self.compression))
        if kernel is not None:
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(kernel, dtype=np.float32), allow_pickle=False)
            self.member(f"{key}.kernel.npy", buffer.getvalue())
        if blur_map is not None:
            self.member(f"{key}.blurmap.png", encode_png(blur_map_png(blur_map), self.compression))
        self.member(f"{key}.json", json.dumps({"key": key, **meta}, sort_keys=True).encode())

    def abandon(self) -> None:
        try:
            self.tar.close()
        except OSError:  # a full disk cannot take the tar's end; the file goes anyway
            pass
        remove(self.partial)

    def commit(self) -> Path:
        self.tar.close()
        os.replace(self.partial, self.final)
        return self.final


WRITERS = {"files": FilesShardWriter, "webdataset": WebDatasetShardWriter}
