"""What the viewer shows, as plain data: kernel thumbnails, trajectories, exposure PSFs, previews."""

from __future__ import annotations

import base64

import cv2
import numpy as np

from blurgen.kernels.bank import KernelBank, kernel_path
from blurgen.blurring.camera import camera_preset, draw_camera, expose, expose_with
from blurgen.output.contact_sheet import kernel_to_uint8
from blurgen.kernels.raster import EXPOSURES_ALL, rasterise
from blurgen.blurring.motion import draw_rotation_path, shake_preset
from blurgen.pairs.motion import margin_for
from blurgen.blurring.nonuniform import render
from blurgen.rng import PairCounter, stream_key, uniform
from blurgen.sources.images import encode_png, to_rgb

PREVIEW_SIDE = 256
TRAJECTORY_POINTS = 400


def kernel_png(kernel: np.ndarray, zoom: int = 1) -> bytes:
    """A kernel as a PNG: scaled to its peak, square-root intensity, inferno colours, ``zoom``× nearest."""
    picture = cv2.applyColorMap(kernel_to_uint8(kernel), cv2.COLORMAP_INFERNO)
    if zoom > 1:
        picture = cv2.resize(picture, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    ok, data = cv2.imencode(".png", picture)
    return data.tobytes()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def detail(bank: KernelBank, i: int) -> dict:
    """Kernel ``i``: its metadata, its trajectory in kernel pixel coordinates (the same centring and
    scaling as its PSF, at most 400 points) and the PSFs of the four exposure fractions."""
    row = bank.meta[i]
    path = kernel_path(row)
    if path is None:  # still and defocus kernels have no path: each exposure fraction is the same kernel
        centred, fractions = np.empty(0, dtype=np.complex128), [bank.kernels[i]] * len(EXPOSURES_ALL)
    else:
        count = round(float(row["exposure"]) * (path.size - 1)) + 1
        positions = path[:count]
        half = (bank.size - 1) / 2
        centred = (positions - positions.mean()) * float(row["scale"]) + complex(half, half)
        fractions = rasterise(path, size=bank.size, exposures=EXPOSURES_ALL)
    step = max(1, len(centred) // TRAJECTORY_POINTS)
    return {
        "i": i,
        "size": bank.size,
        "meta": {name: row[name].item() for name in row.dtype.names},
        "trajectory": [[round(p.real, 3), round(p.imag, 3)] for p in centred[::step]],
        "psf": data_url(kernel_png(bank.kernels[i], zoom=4)),
        "exposures": [{"fraction": f, "png": data_url(kernel_png(k, zoom=2))} for f, k in zip(EXPOSURES_ALL, fractions)],
    }


def preview_region(image: np.ndarray, margin: int) -> np.ndarray:
    """The centre of ``image`` as a (256 + 2·margin)² RGB region (reflect-padded if the image is smaller)."""
    rgb = to_rgb(image)
    side = PREVIEW_SIDE + 2 * margin
    pad_y, pad_x = max(0, side - rgb.shape[0]), max(0, side - rgb.shape[1])
    if pad_y or pad_x:
        rgb = np.pad(rgb, ((pad_y // 2 + 1, pad_y // 2 + 1), (pad_x // 2 + 1, pad_x // 2 + 1), (0, 0)), mode="reflect")
    top, left = (rgb.shape[0] - side) // 2, (rgb.shape[1] - side) // 2
    return np.ascontiguousarray(rgb[top : top + side, left : left + side])


def motion_preview(image: np.ndarray, camera_name: str, shake_name: str, index: int, seed: int = 0) -> dict:
    """The 256×256 centre of ``image``, sharp and blurred by camera rotation (sample ``index`` of
    the ``shake_name`` preset, the photo's centre as principal point), with its blur map."""
    key = np.uint64(stream_key(np.uint64(seed), np.uint64(index)))

    def draw(counter: int) -> float:
        return uniform(key, np.uint64(counter))

    path = draw_rotation_path(shake_preset(shake_name), seed, index, draw(PairCounter.ROLL), np.shape(image))
    margin = margin_for(path, np.shape(image))
    region = preview_region(image, margin)
    centre = (region.shape[0] - 1) / 2
    inverse = np.linalg.inv(path.homographies(centre, centre))
    camera = camera_preset(camera_name)
    draws = draw_camera(camera, draw)
    made = {}

    def blur(planes: np.ndarray) -> np.ndarray:
        blurred, made["map"] = render(planes, inverse, margin, PREVIEW_SIDE)
        return blurred

    blurred = expose_with(region, blur, camera, draws, noise_key=int(key))
    top = 65535 if region.dtype == np.uint16 else 255
    sharp = region[margin : region.shape[0] - margin, margin : region.shape[1] - margin]
    longest = float(made["map"].max())
    level = np.clip(made["map"] / max(longest, 1e-9) * 255, 0, 255).astype(np.uint8)
    return {
        "sharp": data_url(encode_png(sharp)),
        "blurred": data_url(encode_png(np.rint(blurred * top).astype(sharp.dtype))),
        "blur_map": data_url(encode_png(cv2.cvtColor(cv2.applyColorMap(level, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB))),
        "blur_map_px": {"min": float(made["map"].min()), "max": longest},
        "camera": camera_name, "motion": path.describe(),
    }


def preview(image: np.ndarray, kernel: np.ndarray, camera_name: str, seed: int = 0) -> dict:
    """The 256×256 centre of ``image``, sharp and blurred by ``kernel`` through the camera preset."""
    margin = (kernel.shape[0] + 1 - kernel.shape[0] % 2) // 2
    region = preview_region(image, margin)
    camera = camera_preset(camera_name)
    key = np.uint64(stream_key(np.uint64(seed), np.uint64(0)))
    draws = draw_camera(camera, lambda counter: uniform(key, np.uint64(counter)))
    blurred = expose(region, kernel, camera, draws, noise_key=int(key), border="valid")
    top = 65535 if region.dtype == np.uint16 else 255
    sharp = region[margin : region.shape[0] - margin, margin : region.shape[1] - margin]
    return {
        "sharp": data_url(encode_png(sharp)),
        "blurred": data_url(encode_png(np.rint(blurred * top).astype(sharp.dtype))),
        "camera": camera_name,
        "draws": draws,
    }
