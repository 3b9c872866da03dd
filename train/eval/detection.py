"""Judging a deblurring model by how much it helps an object detector (DeblurGAN's third test).

A torchvision detector trained on COCO runs on the sharp, the blurred and the restored image of
each pair. Its detections are scored with pycocotools' ``COCOeval`` (bbox: AP@[.5:.95], AP50 and
recall AR@100) against two ground truths:

* ``pseudo``: the detector's own confident detections (score ≥ ``threshold``) on the sharp
  image, the paper's protocol: the sharp row scores AP 1 by construction, and the blurred and
  restored rows say how much of what the detector sees on sharp images survives;
* ``coco``: the COCO annotations of the source images, when the pairs are ``blurgen dataset
  --src coco/`` output (its metadata records each pair's source image and crop, so the boxes are
  moved into the crop: :func:`blurgen.sources.coco.boxes_in_crop`).

Each ground truth gives three rows (sharp, blurred, restored) and the share of the blur-induced
AP loss the model recovers: (AP restored − AP blurred) / (AP sharp − AP blurred).

Weights come from torchvision's cache (``$TORCH_HOME/hub/checkpoints``, the file torchvision
itself would download) or a path; nothing is downloaded. ``random`` is an explicit choice (tests).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import torch
from torch import nn

from blurgen.sources import SourceError
from blurgen.sources.coco import CocoSource, boxes_in_crop
from blurgen.sources.paired import dataset_metadata
from blurgen.settings import check_choice
from train.checkpoint import load_tensors

DETECTORS = {  # --detector: (torchvision builder, its COCO weights enum)
    "fasterrcnn": ("fasterrcnn_resnet50_fpn", "FasterRCNN_ResNet50_FPN_Weights"),
    "retinanet": ("retinanet_resnet50_fpn", "RetinaNet_ResNet50_FPN_Weights"),
    "ssdlite": ("ssdlite320_mobilenet_v3_large", "SSDLite320_MobileNet_V3_Large_Weights"),
}
ROWS = ("sharp", "blurred", "restored")
COCO_CLASSES = 91  # torchvision's COCO detectors: labels are COCO category ids (0 = background)


class DetectorWeightsMissing(FileNotFoundError):
    """The detector's weights are not where ``--detector-weights`` says (nothing is downloaded)."""


def weights_file(name: str) -> Path:
    """Where torchvision's cache keeps detector ``name``'s COCO weights."""
    from torchvision.models import detection

    url = getattr(detection, DETECTORS[name][1]).DEFAULT.url
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def load_detector(name: str, weights: str = "coco", device: torch.device | str = "cpu") -> nn.Module:
    """Detector ``name`` (fasterrcnn, retinanet, ssdlite) in eval mode, with ``weights``: ``coco``
    (torchvision's cache), ``random`` (explicit, seeded by the caller) or a path to a state dict."""
    from torchvision.models import detection

    check_choice("detector", name, DETECTORS)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # random weights are the same in every run
        model = getattr(detection, DETECTORS[name][0])(weights=None, weights_backbone=None, num_classes=COCO_CLASSES)
    if weights != "random":
        path = weights_file(name) if weights == "coco" else Path(weights)
        if not path.is_file():
            where = f"torchvision's cache ({path})" if weights == "coco" else str(path)
            raise DetectorWeightsMissing(f"--detector-weights {weights}: no {name} weights at {where}; nothing is downloaded: put "
                                         f"torchvision's {path.name} there, pass --detector-weights PATH, or --detector-weights random")
        try:
            model.load_state_dict(load_tensors(path))
        except (ValueError, RuntimeError) as error:
            raise DetectorWeightsMissing(f"--detector-weights {weights}: {path} is not a {name} state dict ({str(error)[:120]})") from None
    return model.eval().to(device)


@torch.no_grad()
def detect(model: nn.Module, image: np.ndarray, device: torch.device | str = "cpu") -> list[tuple[list[float], float, int]]:
    """Detections on an H×W×3 uint8 RGB image: ([x, y, w, h], score, COCO category id) each."""
    tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div(255).to(device)
    found = model([tensor])[0]
    boxes = found["boxes"].cpu().tolist()
    return [([x0, y0, x1 - x0, y1 - y0], float(score), int(label))
            for (x0, y0, x1, y1), score, label in zip(boxes, found["scores"].cpu().tolist(), found["labels"].cpu().tolist())]


def coco_scores(truth: dict[int, list[tuple[list[float], int]]], detections: dict[int, list[tuple[list[float], float, int]]],
                sizes: dict[int, tuple[int, int]]) -> dict:
    """``COCOeval`` (bbox) of ``detections`` against ``truth``, both by image id; ``sizes``: (H, W)
    per image. Returns AP@[.5:.95], AP50, AR@100 and the counts (NaN without any true box)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    annotations = [{"id": n + 1, "image_id": image, "bbox": box, "area": box[2] * box[3], "category_id": category, "iscrowd": 0}
                   for n, (image, box, category) in enumerate((i, b, c) for i, boxes in truth.items() for b, c in boxes)]
    found = [{"image_id": image, "bbox": box, "score": score, "category_id": category}
             for image, boxes in detections.items() for box, score, category in boxes]
    counts = {"true_boxes": len(annotations), "detections": len(found)}
    if not annotations:
        return {"ap": float("nan"), "ap50": float("nan"), "recall": float("nan"), **counts}
    if not found:
        return {"ap": 0.0, "ap50": 0.0, "recall": 0.0, **counts}
    ground = COCO()
    ground.dataset = {"images": [{"id": image, "height": h, "width": w} for image, (h, w) in sizes.items()], "annotations": annotations,
                      "categories": [{"id": category} for category in sorted({a["category_id"] for a in annotations} | {d["category_id"] for d in found})]}
    with contextlib.redirect_stdout(io.StringIO()):
        ground.createIndex()
        evaluation = COCOeval(ground, ground.loadRes(found), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    stats = evaluation.stats
    return {"ap": float(stats[0]), "ap50": float(stats[1]), "recall": float(stats[8]), **counts}


def recovered_share(rows: dict) -> float:
    lost = rows["sharp"]["ap"] - rows["blurred"]["ap"]
    return float((rows["restored"]["ap"] - rows["blurred"]["ap"]) / lost) if lost > 0 else float("nan")


class DetectionEvaluation:
    """Collects a detector's detections on each pair's three images (:meth:`add`, the
    ``on_images`` hook of :func:`train.eval.evaluate.evaluate`), then scores them (:meth:`report`)."""

    def __init__(self, model: nn.Module, *, threshold: float = 0.5, device: torch.device | str = "cpu",
                 coco_truth: dict[int, list[tuple[list[float], int]]] | None = None) -> None:
        self.model, self.threshold, self.device, self.coco_truth = model, threshold, device, coco_truth
        self.found: dict[str, dict[int, list]] = {row: {} for row in ROWS}
        self.sizes: dict[int, tuple[int, int]] = {}

    def add(self, index: int, blurred: np.ndarray, sharp: np.ndarray, restored: np.ndarray) -> None:
        self.sizes[index] = sharp.shape[:2]
        for row, image in zip(ROWS, (sharp, blurred, restored)):
            self.found[row][index] = detect(self.model, image, self.device)

    def pseudo_truth(self) -> dict[int, list[tuple[list[float], int]]]:
        return {index: [(box, category) for box, score, category in boxes if score >= self.threshold]
                for index, boxes in self.found["sharp"].items()}

    def scores_against(self, truth: dict[int, list[tuple[list[float], int]]]) -> dict:
        rows = {row: coco_scores({i: truth.get(i, []) for i in self.sizes}, self.found[row], self.sizes) for row in ROWS}
        return {**rows, "recovered": recovered_share(rows)}

    def report(self, coco_missing: str | None = None) -> dict:
        report = {"threshold": self.threshold, "pseudo": self.scores_against(self.pseudo_truth())}
        if self.coco_truth is not None:
            report["coco"] = self.scores_against(self.coco_truth)
        elif coco_missing:
            report["coco_missing"] = coco_missing
        return report


def coco_truth_for(pairs: object, limit: int | None = None) -> tuple[dict | None, str | None]:
    """COCO boxes moved into each pair's crop, by pair index, when ``pairs`` are ``blurgen dataset``
    output made from a COCO source; else (None, the reason)."""
    try:
        settings, metadata = dataset_metadata(pairs)
    except (SourceError, AttributeError) as error:
        return None, f"no COCO annotations: {error}"
    source = settings.get("source", {})
    if source.get("kind") != "coco":
        return None, f"no COCO annotations: the pairs were made from a {source.get('kind', 'unknown')} source, not COCO"
    if "views" in settings:
        return None, "no COCO boxes: the pairs were made with --orientations/--min-scale, which move them"
    try:
        coco = CocoSource(source["root"], source.get("split")).coco
    except SourceError as error:
        return None, f"no COCO annotations: {error}"
    truth = {}
    for index, record in enumerate(metadata[:limit]):
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=[int(record["source_id"])], iscrowd=None))
        truth[index] = boxes_in_crop(annotations, record["crop_box"])
    return truth, None
