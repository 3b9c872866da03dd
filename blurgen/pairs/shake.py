"""Kernel and camera draws without an image: what another framework's blur component needs.

:class:`ShakeSampler` gives sample ``i`` of a seed the kernel and the camera values that
``blurgen dataset`` (:class:`blurgen.pairs.synthesizer.PairSynthesizer`) gives pair ``i`` of the
same seed, kernels and camera: the same streams, read at the same counters. The adapters in
:mod:`blurgen.adapters` (albumentations, torch modules, deepinv) blur with these draws, so a
pipeline built from them makes blurgen's blur, reproducibly by (seed, index).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from blurgen.blurring.camera import CAMERA_PRESETS, Camera, CameraDraws, draw_camera
from blurgen.kernels.bank import KernelBank
from blurgen.pairs.settings import PAIR_DEFAULTS, PairSettings
from blurgen.pairs.synthesizer import PAIRS_PURPOSE, BankKernels, LiveKernels
from blurgen.rng import check_seed, derive_seed, stream_key, uniform
from blurgen.settings import check_choice, check_setting


@dataclass(frozen=True)
class ShakeDraw:
    """One sample's blur: ``kernel`` (float32 K×K, ≥ 0, sums to 1, centred as blurgen centres it),
    the camera's ``draws``, the noise field's ``noise_key`` (the sample's uint64 stream key) and
    ``kernel_meta`` (the kernel's record: its preset or bank index and its parameters)."""

    index: int
    kernel: np.ndarray
    draws: CameraDraws
    noise_key: int
    kernel_meta: dict


class ShakeSampler:
    """Sample ``i`` of ``seed``: a kernel and camera draws (:meth:`draw`), pure functions of (seed, i).

    Args:
        kernels: a kernel preset's name or a preset file (``.json``), drawn live (kernel ``i`` of
            ``seed``), or a :class:`~blurgen.kernels.bank.KernelBank` or the path of its ``.npz``
            (each sample picks one uniformly from its own stream).
        camera: a camera preset's name (:data:`~blurgen.blurring.camera.CAMERA_PRESETS`) or a
            :class:`~blurgen.blurring.camera.Camera`.
        seed: the run seed, 0 ≤ seed < 2⁶⁴.
        kernel_size: the side of live kernels in px (3–1025; a bank has its own).

    Raises ValueError (an unknown preset or camera, a bad seed or size) and, for a bank path,
    :class:`~blurgen.kernels.bank.BankFormatError`.
    """

    def __init__(self, kernels: str | Path | KernelBank = "mixture", camera: str | Camera = "wide", seed: int = 0,
                 kernel_size: int = PAIR_DEFAULTS["kernel_size"]) -> None:
        check_seed(seed)
        self.seed = int(seed)
        if isinstance(camera, str):
            check_choice("camera", camera, CAMERA_PRESETS)
            camera = CAMERA_PRESETS[camera]
        elif not isinstance(camera, Camera):
            raise TypeError(f"camera must be a Camera or a preset's name ({', '.join(CAMERA_PRESETS)}), got {type(camera).__name__}")
        self.camera = camera
        if isinstance(kernels, (str, Path)) and str(kernels).endswith(".npz"):
            kernels = KernelBank.load(kernels)
        if isinstance(kernels, KernelBank):
            self.kernels = BankKernels(kernels)
        else:
            check_setting(PairSettings, "kernel_size", kernel_size)
            self.kernels = LiveKernels(seed=self.seed, preset=str(kernels), size=int(kernel_size))
        self._pair_seed = np.uint64(derive_seed(self.seed, PAIRS_PURPOSE))

    @property
    def kernel_size(self) -> int:
        return self.kernels.size

    def draw(self, index: int) -> ShakeDraw:
        """Sample ``index`` (≥ 0): the kernel and camera values pair ``index`` of ``blurgen dataset``
        gets with the same seed, kernels and camera."""
        if isinstance(index, bool) or int(index) != index or index < 0:
            raise ValueError(f"a sample index must be an integer >= 0, got {index!r}")
        key = np.uint64(stream_key(self._pair_seed, np.uint64(int(index))))

        def read(counter: int) -> float:
            return uniform(key, np.uint64(counter))

        kernel, meta = self.kernels.kernel(int(index), read)
        return ShakeDraw(int(index), np.asarray(kernel, dtype=np.float32), draw_camera(self.camera, read), int(key), meta)


__all__ = ["ShakeDraw", "ShakeSampler"]
