"""blurgen: synthetic camera-shake blur kernels and aligned (blurred, sharp) training pairs.

The data flows trajectory → kernel → bank → convolution → camera → pair → (writer | training
batch). Names are imported lazily, so ``import blurgen`` stays cheap; only the torch names
(``blur_batch``, ``expose_batch``, ``PairDataset``, ``SharpCropDataset``, ``SequenceDataset``,
``pairs_on_device``) import torch.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING

# OpenCV's and FFmpeg's own console messages about a bad file ("[ WARN:0] ... grfmt_png",
# "moov atom not found"): blurgen reports such files in its own skip lines instead. Set before
# OpenCV loads; a user's own setting wins.
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

__version__ = "0.1.0"

_EXPORTS = {
    "Expl": "blurgen.kernels.trajectory",
    "TrajectorySpec": "blurgen.kernels.trajectory",
    "Trajectory": "blurgen.kernels.trajectory",
    "sample_trajectory": "blurgen.kernels.trajectory",
    "rasterise": "blurgen.kernels.raster",
    "PRESETS": "blurgen.kernels.presets",
    "trajectory_spec": "blurgen.kernels.presets",
    "KernelBank": "blurgen.kernels.bank",
    "BankFormatError": "blurgen.kernels.bank",
    "sample_kernels": "blurgen.kernels.bank",
    "blur": "blurgen.blurring.convolve",
    "blur_batch": "blurgen.blurring.convolve_torch",
    "Camera": "blurgen.blurring.camera",
    "CameraDraws": "blurgen.blurring.camera",
    "CAMERA_PRESETS": "blurgen.blurring.camera",
    "camera_preset": "blurgen.blurring.camera",
    "expose": "blurgen.blurring.camera",
    "expose_batch": "blurgen.blurring.camera_torch",
    "PairSynthesizer": "blurgen.pairs.synthesizer",
    "BankKernels": "blurgen.pairs.synthesizer",
    "LiveKernels": "blurgen.pairs.synthesizer",
    "Pair": "blurgen.pairs.synthesizer",
    "ImageTooSmall": "blurgen.pairs.synthesizer",
    "Views": "blurgen.pairs.synthesizer",
    "Motion": "blurgen.pairs.motion",
    "PairSettings": "blurgen.pairs.settings",
    "make_synthesizer": "blurgen.pairs.build",
    "open_pair_source": "blurgen.pairs.build",
    "DatasetConfig": "blurgen.output.dataset",
    "dataset_spec": "blurgen.output.dataset",
    "build_dataset": "blurgen.output.distribute",
    "build_layout": "blurgen.output.frameworks",
    "ShakeSampler": "blurgen.pairs.shake",
    "PairDataset": "blurgen.pairs.datasets",
    "SharpCropDataset": "blurgen.pairs.datasets",
    "pairs_on_device": "blurgen.pairs.datasets",
    "SequenceDataset": "blurgen.pairs.datasets",
    "CameraPath": "blurgen.blurring.camera_path",
    "PathSpec": "blurgen.blurring.camera_path",
    "Timing": "blurgen.pairs.sequences",
    "StillSequencer": "blurgen.pairs.sequences",
    "ClipSequences": "blurgen.pairs.sequences",
    "ClipSequencer": "blurgen.pairs.sequences",
    "SequencesConfig": "blurgen.output.sequences",
    "sequence_spec": "blurgen.output.sequences",
    "build_sequences": "blurgen.output.sequences",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from blurgen.kernels.bank import BankFormatError, KernelBank, sample_kernels
    from blurgen.blurring.camera import CAMERA_PRESETS, Camera, CameraDraws, camera_preset, expose
    from blurgen.blurring.camera_torch import expose_batch
    from blurgen.blurring.convolve import blur
    from blurgen.blurring.convolve_torch import blur_batch
    from blurgen.pairs.synthesizer import BankKernels, ImageTooSmall, LiveKernels, Pair, PairSynthesizer, Views
    from blurgen.pairs.motion import Motion
    from blurgen.output.dataset import DatasetConfig, dataset_spec
    from blurgen.output.distribute import build_dataset
    from blurgen.output.frameworks import build_layout
    from blurgen.pairs.shake import ShakeSampler
    from blurgen.pairs.settings import PairSettings
    from blurgen.pairs.build import make_synthesizer, open_pair_source
    from blurgen.pairs.datasets import PairDataset, SequenceDataset, SharpCropDataset, pairs_on_device
    from blurgen.blurring.camera_path import CameraPath, PathSpec
    from blurgen.pairs.sequences import ClipSequencer, ClipSequences, StillSequencer, Timing
    from blurgen.output.sequences import SequencesConfig, build_sequences, sequence_spec
    from blurgen.kernels.raster import rasterise
    from blurgen.kernels.presets import PRESETS, trajectory_spec
    from blurgen.kernels.trajectory import Expl, Trajectory, TrajectorySpec, sample_trajectory


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'blurgen' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    """The public names only: the exports, the subpackages and ``__version__`` (not this module's own imports)."""
    subpackages = [name for name in ("blurring", "kernels", "output", "pairs", "sources", "viewer") if name in globals()]
    return sorted(__all__ + subpackages + ["__version__"])
