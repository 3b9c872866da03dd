"""Why blurgen: the same model trained on the blur generators users pick instead, side by side.

A user choosing a motion-blur generator for deblurring data today picks one of these (installed by
``pip install -e ".[peers]"``, never imported by blurgen itself):

  albumentations  ``MotionBlur(blur_limit=(3, 31), p=1)``: straight lines of an odd length, any
                  angle and direction, allowed off centre (its defaults but the length: the default
                  3-7 px is a light augmentation for classifiers; deblurring data needs longer blur,
                  and 31 matches the others here).
  deepinv         ``MotionBlurGenerator(psf_size=(31, 31))`` with its documented defaults (l 0.3,
                  sigma 0.25, 1,000 steps): Gaussian-process trajectories.
  kornia          ``RandomMotionBlur(kernel_size=(3, 31), angle=180, direction=1, p=1)``: lines of
                  any angle and direction (it has no defaults for these; the widest ranges).
  blurgen rows    ``deblurgan`` (DeblurGAN's own trajectory model and expl set, as its script draws
                  them, without the script's shift and normalisation faults) and ``mixture`` (train's
                  default kernels), both blurring the sRGB values as the peers do, and ``mixture``
                  in linear light (camera gamma: train's default).

Quality. Each generator's kernels are collected into a bank: a peer's kernel is its response to a
bright point (a delta image, run through its own transform), which is exactly what it convolves
with, offsets included (checked by the tests: the response is a non-negative kernel summing to 1,
and the peer's blur of an image equals blurgen's convolution with it). Then the same model is
trained on each bank the same way for the same number of images: ``train --mix synth --kernels
BANK`` with the shipped model's recipe otherwise (built-in photos with views, the small ResNet,
L1 alone, lr 5e-4), so only the blur differs; each row with several seeds (the data stream and the
initial weights), since two seeds of one recipe can differ by more than two generators. Each model
is scored with ``deblur --pairs`` on the quality benchmark's sets: ``blurgen evalset`` and the three
processes of ``benchmarks/independent_blur.py`` that share no code with blurgen or any peer, and
the sharp photos (PSNR of the output to its input).

Speed, one thread each, same run: kernels per second at 31 px (each generator's own kernel call),
and pairs per second blurring 256-px crops (each generator's own transform; blurgen: a pair as
``blurgen dataset`` makes it, crop, kernel and camera).

Usage: python benchmarks/peers.py --runs runs/peers [--seeds 3] [--steps 1500] [--kernels 4096] [--rows a,b] [--src photos/]
       python benchmarks/peers.py --rows blurgen-mixture-gamma --extra "--ema 0.99" --results benchmarks/results/levers-cpu.json
       python benchmarks/peers.py --speed-only
Writes benchmarks/results/peers-cpu.json and .md (rows measured before are kept).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run from the repository root without installing: import this checkout
sys.path.insert(1, str(ROOT / "benchmarks"))

PEER_SIZE = 31  # the peers' longest kernels, px; blurgen's banks keep train's 65-px canvas
RECIPE = ["--mix", "synth", "--builtin", "photos", "--lr", "5e-4", "--adv-weight", "0", "--orientations", "--min-scale", "0.5",
          "--generator", "resnet", "--ngf", "16", "--blocks", "4", "--ndf", "8", "--crop", "96", "--batch-size", "8"]
SCORED = ("evalset", "independent", "camera", "nonuniform", "sharp")
INDEPENDENT = ("independent", "camera", "nonuniform")

Blur = Callable[[np.ndarray, int], np.ndarray]  # (float32 H×W×3 in [0, 1], key) -> float32 H×W×3


@dataclass(frozen=True)
class Generator:
    """One row: where its kernels come from and how the model trains on them."""

    name: str
    package: str | None  # the peer's distribution name; None for blurgen's own rows
    settings: str
    camera: str = "none"  # train's camera for this row: the peers blur sRGB values
    preset: str | None = None  # blurgen rows: the preset their bank is sampled from


GENERATORS = {
    "albumentations": Generator("albumentations", "albumentations", "MotionBlur(blur_limit=(3, 31), p=1), its other defaults"),
    "deepinv": Generator("deepinv", "deepinv", "MotionBlurGenerator(psf_size=(31, 31)), defaults l=0.3, sigma=0.25"),
    "kornia": Generator("kornia", "kornia", "RandomMotionBlur(kernel_size=(3, 31), angle=180, direction=1, p=1)"),
    "blurgen-deblurgan": Generator("blurgen-deblurgan", None, "preset deblurgan (DeblurGAN's trajectories), sRGB values",
                                   preset="deblurgan"),
    "blurgen-mixture": Generator("blurgen-mixture", None, "preset mixture, sRGB values", preset="mixture"),
    "blurgen-mixture-gamma": Generator("blurgen-mixture-gamma", None, "preset mixture, linear light (camera gamma)",
                                       camera="gamma", preset="mixture"),
}


def installed(generator: Generator) -> bool:
    return generator.package is None or importlib.util.find_spec(generator.package) is not None


def version(generator: Generator) -> str:
    from importlib.metadata import version as package_version

    return package_version(generator.package or "blurgen")


# --- each peer's own blur, seeded per sample -------------------------------------------------


def albumentations_blur() -> Blur:
    import albumentations as A

    def blur(image: np.ndarray, key: int) -> np.ndarray:
        return A.Compose([A.MotionBlur(blur_limit=(3, PEER_SIZE), p=1.0)], seed=key)(image=image)["image"]

    return blur


def kornia_blur() -> Blur:
    import kornia
    import torch

    transform = kornia.augmentation.RandomMotionBlur(kernel_size=(3, PEER_SIZE), angle=180.0, direction=1.0, p=1.0)

    def blur(image: np.ndarray, key: int) -> np.ndarray:
        torch.manual_seed(key)  # kornia draws from torch's global generator
        with torch.no_grad():
            out = transform(torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None])
        return out[0].numpy().transpose(1, 2, 0)

    return blur


def deepinv_blur() -> Blur:
    import deepinv
    import torch
    from deepinv.physics.generator import MotionBlurGenerator

    generator = MotionBlurGenerator(psf_size=(PEER_SIZE, PEER_SIZE))

    def blur(image: np.ndarray, key: int) -> np.ndarray:
        psf = generator.step(batch_size=1, seed=key)["filter"]
        physics = deepinv.physics.Blur(filter=psf, padding="reflect")
        with torch.no_grad():
            out = physics.A(torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None])
        return out[0].numpy().transpose(1, 2, 0)

    return blur


PEER_BLURS: dict[str, Callable[[], Blur]] = {"albumentations": albumentations_blur, "deepinv": deepinv_blur, "kornia": kornia_blur}


def response(blur: Blur, key: int, size: int = PEER_SIZE) -> np.ndarray:
    """What ``blur`` does to a bright point: float64 size×size, the kernel it convolves with (its
    centre pixel on the point). ``ValueError`` if the three channels differ or the response
    reaches outside the window."""
    side = 2 * size + 1
    delta = np.zeros((side, side, 3), np.float32)
    delta[size, size] = 1.0
    out = np.asarray(blur(delta, key), dtype=np.float64)
    if not (np.allclose(out[..., 0], out[..., 1], atol=1e-6) and np.allclose(out[..., 0], out[..., 2], atol=1e-6)):
        raise ValueError("the blur treats the colour channels differently")
    half = size // 2
    window = out[size - half : size + half + 1, size - half : size + half + 1, 0]
    if abs(out[..., 0].sum() - window.sum()) > 1e-4:
        raise ValueError(f"the response reaches outside the {size}-px window")
    return window


def peer_bank(name: str, count: int, seed: int = 0) -> object:
    """A :class:`~blurgen.kernels.bank.KernelBank` of ``count`` responses of peer ``name`` (keys seed·10⁶ + i)."""
    from blurgen.kernels.bank import KernelBank

    blur = PEER_BLURS[name]()
    kernels = np.stack([response(blur, seed * 1_000_000 + i) for i in range(count)])
    return KernelBank.from_kernels(kernels, name=name, seed=seed, spec={"peer": name, "settings": GENERATORS[name].settings,
                                                                        "version": version(GENERATORS[name])})


def make_bank(generator: Generator, count: int, folder: Path) -> Path:
    """The row's kernel bank, made once: ``<folder>/<bank name>.npz``."""
    from blurgen.kernels.bank import sample_kernels

    path = folder / f"{generator.preset or generator.name}.npz"
    if not path.exists():
        bank = peer_bank(generator.name, count) if generator.package else sample_kernels(count, preset=generator.preset)
        folder.mkdir(parents=True, exist_ok=True)
        bank.save(path)
    return path


# --- speed ----------------------------------------------------------------------------------------


def rate(work: Callable[[int], object], count: int) -> float:
    """Calls of ``work(i)`` per second over ``count`` calls, after one untimed call."""
    work(10**6)
    started = time.perf_counter()
    for i in range(count):
        work(i)
    return count / (time.perf_counter() - started)


def kernel_makers() -> dict[str, Callable[[int], object]]:
    """Each installed generator's own kernel call, one 31-px kernel per call (deepinv: batches of 64)."""
    from blurgen.kernels.bank import sample_kernels

    makers = {}
    if installed(GENERATORS["albumentations"]):
        import albumentations as A

        transform = A.MotionBlur(blur_limit=(3, PEER_SIZE), p=1.0)
        transform.set_random_seed(0)
        makers["albumentations"] = lambda i: transform.get_params()
    if installed(GENERATORS["kornia"]):
        import kornia

        draws = np.random.default_rng(0)
        makers["kornia"] = lambda i: kornia.filters.get_motion_kernel2d(int(draws.integers(1, 16)) * 2 + 1, float(draws.uniform(-180, 180)),
                                                                        float(draws.uniform(-1, 1)))
    if installed(GENERATORS["deepinv"]):
        from deepinv.physics.generator import MotionBlurGenerator

        generator = MotionBlurGenerator(psf_size=(PEER_SIZE, PEER_SIZE))
        makers["deepinv"] = lambda i: generator.step(batch_size=64, seed=i)  # counted as 64 below
    for name, preset in (("blurgen-deblurgan", "deblurgan"), ("blurgen-mixture", "mixture")):
        makers[name] = lambda i, preset=preset: sample_kernels(256, seed=i, preset=preset, size=PEER_SIZE, workers=1)  # 256 per call
    return makers


PER_CALL = {"deepinv": 64, "blurgen-deblurgan": 256, "blurgen-mixture": 256}


def measure_speed(quick: bool = False) -> dict:
    """Kernels/s and pairs/s of every installed generator, one thread, this run (``quick``: a few calls)."""
    import cv2
    import torch

    from blurgen.blurring.camera import camera_preset
    from blurgen.pairs.synthesizer import LiveKernels, PairSynthesizer
    from blurgen.sources import builtin_corpus

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    rows = {}
    pairs = 2 if quick else 200
    for name, make in kernel_makers().items():
        calls = 1 if quick else 20 if name in PER_CALL else 2000
        rows[name] = {"kernels_per_s": rate(make, calls) * PER_CALL.get(name, 1)}
    photos = builtin_corpus("photos")
    crops = [np.ascontiguousarray(photos[i % len(photos)][:256, :256]).astype(np.float32) / 255 for i in range(8)]
    crops = [np.repeat(crop[:, :, None], 3, 2) if crop.ndim == 2 else crop[:, :, :3] for crop in crops]
    for name, make in PEER_BLURS.items():
        if not installed(GENERATORS[name]):
            continue
        blur = make()
        rows[name]["pairs_per_s"] = rate(lambda i: blur(crops[i % 8], i), pairs)
    for name, generator in GENERATORS.items():
        if generator.package is None and generator.name in rows:
            kernels = LiveKernels(preset=generator.preset, size=PEER_SIZE)  # the peers' size (and every photo holds 256 + 30 px)
            pairs_made = PairSynthesizer(photos, kernels, camera_preset(generator.camera), crop=256)
            rows[name]["pairs_per_s"] = rate(lambda i: pairs_made[i % len(pairs_made)], pairs)
    return rows


# --- quality --------------------------------------------------------------------------------------


def invoke(app: object, arguments: list[str], program: str) -> None:
    """Run ``train`` or ``deblur`` in this process, as a user would from a shell."""
    from typer.testing import CliRunner

    print("$", program, " ".join(arguments), flush=True)
    result = CliRunner().invoke(app, arguments, prog_name=program)
    if result.exit_code != 0:
        raise SystemExit(f"{program} failed ({result.exit_code}): {result.output[-2000:]}")


def measure_row(generator: Generator, seed: int, steps: int, bank: Path, runs: Path, sets: dict[str, Path],
                recipe: list[str] = RECIPE, extra: list[str] = ()) -> dict:
    """Train one (generator, seed) run, or continue it after a stop, and score it; ``extra``: train
    options added (named in the run folder)."""
    import quality
    from train.cli import train_app

    folder = runs / "-".join([generator.name, *(part.strip("-") for part in extra), f"seed{seed}"])
    arguments = [*recipe, "--kernels", str(bank), "--camera", generator.camera, "--seed", str(seed), *extra]
    if not quality.finished(folder, steps):
        resume = ["--resume"] if (folder / "checkpoint.pt").exists() else []
        invoke(train_app, [*arguments, "--steps", str(steps), "--log-every", "250", "--checkpoint-every", "500",
                           "--out", str(folder), *resume], "train")
    scores = score(folder / "checkpoint.pt", sets, lambda set_name: folder / f"{set_name}.json")
    batch = int(recipe[recipe.index("--batch-size") + 1])
    return {"seed": seed, "steps": steps, "images": steps * batch, "options": " ".join(arguments).replace(f"{ROOT}/", ""), **scores}


def score(checkpoint: Path, sets: dict[str, Path], report_of: Callable[[str], Path]) -> dict:
    """A checkpoint's gains on each scored set (``quality.gains``; sharp photos:
    ``quality.sharp_summary``) and their mean over the independent processes; each set's
    ``deblur --report`` goes to ``report_of(set name)`` and is not measured again while newer than
    the checkpoint."""
    import quality
    from train.cli import deblur_app

    scores = {}
    for set_name in SCORED:
        report = report_of(set_name)
        if not quality.fresh(report, checkpoint):
            invoke(deblur_app, [str(checkpoint), "--pairs", str(sets[set_name]), "--report", str(report)], "deblur")
        measured = json.loads(report.read_text())
        scores[set_name] = quality.sharp_summary(measured) if set_name == "sharp" else quality.gains(measured)
    scores["independent_mean"] = statistics.mean(scores[process]["psnr_gain"] for process in INDEPENDENT)
    return scores


def quick_sets(runs: Path) -> dict[str, Path]:
    """For the test of this script: one tiny set of real pairs standing for every scored set."""
    from blurgen.output.evalset import EvalsetSpec, build_evalset

    folder = runs / "sets" / "quick"
    if not folder.exists():
        build_evalset(folder, EvalsetSpec(per_image=1, max_side=48, kernel_size=9))
    return {name: folder for name in SCORED}


QUICK_RECIPE = [*RECIPE[: RECIPE.index("--generator")], "--generator", "resnet", "--ngf", "4", "--blocks", "1", "--ndf", "4",
                "--crop", "32", "--batch-size", "2", "--workers", "0"]


def summarise(runs: list[dict]) -> dict:
    """Per scored quantity: mean, smallest and largest over the seeds."""
    def spread(values: list[float]) -> dict:
        return {"mean": statistics.mean(values), "min": min(values), "max": max(values)}

    summary = {process: spread([run[process]["psnr_gain"] for run in runs]) for process in ("evalset", *INDEPENDENT)}
    summary["independent_mean"] = spread([run["independent_mean"] for run in runs])
    summary["sharp_worst"] = spread([run["sharp"]["psnr_worst"] for run in runs])
    return summary


def kernel_stats(bank: Path) -> dict:
    from blurgen.kernels.bank import KernelBank

    stats = KernelBank.load(bank).stats()
    return {"kernels": stats["count"], "size": stats["size"], "footprint_median_px": stats["footprint_px"].get("p50"),
            "footprint_p95_px": stats["footprint_px"].get("p95")}


# What each can do, by feature: (what, evidence). Evidence for a peer is an API of its installed
# version (``module:attribute``), for blurgen a test that shows the feature (``file::test``); the
# tests check that each still exists. "—": none found in the peer's API.
PEER_COLUMNS = ("blurgen", "albumentations", "deepinv", "kornia")
FEATURES: dict[str, dict[str, tuple[str, str]]] = {
    "kernel families": {
        "blurgen": ("Markov shake, lines, arcs, smooth walks, near-still, defocus; weighted mixtures",
                    "tests/test_families.py::test_kernels_are_psfs_centred_on_the_pixel_that_keeps_the_image_in_place"),
        "albumentations": ("lines (Gaussian and defocus blur as other transforms)", "albumentations:MotionBlur"),
        "deepinv": ("Gaussian-process trajectories, diffraction, Gaussian", "deepinv.physics.generator:DiffractionBlurGenerator"),
        "kornia": ("lines (Gaussian and box filters apart)", "kornia.filters:motion_blur"),
    },
    "blur in linear light, through a camera (tone curve, saturation, shot and read noise, JPEG)": {
        "blurgen": ("yes: cameras none, gamma, noisy, mixed, realistic, wide, raw (white balance, Bayer mosaic, noise on the mosaic, "
                    "demosaicking)", "tests/test_camera.py::test_gamma_blurs_in_linear_light"),
        "albumentations": ("— (noise and JPEG as separate transforms on the encoded values)", "albumentations:ImageCompression"),
        "deepinv": ("— (Poisson-Gaussian noise on the measurement, no tone curve)", "deepinv.physics:PoissonGaussianNoise"),
        "kornia": ("— (noise and JPEG as separate augmentations)", "kornia.augmentation:RandomJPEG"),
    },
    "blur that varies across the image": {
        "blurgen": ("camera rotation (Köhler-like shake), moving objects, with blur maps",
                    "tests/test_motion.py::test_a_pure_roll_blurs_in_proportion_to_the_distance_from_the_centre"),
        "albumentations": ("radial zoom blur", "albumentations:ZoomBlur"),
        "deepinv": ("space-varying blur (product convolution)", "deepinv.physics:SpaceVaryingBlur"),
        "kornia": ("—", ""),
    },
    "pairs from video (frame averaging, interpolation)": {
        "blurgen": ("yes: --average, --interpolate",
                    "tests/test_video.py::test_averaging_a_translating_scene_is_the_middle_frame_blurred_by_the_matching_line_kernel"),
        "albumentations": ("—", ""), "deepinv": ("—", ""), "kornia": ("—", ""),
    },
    "the same sample for the same seed, whatever the workers": {
        "blurgen": ("yes: sample i from (seed, i)", "tests/test_dataset.py::test_same_bytes_for_any_worker_count_and_sharding"),
        "albumentations": ("a seeded stream per pipeline: depends on the order of calls", "albumentations:Compose"),
        "deepinv": ("a seed per call", "deepinv.physics.generator:MotionBlurGenerator"),
        "kornia": ("torch's global generator", "kornia.augmentation:RandomMotionBlur"),
    },
    "datasets on disk: shards, resume after a kill, jobs and clusters": {
        "blurgen": ("yes", "tests/test_dataset.py::test_kill_minus_nine_then_rerun_gives_the_uninterrupted_bytes"),
        "albumentations": ("— (an augmentation library)", ""), "deepinv": ("—", ""), "kornia": ("— (an augmentation library)", ""),
    },
}


def feature_table() -> str:
    lines = ["| feature | " + " | ".join(PEER_COLUMNS) + " |", "| --- |" + " --- |" * len(PEER_COLUMNS)]
    for feature, cells in FEATURES.items():
        shown = [f"{cells[column][0]}" + (f" (`{cells[column][1].split('::')[-1].split(':')[-1]}`)" if cells[column][1] else "")
                 for column in PEER_COLUMNS]
        lines.append(f"| {feature} | " + " | ".join(shown) + " |")
    return "\n".join(lines)


def signed(value: float) -> str:
    return f"{round(value, 2) + 0.0:+.2f}"


def table(results: dict) -> str:
    quality_rows = results.get("quality", {})
    lines = [f"# Blur generators side by side ({results['machine']})", "",
             "The same model and recipe trained on each generator's kernels for the same images; PSNR gain of the restored "
             "photos over their blurred input, mean over the seeds [smallest, largest]; sharp photos: the worst PSNR of a "
             "model's output to an unblurred photo, mean over the seeds.", "",
             "| generator | version | seeds | evalset (blurgen's blur) | kernels (ind.) | camera (ind.) | non-uniform (ind.) | "
             "mean of the 3 ind. | sharp photos, worst | kernel footprint, median / 95% |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, row in quality_rows.items():
        summary = row["summary"]

        def cell(key: str) -> str:
            part = summary[key]
            return f"{signed(part['mean'])} [{signed(part['min'])}, {signed(part['max'])}]"

        stats = row["kernels"]
        lines.append(f"| {name} | {row['version']} | {len(row['runs'])} | {cell('evalset')} | {cell('independent')} | "
                     f"{cell('camera')} | {cell('nonuniform')} | {cell('independent_mean')} | "
                     f"{summary['sharp_worst']['mean']:.1f} dB | {stats['footprint_median_px']:.1f} / {stats['footprint_p95_px']:.1f} px |")
    lines += ["", "Speed, one thread each, this run: kernels per second at 31 px (each generator's own kernel call) and pairs "
              "per second blurring 256-px crops (each generator's own transform; blurgen: a whole pair, crop, kernel and camera).",
              "", "| generator | kernels/s | pairs/s |", "| --- | --- | --- |"]
    lines += [f"| {name} | {row['kernels_per_s']:,.0f} | {row.get('pairs_per_s', float('nan')):,.0f} |"
              for name, row in results.get("speed", {}).items()]
    lines += ["", "Not installed here: " + (", ".join(results["not_installed"]) or "none"), "",
              "What each can do (the evidence: blurgen's test of it, or the peer's API that does it):", "", feature_table()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "peers", help="folder for banks, runs and evaluation sets")
    parser.add_argument("--rows", default=",".join(GENERATORS), help=f"comma-separated, of {', '.join(GENERATORS)}")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1500, help="steps of 8 images per run (1,500: 12,000 images)")
    parser.add_argument("--kernels", type=int, default=4096, help="kernels in each generator's bank")
    parser.add_argument("--src", type=Path, default=None, help="train on these sharp photos (any source 'train --src' takes) "
                        "instead of the built-in ones")
    parser.add_argument("--extra", default="", help="train options added to every run (a recipe's lever measured the same "
                        "way, e.g. '--ema 0.99'); its rows and run folders are named with them")
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and one tiny evaluation set (the test of this script)")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "peers-cpu.json")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.rows.split(",") if name.strip()]
    unknown = [name for name in names if name not in GENERATORS]
    if unknown:
        parser.error(f"unknown rows {unknown}; choose from {', '.join(GENERATORS)}")
    missing = [name for name in names if not installed(GENERATORS[name])]
    for name in missing:
        print(f"{name}: not installed (pip install -e '.[peers]'); its row is left out")
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    results.update({"benchmark": "peers", "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "machine": f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)",
                    "not_installed": missing, "speed": measure_speed(quick=args.quick)})
    write(args.results, results)
    if args.speed_only:
        return results
    import quality

    sets = quick_sets(args.runs) if args.quick else quality.make_sets(args.runs)
    recipe = QUICK_RECIPE if args.quick else RECIPE
    extra = shlex.split(args.extra)
    if args.src is not None:  # the same crops for every generator, from the user's photos
        at = recipe.index("--builtin")
        recipe = [*recipe[:at], "--src", str(args.src), *recipe[at + 2 :]]
    results.setdefault("quality", {})
    for name in (name for name in names if name not in missing):
        generator = GENERATORS[name]
        bank = make_bank(generator, args.kernels, args.runs / "banks")
        runs = [measure_row(generator, seed, args.steps, bank, args.runs, sets, recipe, extra) for seed in range(args.seeds)]
        results["quality"][f"{name} {args.extra}".strip()] = {"settings": generator.settings, "version": version(generator), "camera": generator.camera,
                                    "kernels": kernel_stats(bank), "runs": runs, "summary": summarise(runs)}
        write(args.results, results)  # after each row: a stop loses none
    return results


def write(out: Path, results: dict, render: Callable[[dict], str] | None = None) -> None:
    """A benchmark's results as ``out`` (JSON) and its table (``render``, default this script's) beside it as ``.md``."""
    text = (render or table)(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    out.with_suffix(".md").write_text(text)
    print(text, flush=True)


if __name__ == "__main__":
    main()
