"""Small on-disk fixtures in the real layouts: a COCO root with bad files, a GoPro-style tree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

COCO_SPLIT = "val2017"


def textured(rng: np.random.Generator, height: int, width: int, channels: int = 3) -> np.ndarray:
    """A smooth random uint8 image (PNG/JPEG friendly, not flat)."""
    coarse = rng.random((max(2, height // 8), max(2, width // 8), channels)).astype(np.float32)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(image * 255, 0, 255).astype(np.uint8).reshape(height, width, channels)


def write(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if image.ndim == 3 and image.shape[2] >= 3:
        code = cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR
        image = cv2.cvtColor(image, code)
    assert cv2.imwrite(str(path), image)


def make_coco(root: Path, seed: int = 0) -> dict[str, str]:
    """A COCO root with one split whose annotation JSON pycocotools reads. Returns file → expected fate.

    Good: an RGB JPEG, a grey PNG, a 16-bit RGB PNG and an RGBA PNG (all 160×200). Bad: a truncated
    JPEG, an empty file, a 40×40 image (smaller than a 64 crop), and an annotated file that is missing.
    """
    rng = np.random.default_rng(seed)
    images = root / COCO_SPLIT
    images.mkdir(parents=True)
    fates = {}
    write(images / "good.jpg", textured(rng, 160, 200))
    fates["good.jpg"] = "ok"
    write(images / "grey.png", textured(rng, 160, 200, 1)[:, :, 0])
    fates["grey.png"] = "ok"
    write(images / "deep.png", textured(rng, 160, 200).astype(np.uint16) * 257)
    fates["deep.png"] = "ok"
    write(images / "alpha.png", np.dstack([textured(rng, 160, 200), np.full((160, 200), 200, np.uint8)]))
    fates["alpha.png"] = "ok"
    write(images / "whole.jpg", textured(rng, 160, 200))
    data = (images / "whole.jpg").read_bytes()
    (images / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (images / "whole.jpg").unlink()
    fates["truncated.jpg"] = "truncated"
    (images / "empty.jpg").write_bytes(b"")
    fates["empty.jpg"] = "empty"
    write(images / "tiny.png", textured(rng, 40, 40))
    fates["tiny.png"] = "too_small"
    fates["gone.jpg"] = "missing"

    entries = []
    annotations = []
    for image_id, name in enumerate(fates, start=1):
        height, width = (40, 40) if name == "tiny.png" else (160, 200)
        entries.append({"id": image_id, "file_name": name, "height": height, "width": width})
        annotations.append({
            "id": image_id, "image_id": image_id, "category_id": 1, "iscrowd": 0, "area": 400.0,
            "bbox": [10.0, 10.0, 20.0, 20.0], "segmentation": [[10.0, 10.0, 30.0, 10.0, 30.0, 30.0, 10.0, 30.0]],
        })
    (root / "annotations").mkdir()
    (root / "annotations" / f"instances_{COCO_SPLIT}.json").write_text(json.dumps({
        "info": {"description": "blurgen test fixture"}, "licenses": [],
        "images": entries, "annotations": annotations,
        "categories": [{"id": 1, "name": "thing", "supercategory": "thing"}],
    }))
    return fates


def make_gopro(root: Path, scenes: dict[str, int], split: str = "train", size: tuple[int, int] = (72, 96), seed: int = 0) -> None:
    """``<root>/<split>/<scene>/{blur,blur_gamma,sharp}/<frame>.png`` with frame names repeating across scenes."""
    rng = np.random.default_rng(seed)
    for scene, frames in scenes.items():
        for frame in range(frames):
            sharp = textured(rng, *size)
            blurred = cv2.GaussianBlur(sharp, (0, 0), 1.5)
            name = f"{frame + 1:06d}.png"
            write(root / split / scene / "sharp" / name, sharp)
            write(root / split / scene / "blur" / name, blurred)
            write(root / split / scene / "blur_gamma" / name, blurred)


def cli(command: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``train`` or ``deblur`` with ``args`` in a fresh interpreter, as a user would from a shell."""
    code = "import sys; from train.cli import main, deblur_main; sys.argv[0] = sys.argv[1]; del sys.argv[1]; (main if sys.argv[0] == 'train' else deblur_main)()"
    return subprocess.run([sys.executable, "-c", code, command, *args], capture_output=True, text=True, timeout=600)


def wild_config(gopro: Path, out: Path, **changes):
    """A one-step WILD run on a GoPro fixture, tiny and on the CPU, with ``changes``."""
    from train.config import TrainConfig

    return TrainConfig(**{**dict(mix="wild", gopro=str(gopro), out=str(out), steps=1, batch_size=2, crop=32, workers=0, device="cpu",
                                 log_every=1, image_every=100, critic_steps=1), **changes})
