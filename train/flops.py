"""Counting the floating-point operations a model runs, by PyTorch's own formulas."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry


class CountFlops(TorchDispatchMode):
    """FLOPs of every op run inside it (``torch.utils.flop_counter``'s formulas: convolutions and
    matrix products, forward and backward; one multiply-add = 2 FLOPs).

    ``FlopCounterMode`` itself also tracks modules with backward hooks, which
    ``torch.autograd.grad`` (the gradient penalty) does not allow; this counts the same ops without.
    """

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += formula(*args, **kwargs, out_val=out)
        return out


@torch.no_grad()
def forward_flops(model: nn.Module, side: int) -> int:
    """FLOPs of one forward pass of an image model on one 3×side×side image (on the CPU)."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    with CountFlops() as counter:
        model(torch.zeros(1, 3, side, side, device=device))
    model.train(was_training)
    return counter.total
