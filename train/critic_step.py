"""The critic's update: ``critic_steps`` Adam steps on one batch (as DeblurGAN's code does), with
the objective of ``--gan`` and, for WGAN-GP, the gradient penalty.

``--gp-every k`` computes the penalty on every k-th critic step only (counted over the whole run,
so it does not depend on ``critic_steps``), with its weight times k, as StyleGAN2's lazy R1. The
diagnostics of the penalty are the last computed ones.

Under DDP the critic is not wrapped: its gradients are averaged by hand after each backward pass,
because the penalty needs a double backward, which DDP's hooks do not support.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import torch
import torch.distributed as dist
from torch import nn

from train.losses.gan import GRADIENT_PENALTY_WEIGHT, critic_objective, has_penalty


def average_gradients(model: nn.Module, world: int) -> None:
    """All-reduce and average a model's gradients across ranks (one flat buffer)."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    flat = torch.cat([g.flatten() for g in grads])
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


class CriticStep:
    """``step(n, sharp, restored)``: the critic's update at generator step n (1-based); returns its
    diagnostics (detached tensors on the device)."""

    def __init__(self, critic: nn.Module, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler, *, gan: str,
                 critic_steps: int, gp_every: int, autocast: Callable[[], AbstractContextManager], world: int = 1) -> None:
        self.critic, self.optimizer, self.scaler = critic, optimizer, scaler
        self.gan, self.critic_steps, self.gp_every, self.autocast, self.world = gan, critic_steps, gp_every, autocast, world
        self.penalty: dict = {}

    def penalised(self, critic_step: int) -> bool:
        return has_penalty(self.gan) and critic_step % self.gp_every == 0

    def step(self, step: int, sharp: torch.Tensor, restored: torch.Tensor) -> dict:
        self.critic.requires_grad_(True)
        if has_penalty(self.gan) and not self.penalty:
            not_yet = torch.tensor(float("nan"), device=sharp.device)
            self.penalty = {"gp": not_yet, "grad_norm": not_yet}
        for critic_step in range((step - 1) * self.critic_steps, step * self.critic_steps):
            self.optimizer.zero_grad(set_to_none=True)
            weight = self.gp_every * GRADIENT_PENALTY_WEIGHT if self.penalised(critic_step) else 0.0
            with self.autocast():
                loss, parts = critic_objective(self.gan, self.critic, sharp, restored, weight)
            if weight:
                self.penalty = {"gp": parts.pop("gp"), "grad_norm": parts.pop("grad_norm")}
            self.scaler.scale(loss).backward()
            if self.world > 1:
                average_gradients(self.critic, self.world)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        self.critic.requires_grad_(False)
        return {**parts, **self.penalty}
