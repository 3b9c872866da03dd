"""Small on-disk fixtures in the real layouts: a COCO root with bad files, a GoPro-style tree."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
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


# Networks small enough for a test to train and restore in a fraction of a second; the behaviour under
# test (regimes, resume, stopping, I/O) does not depend on the width. Tests of the sizes themselves use
# the defaults.
TINY_NETS = {"ngf": 8, "blocks": 1, "ndf": 8}
TINY_FLAGS = ["--ngf", "8", "--blocks", "1", "--ndf", "8"]


def cli(command: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``blurgen``, ``train`` or ``deblur`` with ``args`` as a user would from a shell: the command line
    parsed and run, its exit status, stdout and stderr (an uncaught exception's traceback
    included, as a shell would show it). In this process: a fresh interpreter per call would cost
    seconds of imports each, and the tests that need one (signals, torchrun) start their own."""
    import traceback

    from typer.testing import CliRunner

    from blurgen.cli import app as blurgen_app
    from train.cli import deblur_app, train_app

    import torch

    apps = {"blurgen": blurgen_app, "train": train_app, "deblur": deblur_app}
    threads = torch.get_num_threads()  # a command sets its own; the tests after it keep theirs
    try:
        result = CliRunner().invoke(apps[command], [str(arg) for arg in args], prog_name=command)
    finally:
        torch.set_num_threads(threads)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess([command, *args], result.exit_code, result.stdout, stderr)


def wild_config(gopro: Path, out: Path, **changes):
    """A one-step WILD run on a GoPro fixture, tiny and on the CPU, with ``changes``."""
    from train.config import TrainConfig

    return TrainConfig(**{**dict(mix="wild", gopro=str(gopro), out=str(out), steps=1, batch_size=2, crop=32, workers=0, device="cpu",
                                 log_every=1, image_every=100, critic_steps=1, **TINY_NETS), **changes})


def scene_waves(seed: int, count: int = 6) -> list[tuple[float, float, float, float, float]]:
    """Random plane waves (kx, ky, phase, amplitude, channel tint) of wavelengths 10 to 30 px."""
    rng = np.random.default_rng(seed)
    waves = []
    for _ in range(count):
        angle, wavelength = rng.uniform(0, np.pi), rng.uniform(10, 30)
        waves.append((np.cos(angle) * 2 * np.pi / wavelength, np.sin(angle) * 2 * np.pi / wavelength, rng.uniform(0, 2 * np.pi),
                      rng.uniform(0.04, 0.09), rng.uniform(0.6, 1.4)))
    return waves


def moving_scene(offsets: list[tuple[float, float]], height: int, width: int, seed: int = 0) -> np.ndarray:
    """Frames of a smooth scene (sums of plane waves, in linear light) seen shifted by each (dx, dy)
    of ``offsets`` (sub-pixel shifts are exact: the scene is analytic), sRGB-encoded to uint8:
    N×H×W×3."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    waves = scene_waves(seed)
    frames = []
    for dx, dy in offsets:
        linear = np.full((height, width, 3), 0.35)
        for kx, ky, phase, amplitude, tint in waves:
            wave = amplitude * np.sin(kx * (xs - dx) + ky * (ys - dy) + phase)
            linear += wave[:, :, None] * np.array([tint, 1.0, 2.0 - tint])
        encoded = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * np.clip(linear, 0, 1) ** (1 / 2.4) - 0.055)
        frames.append(np.clip(np.rint(encoded * 255), 0, 255).astype(np.uint8))
    return np.stack(frames)


def write_clip(path: Path, frames: np.ndarray, fps: float = 240.0) -> Path:
    """``frames`` (N×H×W×3 RGB uint8) as a video file: lossless FFV1 for .mkv/.avi, else mp4v."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fourcc = "FFV1" if path.suffix in (".mkv", ".avi") else "mp4v"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (frames.shape[2], frames.shape[1]))
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} to {path}"
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def write_frames(folder: Path, frames: np.ndarray) -> Path:
    """``frames`` as numbered PNGs in ``folder``."""
    for k, frame in enumerate(frames):
        write(folder / f"{k:06d}.png", frame)
    return folder


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under root except stats.json files (they hold timings)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file() and not p.name.endswith("stats.json")
    }


def kill_after_first_shard(args: list[str], out: Path) -> int:
    """Run ``blurgen *args --out out`` in a process of its own, SIGKILL it once its first shard is
    complete, and return how many shards were complete then."""
    process = subprocess.Popen([sys.executable, "-m", "blurgen", *map(str, args), "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not list((out / "train").glob("shard-*/stats.json")) and time.time() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return len(list((out / "train").glob("shard-*/stats.json")))
