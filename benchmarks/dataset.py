"""Dataset-writer speed: pairs/s of ``build_dataset`` on a folder of 640×480 JPEG photos, and
the built-in corpus's images/s.

Baseline, timed in the same run: the I/O floor of the same job on the same number of processes,
decoding every JPEG and encoding and writing the two PNG files of its pair (whole 640×480
images, or 256×256 crops) with OpenCV's defaults, with no blur at all. Every process here keeps
freed memory for reuse, as the command's processes do (``keep_freed_memory``). Live kernels (65 px), one pair per image,
cameras none and realistic, 1 worker and all cores; the "of floor" column is the ratio.

What a second process adds is measured for each kind of work, in the same run: the I/O floor,
blurgen's writer, and the blur alone (the arithmetic of a pair without its I/O): when the blur
alone gains no more from more cores than blurgen does, the gap to the floor at several processes
is the machine's (cores sharing their arithmetic units or memory), not the writer's.

The built-in dead-leaves corpus is timed against the drawing it replaced (one OpenCV call per
disc and NumPy blending for shaded discs, kept here as the reference), in the same run.

Usage: python benchmarks/dataset.py [--images N]. Writes benchmarks/results/dataset.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run from the repository root without installing: import this checkout

from blurgen.blurring.camera import camera_preset  # noqa: E402
from blurgen.output.dataset import DatasetSpec  # noqa: E402
from blurgen.output.distribute import build_dataset, keep_freed_memory  # noqa: E402
from blurgen.pairs.synthesizer import LiveKernels  # noqa: E402
from blurgen.sources import FolderSource, dead_leaves_image, read_image  # noqa: E402
from blurgen.sources.images import encode_png  # noqa: E402



def io_floor(paths: list[Path], crop: int | None, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for number, path in enumerate(paths):
        image = read_image(path)
        part = np.ascontiguousarray(image[:crop, :crop]) if crop else image
        (out / f"{number:08d}.blur.png").write_bytes(encode_png(part))
        (out / f"{number:08d}.sharp.png").write_bytes(encode_png(part))
    return len(paths)


def blur_alone(count: int) -> int:
    """The arithmetic of a pair without its I/O: ``count`` blurs of a 320-px region (a 256-px crop and
    its margin) by a 65-px kernel through the realistic camera."""
    from blurgen.blurring.camera import draw_camera, expose

    rng = np.random.default_rng(0)
    region = rng.random((320, 320, 3), dtype=np.float32)
    kernel = np.zeros((65, 65), np.float32)
    kernel[32, 10:55] = 1.0
    camera = camera_preset("realistic")
    draws = draw_camera(camera, lambda counter: 0.5)
    for index in range(count):
        expose(region, kernel, camera, draws, noise_key=index)
    return count


def reference_dead_leaves(seed: int, index: int, height: int = 480, width: int = 640) -> np.ndarray:
    """The corpus as blurgen drew it before numba: same draws, per-disc OpenCV drawing and NumPy blending."""
    from blurgen.sources.dead_leaves import SHADED_RADIUS, draw_discs

    discs = draw_discs(seed, index, height, width)
    rng, radii, centres_y, centres_x = discs.rng, discs.radii, discs.centres_y, discs.centres_x
    colours, highlights, shading = discs.colours, discs.highlights, discs.shading
    canvas = np.full((height, width, 3), colours[0], np.float32)
    for k in range(len(radii)):
        r = radii[k]
        if r < SHADED_RADIUS or highlights[k]:
            cv2.circle(canvas, (int(centres_x[k] * 16), int(centres_y[k] * 16)), int(r * 16), colours[k].tolist(), -1, cv2.LINE_AA, 4)
            continue
        top, bottom = int(max(centres_y[k] - r, 0)), int(min(centres_y[k] + r + 1, height))
        left, right = int(max(centres_x[k] - r, 0)), int(min(centres_x[k] + r + 1, width))
        if top >= bottom or left >= right:
            continue
        box = np.zeros((bottom - top, right - left), np.uint8)
        cv2.circle(box, (int((centres_x[k] - left) * 16), int((centres_y[k] - top) * 16)), int(r * 16), 255, -1, cv2.LINE_AA, 4)
        cover = box.astype(np.float32)[:, :, None] / 255.0
        ys = (np.arange(top, bottom, dtype=np.float32) - centres_y[k])[:, None] / r
        xs = (np.arange(left, right, dtype=np.float32) - centres_x[k])[None, :] / r
        gain = 1.0 + shading[k, 0] * ys + shading[k, 1] * xs
        region = canvas[top:bottom, left:right]
        region += cover * (colours[k] * gain[:, :, None] - region)
    illumination = cv2.resize(rng.uniform(0.8, 1.15, (4, 4)).astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    canvas *= illumination[:, :, None]
    canvas += rng.normal(0.0, 1.5, canvas.shape).astype(np.float32)
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8)


def images_per_s(make: object, count: int) -> float:
    make(0, 0)  # compile / warm up
    started = time.perf_counter()
    for i in range(1, count + 1):
        make(0, i)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000, help="a job long enough that the workers' start (about a "
                        "second each: a fresh interpreter, imports, compiled code) is small beside it")
    args = parser.parse_args()
    keep_freed_memory()  # as the command does; the floor's forked processes inherit it
    cores = os.cpu_count() or 1
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        photos = Path(tmp) / "photos"
        photos.mkdir()
        for i in range(args.images):
            image = cv2.cvtColor(dead_leaves_image(9, i), cv2.COLOR_RGB2BGR)
            cv2.imwrite(str(photos / f"{i:05d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths = sorted(photos.iterdir())
        for crop in (None, 256):
            size = "640x480 whole" if crop is None else f"{crop} crops"
            for workers in sorted({1, cores}):
                chunks = [paths[k::workers] for k in range(workers)]
                started = time.perf_counter()
                with ProcessPoolExecutor(workers) as pool:
                    floors = [Path(tmp) / f"floor-{workers}-{crop}-{k}" for k in range(workers)]
                    done = sum(pool.map(io_floor, chunks, [crop] * workers, floors))
                floor = done / (time.perf_counter() - started)
                rows.append({"what": f"I/O floor, {size}", "workers": workers, "pairs_per_s": floor, "of_floor": 1.0})
                for camera in ("none", "realistic"):
                    spec = DatasetSpec(out=Path(tmp) / f"out-{camera}-{workers}-{crop}", source=FolderSource(photos),
                                       kernels=LiveKernels(seed=0), camera=camera_preset(camera), crop=crop, seed=0)
                    started = time.perf_counter()
                    report = build_dataset(spec, workers=workers)
                    rate = report["pairs_now"] / (time.perf_counter() - started)
                    rows.append({"what": f"blurgen dataset, {size}, camera {camera}", "workers": workers,
                                 "pairs_per_s": rate, "of_floor": rate / floor})
    scaling = {}  # what a second process adds, per kind of work: the machine's share, beside blurgen's
    for what, job in (("I/O floor", "I/O floor, 256 crops"), ("blurgen dataset", "blurgen dataset, 256 crops, camera none")):
        rates = {row["workers"]: row["pairs_per_s"] for row in rows if row["what"] == job}
        scaling[what] = rates[cores] / rates[1]
    blurs = 200 * cores
    rates = {}
    for workers in sorted({1, cores}):
        started = time.perf_counter()
        with ProcessPoolExecutor(workers) as pool:
            done = sum(pool.map(blur_alone, [blurs // workers] * workers))
        rates[workers] = done / (time.perf_counter() - started)
    scaling["blur alone (no I/O)"] = rates[cores] / rates[1]
    corpus = {"reference_images_per_s": images_per_s(reference_dead_leaves, 10),
              "blurgen_images_per_s": images_per_s(dead_leaves_image, 50)}
    corpus["speedup"] = corpus["blurgen_images_per_s"] / corpus["reference_images_per_s"]
    results = {
        "benchmark": "dataset",
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": cores},
        "setup": {"images": args.images, "image": "640x480 JPEG q90 (dead leaves)", "kernels": "live, 65 px",
                  "png": "OpenCV's default compression, in the floor and the writer",
                  "floor": "decode each JPEG, encode and write its two PNG files, same processes"},
        "rows": rows,
        "scaling_from_1_to_all_cores": scaling,
        "built_in_corpus_640x480": corpus,
    }
    out = ROOT / "benchmarks" / "results" / "dataset.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'what':<52} {'workers':>7} {'pairs/s':>9} {'of floor':>9}")
    for row in rows:
        print(f"{row['what']:<52} {row['workers']:>7} {row['pairs_per_s']:>9.1f} {row['of_floor']:>9.2f}")
    print(f"{cores} processes against 1: " + ", ".join(f"{what} {ratio:.2f}x" for what, ratio in scaling.items()))
    print(f"built-in corpus, 640x480: {corpus['blurgen_images_per_s']:.1f} images/s vs reference {corpus['reference_images_per_s']:.1f} "
          f"({corpus['speedup']:.1f}x)")
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
