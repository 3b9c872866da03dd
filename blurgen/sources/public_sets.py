"""The public deblurring benchmarks' test sets, in the layouts their authors publish.

* RealBlur-J and RealBlur-R (Rim et al., ECCV 2020): a root holding ``RealBlur_J_test_list.txt``
  or ``RealBlur_R_test_list.txt``, whose lines are ``<gt path> <blur path>`` relative to the root
  (``RealBlur-J_ECC_IMCORR_centroid_itensity_ref/scene230/gt/gt_1.png ...``); 980 test pairs each.
* RSBlur (Rim et al., ECCV 2022): a root holding ``RSBlur_real_test.txt`` (lines
  ``RSBlur/<scene>/<frame>/gt/gt_sharp.png RSBlur/<scene>/<frame>/real_blur/real_blur.png``).
* HIDE (Shen et al., ICCV 2019): ``HIDE_dataset/`` with the sharp images in ``GT/`` and the
  blurred test images, of the same names, in ``test/`` (``test-close-ups/``, ``test-long-shot/``).
* GoPro (Nah et al., CVPR 2017): read by :mod:`blurgen.sources.paired` (its ``test/`` split).

A list file can also be given directly. Each benchmark has a default scoring protocol:
``realblur`` for RealBlur and RSBlur, whose authors align the result to the ground truth before
scoring (their captures are not pixel-aligned), ``plain`` for the others (``datasets/*.md``).
"""

from __future__ import annotations

from pathlib import Path

from blurgen.sources.images import IMAGE_EXTENSIONS, SourceError

LIST_FILES = {"RealBlur_J_test_list.txt": "RealBlur-J", "RealBlur_R_test_list.txt": "RealBlur-R", "RSBlur_real_test.txt": "RSBlur"}
ALIGNED_BENCHMARKS = ("RealBlur-J", "RealBlur-R", "RSBlur")  # scored after alignment, as their authors do


def default_protocol(benchmark: str | None) -> str:
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
