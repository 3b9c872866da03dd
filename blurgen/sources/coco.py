"""COCO as a sharp source: the image list from ``annotations/instances_<split>.json`` via pycocotools.

Layout (see ``datasets/coco.md``)::

    coco/annotations/instances_val2017.json
    coco/val2017/000000000139.jpg          (or coco/images/val2017/...)

Images come in the order of their COCO ids. Instance masks stay reachable through
:meth:`CocoSource.masks`, for object-motion blur.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np

from blurgen.sources.images import SourceError, read_image


def coco_splits(root: Path) -> list[str]:
    """The splits that have an ``annotations/instances_<split>.json`` under ``root``."""
    return sorted(p.stem.removeprefix("instances_") for p in (root / "annotations").glob("instances_*.json"))


def load_coco(annotation_file: Path) -> object:
    """pycocotools' COCO index of ``annotation_file`` (its progress prints are silenced)."""
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(annotation_file))


class CocoSource:
    """The images of one COCO split. Items are RGB uint8 arrays; ids are COCO image ids."""

    def __init__(self, root: str | os.PathLike, split: str | None = None) -> None:
        self.root = Path(root)
        splits = coco_splits(self.root)
        if not splits:
            raise SourceError(f"{self.root} has no annotations/instances_*.json")
        if split is None:
            if len(splits) > 1:
                raise SourceError(f"{self.root} has several COCO splits ({', '.join(splits)}): choose one with --coco-split")
            split = splits[0]
        if split not in splits:
            raise SourceError(f"{self.root} has no annotations/instances_{split}.json (it has: {', '.join(splits)})")
        self.split = split
        self.annotation_file = self.root / "annotations" / f"instances_{split}.json"
        candidates = [self.root / split, self.root / "images" / split]
        self.image_dir = next((c for c in candidates if c.is_dir()), candidates[0])
        try:
            coco = load_coco(self.annotation_file)
            self.records = [
                (int(image["id"]), str(image["file_name"])) for image in coco.loadImgs(sorted(coco.getImgIds()))
            ]
        except Exception as error:  # a JSON or format error: the whole run is meaningless
            raise SourceError(f"cannot read {self.annotation_file}: {type(error).__name__}: {error}") from None
        if not self.records:
            raise SourceError(f"{self.annotation_file} lists no images")
        self._coco = coco

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> np.ndarray:
        return read_image(self.image_dir / self.records[index][1])

    def id(self, index: int) -> str:
        return str(self.records[index][0])

    def describe(self) -> dict:
        return {"kind": "coco", "root": str(self.root), "split": self.split, "images": len(self)}

    @property
    def coco(self) -> object:
        """The pycocotools index (reloaded after pickling, which drops it: workers rarely need it)."""
        if self._coco is None:
            self._coco = load_coco(self.annotation_file)
        return self._coco

    def masks(self, index: int) -> list[dict]:
        """Instance annotations of image ``index``: category id, bbox and a uint8 H×W mask each."""
        image_id = self.records[index][0]
        annotations = self.coco.loadAnns(self.coco.getAnnIds(imgIds=[image_id], iscrowd=None))
        return [
            {"category_id": a["category_id"], "bbox": a["bbox"], "mask": self.coco.annToMask(a)} for a in annotations
        ]

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_coco": None}


def boxes_in_crop(annotations: list[dict], crop_box: dict, min_visible: float = 0.5) -> list[tuple[list[float], int]]:
    """COCO annotations (``bbox`` = [x, y, w, h] in the source image, ``category_id``) moved into a
    crop (``crop_box``: x, y, width, height in the source image): boxes clipped to the crop and
    kept when at least ``min_visible`` of their area lies inside it; crowd regions are left out.
    Returns ([x, y, w, h] in crop pixels, category id) pairs."""
    x0, y0, width, height = (float(crop_box[key]) for key in ("x", "y", "width", "height"))
    kept = []
    for annotation in annotations:
        if annotation.get("iscrowd"):
            continue
        x, y, w, h = (float(v) for v in annotation["bbox"])
        left, top = max(x - x0, 0.0), max(y - y0, 0.0)
        right, bottom = min(x + w - x0, width), min(y + h - y0, height)
        if right <= left or bottom <= top or w * h <= 0:
            continue
        if (right - left) * (bottom - top) >= min_visible * w * h:
            kept.append(([left, top, right - left, bottom - top], int(annotation["category_id"])))
    return kept
