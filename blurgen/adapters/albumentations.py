"""blurgen's camera-shake blur as an albumentations transform.

``CameraShake`` blurs ``image`` with a kernel of blurgen's (a preset, drawn live, or a bank)
through one of its cameras (blur in linear light, noise, JPEG: :mod:`blurgen.blurring.camera`).
Geometric transforms before it in ``A.Compose`` move the sharp copy with the image when it is
declared as an additional image target; ``CameraShake`` leaves every additional image target as
it is, so the pair stays aligned and the sharp one unblurred::

    import albumentations as A
    from blurgen.adapters.albumentations import CameraShake

    pipeline = A.Compose([A.RandomCrop(256, 256), A.HorizontalFlip(), CameraShake(kernels="mixture", camera="wide")],
                         additional_targets={"sharp": "image"}, save_applied_params=True)
    out = pipeline(image=photo, sharp=photo)   # out["image"] blurred, out["sharp"] sharp
    kernel = out["applied_transforms"][-1][1]["kernel"]

With ``sample_seed`` set, the n-th call (or the call given ``index=i`` beside the images) draws sample
n (or i) of that seed: blurgen's own (seed, i) determinism, the same kernel and camera values as
pair i of ``blurgen dataset --seed``. (``seed`` is albumentations' own: the seed
``A.Compose(seed=...)`` gives each transform.) Without it, each call draws from albumentations' random
generator (a random sample of seed 0; ``A.Compose(seed=...)`` makes that reproducible). The blur keeps the image's size
(reflected borders) and dtype (uint8 or float32 in [0, 1]).
"""

from __future__ import annotations

from itertools import count
from pathlib import Path
from typing import Any

import albumentations as A
import numpy as np

from blurgen.blurring.camera import Camera, expose
from blurgen.kernels.bank import KernelBank
from blurgen.pairs.settings import PAIR_DEFAULTS
from blurgen.pairs.shake import ShakeSampler

RANDOM_SAMPLES = 2**62  # without a sample seed, a call draws a sample of seed 0 from this range


class CameraShake(A.ImageOnlyTransform):
    """Blur ``image`` by camera shake through a camera; the sharp copy (an additional target) is left alone.

    Args:
        kernels: a kernel preset or preset file (drawn live), a :class:`~blurgen.kernels.bank.KernelBank` or its ``.npz``.
        camera: a camera preset's name or a :class:`~blurgen.blurring.camera.Camera`.
        sample_seed: with a seed, call n draws sample n of it (or sample ``index`` when the call
            passes ``index=``); None: each call draws the sample's index (of seed 0) from
            albumentations' generator.
        kernel_size: the side of live kernels in px.
        p: the probability of blurring.

    The applied parameters (``save_applied_params=True``) hold ``kernel`` (float32 K×K, sums to
    1), ``camera_draws``, ``noise_key``, ``seed`` and ``index`` (the sample drawn).
    """

    def __init__(self, kernels: str | Path | KernelBank = "mixture", camera: str | Camera = "wide", sample_seed: int | None = None,
                 kernel_size: int = PAIR_DEFAULTS["kernel_size"], p: float = 1.0) -> None:
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p}")
        super().__init__(p=p)
        self.kernels, self.camera, self.sample_seed, self.kernel_size = kernels, camera, sample_seed, kernel_size
        self.sampler = ShakeSampler(kernels, camera, 0 if sample_seed is None else sample_seed, kernel_size)  # checks every argument now
        self.calls = count()

    def add_targets(self, additional_targets: dict[str, str]) -> None:
        """Additional image targets (the sharp copy) pass through unblurred; masks and the rest as usual."""
        super().add_targets({key: kind for key, kind in additional_targets.items() if kind not in ("image", "images")})

    @property
    def targets_as_params(self) -> list[str]:
        return ["image"]

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        if self.sample_seed is None:  # one sampler for every call: a random sample of it is as random as a random seed
            index = int(self.random_generator.integers(RANDOM_SAMPLES))
        else:
            index = int(data["index"]) if "index" in data else next(self.calls)
        drawn = self.sampler.draw(index)
        return {"kernel": drawn.kernel, "camera_draws": drawn.draws, "noise_key": drawn.noise_key, "seed": self.sampler.seed,
                "index": index}

    def apply(self, img: np.ndarray, kernel: np.ndarray, camera_draws: dict, noise_key: int, **params: Any) -> np.ndarray:
        image = np.asarray(img)
        if image.dtype not in (np.uint8, np.float32):
            raise ValueError(f"CameraShake blurs uint8 or float32 images, got {image.dtype}")
        blurred = expose(image, kernel, self.sampler.camera, camera_draws, noise_key=noise_key, border="reflect")
        if image.dtype == np.uint8:
            return np.clip(np.rint(blurred * 255.0), 0, 255).astype(np.uint8)
        return blurred.astype(np.float32)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("kernels", "camera", "sample_seed", "kernel_size")


__all__ = ["CameraShake"]
