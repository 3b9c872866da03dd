"""Checkpoints: everything a run needs to continue exactly, written atomically by rank 0.

A checkpoint holds the generator and critic, both optimisers, both schedulers, the gradient
scalers, the step, the random-number states (CPU and CUDA) and the arguments. It holds only
tensors and plain values, so it loads with ``torch.load(weights_only=True)``. Beside
``checkpoint.pt`` the one written before it is kept as ``previous-checkpoint.pt``, so that a
damaged file (a full disk, a failing drive) costs one checkpoint interval, not the run.
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

import torch

from blurgen.files import write_whole

CHECKPOINT_VERSION = 1
BUILTIN = Path(__file__).parent / "weights" / "builtin.pt"  # the generator shipped with blurgen: ``deblur builtin``


class CheckpointError(ValueError):
    """A checkpoint that cannot be used as asked (missing, another format, other upsampling)."""


def previous_path(path: Path) -> Path:
    """Where the checkpoint written before ``path``'s current one is kept."""
    return path.with_name(f"previous-{path.name}")


def save_checkpoint(path: Path, state: dict, *, keep_previous: bool = False) -> Path:
    """``torch.save`` to a temporary name and rename: a kill never leaves half a checkpoint. With
    ``keep_previous`` (a training run's checkpoints) the file it replaces becomes
    :func:`previous_path` (a hard link where the file system has them)."""
    partial = path.with_name(f".{path.name}.partial")
    kept = path.with_name(f".{previous_path(path).name}.partial")

    def write(temporary: Path) -> None:
        torch.save({"version": CHECKPOINT_VERSION, **state}, temporary)
        if keep_previous and path.is_file():
            kept.unlink(missing_ok=True)
            try:
                os.link(path, kept)
            except OSError:  # no hard links here: keep it by renaming (checkpoint.pt is missing for an instant)
                os.replace(path, kept)
            os.replace(kept, previous_path(path))

    return write_whole(path, write, partial)


TORCH_FILE_STARTS = (b"PK\x03\x04", b"\x80")  # torch.save's zip archive, or the legacy pickle format


def load_tensors(path: Path) -> object:
    """``torch.load(weights_only=True)`` on the CPU; any failure is a ValueError with one short reason.

    PyTorch's own message for a file that holds more than tensors suggests retrying with
    ``weights_only=False``, which would run code from an untrusted file: it is not passed on.
    """
    with open(path, "rb") as handle:
        start = handle.read(4)
    if not start.startswith(TORCH_FILE_STARTS):
        raise ValueError("it is not a PyTorch file at all" + (" (it is empty)" if not start else ""))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ValueError("it holds objects other than tensors and plain values (or is damaged); it is not loaded") from None
    except Exception as error:
        raise ValueError(f"it is damaged or not a PyTorch file ({type(error).__name__})") from None


def load_checkpoint(path: str | os.PathLike, *, upsample: str | None = None) -> dict:
    """Load a checkpoint on the CPU (weights only); ``builtin`` is the generator shipped with blurgen,
    and a run folder stands for its ``checkpoint.pt``. ``upsample``, when given, must match its generator."""
    path = BUILTIN if str(path) == "builtin" else Path(path)
    if path.is_dir() and (path / "checkpoint.pt").is_file():
        path = path / "checkpoint.pt"
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}" + (" (a folder without checkpoint.pt)" if path.is_dir() else ""))
    try:
        state = load_tensors(path)
    except ValueError as error:
        raise CheckpointError(f"{path} is not a checkpoint: {error}{fallback_hint(path)}") from None
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION or "generator" not in state:
        raise CheckpointError(f"{path} is not a blurgen training checkpoint")
    saved = state["args"]["upsample"]
    if upsample is not None and upsample != saved:
        raise CheckpointError(
            f"{path} was trained with --upsample {saved}, but --upsample {upsample} was asked for; "
            f"the layers differ, so its weights cannot be loaded (drop --upsample, or use {saved})"
        )
    return state


def restoring_weights(state: dict) -> dict:
    """The generator weights of a checkpoint that restore images: the average over the steps when
    the run kept one (``--ema``), else the weights as trained."""
    return state.get("generator_ema", state["generator"])


def fallback_hint(path: Path) -> str:
    """How to continue from the checkpoint kept before a damaged one, if there is one."""
    previous = previous_path(path)
    if path.name != "checkpoint.pt" or not previous.is_file():
        return ""
    return f"; the one before it is kept: to resume from it, move {previous} to {path} and run again with --resume"


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
