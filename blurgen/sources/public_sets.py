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
* Köhler et al. (ECCV 2012), 4 scenes × 12 recorded camera shakes played back by a robot: the
  blurred images ``Blurry<i>_<k>.png`` and, for each, the sharp frames recorded along the
  shake's path, as PNGs ``GroundTruth<i>_<k>_<frame>.png`` or the authors' ``GroundTruth<i>_<k>.mat``
  (variable ``GroundTruth``, H×W×3×frames, uint8); blurred images and ground truth in the root or
  in subfolders of it (``BlurryImages/``, ``GroundTruth/``, ``groundTruthMatFiles/``).
* GoPro (Nah et al., CVPR 2017): read by :mod:`blurgen.sources.paired` (its ``test/`` split).

A list file can also be given directly. Each benchmark has a default scoring protocol:
``realblur`` for RealBlur and RSBlur, whose authors align the result to the ground truth before
scoring (their captures are not pixel-aligned), ``levin`` for Levin's captures (the best shift
within 5 px), ``kohler`` for Köhler's (the best of the recorded sharp frames, each after an
intensity fit and a registration), ``plain`` for the others (``datasets/*.md``).
"""

from __future__ import annotations

import re
from pathlib import Path

from blurgen.sources.images import IMAGE_EXTENSIONS, SourceError, read_image

LIST_FILES = {"RealBlur_J_test_list.txt": "RealBlur-J", "RealBlur_R_test_list.txt": "RealBlur-R", "RSBlur_real_test.txt": "RSBlur"}
ALIGNED_BENCHMARKS = ("RealBlur-J", "RealBlur-R", "RSBlur")  # scored after alignment, as their authors do


LEVIN_MAT = re.compile(r"im0?(\d+)_(?:flit|ker)0?(\d+)\.mat$", re.IGNORECASE)
LEVIN_PNG = re.compile(r"im(\d+)_kernel(\d+)_img\.png$", re.IGNORECASE)
KOHLER_BLURRY = re.compile(r"Blurry(\d+)_(\d+)\.png$", re.IGNORECASE)
KOHLER_FRAME = re.compile(r"GroundTruth(\d+)_(\d+)_(\d+)\.png$", re.IGNORECASE)
KOHLER_MAT = re.compile(r"GroundTruth(\d+)_(\d+)\.mat$", re.IGNORECASE)


def default_protocol(benchmark: str | None) -> str:
    if benchmark == "Levin":
        return "levin"
    if benchmark == "Kohler":
        return "kohler"
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


def kohler_items(root: Path) -> list[tuple[str, Path, tuple[Path, ...]]] | None:
    """(id, blurred, ground truth) of Köhler et al.'s benchmark under ``root`` (or None if no
    ``Blurry<i>_<k>.png`` is there): the ground truth is the scene's recorded sharp frames in frame
    order, or its one ``.mat`` file. Ids are ``Blurry<i>_<k>``. A blurred image without ground
    truth is a :class:`SourceError` naming it."""
    folders = [root, *sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))]
    blurry = sorted((p for folder in folders for p in folder.glob("*.png") if KOHLER_BLURRY.match(p.name)),
                    key=lambda p: tuple(int(n) for n in KOHLER_BLURRY.match(p.name).groups()))
    if not blurry:
        return None
    frames: dict[tuple[int, int], list[tuple[int, Path]]] = {}
    mats: dict[tuple[int, int], Path] = {}
    for folder in folders:
        for path in folder.iterdir():
            if (found := KOHLER_FRAME.match(path.name)) is not None:
                scene, shake, frame = (int(n) for n in found.groups())
                frames.setdefault((scene, shake), []).append((frame, path))
            elif (found := KOHLER_MAT.match(path.name)) is not None:
                mats[tuple(int(n) for n in found.groups())] = path
    items = []
    for path in blurry:
        key = tuple(int(n) for n in KOHLER_BLURRY.match(path.name).groups())
        if key in frames:
            truth = tuple(p for _, p in sorted(frames[key]))
        elif key in mats:
            truth = (mats[key],)
        else:
            raise SourceError(f"{path} has no ground truth: neither GroundTruth{key[0]}_{key[1]}_<frame>.png nor "
                              f"GroundTruth{key[0]}_{key[1]}.mat in {root} or a folder in it")
        items.append((path.stem, path, truth))
    return items


def read_kohler_frames(truth: tuple[Path, ...]) -> "np.ndarray":
    """The recorded sharp frames of one Köhler image: uint8 N×H×W×3, from its PNG frames or its
    ``.mat`` file (MATLAB v7 or older: SciPy cannot read v7.3/HDF5 files; save their frames as PNGs)."""
    import numpy as np

    if truth[0].suffix.lower() == ".mat":
        from scipy.io import loadmat

        try:
            stack = np.asarray(loadmat(truth[0])["GroundTruth"])
        except NotImplementedError:
            raise SourceError(f"{truth[0]} is a MATLAB v7.3 (HDF5) file, which SciPy does not read: save its frames as "
                              f"PNGs named {truth[0].stem}_<frame>.png beside it") from None
        except (OSError, ValueError, KeyError) as error:
            raise SourceError(f"{truth[0]} is not one of Köhler's ground-truth files (variable GroundTruth): {error}") from None
        if stack.ndim != 4 or stack.shape[2] != 3:
            raise SourceError(f"{truth[0]}: GroundTruth must be H×W×3×frames, got {stack.shape}")
        return levels(np.moveaxis(stack, 3, 0).astype(np.float64) * (255.0 if stack.max() <= 1.0 else 1.0))
    images = []
    for path in truth:
        image = read_image(path)
        if image.dtype != np.uint8:
            image = levels(image / 257.0)
        images.append(np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image[:, :, :3])
    if len({image.shape for image in images}) > 1:
        raise SourceError(f"the ground-truth frames of {truth[0].name} differ in size")
    return np.stack(images)


def levels(image):
    """float image in [0, 255] → uint8, rounded."""
    import numpy as np

    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
