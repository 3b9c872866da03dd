"""The documentation's figures, made by blurgen itself and from the benchmarks' results.

Plots (matplotlib, from ``benchmarks/results/*.json``; re-run a benchmark, then this, to update):

* ``quality.png``: PSNR gain over the blurred input per blur process, per row of the quality table;
* ``training.png``: training loss and validation gain against images (``training-curve-cpu.json``);
* ``gain-curve.png``: gain on the independent processes and on blurgen's own blur against the
  minutes each recipe trained (``gain-curve-cpu.json``);
* ``presets.png``: path length and footprint of the kernels of each preset (sampled here);
* ``throughput.png``: each writer's and sampler's speed as a share of its floor;
* ``peers.png``: the same model trained on each blur generator's kernels (blurgen's and the ones
  users pick instead), its gain per blur process with the spread of its seeds, and each
  generator's speed (``peers-cpu.json``).

Pictures (made by the commands' own functions, on photographs that ship in scikit-image):

* ``kernels.png``: a kernel bank's contact sheet (``--preset mixture``);
* ``cameras.png``: one photo sharp and blurred by one kernel through each camera;
* ``motion.png``: the same photo blurred uniformly, by camera rotation and by a moving object, with blur maps;
* ``restoration.png``: ``deblur builtin`` on photos no training run saw: blurred | restored | sharp;
* ``restoration-real.png``: the same on real blur, GoPro frames averaged (``--gopro``; by default
  ``../shared/realblur-dev/gopro``), the median pairs, a window of each at full resolution;
* ``restoration-kernel.png``: camera shake Levin et al. measured, on held-out photos
  (``--levin-set``, made by ``benchmarks/realblur.py``): blurred | Wiener with the true kernel |
  a kernel-aware model, blind | the same given the true kernel | sharp (``--kernel-checkpoint``).

Usage: python benchmarks/figures.py [--out docs/images] [--results benchmarks/results] [--quick]
(``--quick``: tiny sizes, for the test that checks every figure is written).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run from the repository root without installing: import this checkout

FIGURES = ("quality.png", "training.png", "gain-curve.png", "presets.png", "throughput.png", "peers.png", "kernels.png", "cameras.png", "motion.png",
           "restoration.png", "restoration-real.png", "restoration-kernel.png", "sequences.png")
GOPRO = ROOT.parent / "shared" / "realblur-dev" / "gopro"
LEVIN_KERNELS = ROOT.parent / "shared" / "realblur-dev" / "levin-kernels"
LEVIN_SET = ROOT / "runs" / "realblur" / "sets" / "levin"
KERNEL_CHECKPOINT = ROOT / "runs" / "real" / "kernel-resnet-seed0" / "checkpoint.pt"
WINDOW = 320  # px of each real pair shown at full resolution: blur is lost when a 1280-px frame is shrunk
QUALITY_ROWS = ("recipe", "shipped-before", "views-short", "mixture", "mixture-no-still", "mixture-wide", "mixture-mixed")
PROCESSES = (("evalset", "blurgen's own"), ("independent", "kernels (ind.)"), ("camera", "camera (ind.)"),
             ("nonuniform", "non-uniform (ind.)"))
PRESETS = ("deblurgan", "mild", "strong", "anxious", "line", "arc", "walk", "still", "mixture")


def read(results: Path, name: str) -> dict | None:
    path = results / name
    return json.loads(path.read_text()) if path.is_file() else None


def nothing_measured(axes: plt.Axes, what: str) -> None:
    axes.text(0.5, 0.5, f"not measured yet: {what}", ha="center", va="center", transform=axes.transAxes)
    axes.set_axis_off()


def gain_curve_plot(results: Path, out: Path) -> Path:
    figure, axes = plt.subplots(figsize=(7, 4))
    recipes = (read(results, "gain-curve-cpu.json") or {}).get("recipes", {})
    if not recipes:
        nothing_measured(axes, "benchmarks/gain_curve.py")
        return save(figure, out / "gain-curve.png")
    curves = {name: recipe for name, recipe in sorted(recipes.items()) if len(recipe["points"]) > 1}
    for k, (name, recipe) in enumerate(curves.items()):
        points = recipe["points"]
        minutes = [point["minutes"] for point in points]
        colour = f"C{k}"
        axes.plot(minutes, [point["independent_mean"] for point in points], marker="o", color=colour,
                  label=f"{name}: the 3 independent processes")
        axes.plot(minutes, [point["evalset"]["psnr_gain"] for point in points], marker="s", linestyle="--", color=colour,
                  alpha=0.6, label=f"{name}: blurgen's own blur")
        for point in points:
            axes.annotate(f"{point['images'] // 1000}k", (point["minutes"], point["independent_mean"]), fontsize=7,
                          textcoords="offset points", xytext=(2, -10))
    # One-point runs (another camera, seed or lever at one budget): the independent mean only, named beside it.
    for name, recipe in recipes.items():
        if name not in curves:
            point = recipe["points"][0]
            axes.plot(point["minutes"], point["independent_mean"], marker="D", color="grey", markersize=4)
            axes.annotate(name.removeprefix("shipped "), (point["minutes"], point["independent_mean"]), fontsize=6,
                          textcoords="offset points", xytext=(4, 2), color="dimgrey")
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set_xlabel(f"training minutes ({next(iter(recipes.values()))['machine']})")
    axes.set_ylabel("PSNR gain over the blurred input (dB)")
    axes.set_title("Gain against training time (labels: training images)", fontsize=10)
    axes.legend(fontsize=7, loc="upper left")
    return save(figure, out / "gain-curve.png")


def quality_plot(results: Path, out: Path) -> Path:
    figure, axes = plt.subplots(figsize=(9, 4))
    data = read(results, "quality-cpu.json")
    rows = {row["row"]: row for row in (data or {}).get("rows", [])}
    shown = [name for name in QUALITY_ROWS if name in rows] or list(rows)[:8]
    if not shown:
        nothing_measured(axes, "benchmarks/quality.py")
    width = 0.8 / len(PROCESSES)
    for k, (key, label) in enumerate(PROCESSES):
        gains = [rows[name].get(key, {}).get("psnr_gain", np.nan) for name in shown]
        axes.bar(np.arange(len(shown)) + (k - (len(PROCESSES) - 1) / 2) * width, gains, width, label=label)
    if shown:
        axes.axhline(0, color="black", linewidth=0.8)
        axes.set_xticks(np.arange(len(shown)), [f"{name}\n{rows[name]['images']:,} img" if rows[name].get("images") else name for name in shown], fontsize=8)
        axes.set_ylabel("PSNR gain over the blurred input (dB)")
        axes.set_title("Restoration of photos no row trained on, per blur process (CPU, fp32)")
        axes.legend(fontsize=8)
    return save(figure, out / "quality.png")


def training_plot(results: Path, out: Path) -> Path:
    figure, (loss_axes, gain_axes) = plt.subplots(1, 2, figsize=(9, 3.5))
    data = read(results, "training-curve-cpu.json")
    if not data:
        nothing_measured(loss_axes, "training-curve-cpu.json")
        nothing_measured(gain_axes, "training-curve-cpu.json")
        return save(figure, out / "training.png")
    steps = data["steps"]
    images, losses = np.array([row["images"] for row in steps]), np.array([row["loss"] for row in steps])
    loss_axes.plot(images, losses, linewidth=0.5, alpha=0.4, label="logged steps")
    window = max(1, len(losses) // 15)
    if len(losses) >= window:
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        loss_axes.plot(images[window - 1 :], smooth, linewidth=1.5, label=f"mean of {window}")
    loss_axes.legend(fontsize=8)
    loss_axes.set_xlabel("training images")
    loss_axes.set_ylabel(data.get("loss_name", "content loss"))
    validation = data["validation"]
    gain_axes.plot([row["images"] for row in validation], [row["psnr_gain"] for row in validation], marker="o")
    gain_axes.axhline(0, color="black", linewidth=0.8)
    gain_axes.set_xlabel("training images")
    gain_axes.set_ylabel("validation PSNR gain (dB)")
    figure.suptitle(data.get("title", "training"), fontsize=10)
    return save(figure, out / "training.png")


def presets_plot(out: Path, count: int) -> Path:
    from blurgen.kernels.bank import sample_kernels

    figure, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    lengths, footprints = [], []
    for preset in PRESETS:
        bank = sample_kernels(count, preset=preset, seed=0)
        lengths.append(bank.meta["path_length"])
        footprints.append(bank.meta["footprint"])
    for axis, values, label in ((axes[0], lengths, "path length (px)"), (axes[1], footprints, "footprint (px)")):
        axis.boxplot(values, showfliers=False)
        axis.set_xticks(np.arange(1, len(PRESETS) + 1), PRESETS, rotation=45, fontsize=8)
        axis.set_ylabel(label)
    figure.suptitle(f"Kernels of each preset ({count} each, 65 px)", fontsize=10)
    return save(figure, out / "presets.png")


def throughput_plot(results: Path, out: Path) -> Path:
    figure, axes = plt.subplots(figsize=(9, 3.8))
    labels, shares = [], []
    for row in (read(results, "dataset.json") or {}).get("rows", []):
        if "floor" not in row["what"]:
            labels.append(f"{row['what'].replace('blurgen dataset, ', 'dataset ')}, {row['workers']} proc.")
            shares.append(row["of_floor"])
    for row in (read(results, "video.json") or {}).get("rows", []):
        labels.append(f"video {row['codec']}: {row['run'].replace('--average 7-23', 'average').strip()}")
        shares.append(row["of_floor"])
    if not labels:
        nothing_measured(axes, "benchmarks/dataset.py, benchmarks/video.py")
        return save(figure, out / "throughput.png")
    axes.barh(np.arange(len(labels)), shares)
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.set_yticks(np.arange(len(labels)), labels, fontsize=7)
    axes.invert_yaxis()
    axes.set_xlabel("share of the floor (decode and encode alone = 1)")
    axes.set_title("Writers against their I/O floor (2-core CPU)", fontsize=10)
    return save(figure, out / "throughput.png")


def peers_plot(results: Path, out: Path) -> Path:
    figure, (gains_axes, speed_axes) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [2.2, 1]})
    data = read(results, "peers-cpu.json") or {}
    rows = data.get("quality", {})
    if not rows:
        nothing_measured(gains_axes, "benchmarks/peers.py")
    width = 0.8 / max(len(rows), 1)
    for k, (name, row) in enumerate(rows.items()):
        summary = row["summary"]
        means = [summary[key]["mean"] for key, _ in PROCESSES]
        low = [summary[key]["mean"] - summary[key]["min"] for key, _ in PROCESSES]
        high = [summary[key]["max"] - summary[key]["mean"] for key, _ in PROCESSES]
        gains_axes.bar(np.arange(len(PROCESSES)) + (k - (len(rows) - 1) / 2) * width, means, width, yerr=[low, high], capsize=2,
                       label=f"{name} ({len(row['runs'])} seeds)")
    if rows:
        gains_axes.axhline(0, color="black", linewidth=0.8)
        gains_axes.set_xticks(np.arange(len(PROCESSES)), [label for _, label in PROCESSES], fontsize=8)
        gains_axes.set_ylabel("PSNR gain over the blurred input (dB)")
        images = next(iter(rows.values()))["runs"][0]["images"]
        gains_axes.set_title(f"The same model trained on each generator's blur ({images:,} images; bars: seed min-max)", fontsize=9)
        gains_axes.legend(fontsize=7)
    speed = data.get("speed", {})
    if not speed:
        nothing_measured(speed_axes, "benchmarks/peers.py")
    else:
        names = list(speed)
        speed_axes.barh(np.arange(len(names)) - 0.2, [speed[n]["kernels_per_s"] for n in names], 0.4, label="kernels/s (31 px)")
        speed_axes.barh(np.arange(len(names)) + 0.2, [speed[n].get("pairs_per_s", np.nan) for n in names], 0.4, label="pairs/s (256 px)")
        speed_axes.set_xscale("log")
        speed_axes.set_yticks(np.arange(len(names)), names, fontsize=8)
        speed_axes.invert_yaxis()
        speed_axes.set_title("Speed, one thread each", fontsize=9)
        speed_axes.legend(fontsize=7)
    return save(figure, out / "peers.png")


def save(figure: plt.Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def photo(side: int) -> np.ndarray:
    """A colour photograph that ships in scikit-image and is in no training set, cut to a square."""
    import cv2
    from skimage import data

    image = data.chelsea()  # 300×451 RGB
    height = image.shape[0]
    square = image[:, 60 : 60 + height]
    return cv2.resize(square, (side, side), interpolation=cv2.INTER_AREA)


def kernels_picture(out: Path, count: int) -> Path:
    from blurgen.kernels.bank import sample_kernels
    from blurgen.output.contact_sheet import contact_sheet, write_png

    bank = sample_kernels(count, preset="mixture", seed=0)
    return write_png(out / "kernels.png", contact_sheet(bank, title=f"blurgen kernels --preset mixture --n {count}"))


def cameras_picture(out: Path, side: int) -> Path:
    from blurgen.blurring.camera import CAMERA_PRESETS, draw_camera, expose
    from blurgen.output.contact_sheet import image_sheet, write_png
    from blurgen.pairs.synthesizer import LiveKernels

    sharp = photo(side)
    kernel, meta = LiveKernels(seed=3, preset="deblurgan").kernel(0, lambda counter: 0.5)
    blurred = [expose(sharp, kernel, CAMERA_PRESETS[name], draw_camera(CAMERA_PRESETS[name], lambda counter: 0.5), noise_key=1,
                      border="reflect") for name in ("none", "gamma", "realistic", "raw")]
    rows = [([sharp, *blurred], f"one deblurgan kernel, path {meta['path_length']:.0f} px")]
    return write_png(out / "cameras.png", image_sheet(rows, title="cameras", subtitle="sharp | none | gamma | realistic | raw",
                                                  max_side=side))


def motion_picture(out: Path, side: int) -> Path:
    from blurgen.blurring.camera import CAMERA_PRESETS
    from blurgen.output.contact_sheet import motion_sheet, write_png
    from blurgen.blurring.motion import shake_preset
    from blurgen.pairs.motion import Motion
    from blurgen.pairs.synthesizer import LiveKernels, PairSynthesizer

    with tempfile.TemporaryDirectory() as folder:
        source = annotated_photo(Path(folder), side)
        rows = []
        uniform = PairSynthesizer(source, LiveKernels(seed=3), CAMERA_PRESETS["gamma"], crop=side - 64, seed=1)
        pair = uniform[0]
        length = pair.meta["kernel"]["path_length"]
        rows.append((pair.sharp, pair.blurred, np.full(pair.sharp.shape[:2], length, np.float32), f"uniform: one kernel, path {length:.1f} px"))
        for kind, caption in (("rotation", "rotation: the camera turns"), ("objects", "objects: the cat moves, the camera is still")):
            motion = PairSynthesizer(source, LiveKernels(), CAMERA_PRESETS["gamma"], crop=side - 64, seed=1, motion=Motion(kind, shake_preset("shake")))
            pair, _, blur_map = motion.make_with_map(source[0], 0)
            rows.append((pair.sharp, pair.blurred, blur_map, caption))
    return write_png(out / "motion.png", motion_sheet(rows, title="blurgen dataset --motion uniform | rotation | objects"))


def sequences_picture(out: Path, side: int) -> Path:
    """Six consecutive frames of one sequence made from a still: one continuous camera path."""
    from blurgen.blurring.camera import CAMERA_PRESETS
    from blurgen.blurring.camera_path import PathSpec
    from blurgen.output.contact_sheet import sequence_strip, write_png
    from blurgen.pairs.sequences import StillSequencer, Timing

    view = side * 5 // 8
    sequencer = StillSequencer([photo(side)], CAMERA_PRESETS["gamma"], view, Timing(6, 24.0, 0.8), PathSpec((8.0, 10.0), 0.5), seed=2)
    sequence = sequencer[0]
    title = f"blurgen sequences: 6 frames at 24 fps, duty 0.8, camera peak {sequence.meta['peak_speed_px_per_frame']:.1f} px/frame"
    return write_png(out / "sequences.png", sequence_strip(sequence.blurred, sequence.sharp, count=6, title=title, max_side=view))


def annotated_photo(folder: Path, side: int) -> object:
    """The photo as a one-image COCO root whose one instance (the cat's head, an ellipse) can move."""
    import cv2
    from pycocotools import mask as coco_mask

    from blurgen.sources import CocoSource

    image = photo(side)
    (folder / "val2017").mkdir(parents=True)
    cv2.imwrite(str(folder / "val2017" / "000000000001.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    region = np.zeros((side, side), np.uint8)
    cv2.ellipse(region, (int(side * 0.45), int(side * 0.42)), (int(side * 0.2), int(side * 0.17)), 0, 0, 360, 1, -1)
    encoded = coco_mask.encode(np.asfortranarray(region))
    encoded["counts"] = encoded["counts"].decode()
    x, y, width, height = cv2.boundingRect(region)
    annotations = {"images": [{"id": 1, "file_name": "000000000001.jpg", "height": side, "width": side}],
                   "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": encoded, "area": float(region.sum()),
                                    "bbox": [x, y, width, height], "iscrowd": 0}],
                   "categories": [{"id": 1, "name": "cat"}]}
    (folder / "annotations").mkdir()
    (folder / "annotations" / "instances_val2017.json").write_text(json.dumps(annotations))
    return CocoSource(folder, "val2017")


def builtin_generator() -> object:
    from train.checkpoint import load_checkpoint
    from train.config import recorded
    from train.archs.registry import make_generator

    state = load_checkpoint("builtin")
    generator = make_generator(recorded(state["args"])).eval()
    generator.load_state_dict(state["generator"])
    return generator


def median_rows(pairs: object, limit: int | None, window: int | None = None) -> tuple[list, int]:
    """The built-in model on ``pairs``: the three pairs around the median gain (not the best) as
    picture rows (blurred, restored, sharp; a centre window of ``window`` px if given), and how many were scored."""
    import torch

    from train.eval.evaluate import evaluate

    images = {}

    def keep(index: int, blurred: np.ndarray, sharp: np.ndarray, restored: np.ndarray) -> None:
        if window:
            top, left = max(0, (sharp.shape[0] - window) // 2), max(0, (sharp.shape[1] - window) // 2)
            blurred, sharp, restored = (image[top : top + window, left : left + window] for image in (blurred, sharp, restored))
        images[index] = [blurred, restored, sharp]

    report = evaluate(builtin_generator(), pairs, torch.device("cpu"), limit=limit, on_images=keep)
    ranked = sorted(report["per_image"], key=lambda row: row["psnr_gain"])
    middle = len(ranked) // 2
    rows = [(images[row["index"]], f"{row['id']}: PSNR {row['psnr_blurred']:.2f} -> {row['psnr']:.2f} dB ({row['psnr_gain']:+.2f})")
            for row in ranked[max(0, middle - 1) : middle + 2]]
    return rows, len(ranked)


def restoration_picture(out: Path, limit: int | None) -> Path:
    from blurgen.output.contact_sheet import image_sheet, write_png
    from blurgen.output.evalset import EvalsetSpec, build_evalset
    from blurgen.sources import open_pairs

    with tempfile.TemporaryDirectory() as folder:
        build_evalset(Path(folder) / "ev", EvalsetSpec(per_image=1, max_side=320))
        rows, count = median_rows(open_pairs(Path(folder) / "ev"), limit)
    title = f"deblur builtin on photos no training run saw: the median pairs of {count}"
    return write_png(out / "restoration.png", image_sheet(rows, title=title, subtitle="blurred (blurgen evalset) | restored | sharp"))


def real_restoration_picture(out: Path, gopro: Path, limit: int | None) -> Path:
    from blurgen.output.contact_sheet import image_sheet, write_png
    from blurgen.sources import open_pairs

    if not (gopro / "blur").is_dir():
        return blank_picture(out / "restoration-real.png", f"no real pairs here: {gopro}")
    rows, count = median_rows(open_pairs(gopro), limit, window=WINDOW)
    title = f"deblur builtin on real blur (GoPro frames averaged): the median pairs of {count}, a {WINDOW}-px window of each"
    return write_png(out / "restoration-real.png", image_sheet(rows, title=title, subtitle="blurred | restored | sharp", max_side=WINDOW))


def blank_picture(path: Path, text: str) -> Path:
    import cv2

    from blurgen.output.contact_sheet import write_png

    blank = np.full((120, 640, 3), 255, np.uint8)
    cv2.putText(blank, text, (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return write_png(path, blank)


def kernel_restoration_picture(out: Path, levin_set: Path, kernels: Path, checkpoint: Path, count: int) -> Path:
    from blurgen.output.contact_sheet import image_sheet, write_png
    from blurgen.kernels.measured import read_kernel
    from blurgen.sources import open_pairs
    from train.cli import kernel_aware_model, load_generator
    from train.deconvolution import wiener
    from train.eval.evaluate import restore_image, to_image

    path = out / "restoration-kernel.png"
    if not (levin_set / "kernels.json").exists() or not checkpoint.exists():
        return blank_picture(path, f"no measured-kernel set or kernel-aware model here: {levin_set.name}, {checkpoint.parent.name}")
    import torch

    made = {pair["name"]: pair["kernel"] for pair in json.loads((levin_set / "kernels.json").read_text())["pairs"]}
    pairs = open_pairs(levin_set)
    blind, _, amp_dtype, _ = load_generator(checkpoint, device="cpu", upsample=None, amp="bf16")
    given = kernel_aware_model(checkpoint, dict(device="cpu", upsample=None, amp="bf16"))
    rows = []
    for index in np.linspace(0, len(pairs) - 1, count).round().astype(int):
        blurred, sharp = pairs[int(index)]
        kernel = read_kernel(kernels / f"{made[pairs.id(int(index))]}.npy")
        classical = np.clip(np.rint(wiener(blurred / 255, kernel) * 255), 0, 255).astype(np.uint8)
        with torch.no_grad():
            guessed = to_image(restore_image(blind, blurred, torch.device("cpu"), amp_dtype=amp_dtype), grey=False)
        rows.append(([blurred, classical, guessed, given(blurred, kernel), sharp],
                     f"{pairs.id(int(index))}: {made[pairs.id(int(index))]} ({kernel.shape[1]}x{kernel.shape[0]} px)"))
    title = "camera shake Levin et al. measured, on photos no training saw"
    return write_png(path, image_sheet(rows, title=title, subtitle="blurred | Wiener, true kernel | kernel-aware, blind | "
                                                                   "kernel-aware, true kernel | sharp"))


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for the test)")
    parser.add_argument("--gopro", type=Path, default=GOPRO, help="real GoPro pairs (blur/ and sharp/) for restoration-real.png")
    parser.add_argument("--levin-set", type=Path, default=LEVIN_SET, help="Levin's kernels on held-out photos (benchmarks/realblur.py)")
    parser.add_argument("--levin-kernels", type=Path, default=LEVIN_KERNELS)
    parser.add_argument("--kernel-checkpoint", type=Path, default=KERNEL_CHECKPOINT, help="a kernel-resnet checkpoint")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    side, count = (96, 20) if args.quick else (320, 200)
    written = [quality_plot(args.results, args.out), training_plot(args.results, args.out),
               gain_curve_plot(args.results, args.out), presets_plot(args.out, count),
               throughput_plot(args.results, args.out), peers_plot(args.results, args.out),
               kernels_picture(args.out, 16 if args.quick else 48),
               cameras_picture(args.out, side), motion_picture(args.out, side), restoration_picture(args.out, 3 if args.quick else None),
               real_restoration_picture(args.out, args.gopro, 3 if args.quick else None),
               kernel_restoration_picture(args.out, args.levin_set, args.levin_kernels, args.kernel_checkpoint, 3),
               sequences_picture(args.out, side)]
    for path in written:
        print(f"wrote {path}")
    return written


if __name__ == "__main__":
    main()
