"""Reading image files for sources: RGB(A) arrays in, one clear reason out for every bad file."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from blurgen.settings import SettingError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
EXIF_ORIENTATION = 0x0112
JPEG_EXTENSIONS = (".jpg", ".jpeg")

# Why an image was skipped; the writer counts these by name.
EMPTY = "empty"
TRUNCATED = "truncated"
CORRUPT = "corrupt"
MISSING = "missing"
TOO_SMALL = "too_small"
NOT_AN_IMAGE = "not_an_image"
ANIMATED = "animated"  # a GIF of several frames: which one is the sharp image is not ours to guess


def counted(reasons: dict[str, int]) -> str:
    """``{"corrupt": 1, "size_mismatch": 2}`` → ``2 size_mismatch, 1 corrupt``: counts by reason, most first."""
    return ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))) or "none"


class BadImage(Exception):
    """A source image that cannot be used; ``reason`` is one of the names above."""

    def __init__(self, reason: str, path: str | os.PathLike, detail: str = "") -> None:
        self.reason = reason
        self.path = str(path)
        super().__init__(f"{reason}: {path}" + (f" ({detail})" if detail else ""))


def json_safe_name(name: str) -> tuple[str, str | None]:
    """A file name as text any JSON reader accepts, and the hex of its bytes when it is not UTF-8.

    Python holds undecodable bytes of a file name as lone surrogates, which JSON writes as escapes
    that strict readers refuse. Such a name is written with U+FFFD in their place, and its original
    bytes (``bytes.fromhex``) beside it; a UTF-8 name comes back as it is, with None.
    """
    try:
        name.encode("utf-8")
        return name, None
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogateescape")
        return raw.decode("utf-8", "replace"), raw.hex()


def walk_once(root: Path, repeated: list[str], prune: Callable[[Path], bool] = lambda folder: False,
              ) -> Iterator[tuple[Path, list[str], list[str]]]:
    """``os.walk`` of ``root`` following links to folders, each real folder and file visited once.

    Yields (folder, child folder names, file names), both sorted; a caller may remove child names
    to skip them. A folder or file reached again by another path (a link into a folder already
    walked, a loop such as ``photos/loop -> ..``, or two links to one file) is not yielded again;
    its path relative to ``root`` is appended to ``repeated``. ``prune(folder)`` true: the child
    folder is not entered (and not counted as repeated).
    """
    seen_folders = {os.path.realpath(root)}
    seen_files: set[str] = set()
    for folder, children, files in os.walk(root, followlinks=True):
        here = Path(folder)
        for child in list(children):
            path = here / child
            real = os.path.realpath(path)
            if prune(path):
                children.remove(child)
            elif real in seen_folders:
                children.remove(child)
                repeated.append(path.relative_to(root).as_posix())
            else:
                seen_folders.add(real)
        children.sort()
        unique = []
        for name in sorted(files):
            real = os.path.realpath(here / name)
            if real in seen_files:
                repeated.append((here / name).relative_to(root).as_posix())
            else:
                seen_files.add(real)
                unique.append(name)
        yield here, children, unique


class SourceError(ValueError):
    """The source as a whole is unusable (missing, empty, unreadable annotations): stop the run."""


class MissingSource(SettingError, SourceError):
    """``src`` names nothing: a :class:`SourceError` that names the setting as the caller calls it
    (``src`` in Python, ``--src`` on a command line: :meth:`~blurgen.settings.SettingError.for_cli`)."""


def jpeg_is_complete(data: bytes) -> bool:
    """A JPEG ends with the EOI marker FF D9 (trailing zero or whitespace padding allowed).

    libjpeg decodes a truncated file with a warning and grey rows, so decoding alone does not
    reveal truncation; the missing end marker does.
    """
    return data.rstrip(b"\x00 \r\n\t").endswith(b"\xff\xd9")


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as H×W (grey), H×W×3 (RGB) or H×W×4 (RGBA), uint8 or uint16, upright:
    an EXIF orientation (a phone photo stored sideways) is applied, as every viewer shows it.

    Raises :class:`BadImage` with reason ``missing``, ``empty``, ``truncated`` or ``corrupt``.
    """
    return read_oriented(path)[0]


def read_oriented(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """:func:`read_image` and the EXIF orientation (1–8; 1: none) it applied."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadImage(MISSING, path) from None
    except OSError as error:
        raise BadImage(CORRUPT, path, error.strerror or str(error)) from None
    image = decode_image(data, path, orient=False)
    orientation = exif_orientation(data)
    return upright(image, orientation), orientation


def decode_image(data: bytes, name: str | os.PathLike, orient: bool = True) -> np.ndarray:
    """Decode encoded image bytes as :func:`read_image` does (``orient``: apply the EXIF
    orientation); ``name`` is used in the error."""
    if not data:
        raise BadImage(EMPTY, name)
    check_container(data, name)
    if data[:4] == b"GIF8":
        frames = gif_frames(data)
        if frames > 1:
            raise BadImage(ANIMATED, name, f"{frames} frames; save the frame you want as a still image")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise BadImage(CORRUPT, name, "not a decodable image")
    if image.dtype not in (np.uint8, np.uint16):
        raise BadImage(CORRUPT, name, f"unsupported pixel type {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    elif image.ndim != 2:
        raise BadImage(CORRUPT, name, f"unsupported shape {image.shape}")
    return upright(image, exif_orientation(data)) if orient else image


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_START = b"\xff\xd8\xff"


def check_container(data: bytes, name: str | os.PathLike) -> None:
    """Refuse, with the right reason, the PNG and JPEG files whose damage a decoder would only
    half report: a truncated JPEG decodes with grey rows and a warning, a PNG with a bad chunk
    makes libpng print to the console. Checked here on the bytes, so the run says it in its own
    skip lines: a file named .jpg that is not a JPEG is ``corrupt``, a JPEG without its end
    marker or a PNG without its end chunk ``truncated``, a PNG chunk whose checksum fails ``corrupt``."""
    suffix = Path(str(name)).suffix.lower()
    if data.startswith(PNG_SIGNATURE):
        png_problem(data, name)
    elif suffix in JPEG_EXTENSIONS:
        if not data.startswith(JPEG_START):
            raise BadImage(CORRUPT, name, "not a JPEG: it does not start as one")
        if not jpeg_is_complete(data):
            raise BadImage(TRUNCATED, name, "no JPEG end marker")


def png_problem(data: bytes, name: str | os.PathLike) -> None:
    """Walk a PNG's chunks: a :class:`BadImage` for one cut short or failing its CRC."""
    import struct
    import zlib

    at = len(PNG_SIGNATURE)
    while True:
        if at + 8 > len(data):
            raise BadImage(TRUNCATED, name, "the PNG ends before its IEND chunk")
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        end = at + 8 + length + 4
        if end > len(data):
            raise BadImage(TRUNCATED, name, f"the PNG ends inside its {kind.decode('latin-1')} chunk")
        if zlib.crc32(data[at + 4:end - 4]) != struct.unpack(">I", data[end - 4:end])[0]:
            raise BadImage(CORRUPT, name, f"the CRC of its {kind.decode('latin-1')} chunk fails")
        if kind == b"IEND":
            return
        at = end


def gif_frames(data: bytes) -> int:
    """The number of frames of GIF bytes (Pillow reads them; 1 for a file it cannot parse)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as opened:
            return int(getattr(opened, "n_frames", 1))
    except Exception:  # not a GIF Pillow can walk: OpenCV's decoder has the last word
        return 1


def exif_orientation(data: bytes) -> int:
    """The EXIF orientation tag (1–8) of encoded image bytes; 1 (as stored) when there is none.

    OpenCV reading a file unchanged ignores the tag, so Pillow reads it (the header only)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as opened:
            orientation = int(opened.getexif().get(EXIF_ORIENTATION, 1))
    except Exception:  # no EXIF, or none Pillow can parse: the pixels are taken as stored
        return 1
    return orientation if 1 <= orientation <= 8 else 1


def upright(image: np.ndarray, orientation: int) -> np.ndarray:
    """An image stored with EXIF ``orientation`` (1–8) as it is meant to be seen."""
    turned = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],                        # mirrored left-right
        3: lambda a: a[::-1, ::-1],                     # upside down
        4: lambda a: a[::-1],                           # mirrored top-bottom
        5: lambda a: a.swapaxes(0, 1),                  # transposed
        6: lambda a: np.rot90(a, -1),                   # stored turned left: turn right
        7: lambda a: a[::-1, ::-1].swapaxes(0, 1),      # transversed
        8: lambda a: np.rot90(a, 1),                    # stored turned right: turn left
    }[orientation](image)
    return np.ascontiguousarray(turned)


def encode_png(image: np.ndarray, compression: int | None = None) -> bytes:
    """PNG bytes of an RGB, RGBA or grey, uint8 or uint16 image (deterministic for the same pixels).

    ``compression`` 0–9 is zlib's level; ``None`` is OpenCV's own default, the fastest to write
    (about 3× faster than level 3 for 640×480 photos, for files a few percent larger).
    """
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    if compression is not None and not 0 <= compression <= 9:
        raise ValueError(f"PNG compression must be 0..9, got {compression}")
    ok, encoded = cv2.imencode(".png", image, [] if compression is None else [cv2.IMWRITE_PNG_COMPRESSION, compression])
    if not ok:
        raise OSError("OpenCV could not encode the PNG")
    return encoded.tobytes()


def to_rgb(image: np.ndarray) -> np.ndarray:
    """H×W×3 in the image's own dtype from any supported source image: grey repeated; RGBA
    composited over white (what shows through where the image is transparent), so the colour a
    transparent pixel happens to hold never becomes pair content."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ValueError(f"a source image must be H×W or H×W×C with 1, 3 or 4 channels, got shape {image.shape}")
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    if image.shape[2] == 4:
        return over_white(image)
    return np.ascontiguousarray(image)


def over_white(image: np.ndarray) -> np.ndarray:
    """RGBA (uint8, uint16 or float in [0, 1]) composited over white: RGB in the same dtype."""
    top = float(np.iinfo(image.dtype).max) if np.issubdtype(image.dtype, np.integer) else 1.0
    alpha = image[:, :, 3:4].astype(np.float32) / np.float32(top)
    rgb = image[:, :, :3].astype(np.float32) * alpha + np.float32(top) * (1 - alpha)
    return np.rint(rgb).astype(image.dtype) if np.issubdtype(image.dtype, np.integer) else rgb.astype(image.dtype)


def is_transparent(image: np.ndarray) -> bool:
    """Whether a source image has an alpha channel (it is composited over white)."""
    return np.ndim(image) == 3 and np.shape(image)[2] == 4
