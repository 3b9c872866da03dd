"""blurgen: synthetic camera-shake blur kernels and aligned (blurred, sharp) training pairs.

The data flows trajectory → kernel → bank (→ convolution → camera → pair → writer). Names are
imported lazily, so ``import blurgen`` stays cheap and never pulls in torch.
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
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from blurgen.bank import BankFormatError, KernelBank, sample_kernels
    from blurgen.kernel import rasterise
    from blurgen.presets import PRESETS, trajectory_spec
    from blurgen.trajectory import Expl, Trajectory, TrajectorySpec, sample_trajectory


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'blurgen' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
