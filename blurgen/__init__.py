"""blurgen: synthetic camera-shake blur kernels and aligned (blurred, sharp) training pairs.

The data flows trajectory → kernel → bank → convolution → camera → pair → (writer | training
batch). Names are imported lazily, so ``import blurgen`` stays cheap; only the torch names
(``blur_batch``, ``expose_batch``, ``PairDataset``, ``SharpCropDataset``, ``pairs_on_device``)
import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "Expl": "blurgen.trajectory",
    "TrajectorySpec": "blurgen.trajectory",
    "Trajectory": "blurgen.trajectory",
    "sample_trajectory": "blurgen.trajectory",
    "rasterise": "blurgen.kernel",
    "PRESETS": "blurgen.presets",
    "trajectory_spec": "blurgen.presets",
    "KernelBank": "blurgen.bank",
    "BankFormatError": "blurgen.bank",
    "sample_kernels": "blurgen.bank",
    "blur": "blurgen.convolve",
    "blur_batch": "blurgen.convolve_torch",
    "Camera": "blurgen.camera",
    "CameraDraws": "blurgen.camera",
    "CAMERA_PRESETS": "blurgen.camera",
    "camera_preset": "blurgen.camera",
    "expose": "blurgen.camera",
    "expose_batch": "blurgen.camera_torch",
    "PairSynthesizer": "blurgen.pairs",
    "BankKernels": "blurgen.pairs",
    "LiveKernels": "blurgen.pairs",
    "Pair": "blurgen.pairs",
    "ImageTooSmall": "blurgen.pairs",
    "Views": "blurgen.pairs",
    "PairSettings": "blurgen.pair_settings",
    "make_synthesizer": "blurgen.synthesis",
    "open_pair_source": "blurgen.synthesis",
    "DatasetConfig": "blurgen.dataset",
    "dataset_spec": "blurgen.dataset",
    "build_dataset": "blurgen.distribute",
    "PairDataset": "blurgen.pairs_torch",
    "SharpCropDataset": "blurgen.pairs_torch",
    "pairs_on_device": "blurgen.pairs_torch",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from blurgen.bank import BankFormatError, KernelBank, sample_kernels
    from blurgen.camera import CAMERA_PRESETS, Camera, CameraDraws, camera_preset, expose
    from blurgen.camera_torch import expose_batch
    from blurgen.convolve import blur
    from blurgen.convolve_torch import blur_batch
    from blurgen.pairs import BankKernels, ImageTooSmall, LiveKernels, Pair, PairSynthesizer, Views
    from blurgen.dataset import DatasetConfig, dataset_spec
    from blurgen.distribute import build_dataset
    from blurgen.pair_settings import PairSettings
    from blurgen.synthesis import make_synthesizer, open_pair_source
    from blurgen.pairs_torch import PairDataset, SharpCropDataset, pairs_on_device
    from blurgen.kernel import rasterise
    from blurgen.presets import PRESETS, trajectory_spec
    from blurgen.trajectory import Expl, Trajectory, TrajectorySpec, sample_trajectory


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'blurgen' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
