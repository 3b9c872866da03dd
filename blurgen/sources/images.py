"""Reading image files for sources: RGB(A) arrays in, one clear reason out for every bad file."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
JPEG_EXTENSIONS = (".jpg", ".jpeg")

# Why an image was skipped; the writer counts these by name.
EMPTY = "empty"
TRUNCATED = "truncated"
CORRUPT = "corrupt"
MISSING = "missing"
TOO_SMALL = "too_small"
NOT_AN_IMAGE = "not_an_image"


class BadImage(Exception):
    """A source image that cannot be used; ``reason`` is one of the names above."""

    def __init__(self, reason: str, path: str | os.PathLike, detail: str = "") -> None:
        self.reason = reason
        self.path = str(path)
        super().__init__(f"{reason}: {path}" + (f" ({detail})" if detail else ""))


class SourceError(ValueError):
    """The source as a whole is unusable (missing, empty, unreadable annotations): stop the run."""


def jpeg_is_complete(data: bytes) -> bool:
    """A JPEG ends with the EOI marker FF D9 (trailing zero or whitespace padding allowed).

    libjpeg decodes a truncated file with a warning and grey rows, so decoding alone does not
    reveal truncation; the missing end marker does.
    """
    return data.rstrip(b"\x00 \r\n\t").endswith(b"\xff\xd9")


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as H×W (grey), H×W×3 (RGB) or H×W×4 (RGBA), uint8 or uint16.

    Raises :class:`BadImage` with reason ``missing``, ``empty``, ``truncated`` or ``corrupt``.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadImage(MISSING, path) from None
    except OSError as error:
        raise BadImage(CORRUPT, path, error.strerror or str(error)) from None
    if path.suffix.lower() in JPEG_EXTENSIONS and data and not jpeg_is_complete(data):
        raise BadImage(TRUNCATED, path, "no JPEG end marker")
    return decode_image(data, path)


def decode_image(data: bytes, name: str | os.PathLike) -> np.ndarray:
    """Decode encoded image bytes as :func:`read_image` does; ``name`` is used in the error."""
    if not data:
        raise BadImage(EMPTY, name)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise BadImage(CORRUPT, name, "not a decodable image")
    if image.dtype not in (np.uint8, np.uint16):
        raise BadImage(CORRUPT, name, f"unsupported pixel type {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 2:
        return image
    raise BadImage(CORRUPT, name, f"unsupported shape {image.shape}")


def encode_png(image: np.ndarray, compression: int | None = None) -> bytes:
    """PNG bytes of an RGB or grey, uint8 or uint16 image (deterministic for the same pixels).

    ``compression`` 0–9 is zlib's level; ``None`` is OpenCV's own default, the fastest to write
    (about 3× faster than level 3 for 640×480 photos, for files a few percent larger).
    """
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    if compression is not None and not 0 <= compression <= 9:
        raise ValueError(f"PNG compression must be 0..9, got {compression}")
    ok, encoded = cv2.imencode(".png", image, [] if compression is None else [cv2.IMWRITE_PNG_COMPRESSION, compression])
    if not ok:
        raise OSError("OpenCV could not encode the PNG")
    return encoded.tobytes()
