"""The generator's update: one Adam step on adv_weight · (the adversarial term of ``--gan``) + the
content loss, through the critic (whose parameters the critic's step left frozen). With
adv_weight 0 the critic is not run at all: the content loss alone is the objective."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import torch
from torch import nn

from train.losses.content import ContentLoss
from train.losses.gan import generator_objective


class GeneratorStep:
    """``step(restored, sharp, extra)``: restored is the generator's output on the batch (with its
    graph), ``extra`` more weighted loss terms by name (the kernel-aware generator's kernel loss);
    returns the terms of the loss (detached tensors on the device)."""

    def __init__(self, critic: nn.Module, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler, *, gan: str,
                 content: ContentLoss, adv_weight: float, autocast: Callable[[], AbstractContextManager]) -> None:
        self.critic, self.optimizer, self.scaler = critic, optimizer, scaler
        self.gan, self.content, self.adv_weight, self.autocast = gan, content, adv_weight, autocast

    def step(self, restored: torch.Tensor, sharp: torch.Tensor, extra: dict[str, torch.Tensor] | None = None) -> dict:
        self.optimizer.zero_grad(set_to_none=True)
        adversarial_terms = {}
        extra = extra or {}
        with self.autocast():
            content, terms = self.content(restored.float(), sharp.float())
            loss = content + sum(extra.values())
            if self.adv_weight:
                adversarial = generator_objective(self.gan, self.critic, restored, sharp)
                loss = loss + self.adv_weight * adversarial
                adversarial_terms = {"adversarial": adversarial.detach()}
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return {**adversarial_terms, "content": content.detach(), **terms, **{name: value.detach() for name, value in extra.items()},
                "loss_g": loss.detach()}
