"""Checkpoints: everything a run needs to continue exactly, written atomically by rank 0.

A checkpoint holds the generator and critic, both optimisers, both schedulers, the gradient
scalers, the step, the random-number states (CPU and CUDA) and the arguments. It holds only
tensors and plain values, so it loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

import torch

CHECKPOINT_VERSION = 1
BUILTIN = Path(__file__).parent / "weights" / "builtin.pt"  # the generator shipped with blurgen: ``deblur builtin``


class CheckpointError(ValueError):
    """A checkpoint that cannot be used as asked (missing, another format, other upsampling)."""


def save_checkpoint(path: Path, state: dict) -> Path:
    """``torch.save`` to a temporary name and rename: a kill never leaves half a checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    torch.save({"version": CHECKPOINT_VERSION, **state}, partial)
    os.replace(partial, path)
    return path


def load_tensors(path: Path) -> object:
    """``torch.load(weights_only=True)`` on the CPU; any failure is a ValueError with one short reason.

    PyTorch's own message for a file that holds more than tensors suggests retrying with
    ``weights_only=False``, which would run code from an untrusted file: it is not passed on.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ValueError("it holds objects other than tensors and plain values (or is damaged); it is not loaded") from None
    except Exception as error:
        raise ValueError(f"it is damaged or not a PyTorch file ({type(error).__name__})") from None


def load_checkpoint(path: str | os.PathLike, *, upsample: str | None = None) -> dict:
    """Load a checkpoint on the CPU (weights only); ``builtin`` is the generator shipped with blurgen.
    ``upsample``, when given, must match its generator."""
    path = BUILTIN if str(path) == "builtin" else Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = load_tensors(path)
    except ValueError as error:
        raise CheckpointError(f"{path} is not a readable blurgen checkpoint: {error}") from None
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION or "generator" not in state:
        raise CheckpointError(f"{path} is not a blurgen training checkpoint")
    saved = state["args"]["upsample"]
    if upsample is not None and upsample != saved:
        raise CheckpointError(
            f"{path} was trained with --upsample {saved}, but --upsample {upsample} was asked for; "
            f"the layers differ, so its weights cannot be loaded (drop --upsample, or use {saved})"
        )
    return state


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
