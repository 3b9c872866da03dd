"""Evaluation sets of real photographs, blurred by processes that share nothing with blurgen's
kernels or cameras, so that a model cannot score well on them by having learned blurgen's own blur.

The photos are the colour photographs that ship inside scikit-image (the same photos as
``blurgen evalset``, which no training run sees), downscaled to at most ``--max-side`` px. Every
process is written here with OpenCV, NumPy and Pillow only (``--process``):

``kernels`` (the default; the quality benchmark's "independent" set). Each photo gets four blurs:

* a straight line kernel (``cv2.line``, anti-aliased, 7–25 px, any angle), or a smooth random
  walk (Gaussian steps smoothed by a 9-tap moving average, drawn with ``cv2.polylines``, 12–30 px
  of extent), alternating;
* applied either to the sRGB values or in linear light (a 2.2 power law undone and re-applied),
  alternating, so that both kinds of blur a user meets are represented;
* then Gaussian noise of σ = 1/255 and 8-bit rounding; borders as far as the kernel reaches are
  cropped from both images.

``camera``: a camera's acquisition. Hand shake as an angular velocity that drifts (an
Ornstein–Uhlenbeck process sampled at 2 kHz, correlation time 30–150 ms) over an exposure of
1/120–1/10 s, scaled to 4–30 px of path and drawn as a 16× supersampled polyline; the photo's
sRGB decoded exactly to linear light, blurred there, then exposed on a sensor with a full well of
1,500–12,000 electrons at white (Poisson shot noise) and read noise of 1–4 thousandths of full
scale, encoded with the sRGB curve and saved as JPEG at quality 85–95 (Pillow's encoder).

``nonuniform``: blur that varies across the image, as a camera makes it when it rolls or moves
forward. Half the pairs average 41 frames rotated by −Θ/2..Θ/2 (Θ 1–5°) about a point anywhere
within 1.5 image sizes of the centre; half average 41 frames zoomed by 1−z/2..1+z/2 (z 2–6%)
about a point inside the image. Frames are warped in linear light (a 2.2 power law), averaged,
re-encoded; σ = 1/255 noise; 8-bit. The sharp image is the unwarped middle frame; 24 px of
border are cropped from both, where warped frames reach past the photo.

``levin``, ``levin-linear``, ``levin-dark``: real camera shake. The 8 kernels Levin et al. (CVPR
2009) measured from hand-held captures (``--kernels``: a folder of ``.npy`` kernels in the
orientation a convolution takes; by default ``../shared/realblur-dev/levin-kernels`` beside the
repository), each applied to every photo with SciPy's FFT convolution: ``levin`` blurs the stored
values (as their captures, which behave like linear data, were blurred), ``levin-linear`` blurs
in linear light (a 2.2 power law undone and re-applied, as a photo with a tone curve), and
``levin-dark`` blurs the photos turned grey and darkened to a mean of 67 of 255 (the captures'
own brightness), so that a model's darkening or tinting shows; then σ = 1/255 noise and 8-bit
rounding, the kernel's reach cropped from both images.

``sharp``: the photos themselves as both images of a pair (one per photo), for what a model
does to an image without blur: its PSNR to itself and its brightness change.

Usage: python benchmarks/independent_blur.py --out independent/ [--process kernels] [--max-side 640] [--seed 7] [--kernels DIR]
Writes ``<out>/blur/<photo>-<k>.png``, ``<out>/sharp/<photo>-<k>.png`` and ``<out>/kernels.json``
(what each pair was made with).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from blurgen.output.evalset import fit_within  # noqa: E402
from blurgen.sources.packaged import PackagedPhotos  # noqa: E402

SIDE = 33  # kernel canvas
BLURS_PER_PHOTO = 4


def line_kernel(rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    length, angle = float(rng.uniform(7, 25)), float(rng.uniform(0, np.pi))
    scale = 16  # drawn at 16× and averaged down: sub-pixel end points
    canvas = np.zeros((SIDE * scale, SIDE * scale), np.float32)
    centre = SIDE * scale / 2
    dx, dy = np.cos(angle) * length * scale / 2, np.sin(angle) * length * scale / 2
    cv2.line(canvas, (int(centre - dx), int(centre - dy)), (int(centre + dx), int(centre + dy)), 1.0, thickness=scale, lineType=cv2.LINE_AA)
    return cv2.resize(canvas, (SIDE, SIDE), interpolation=cv2.INTER_AREA), {"kind": "line", "length": length, "angle": angle}


def walk_kernel(rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    steps = rng.normal(size=(60, 2)).cumsum(axis=0)
    smooth = np.stack([np.convolve(steps[:, k], np.ones(9) / 9, mode="valid") for k in range(2)], axis=1)
    extent = float(rng.uniform(12, 30))
    smooth -= smooth.mean(axis=0)
    smooth *= extent / max(np.ptp(smooth, axis=0).max(), 1e-6)
    scale = 16
    canvas = np.zeros((SIDE * scale, SIDE * scale), np.float32)
    points = np.round((smooth + SIDE / 2) * scale).astype(np.int32)
    cv2.polylines(canvas, [points], False, 1.0, thickness=scale, lineType=cv2.LINE_AA)
    return cv2.resize(canvas, (SIDE, SIDE), interpolation=cv2.INTER_AREA), {"kind": "walk", "extent": extent}


def blur_photo(photo: np.ndarray, kernel: np.ndarray, linear: bool, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(blurred, sharp) uint8, both cropped by the kernel's reach."""
    kernel = kernel / kernel.sum()
    values = photo.astype(np.float32) / 255
    if linear:
        values = values**2.2
    blurred = cv2.filter2D(values, -1, kernel, borderType=cv2.BORDER_REFLECT)
    if linear:
        blurred = np.clip(blurred, 0, 1) ** (1 / 2.2)
    blurred = blurred + rng.normal(0, 1 / 255, blurred.shape).astype(np.float32)
    margin = SIDE // 2
    crop = (slice(margin, -margin), slice(margin, -margin))
    return np.clip(np.rint(blurred * 255), 0, 255).astype(np.uint8)[crop], photo[crop]


def kernels_process(photo: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    kernel, described = (line_kernel if k % 2 == 0 else walk_kernel)(rng)
    linear = k // 2 == 1
    blurred, sharp = blur_photo(photo, kernel, linear, rng)
    return blurred, sharp, {"light": "linear" if linear else "sRGB", **described}


def decode_srgb(pixels: np.ndarray) -> np.ndarray:
    values = pixels.astype(np.float64) / 255
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)


def encode_srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0, 1)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def shake_kernel(rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """A hand-shake PSF: the path of an Ornstein–Uhlenbeck angular velocity, drawn as a polyline."""
    rate, exposure, tau = 2000, float(rng.uniform(1 / 120, 1 / 10)), float(rng.uniform(0.03, 0.15))
    samples = max(8, int(rate * exposure))
    velocity = np.empty((samples, 2))
    velocity[0] = rng.normal(size=2)
    decay = np.exp(-1 / (rate * tau))
    for t in range(1, samples):
        velocity[t] = decay * velocity[t - 1] + np.sqrt(1 - decay**2) * rng.normal(size=2)
    path = np.cumsum(velocity, axis=0)
    extent = float(rng.uniform(4, 30))
    path -= path.mean(axis=0)
    travelled = np.linalg.norm(np.diff(path, axis=0), axis=1).sum()
    path *= extent / max(travelled, 1e-9)
    scale, side = 16, SIDE
    reach = np.abs(path).max()
    if reach > side / 2 - 1:  # a long path is shrunk to the canvas
        path *= (side / 2 - 1) / reach
    canvas = np.zeros((side * scale, side * scale), np.float32)
    points = np.round((path + side / 2) * scale).astype(np.int32)
    cv2.polylines(canvas, [points], False, 1.0, thickness=scale, lineType=cv2.LINE_AA)
    kernel = cv2.resize(canvas, (side, side), interpolation=cv2.INTER_AREA)
    return kernel / kernel.sum(), {"kind": "shake", "path_px": extent, "exposure_s": exposure, "tau_s": tau}


def jpeg(pixels: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def camera_process(photo: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    kernel, described = shake_kernel(rng)
    blurred = cv2.filter2D(decode_srgb(photo).astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT).astype(np.float64)
    full_well, read_noise, quality = float(rng.uniform(1500, 12000)), float(rng.uniform(0.001, 0.004)), int(rng.integers(85, 96))
    electrons = rng.poisson(np.clip(blurred, 0, 1) * full_well)
    exposed = electrons / full_well + rng.normal(0, read_noise, blurred.shape)
    pixels = np.clip(np.rint(encode_srgb(exposed) * 255), 0, 255).astype(np.uint8)
    margin = SIDE // 2
    crop = (slice(margin, -margin), slice(margin, -margin))
    return jpeg(pixels[crop], quality), photo[crop], {**described, "full_well": full_well, "read_noise": read_noise, "jpeg_quality": quality}


NONUNIFORM_FRAMES = 41
NONUNIFORM_BORDER = 24


def nonuniform_process(photo: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    height, width = photo.shape[:2]
    linear = (photo.astype(np.float32) / 255) ** 2.2
    if k % 2 == 0:
        angle = float(rng.uniform(1, 5))
        centre = (float(width / 2 + rng.uniform(-1.5, 1.5) * width), float(height / 2 + rng.uniform(-1.5, 1.5) * height))
        warps = [cv2.getRotationMatrix2D(centre, a, 1.0) for a in np.linspace(-angle / 2, angle / 2, NONUNIFORM_FRAMES)]
        described = {"kind": "rotation", "degrees": angle, "centre": centre}
    else:
        zoom = float(rng.uniform(0.02, 0.06))
        centre = (float(rng.uniform(0, width)), float(rng.uniform(0, height)))
        warps = [cv2.getRotationMatrix2D(centre, 0.0, z) for z in np.linspace(1 - zoom / 2, 1 + zoom / 2, NONUNIFORM_FRAMES)]
        described = {"kind": "zoom", "zoom": zoom, "centre": centre}
    total = np.zeros_like(linear)
    for warp in warps:
        total += cv2.warpAffine(linear, warp, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    blurred = np.clip(total / len(warps), 0, 1) ** (1 / 2.2) + rng.normal(0, 1 / 255, linear.shape)
    pixels = np.clip(np.rint(blurred * 255), 0, 255).astype(np.uint8)
    crop = (slice(NONUNIFORM_BORDER, -NONUNIFORM_BORDER), slice(NONUNIFORM_BORDER, -NONUNIFORM_BORDER))
    return pixels[crop], photo[crop], described


LEVIN_KERNELS = ROOT.parent / "shared" / "realblur-dev" / "levin-kernels"
LEVIN_DARK_MEAN = 67 / 255  # the mean level of Levin et al.'s captures


def measured_kernels(folder: Path) -> list[tuple[str, np.ndarray]]:
    """(name, kernel) of every ``.npy`` kernel in ``folder``, each normalised to sum 1."""
    paths = sorted(folder.glob("*.npy"))
    if not paths:
        raise SystemExit(f"no .npy kernels in {folder}; give --kernels")
    return [(path.stem, np.load(path).astype(np.float64) / np.load(path).sum()) for path in paths]


def measured_process(light: str, kernels: list[tuple[str, np.ndarray]]):
    """A process blurring photo ``k`` with measured kernel ``k`` (stored values, linear light, or dark grey)."""
    from scipy.signal import fftconvolve

    def process(photo: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
        name, kernel = kernels[k]
        values = photo.astype(np.float64) / 255
        if light == "dark":
            grey = values @ np.array([0.299, 0.587, 0.114])
            values = np.repeat((grey * LEVIN_DARK_MEAN / max(grey.mean(), 1e-6))[:, :, None], 3, axis=2).clip(0, 1)
        sharp = np.clip(np.rint(values * 255), 0, 255).astype(np.uint8)
        source = (sharp / 255.0) ** 2.2 if light == "linear" else sharp / 255.0
        blurred = np.stack([fftconvolve(source[:, :, c], kernel, mode="valid") for c in range(3)], axis=2)
        if light == "linear":
            blurred = np.clip(blurred, 0, 1) ** (1 / 2.2)
        blurred = blurred + rng.normal(0, 1 / 255, blurred.shape)
        top, left = (kernel.shape[0] - 1) // 2, (kernel.shape[1] - 1) // 2  # 'valid' keeps pixels whose kernel fits
        crop = (slice(top, top + blurred.shape[0]), slice(left, left + blurred.shape[1]))
        return np.clip(np.rint(blurred * 255), 0, 255).astype(np.uint8), sharp[crop], {"kind": "measured", "kernel": name, "light": light}

    return process


def sharp_process(photo: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    return photo, photo, {"kind": "none"}


PROCESSES = {"kernels": (kernels_process, BLURS_PER_PHOTO), "camera": (camera_process, 4),
             "nonuniform": (nonuniform_process, 4), "sharp": (sharp_process, 1)}


MEASURED = {"levin": "values", "levin-linear": "linear", "levin-dark": "dark"}


def build(out: Path, max_side: int = 640, seed: int = 7, process: str = "kernels", kernels: Path = LEVIN_KERNELS) -> int:
    if process in MEASURED:
        measured = measured_kernels(kernels)
        make, per_photo = measured_process(MEASURED[process], measured), len(measured)
    else:
        make, per_photo = PROCESSES[process]
    rng = np.random.default_rng(seed)
    photos = PackagedPhotos()
    records = []
    for index in range(len(photos)):
        photo, _ = fit_within(photos[index][:, :, :3], max_side)
        for k in range(per_photo):
            blurred, sharp, described = make(photo, k, rng)
            name = f"{photos.id(index)}-{k}.png"
            for folder, image in (("blur", blurred), ("sharp", sharp)):
                (out / folder).mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(out / folder / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            records.append({"name": name, **described})
    (out / "kernels.json").write_text(json.dumps({"process": process, "seed": seed, "max_side": max_side, "pairs": records}, indent=2) + "\n")
    return len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--process", choices=[*PROCESSES, *MEASURED], default="kernels")
    parser.add_argument("--kernels", type=Path, default=LEVIN_KERNELS, help="the measured kernels of the levin processes (.npy)")
    parser.add_argument("--max-side", type=int, default=640)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"{build(args.out, args.max_side, args.seed, args.process, args.kernels)} pairs written to {args.out}")


if __name__ == "__main__":
    main()
