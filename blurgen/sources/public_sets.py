"""The public deblurring benchmarks' test sets, in the layouts their authors publish.

* RealBlur-J and RealBlur-R (Rim et al., ECCV 2020): a root holding ``RealBlur_J_test_list.txt``
  or ``RealBlur_R_test_list.txt``, whose lines are ``<gt path> <blur path>`` relative to the root
  (``RealBlur-J_ECC_IMCORR_centroid_itensity_ref/scene230/gt/gt_1.png ...``); 980 test pairs each.
* RSBlur (Rim et al., ECCV 2022): a root holding ``RSBlur_real_test.txt`` (lines
  ``RSBlur/<scene>/<frame>/gt/gt_sharp.png RSBlur/<scene>/<frame>/real_blur/real_blur.png``).
* HIDE (Shen et al., ICCV 2019): ``HIDE_dataset/`` with the sharp images in ``GT/`` and the
  blurred test images, of the same names, in ``test/`` (``test-close-ups/``, ``test-long-shot/``).
* Levin et al. (CVPR 2009), 4 sharp images × 8 measured camera-shake kernels, in either of the
  forms it circulates in: the authors' ``.mat`` files (``im05_flit01.mat`` … ``im08_flit08.mat``,
  or ``im01_ker01.mat``; variables ``x`` sharp, ``y`` blurred, ``f`` the kernel, grey in [0, 1]),
  or PNGs ``im<i>_kernel<k>_img.png`` beside ``gt/im<i>.png`` (and ``gt/kernel<k>.png``).
* GoPro (Nah et al., CVPR 2017): read by :mod:`blurgen.sources.paired` (its ``test/`` split).

A list file can also be given directly. Each benchmark has a default scoring protocol:
``realblur`` for RealBlur and RSBlur, whose authors align the result to the ground truth before
scoring (their captures are not pixel-aligned), ``levin`` for Levin's captures (the best shift
within 5 px), ``plain`` for the others (``datasets/*.md``).
"""

from __future__ import annotations

import re
from pathlib import Path

from blurgen.sources.images import IMAGE_EXTENSIONS, SourceError

LIST_FILES = {"RealBlur_J_test_list.txt": "RealBlur-J", "RealBlur_R_test_list.txt": "RealBlur-R", "RSBlur_real_test.txt": "RSBlur"}
ALIGNED_BENCHMARKS = ("RealBlur-J", "RealBlur-R", "RSBlur")  # scored after alignment, as their authors do


LEVIN_MAT = re.compile(r"im0?(\d+)_(?:flit|ker)0?(\d+)\.mat$", re.IGNORECASE)
LEVIN_PNG = re.compile(r"im(\d+)_kernel(\d+)_img\.png$", re.IGNORECASE)


def default_protocol(benchmark: str | None) -> str:
    if benchmark == "Levin":
        return "levin"
    return "realblur" if benchmark in ALIGNED_BENCHMARKS else "plain"


def find_list_file(root: Path) -> Path | None:
    """The one benchmark list file in ``root`` (or None); two of them are a :class:`SourceError`."""
    found = [root / name for name in LIST_FILES if (root / name).is_file()]
    if len(found) > 1:
        raise SourceError(f"{root} holds {' and '.join(p.name for p in found)}: give one of them as the path, e.g. {found[0]}")
    return found[0] if found else None


def list_items(list_file: Path) -> list[tuple[str, Path, Path]]:
    """(id, blurred, sharp) from a list of ``<sharp> <blurred>`` lines relative to its folder;
    a listed file that is not there is a :class:`SourceError` naming it and its line."""
    try:
        lines = list_file.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(f"cannot read {list_file}: {error}") from None
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise SourceError(f"{list_file} line {number}: expected '<sharp path> <blurred path>', got {line.strip()!r}")
        sharp, blurred = (list_file.parent / part for part in parts)
        for path in (blurred, sharp):
            if not path.is_file():
                raise SourceError(f"{list_file} line {number}: {path} does not exist (its partner is {sharp if path is blurred else blurred})")
        items.append((parts[1], blurred, sharp))
    if not items:
        raise SourceError(f"{list_file} lists no pairs")
    return items


def is_hide(root: Path) -> bool:
    return (root / "GT").is_dir() and (root / "test").is_dir()


def hide_items(root: Path) -> list[tuple[str, Path, Path]]:
    """(id, blurred, sharp): every image under ``test/`` with its partner of the same name in ``GT/``."""
    blurred = sorted(p for p in (root / "test").rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not blurred:
        raise SourceError(f"{root}/test/ holds no images")
    items = []
    for path in blurred:
        sharp = root / "GT" / path.name
        if not sharp.is_file():
            raise SourceError(f"{path} has no partner of the same name in {root}/GT/")
        items.append((path.relative_to(root / "test").as_posix(), path, sharp))
    return items


def levin_items(root: Path) -> list[tuple[str, Path, Path]] | None:
    """(id, blurred, sharp) of Levin et al.'s benchmark under ``root``, or None if it is not there.
    In the ``.mat`` form both paths are the ``.mat`` file (:func:`read_levin_mat` reads it); ids are
    ``im<i>_kernel<k>``."""
    mats = sorted(p for p in root.glob("*.mat") if LEVIN_MAT.match(p.name))
    if mats:
        return [(levin_id(LEVIN_MAT.match(p.name)), p, p) for p in mats]
    pngs = sorted(p for p in root.glob("*.png") if LEVIN_PNG.match(p.name))
    if not pngs or not (root / "gt").is_dir():
        return None
    items = []
    for path in pngs:
        found = LEVIN_PNG.match(path.name)
        sharp = root / "gt" / f"im{int(found.group(1))}.png"
        if not sharp.is_file():
            raise SourceError(f"{path} has no sharp image {sharp}")
        items.append((levin_id(found), path, sharp))
    return items


def levin_id(found: re.Match) -> str:
    return f"im{int(found.group(1))}_kernel{int(found.group(2))}"


def read_levin_mat(path: Path) -> tuple:
    """A Levin ``.mat`` file's (blurred, sharp, kernel): two uint8 H×W grey images and the kernel
    (float64, sums to 1) in the orientation :func:`blurgen.blur` convolves with."""
    import numpy as np
    from scipy.io import loadmat

    try:
        data = loadmat(path)
        blurred, sharp, kernel = (np.asarray(data[name], dtype=np.float64) for name in ("y", "x", "f"))
    except (OSError, ValueError, KeyError, NotImplementedError) as error:
        raise SourceError(f"{path} is not one of Levin's .mat files (variables x, y, f): {error}") from None
    scale = 255.0 if max(blurred.max(), sharp.max()) <= 1.0 + 1e-6 else 1.0  # stored in [0, 1] or in levels
    kernel = np.rot90(kernel, 2)  # the file's f is correlated with the image; convolution takes it turned
    return levels(blurred * scale), levels(sharp * scale), kernel / kernel.sum()


def levels(image):
    """float image in [0, 255] → uint8, rounded."""
    import numpy as np

    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
