"""Pictures of kernels for people: a contact sheet of a bank, and one 16-bit PNG per kernel."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from blurgen.blurring.motion import MOTION_ALIASES, MOTIONS
from blurgen.kernels.bank import KernelBank
from blurgen.pairs.settings import pair_option
from blurgen.settings import check_options, option
from blurgen.files import to_uint8, write_atomic

SHEET_MAX_WIDTH = 1600  # px; cells are magnified by an integer factor up to this width
_GAP = 2
_BACKGROUND = (32, 28, 24)  # BGR
_TEXT = (235, 235, 235)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class MotionSheetSettings:
    """``blurgen motion-sheet``'s settings: the pair table's, with this picture's defaults."""

    src: str | None = pair_option("src", None, help="Sharp images (any source 'blurgen dataset' takes; COCO for moving "
                                  "objects). Default: the photos that ship in scikit-image.")
    motion: str = pair_option("motion", "rotation", help="rotation (the camera rotates; 'camera': its former name), objects "
                              "or mixed.", choices=tuple(m for m in MOTIONS if m != "uniform") + tuple(MOTION_ALIASES))
    shake: str = pair_option("shake", "shake")
    fov: float = pair_option("fov", 60.0)
    camera: str = pair_option("camera", "gamma")
    crop: int = pair_option("crop", 256, help="Crop side in px.", minimum=16)
    limit: int = option(4, "How many pairs to show.", minimum=1, maximum=32)
    seed: int = pair_option("seed", 0)

    def __post_init__(self) -> None:
        check_options(self)


def kernel_to_uint8(kernel: np.ndarray) -> np.ndarray:
    """Scale a kernel (float, K×K, ≥ 0) to its own peak and lift faint trails with a square root.

    Returns uint8 K×K. The square root is for visibility only; the bank keeps linear values.
    """
    peak = float(kernel.max())
    if peak <= 0:
        return np.zeros(kernel.shape, dtype=np.uint8)
    return np.round(np.sqrt(np.clip(kernel / peak, 0.0, 1.0)) * 255.0).astype(np.uint8)


def contact_sheet(bank: KernelBank, *, max_kernels: int = 400, title: str = "") -> np.ndarray:
    """A BGR uint8 picture of the first ``max_kernels`` kernels of ``bank`` in a grid.

    Each cell is one kernel scaled to its own peak (inferno colour map, square-root intensity),
    magnified by an integer factor. The header holds ``title``, how many kernels are shown, and a
    10-px scale bar in kernel pixels. Exposure fractions of one trajectory share a row.
    """
    if len(bank) == 0:
        raise ValueError("the bank is empty: nothing to draw")
    shown = bank[: max(1, max_kernels)]
    n_fractions = len(bank.info.get("exposures", [1.0]))
    size = bank.size
    sets = math.ceil(len(shown) / n_fractions)
    columns = n_fractions * max(1, math.ceil(math.sqrt(sets / n_fractions)))
    if columns > len(shown):
        columns = len(shown)
    rows = math.ceil(len(shown) / columns)
    zoom = max(1, min(8, SHEET_MAX_WIDTH // (columns * (size + _GAP))))
    cell = size * zoom + _GAP
    header = 64 if n_fractions == 1 else 80  # room for the exposure of each column
    width = max(columns * cell + _GAP, 560)
    sheet = np.full((header + rows * cell + _GAP, width, 3), _BACKGROUND, dtype=np.uint8)

    for i, kernel in enumerate(shown.kernels):
        picture = cv2.applyColorMap(kernel_to_uint8(kernel), cv2.COLORMAP_INFERNO)
        picture = cv2.resize(picture, (size * zoom, size * zoom), interpolation=cv2.INTER_NEAREST)
        top = header + (i // columns) * cell + _GAP
        left = (i % columns) * cell + _GAP
        sheet[top : top + size * zoom, left : left + size * zoom] = picture

    if n_fractions > 1:
        exposures = bank.info["exposures"]
        for column in range(columns):
            label = f"T={exposures[column % n_fractions]:g}"
            cv2.putText(sheet, label, ((column % columns) * cell + _GAP, header - 4), _FONT, 0.45, _TEXT, 1, cv2.LINE_AA)
    caption = f"{len(shown)} of {len(bank)} kernels, {size}x{size} px, each scaled to its peak (sqrt)"
    cv2.putText(sheet, title or "blurgen kernel bank", (8, 22), _FONT, 0.6, _TEXT, 1, cv2.LINE_AA)
    cv2.putText(sheet, caption, (8, 44), _FONT, 0.45, _TEXT, 1, cv2.LINE_AA)
    bar = 10 * zoom
    right = width - 12
    cv2.rectangle(sheet, (right - bar, 52), (right, 56), _TEXT, thickness=-1)
    label = "10 px"
    (text_width, _), _ = cv2.getTextSize(label, _FONT, 0.45, 1)
    cv2.putText(sheet, label, (right - bar - text_width - 8, 58), _FONT, 0.45, _TEXT, 1, cv2.LINE_AA)
    return sheet


def write_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write ``image`` (uint8 or uint16, H×W or H×W×3 BGR) as PNG, raising if OpenCV cannot."""
    encoded, data = cv2.imencode(".png", image)
    if not encoded:
        raise OSError(f"could not encode {path} as PNG")
    return write_atomic(Path(path), data.tobytes())


def write_kernel_pngs(bank: KernelBank, directory: str | os.PathLike) -> list[Path]:
    """One 16-bit greyscale PNG per kernel, scaled to its own peak, named ``<index>_t<exposure>.png``.

    Linear (no square root): pixel values are ``kernel / kernel.max() · 65535``. Kernel PNGs
    of an earlier bank in ``directory`` (same naming) are removed first, so the folder always
    matches the bank beside it.
    """
    directory = Path(directory)
    if directory.is_dir():
        for old in directory.glob("[0-9][0-9][0-9][0-9][0-9][0-9]_t*.png"):
            old.unlink()
    written = []
    for kernel, row in zip(bank.kernels, bank.meta):
        peak = float(kernel.max())
        scaled = np.round(kernel / peak * 65535.0) if peak > 0 else np.zeros_like(kernel)
        name = f"{int(row['index']):06d}_t{float(row['exposure']):.3f}.png"
        written.append(write_png(directory / name, scaled.astype(np.uint16)))
    return written


def image_sheet(rows: list[tuple[list[np.ndarray], str]], *, title: str, subtitle: str = "", max_side: int = 256) -> np.ndarray:
    """A BGR uint8 picture with one row of images per entry, and a caption under each row.

    ``rows`` holds (images: H×W×3 RGB, float in [0, 1] or uint8; caption). Images larger than
    ``max_side`` are shrunk (area averaging) to fit, each row's images side by side.
    """
    if not rows:
        raise ValueError("no images to draw")

    def to_bgr8(image: np.ndarray) -> np.ndarray:
        image = to_uint8(image)
        scale = min(1.0, max_side / max(image.shape[:2]))
        if scale < 1:
            image = cv2.resize(image, (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))), interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)

    pictures = [([to_bgr8(image) for image in images], caption) for images, caption in rows]
    header, gap, caption_height = 56 if subtitle else 34, 8, 22
    height = max(picture.shape[0] for row, _ in pictures for picture in row)
    width = max(gap + sum(picture.shape[1] + gap for picture in row) for row, _ in pictures)
    sheet = np.full((header + len(rows) * (height + caption_height + gap), max(width, 420), 3), _BACKGROUND, np.uint8)
    cv2.putText(sheet, title, (8, 22), _FONT, 0.6, _TEXT, 1, cv2.LINE_AA)
    if subtitle:
        cv2.putText(sheet, subtitle, (8, 44), _FONT, 0.45, _TEXT, 1, cv2.LINE_AA)
    for i, (row, caption) in enumerate(pictures):
        y, x = header + i * (height + caption_height + gap), gap
        for picture in row:
            sheet[y : y + picture.shape[0], x : x + picture.shape[1]] = picture
            x += picture.shape[1] + gap
        cv2.putText(sheet, caption, (gap, y + height + 16), _FONT, 0.4, _TEXT, 1, cv2.LINE_AA)
    return sheet


def motion_sheet(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, str]], *, title: str = "") -> np.ndarray:
    """A BGR uint8 picture with one row per pair: sharp | blurred | blur map, and a caption.

    ``rows`` holds (sharp, blurred: H×W×3 float in [0, 1]; blur map: H×W px of path; caption).
    The blur maps share one colour scale (inferno, 0 to the largest path length shown), stated in
    the header.
    """
    if not rows:
        raise ValueError("no pairs to draw")
    top = max(float(row[2].max()) for row in rows) or 1.0
    coloured = [cv2.cvtColor(cv2.applyColorMap(np.clip(row[2] / top * 255.0, 0, 255).astype(np.uint8), cv2.COLORMAP_INFERNO),
                             cv2.COLOR_BGR2RGB) for row in rows]
    return image_sheet([([sharp, blurred, colour], caption) for (sharp, blurred, _, caption), colour in zip(rows, coloured)],
                       title=title or "blurgen motion", subtitle=f"sharp | blurred | blur map (path length, 0 to {top:.1f} px)",
                       max_side=max(max(row[0].shape[:2]) for row in rows))


def pairs_sheet(pairs: object, count: int = 8, *, title: str) -> np.ndarray:
    """A BGR uint8 picture of the first ``count`` pairs of ``pairs`` (anything ``len``/``[i]`` →
    (blurred, sharp) images, as :func:`blurgen.sources.open_pairs` opens): blurred | sharp per row."""
    rows = []
    for index in range(min(count, len(pairs))):
        blurred, sharp = pairs[index][:2]
        rows.append(([np.asarray(blurred)[..., :3], np.asarray(sharp)[..., :3]], str(pairs.id(index)) if hasattr(pairs, "id") else str(index)))
    return image_sheet(rows, title=title, subtitle="blurred | sharp")


def sequence_strip(blurred: np.ndarray, sharp: np.ndarray, *, count: int = 6, title: str, max_side: int = 256) -> np.ndarray:
    """A BGR uint8 picture of a sequence's first ``count`` frames: blurred frames in a row over their
    sharp frames (``blurred``, ``sharp``: T×H×W×3, float in [0, 1] or uint8)."""
    shown = min(count, len(blurred))
    return image_sheet([(list(blurred[:shown]), "blurred frames, in order"), (list(sharp[:shown]), "their sharp frames")],
                       title=title, subtitle=f"frames 0-{shown - 1}: consecutive exposures of one continuous motion", max_side=max_side)
