"""Kernel banks: many kernels with per-kernel metadata, sampled in parallel, saved as one ``.npz``.

A bank holds ``N = trajectories × exposure fractions`` kernels in trajectory-major order (the F
fractions of trajectory 0, then of trajectory 1, ...). Kernel ``i`` is fully described by its
metadata row: (seed, index) locate its random stream and the drawn parameters rebuild its path,
so :meth:`KernelBank.regenerate` reproduces it bit for bit without the rest of the bank.

Rows of Markov trajectories have ``family`` "markov" in a bank of one Markov preset, and the
preset's name in a mixture; rows of the other families (:mod:`blurgen.kernels.families`) name theirs and
keep their drawn length in ``max_len``, their angle in ``phi`` and their ``shape`` (the arc's
signed turn in radians, the walk's cycles, the still kernel's σ or the disk's radius, in px).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numba
import numpy as np

from blurgen.kernels.families import FAMILY_SPECS, PATH_FAMILIES, PATH_POINTS, Mixture, disk_kernel, family_path, kernel_draws, still_kernel
from blurgen.kernels.raster import (
    EXPOSURES_ALL,
    STAT_FIELDS,
    check_size,
    exposure_counts,
    kernels_from_path,
    sample_kernel_sets,
    sample_kernel_sets_serial,
)
from blurgen.kernels.presets import DEFAULT_PRESET, KernelSpec, kernel_spec, preset_name
from blurgen.rng import check_seed
from blurgen.kernels.trajectory import TrajectoryParams, TrajectorySpec, spec_arrays, trajectory_from_params
from blurgen.files import write_atomic
from blurgen.settings import check_options, option

BANK_FORMAT = "blurgen.kernel-bank"
BANK_VERSION = 2  # 2 added the family and shape columns; version 1 banks still load (all Markov)
DEFAULT_SIZE = 65  # DeblurGAN's 64-px canvas plus one, so the centre is a pixel
CHUNK = 512  # trajectories per parallel call: how often progress is reported

META_DTYPE = np.dtype([
    ("index", "<i8"),             # trajectory index within the seed's stream
    ("seed", "<u8"),
    ("exposure", "<f8"),          # exposure fraction T in (0, 1]
    ("expl", "<f8"),
    ("centripetal", "<f8"),
    ("prob_big_shake", "<f8"),
    ("gaussian_shake", "<f8"),
    ("phi", "<f8"),               # initial direction, radians
    ("max_len", "<f8"),           # path length of the whole exposure, px
    ("iters", "<i8"),
    ("n_big_shakes", "<i8"),      # impulsive direction changes over the whole exposure
    ("path_length", "<f8"),       # of this fraction, px, after scaling
    ("footprint", "<f8"),         # largest side of the bounding box, px, after scaling
    ("radius_of_gyration", "<f8"),
    ("scale", "<f8"),             # 1, or the shrink factor that made the path fit the kernel
    ("rescaled", "?"),
    ("family", "<U16"),           # markov, a mixture member's preset name, or line, arc, walk, still, disk
    ("shape", "<f8"),             # the family's shape draw (see the module docstring); 0 for Markov rows
])
NEW_COLUMNS = ("family", "shape")  # left out of Markov rows' records, which stay as before families existed


class KernelEntry(NamedTuple):
    """One kernel of a bank: ``kernel`` float32 (K, K) summing to 1, and its metadata row."""

    kernel: np.ndarray
    meta: dict


class BankFormatError(ValueError):
    """The file is not a readable kernel bank."""


@dataclass(frozen=True)
class KernelBank:
    """Kernels (float32, N×K×K, each ≥ 0 and summing to 1) with metadata (``META_DTYPE``, N).

    ``info`` holds run-level facts: seed, size, preset, the trajectory spec and the exposures.
    """

    kernels: np.ndarray
    meta: np.ndarray
    info: dict

    def __post_init__(self) -> None:
        if self.kernels.dtype != np.float32 or self.kernels.ndim != 3 or self.kernels.shape[1] != self.kernels.shape[2]:
            raise BankFormatError(f"kernels must be float32 N×K×K, got {self.kernels.dtype} {self.kernels.shape}")
        if self.meta.dtype != META_DTYPE or self.meta.shape != (self.kernels.shape[0],):
            raise BankFormatError("meta must be one META_DTYPE row per kernel")

    @property
    def size(self) -> int:
        """Kernel side K in pixels."""
        return int(self.kernels.shape[1])

    def __len__(self) -> int:
        return int(self.kernels.shape[0])

    def __iter__(self) -> Iterator[KernelEntry]:
        return (self[i] for i in range(len(self)))

    def __getitem__(self, item: int | slice | Sequence[int] | np.ndarray) -> KernelEntry | KernelBank:
        """An int gives a :class:`KernelEntry`; a slice, index array or mask gives a smaller bank."""
        if isinstance(item, (int, np.integer)):
            row = self.meta[item]
            names = META_DTYPE.names if row["family"] != "markov" else [n for n in META_DTYPE.names if n not in NEW_COLUMNS]
            return KernelEntry(self.kernels[item], {name: row[name].item() for name in names})
        return KernelBank(self.kernels[item], self.meta[item], self.info)

    def regenerate(self, i: int) -> np.ndarray:
        """Recompute kernel ``i`` from its metadata alone: float32 (K, K), equal to ``kernels[i]``.
        Kernels given from elsewhere (:meth:`from_kernels`) have no recipe: a ``ValueError``."""
        if str(self.meta[i]["family"]) in self.info.get("given", ()):
            raise ValueError(f"kernel {i} was given ({self.meta[i]['family']}), not sampled: it has no recipe to rebuild it from")
        return kernel_from_meta(self.meta[i], self.size)

    @classmethod
    def from_kernels(cls, kernels: np.ndarray, *, name: str, seed: int = 0, spec: dict | None = None) -> KernelBank:
        """A bank of kernels made elsewhere (recorded PSFs, another library's generator).

        Args:
            kernels: N×K×K, K odd, each non-negative with a positive sum; normalised to sum 1
                here (a PSF conserves light). The centre pixel is the anchor, as for every bank.
            name: what made them, recorded as each row's ``family`` (at most 16 characters) and
                the bank's ``preset``.
            seed: the seed they were made with, if any (recorded only).
            spec: how they were made, recorded in ``info["spec"]``.

        Each row records the kernel's own geometry (``footprint``: the largest side of the box
        holding the pixels of at least 1% of its peak; ``radius_of_gyration`` about its centroid);
        the trajectory columns are 0. Raises ``ValueError`` for kernels that are not PSFs.
        """
        kernels = np.asarray(kernels, dtype=np.float64)
        if kernels.ndim != 3 or kernels.shape[1] != kernels.shape[2] or kernels.shape[1] % 2 == 0 or not len(kernels):
            raise ValueError(f"kernels must be N×K×K with K odd, got shape {kernels.shape}")
        if len(name) > 16:
            raise ValueError(f"name must be at most 16 characters, got {name!r}")
        totals = kernels.sum(axis=(1, 2))
        if not np.isfinite(kernels).all() or (kernels < -1e-6 * totals[:, None, None]).any() or (totals <= 0).any():
            raise ValueError("every kernel must be finite and non-negative with a positive sum")
        kernels = np.clip(kernels, 0.0, None) / totals[:, None, None]
        size = kernels.shape[1]
        meta = np.zeros(len(kernels), dtype=META_DTYPE)
        meta["index"], meta["seed"], meta["exposure"], meta["scale"], meta["family"] = np.arange(len(kernels)), seed, 1.0, 1.0, name
        ys, xs = np.mgrid[0:size, 0:size]
        for row, kernel in zip(meta, kernels):
            strong_y, strong_x = np.nonzero(kernel >= 0.01 * kernel.max())
            row["footprint"] = max(np.ptp(strong_y), np.ptp(strong_x)) + 1
            centre_y, centre_x = (kernel * ys).sum(), (kernel * xs).sum()
            row["radius_of_gyration"] = np.sqrt((kernel * ((ys - centre_y) ** 2 + (xs - centre_x) ** 2)).sum())
        info = {"format": BANK_FORMAT, "version": BANK_VERSION, "seed": int(seed), "size": size, "preset": name,
                "spec": spec or {"given": name}, "exposures": [1.0], "given": [name]}
        return cls(kernels.astype(np.float32), meta, info)

    def stats(self) -> dict:
        """Count, size, rescaled count and percentiles (5, 25, 50, 75, 95, max) of the geometry."""
        percentiles = (5, 25, 50, 75, 95, 100)

        def summary(values: np.ndarray) -> dict:
            if values.size == 0:
                return {}
            return {f"p{p}" if p < 100 else "max": round(float(v), 3) for p, v in zip(percentiles, np.percentile(values, percentiles))}

        return {
            "count": len(self),
            "trajectories": int(np.unique(self.meta["index"]).size),
            "size": self.size,
            "exposures": sorted({float(e) for e in self.meta["exposure"]}),
            "rescaled": int(self.meta["rescaled"].sum()),
            "footprint_px": summary(self.meta["footprint"]),
            "path_length_px": summary(self.meta["path_length"]),
            "radius_of_gyration_px": summary(self.meta["radius_of_gyration"]),
            "big_shakes_mean": round(float(self.meta["n_big_shakes"].mean()), 4) if len(self) else 0.0,
            **({"families": {str(name): int(count) for name, count in zip(*np.unique(self.meta["family"], return_counts=True))}}
               if np.any(self.meta["family"] != "markov") else {}),
        }

    def to_bytes(self) -> bytes:
        """The bank as the bytes of its ``.npz`` file (compressed, no pickles)."""
        buffer = io.BytesIO()
        np.savez_compressed(buffer, kernels=self.kernels, meta=self.meta, info=np.array(json.dumps(self.info)))
        return buffer.getvalue()

    def save(self, path: str | os.PathLike) -> Path:
        """Write the bank to ``path`` (an ``.npz``) atomically: a reader never sees half a file."""
        return write_atomic(Path(path), self.to_bytes())

    @classmethod
    def load(cls, path: str | os.PathLike) -> KernelBank:
        """Read a bank written by :meth:`save`; a file that is not one raises :class:`BankFormatError`.

        ``path`` may also be a folder holding exactly one ``.npz`` (what ``blurgen kernels --out`` makes).
        """
        path = bank_file(Path(path))
        with open(path, "rb") as handle:  # FileNotFoundError passes through as it is
            if handle.read(4) != b"PK\x03\x04":
                raise BankFormatError(f"{path} is not a readable kernel bank (not an .npz archive)")
        try:
            with np.load(path, allow_pickle=False) as archive:
                missing = {"kernels", "meta", "info"} - set(archive.files)
                if missing:
                    raise BankFormatError(f"{path} is not a kernel bank: it lacks {', '.join(sorted(missing))}")
                kernels, meta, info = archive["kernels"], archive["meta"], json.loads(str(archive["info"]))
        except BankFormatError:
            raise
        except Exception as error:  # zip, npy and JSON errors all mean the same thing to a user
            raise BankFormatError(f"{path} is not a readable kernel bank ({type(error).__name__}: {error})") from None
        if not isinstance(info, dict) or info.get("format") != BANK_FORMAT:
            raise BankFormatError(f"{path} is not a kernel bank (format tag missing)")
        if info.get("version") not in (1, BANK_VERSION):
            raise BankFormatError(f"{path} is a kernel bank of version {info.get('version')}; this blurgen reads 1 and {BANK_VERSION}")
        return cls(kernels, upgrade_meta(meta), info)


def upgrade_meta(meta: np.ndarray) -> np.ndarray:
    """Rows of any bank version as ``META_DTYPE``: version 1 rows are Markov rows."""
    if meta.dtype == META_DTYPE:
        return meta
    upgraded = np.zeros(meta.shape, dtype=META_DTYPE)
    for name in meta.dtype.names:
        upgraded[name] = meta[name]
    upgraded["family"] = "markov"
    return upgraded


def bank_file(path: Path) -> Path:
    """``path`` itself, or the one ``.npz`` inside the folder ``path``."""
    if not path.is_dir():
        return path
    found = sorted(path.glob("*.npz"))
    if len(found) != 1:
        what = "no .npz file" if not found else f"{len(found)} .npz files ({', '.join(p.name for p in found[:3])})"
        raise BankFormatError(f"{path} is a folder with {what}; give the bank file itself")
    return found[0]


def kernel_path(row: np.void) -> np.ndarray | None:
    """The whole-exposure path of a bank row's kernel (complex128, px, x = real), or None for the
    families without one (``still``, ``disk``)."""
    family = str(row["family"])
    if family in PATH_FAMILIES:
        return family_path(family, int(row["seed"]), int(row["index"]), float(row["max_len"]), float(row["phi"]), float(row["shape"]))
    if family in FAMILY_SPECS:
        return None
    params = TrajectoryParams(
        float(row["expl"]), float(row["centripetal"]), float(row["prob_big_shake"]),
        float(row["gaussian_shake"]), float(row["phi"]),
    )
    return trajectory_from_params(int(row["seed"]), int(row["index"]), params, max_len=float(row["max_len"]), iters=int(row["iters"])).positions


def kernel_from_meta(row: np.void, size: int) -> np.ndarray:
    """Rebuild one kernel, float32 (size, size), from its ``META_DTYPE`` row."""
    family = str(row["family"])
    if family == "still":
        return still_kernel(float(row["shape"]), size)
    if family == "disk":
        return disk_kernel(float(row["shape"]), size)
    path = kernel_path(row)
    counts = exposure_counts((float(row["exposure"]),), path.size)
    kernels = np.empty((1, size, size), dtype=np.float32)
    kernels_from_path(np.ascontiguousarray(path.real), np.ascontiguousarray(path.imag), counts, kernels, np.empty((1, 4)))
    return kernels[0]


def parse_exposures(exposure: float | str | Sequence[float]) -> tuple[float, ...]:
    """``1`` / ``0.5`` / ``"1/2"`` → one fraction; ``"all"`` → (1/100, 1/10, 1/2, 1); a list → itself."""
    if isinstance(exposure, str):
        text = exposure.strip().lower()
        if text == "all":
            return EXPOSURES_ALL
        try:
            if "/" in text:
                numerator, denominator = text.split("/")
                return (float(numerator) / float(denominator),)
            return tuple(float(part) for part in text.split(","))
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"cannot read exposure {exposure!r}: give a fraction such as 1, 0.5 or 1/2, or 'all'") from None
    if isinstance(exposure, (int, float)):
        return (float(exposure),)
    return tuple(float(e) for e in exposure)


def warm_up_kernels(preset: str = DEFAULT_PRESET, **options: object) -> None:
    """Load numba's machine code for every kernel ``preset`` samples (compiled and cached on a
    first run), by sampling one kernel of each of its members; ``options`` as for
    :func:`sample_kernels`. A mixture's later members would otherwise compile mid-sampling."""
    spec = kernel_spec(preset, **{k: v for k, v in options.items() if k not in SAMPLING_OPTIONS})
    if not isinstance(spec, Mixture):
        sample_kernels(1, preset=preset, **options)
        return
    kept = {k: v for k, v in options.items() if k in SAMPLING_OPTIONS}
    for name in spec.names:
        sample_kernels(1, preset=name, **kept)


SAMPLING_OPTIONS = ("seed", "size", "exposure", "workers")  # sample_kernels' own arguments; the rest change the preset


@dataclass(frozen=True)
class KernelsSettings:
    """``blurgen kernels``' settings: how many kernels, of which preset, and where they go. Out of
    bounds is a :class:`~blurgen.settings.SettingError` here as on the command line."""

    n: int = option(1000, "Number of trajectories (kernel sets) to sample.", minimum=1, flags=("--n",))
    out: str = option("bank", "Output folder: kernels.npz and kernels.png go here.", path=True)
    kernel_size: int = option(65, "Kernel side in px. 65 = DeblurGAN's 64-px canvas + 1, odd so the centre is a pixel. "
                              "(--size: the former name.)", minimum=3, maximum=1025, flags=("--kernel-size", "--size"))
    seed: int = option(0, "Run seed; kernel i depends only on (seed, i).", minimum=0)
    preset: str = option(DEFAULT_PRESET, "Markov shake: deblurgan (default, as DeblurGAN trained), mild, strong, anxious; other "
                         "families: line, arc, walk (smooth random walk), still (near-delta), disk (defocus); mixture (all of "
                         "them, weighted); or a preset .json (saved by 'blurgen view': its size, exposures and seed apply unless "
                         "given here; or a mixture's weights).")
    expl: str | None = option(None, "Anxiety: a value (0.005), a range (0.003:0.01) or a set (0.003,0.01). Overrides the preset.")
    max_len: float | None = option(None, "Path length in px. Overrides the preset (deblurgan: 60).", flags=("--max-len",))
    iters: int | None = option(None, "Positions per trajectory. Overrides the preset (deblurgan: 2000).")
    exposure: str = option("1", "Exposure fraction (1, 0.5, 1/2) or 'all' for 1/100, 1/10, 1/2, 1 per trajectory.")
    workers: int | None = option(None, "Threads (default: all cores; more than the cores are capped to them). The output does not depend on it.", minimum=1)
    png_dir: str | None = option(None, "Also write one 16-bit PNG per kernel here.", path=True, flags=("--png-dir",))
    overwrite: bool = option(False, "Replace a kernel bank already in --out.", flags=("--overwrite",))
    coverage: str | None = option(None, "A folder of measured kernels (.npy or .png, e.g. recovered from real blurred photos): "
                                  "also report how close the sampled kernels come to each (the best normalised "
                                  "cross-correlation over shifts, 1 = held exactly), into coverage.json.", path=True)

    def __post_init__(self) -> None:
        check_options(self)


def sample_kernels(
    n: int | Sequence[int] | np.ndarray,
    *,
    seed: int = 0,
    size: int = DEFAULT_SIZE,
    preset: str = DEFAULT_PRESET,
    exposure: float | str | Sequence[float] = 1.0,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    spec: KernelSpec | None = None,
    **overrides: object,
) -> KernelBank:
    """Sample camera-shake kernels into a :class:`KernelBank`.

    Args:
        n: number of trajectories (indices ``0..n-1``), or the trajectory indices themselves.
        seed: run seed in [0, 2**64); trajectory i depends only on (seed, i).
        size: kernel side K in pixels (odd by default so the centre is a pixel).
        preset: a Markov preset (:data:`blurgen.kernels.presets.PRESETS`), a family (``line``, ``arc``,
            ``walk``, ``still``, ``disk``), a mixture (``mixture``) or a preset ``.json`` file.
        exposure: one fraction in (0, 1], ``"all"`` for 1/100, 1/10, 1/2 and 1, or a list.
        workers: threads (default: all numba threads); the result does not depend on it. With 1,
            no thread pool is touched (safe in forked worker processes).
        progress: called with the number of trajectories finished after each chunk.
        spec: ``preset`` already resolved (:func:`blurgen.kernels.presets.kernel_spec` of it and the
            overrides), for callers that sample one kernel at a time: ``preset`` then only names it
            in the bank's record, and no override may be given.
        **overrides: :class:`~blurgen.kernels.trajectory.TrajectorySpec` fields of a Markov preset, e.g.
            ``expl="0.003:0.01"``, ``max_len=40``, ``iters=1000``.

    Returns:
        A bank of ``len(indices) × len(exposures)`` float32 kernels of shape (size, size).
    """
    seed64 = check_seed(seed)
    check_size(size)
    if spec is None:
        spec = kernel_spec(preset, **overrides)
    elif any(value is not None for value in overrides.values()):
        raise ValueError("give the overrides to kernel_spec, which resolved the spec, not beside it")
    exposures = parse_exposures(exposure)
    exposure_counts(exposures, 2)  # the fractions' bounds, checked before any work
    indices = trajectory_indices(n)
    if isinstance(spec, Mixture):
        members = [(name, kernel_spec(name)) for name in spec.names]
        choice = spec.choose(int(seed64), indices)
    else:
        members = [("markov" if isinstance(spec, TrajectorySpec) else spec.family, spec)]
        choice = np.zeros(indices.size, dtype=np.int64)
    kernels = np.empty((indices.size, len(exposures), size, size), dtype=np.float32)
    meta = np.zeros((indices.size, len(exposures)), dtype=META_DTYPE)
    with numba_threads(workers):
        for number, (name, member) in enumerate(members):
            chosen = np.flatnonzero(choice == number)
            for start in range(0, chosen.size, CHUNK):
                part = chosen[start : start + CHUNK]
                if isinstance(member, TrajectorySpec):
                    kernels[part], meta[part] = markov_rows(seed64, indices[part], member, exposures, size, workers)
                else:
                    kernels[part], meta[part] = family_rows(int(seed64), indices[part], member, exposures, size)
                meta["family"][part] = name
                if progress is not None:
                    progress(part.size)
    meta["index"] = indices[:, None]
    meta["seed"] = seed64
    meta["exposure"] = np.asarray(exposures)[None, :]
    meta["rescaled"] = meta["scale"] < 1.0
    info = {
        "format": BANK_FORMAT,
        "version": BANK_VERSION,
        "seed": int(seed64),
        "size": int(size),
        "preset": preset_name(preset),
        "spec": spec.to_dict(),
        "exposures": list(exposures),
    }
    return KernelBank(kernels.reshape(-1, size, size), meta.reshape(-1), info)


def trajectory_indices(n: object) -> np.ndarray:
    """int64 indices from ``n``: a count (0..n-1) or a sequence of indices >= 0. Anything else (a
    string, a float, a bool) is a ``ValueError``: ``'100'`` must not quietly mean one kernel."""
    if isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_)):
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return np.arange(int(n), dtype=np.int64)
    values = np.asarray(n) if not isinstance(n, (str, bytes, bool, float, np.bool_, np.floating)) else None
    if values is None or values.ndim != 1 or (values.size and values.dtype.kind not in "iu"):
        raise ValueError(f"n must be a whole number of kernels or a list of trajectory indices, got {n!r}")
    if values.size and values.min() < 0:
        raise ValueError("trajectory indices must be >= 0")
    return values.astype(np.int64)


def markov_rows(seed64: np.uint64, indices: np.ndarray, spec: TrajectorySpec, exposures: tuple[float, ...], size: int,
                workers: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Kernels (float32 n×F×K×K) and rows (n×F, the geometry and drawn parameters) of Markov trajectories."""
    counts = exposure_counts(exposures, spec.iters)
    kernels = np.empty((indices.size, len(exposures), size, size), dtype=np.float32)
    stats = np.empty((indices.size, len(exposures), len(STAT_FIELDS)))
    sampler = sample_kernel_sets_serial if workers == 1 else sample_kernel_sets
    sampler(seed64, indices, *spec_arrays(spec), float(spec.max_len), int(spec.iters), counts, kernels, stats)
    rows = np.zeros((indices.size, len(exposures)), dtype=META_DTYPE)
    rows["max_len"] = spec.max_len
    rows["iters"] = spec.iters
    for column, name in enumerate(STAT_FIELDS):
        rows[name] = stats[:, :, column]
    return kernels, rows


def family_rows(seed: int, indices: np.ndarray, spec: object, exposures: tuple[float, ...], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Kernels (float32 n×F×K×K) and rows (n×F) of one family of :mod:`blurgen.kernels.families`, built
    exactly as :func:`kernel_from_meta` rebuilds them from a row."""
    kernels = np.empty((indices.size, len(exposures), size, size), dtype=np.float32)
    rows = np.zeros((indices.size, len(exposures)), dtype=META_DTYPE)
    counts = exposure_counts(exposures, PATH_POINTS)
    for j, index in enumerate(indices):
        draws = kernel_draws(spec, seed, int(index))
        for name, value in draws.items():
            rows[name][j] = value
        if spec.family in PATH_FAMILIES:
            path = family_path(spec.family, seed, int(index), draws["max_len"], draws["phi"], draws["shape"])
            geometry = np.empty((len(exposures), 4))
            kernels_from_path(np.ascontiguousarray(path.real), np.ascontiguousarray(path.imag), counts, kernels[j], geometry)
            rows["iters"][j] = PATH_POINTS
            for column, name in enumerate(("path_length", "footprint", "radius_of_gyration", "scale")):
                rows[name][j] = geometry[:, column]
        else:
            kernel = (still_kernel if spec.family == "still" else disk_kernel)(draws["shape"], size)
            kernels[j] = kernel
            rows["footprint"][j], rows["radius_of_gyration"][j] = spread(kernel)
            rows["scale"][j] = 1.0
    return kernels, rows


def spread(kernel: np.ndarray) -> tuple[float, float]:
    """(footprint, radius of gyration) in px of a kernel without a path: the bounding-box side of
    the pixels holding at least 1/1000 of the peak, and the root mean squared distance from the centre."""
    rows, cols = np.nonzero(kernel >= kernel.max() * 1e-3)
    footprint = float(max(rows.max() - rows.min(), cols.max() - cols.min()))
    offsets = np.arange(kernel.shape[0]) - (kernel.shape[0] - 1) / 2
    squared = offsets[:, None] ** 2 + offsets[None, :] ** 2
    return footprint, float(np.sqrt((kernel * squared).sum() / kernel.sum()))


class numba_threads:
    """Context manager: run numba parallel code on ``workers`` threads, then restore the setting."""

    def __init__(self, workers: int | None) -> None:
        available = numba.config.NUMBA_NUM_THREADS
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers if workers is None else min(workers, available)  # more threads than numba has: all of them

    def __enter__(self) -> None:
        if self.workers not in (None, 1):  # 1 runs serially: leave the thread pool alone
            self.previous = numba.get_num_threads()
            numba.set_num_threads(self.workers)

    def __exit__(self, *exc: object) -> None:
        if self.workers not in (None, 1):
            numba.set_num_threads(self.previous)
