"""The optimisers and learning-rate schedules a run can choose (``--optimizer``, ``--schedule``,
``--warmup``): the paper's Adam with β 0.5/0.999 and its constant-then-linear schedule, or the
restoration toolboxes' AdamW and cosine annealing with a linear warm-up."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch import nn

from blurgen.settings import check_choice

SCHEDULES = ("paper", "cosine")
OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


def lr_factor(total_steps: int, schedule: str = "paper", warmup: int = 0) -> Callable[[int], float]:
    """The factor of the learning rate at each step (0 ... total_steps), in [0, 1]: first
    ``warmup`` steps rising linearly from 1/(warmup + 1) to 1, then ``paper``: 1 for the first half
    of the steps and linearly down to 0 at the last step; ``cosine``: (1 + cos(π t)) / 2 for t going
    from 0 after the warm-up to 1 at the last step."""
    check_choice("schedule", schedule, SCHEDULES)
    half = total_steps // 2

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if schedule == "cosine":
            progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        if step < half:
            return 1.0
        return max(0.0, (total_steps - step) / max(1, total_steps - half))

    return factor


def make_optimizer(parameters: Iterable[nn.Parameter], kind: str, *, lr: float, betas: tuple[float, float],
                   weight_decay: float = 0.0, fused: bool = False) -> torch.optim.Optimizer:
    """The optimiser ``kind`` (of :data:`OPTIMIZERS`) over ``parameters``; ``fused``: one kernel per
    step (CUDA only)."""
    check_choice("optimizer", kind, OPTIMIZERS)
    return OPTIMIZERS[kind](parameters, lr=lr, betas=betas, weight_decay=weight_decay, fused=fused)
