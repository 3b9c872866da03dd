"""blurgen's camera-shake blur as a torch ``nn.Module``: a batch blurred on its own device.

``CameraShakeBlur`` takes a B×C×H×W batch of sharp images in [0, 1] and returns
``(blurred, sharp, kernels)``: each sample blurred with its own kernel and camera draws
(:class:`blurgen.pairs.shake.ShakeSampler`), through the batched camera of
:mod:`blurgen.blurring.camera_torch`, reflected at the borders so the size is kept. It fits
after kornia's augmentations and in ``torchvision.transforms.v2.Compose`` (any callable on a
tensor; it goes last, since it returns three tensors), and a training loop that makes its pairs
on the GPU::

    from blurgen.adapters.module import CameraShakeBlur

    shake = CameraShakeBlur(kernels="mixture", camera="wide", seed=0)
    blurred, sharp, kernels = shake(batch.cuda())          # batch: B×3×H×W float in [0, 1]

With ``indices`` (B sample numbers) the samples are those of the seed at those numbers; without,
the module counts on from where its last call stopped (``start`` sets where), so a run is
reproducible by seed. Gradients reach the sharp images through every camera but ``raw``, whose
demosaicking (OpenCV, on 16-bit values as a raw file holds them) passes none.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from blurgen.blurring.camera import Camera
from blurgen.blurring.camera_torch import expose_batch, signed_key
from blurgen.kernels.bank import KernelBank
from blurgen.pairs.settings import PAIR_DEFAULTS
from blurgen.pairs.shake import ShakeSampler


class CameraShakeBlur(nn.Module):
    """Blur each image of a batch by its own camera shake, through a camera, on the batch's device.

    Args:
        kernels: a kernel preset or preset file (drawn live), a :class:`~blurgen.kernels.bank.KernelBank` or its ``.npz``.
        camera: a camera preset's name or a :class:`~blurgen.blurring.camera.Camera`.
        seed: the seed samples are drawn from (sample i depends only on (seed, i)).
        kernel_size: the side of live kernels in px.
        start: the sample number the first call without ``indices`` begins at.
    """

    def __init__(self, kernels: str | Path | KernelBank = "mixture", camera: str | Camera = "wide", seed: int = 0,
                 kernel_size: int = PAIR_DEFAULTS["kernel_size"], start: int = 0) -> None:
        super().__init__()
        self.sampler = ShakeSampler(kernels, camera, seed, kernel_size)
        if isinstance(start, bool) or int(start) != start or start < 0:
            raise ValueError(f"start must be an integer >= 0, got {start!r}")
        self.next_index = int(start)

    def forward(self, sharp: torch.Tensor, indices: Sequence[int] | torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``sharp``: B×C×H×W float (any float dtype) in [0, 1], encoded as photos are (C = 3 for
        cameras with white balance or a mosaic). Returns ``blurred`` (float32 B×C×H×W in [0, 1]),
        ``sharp`` (the input) and ``kernels`` (float32 B×K×K, each summing to 1), all on its device."""
        if not isinstance(sharp, torch.Tensor) or sharp.ndim != 4 or not sharp.is_floating_point():
            raise ValueError(f"sharp must be a float B×C×H×W tensor, got {getattr(sharp, 'shape', type(sharp).__name__)}")
        batch = sharp.shape[0]
        if indices is None:
            indices = list(range(self.next_index, self.next_index + batch))
            self.next_index += batch
        indices = [int(i) for i in (indices.tolist() if isinstance(indices, torch.Tensor) else indices)]
        if len(indices) != batch:
            raise ValueError(f"{batch} images but {len(indices)} indices")
        drawn = [self.sampler.draw(index) for index in indices]
        side = self.sampler.kernel_size
        if min(sharp.shape[2:]) < side // 2 + 1:
            raise ValueError(f"images of {tuple(sharp.shape[2:])} px are too small for {side}-px kernels reflected at the borders")
        device = sharp.device
        kernels = torch.from_numpy(np.stack([d.kernel for d in drawn])).to(device)
        camera = self.sampler.camera
        draws = torch.stack([camera.draws_tensor(d.draws) for d in drawn]).to(device)
        keys = torch.tensor([signed_key(d.noise_key) for d in drawn], dtype=torch.int64, device=device)
        blurred = expose_batch(sharp, kernels, camera, draws, keys, border="reflect")
        return blurred, sharp, kernels


__all__ = ["CameraShakeBlur"]
