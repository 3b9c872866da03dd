"""Kernel banks: many kernels with per-kernel metadata, sampled in parallel, saved as one ``.npz``.

A bank holds ``N = trajectories × exposure fractions`` kernels in trajectory-major order (the F
fractions of trajectory 0, then of trajectory 1, ...). Kernel ``i`` is fully described by its
metadata row: (seed, index) locate its random stream and the drawn parameters rebuild its path,
so :meth:`KernelBank.regenerate` reproduces it bit for bit without the rest of the bank.
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

from blurgen.kernel import (
    EXPOSURES_ALL,
    STAT_FIELDS,
    check_size,
    exposure_counts,
    kernels_from_path,
    sample_kernel_sets,
    sample_kernel_sets_serial,
)
from blurgen.presets import DEFAULT_PRESET, preset_name, trajectory_spec
from blurgen.rng import check_seed
from blurgen.trajectory import TrajectoryParams, spec_arrays, trajectory_from_params
from blurgen.writers import write_atomic

BANK_FORMAT = "blurgen.kernel-bank"
BANK_VERSION = 1
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
])


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
            return KernelEntry(self.kernels[item], {name: row[name].item() for name in META_DTYPE.names})
        return KernelBank(self.kernels[item], self.meta[item], self.info)

    def regenerate(self, i: int) -> np.ndarray:
        """Recompute kernel ``i`` from its metadata alone: float32 (K, K), equal to ``kernels[i]``."""
        return kernel_from_meta(self.meta[i], self.size)

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
        if info.get("version") != BANK_VERSION:
            raise BankFormatError(f"{path} is a kernel bank of version {info.get('version')}; this blurgen reads {BANK_VERSION}")
        return cls(kernels, meta, info)


def bank_file(path: Path) -> Path:
    """``path`` itself, or the one ``.npz`` inside the folder ``path``."""
    if not path.is_dir():
        return path
    found = sorted(path.glob("*.npz"))
    if len(found) != 1:
        what = "no .npz file" if not found else f"{len(found)} .npz files ({', '.join(p.name for p in found[:3])})"
        raise BankFormatError(f"{path} is a folder with {what}; give the bank file itself")
    return found[0]


def kernel_from_meta(row: np.void, size: int) -> np.ndarray:
    """Rebuild one kernel, float32 (size, size), from its ``META_DTYPE`` row."""
    params = TrajectoryParams(
        float(row["expl"]), float(row["centripetal"]), float(row["prob_big_shake"]),
        float(row["gaussian_shake"]), float(row["phi"]),
    )
    path = trajectory_from_params(int(row["seed"]), int(row["index"]), params, max_len=float(row["max_len"]), iters=int(row["iters"]))
    counts = exposure_counts((float(row["exposure"]),), int(row["iters"]))
    kernels = np.empty((1, size, size), dtype=np.float32)
    kernels_from_path(np.ascontiguousarray(path.positions.real), np.ascontiguousarray(path.positions.imag), counts, kernels, np.empty((1, 4)))
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


def sample_kernels(
    n: int | Sequence[int] | np.ndarray,
    *,
    seed: int = 0,
    size: int = DEFAULT_SIZE,
    preset: str = DEFAULT_PRESET,
    exposure: float | str | Sequence[float] = 1.0,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    **overrides: object,
) -> KernelBank:
    """Sample camera-shake kernels into a :class:`KernelBank`.

    Args:
        n: number of trajectories (indices ``0..n-1``), or the trajectory indices themselves.
        seed: run seed in [0, 2**64); trajectory i depends only on (seed, i).
        size: kernel side K in pixels (odd by default so the centre is a pixel).
        preset: a name from :data:`blurgen.presets.PRESETS`.
        exposure: one fraction in (0, 1], ``"all"`` for 1/100, 1/10, 1/2 and 1, or a list.
        workers: threads (default: all numba threads); the result does not depend on it. With 1,
            no thread pool is touched (safe in forked worker processes).
        progress: called with the number of trajectories finished after each chunk.
        **overrides: :class:`~blurgen.trajectory.TrajectorySpec` fields, e.g. ``expl="0.003:0.01"``,
            ``max_len=40``, ``iters=1000``.

    Returns:
        A bank of ``len(indices) × len(exposures)`` float32 kernels of shape (size, size).
    """
    seed64 = check_seed(seed)
    check_size(size)
    spec = trajectory_spec(preset, **overrides)
    exposures = parse_exposures(exposure)
    counts = exposure_counts(exposures, spec.iters)
    if isinstance(n, (int, np.integer)) and not isinstance(n, bool):
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        indices = np.arange(int(n), dtype=np.int64)
    else:
        indices = np.asarray(n, dtype=np.int64).reshape(-1)
        if indices.size and indices.min() < 0:
            raise ValueError("trajectory indices must be >= 0")
    n_fractions = len(exposures)
    kernels = np.empty((indices.size, n_fractions, size, size), dtype=np.float32)
    stats = np.empty((indices.size, n_fractions, len(STAT_FIELDS)))
    arrays = spec_arrays(spec)
    sampler = sample_kernel_sets_serial if workers == 1 else sample_kernel_sets
    with numba_threads(workers):
        for start in range(0, indices.size, CHUNK):
            stop = min(start + CHUNK, indices.size)
            sampler(
                seed64, indices[start:stop], *arrays, float(spec.max_len), int(spec.iters), counts,
                kernels[start:stop], stats[start:stop],
            )
            if progress is not None:
                progress(stop - start)

    meta = np.zeros(indices.size * n_fractions, dtype=META_DTYPE)
    meta["index"] = np.repeat(indices, n_fractions)
    meta["seed"] = seed64
    meta["exposure"] = np.tile(exposures, indices.size)
    meta["max_len"] = spec.max_len
    meta["iters"] = spec.iters
    flat_stats = stats.reshape(-1, len(STAT_FIELDS))
    for column, name in enumerate(STAT_FIELDS):
        meta[name] = flat_stats[:, column]
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
    return KernelBank(kernels.reshape(-1, size, size), meta, info)


class numba_threads:
    """Context manager: run numba parallel code on ``workers`` threads, then restore the setting."""

    def __init__(self, workers: int | None) -> None:
        available = numba.config.NUMBA_NUM_THREADS
        if workers is not None and not 1 <= workers <= available:
            raise ValueError(f"workers must be between 1 and {available} (NUMBA_NUM_THREADS), got {workers}")
        self.workers = workers

    def __enter__(self) -> None:
        if self.workers not in (None, 1):  # 1 runs serially: leave the thread pool alone
            self.previous = numba.get_num_threads()
            numba.set_num_threads(self.workers)

    def __exit__(self, *exc: object) -> None:
        if self.workers not in (None, 1):
            numba.set_num_threads(self.previous)
