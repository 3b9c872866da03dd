"""blurgen's kernels as a deepinv PSF generator.

``ShakePSFGenerator`` is a ``deepinv.physics.generator.PSFGenerator``: each ``step`` draws a batch
of blurgen's camera-shake kernels (a preset drawn live, or a bank), so ``deepinv.physics.Blur``
and every solver and training loop built on deepinv's physics take them::

    import deepinv as dinv
    from blurgen.adapters.deepinv import ShakePSFGenerator

    generator = ShakePSFGenerator(kernels="mixture", kernel_size=31, seed=0)
    physics = dinv.physics.Blur(padding="reflect")
    y = physics(x, **generator.step(batch_size=x.shape[0]))   # x: B×C×H×W

Kernels are given in the orientation deepinv's ``Blur`` convolves with (a true convolution, as
blurgen's), so ``Blur(filter=k)`` blurs as :func:`blurgen.blur` does with the same kernel. Sample
i of ``seed`` is blurgen's kernel i of that seed; ``step`` counts on from its last call, and
``step(seed=s)`` restarts the count at sample 0 of seed ``s``. The camera (noise, tone curve) is
not part of deepinv's linear physics: only the kernels are drawn here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from deepinv.physics.generator import PSFGenerator

from blurgen.kernels.bank import KernelBank
from blurgen.pairs.shake import ShakeSampler


class ShakePSFGenerator(PSFGenerator):
    """blurgen's camera-shake kernels for deepinv.

    Args:
        kernels: a kernel preset or preset file (drawn live), a :class:`~blurgen.kernels.bank.KernelBank` or its ``.npz``.
        kernel_size: the side of live kernels in px (a bank's own side otherwise).
        seed: the seed samples are drawn from.
        device: where the filters are returned.
        dtype: their dtype.
    """

    def __init__(self, kernels: str | Path | KernelBank = "mixture", kernel_size: int = 31, seed: int = 0,
                 device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> None:
        self.kernels = kernels
        sampler = ShakeSampler(kernels, "none", seed, kernel_size)
        super().__init__(psf_size=(sampler.kernel_size, sampler.kernel_size), device=device, dtype=dtype)
        self.sampler, self.next_index = sampler, 0

    def step(self, batch_size: int = 1, seed: int | None = None, **kwargs) -> dict:
        """``{"filter": B×1×K×K}`` on the generator's device, each kernel ≥ 0 and summing to 1."""
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if seed is not None:
            self.sampler = ShakeSampler(self.kernels, "none", seed, self.sampler.kernel_size)
            self.next_index = 0
        indices = range(self.next_index, self.next_index + int(batch_size))
        self.next_index += int(batch_size)
        kernels = np.stack([self.sampler.draw(index).kernel for index in indices])[:, None]
        return {"filter": torch.from_numpy(kernels).to(**self.factory_kwargs)}


__all__ = ["ShakePSFGenerator"]
