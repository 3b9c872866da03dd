"""The whole training state in one place: both networks, their optimisers, learning-rate schedules
and gradient scalers. One helper makes it, one saves it, one restores it, so that a resumed run
continues exactly.

Both nets get the same optimiser (``--optimizer``: Adam, the paper's, or AdamW with decoupled
weight decay) with the same betas and learning rate; the paper's is Adam, β 0.5/0.999. With
``--ema`` the state also keeps an exponential moving average of the generator's weights, which
restores images. The learning rate follows ``--schedule``: ``paper``, constant for the first half
of the steps and falling linearly to 0 over the second (the paper: 150 + 150 epochs), or
``cosine``, half a cosine from the full rate down to 0 (the restoration toolboxes' annealing);
either after ``--warmup`` steps that rise linearly from 0.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from train.archs.registry import make_critic_for, make_generator
from train.checkpoint import load_checkpoint, restore_rng, rng_state, save_checkpoint
from train.config import TrainConfig, check_resumable
from train.machine import Distributed
from train.optim import lr_factor, make_optimizer

PARTS = ("generator", "critic", "optimizer_g", "optimizer_d", "scheduler_g", "scheduler_d", "scaler_g", "scaler_d")


@dataclass
class TrainingState:
    generator: nn.Module
    critic: nn.Module
    optimizer_g: torch.optim.Optimizer
    optimizer_d: torch.optim.Optimizer
    scheduler_g: torch.optim.lr_scheduler.LambdaLR
    scheduler_d: torch.optim.lr_scheduler.LambdaLR
    scaler_g: torch.amp.GradScaler
    scaler_d: torch.amp.GradScaler
    generator_ema: nn.Module | None = None  # the generator's weights averaged over the steps (--ema), or None

    def state_dict(self) -> dict:
        parts = {name: getattr(self, name).state_dict() for name in PARTS}
        return parts if self.generator_ema is None else {**parts, "generator_ema": self.generator_ema.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        for name in PARTS:
            getattr(self, name).load_state_dict(state[name])
        if self.generator_ema is not None:
            self.generator_ema.load_state_dict(state["generator_ema"])

    @property
    def restoring_generator(self) -> nn.Module:
        """The generator that restores images: the average when one is kept."""
        return self.generator if self.generator_ema is None else self.generator_ema

    @torch.no_grad()
    def average(self, decay: float) -> None:
        """After a generator step: ema ← decay·ema + (1 − decay)·weights (buffers copied)."""
        if self.generator_ema is None:
            return
        torch._foreach_lerp_(list(self.generator_ema.parameters()), list(self.generator.parameters()), 1.0 - decay)
        for kept, current in zip(self.generator_ema.buffers(), self.generator.buffers()):
            kept.copy_(current)

    def schedule_step(self, critic_trained: bool = True) -> None:
        self.scheduler_g.step()
        if critic_trained:
            self.scheduler_d.step()


def build_state(config: TrainConfig, device: torch.device, steps: int, fp16: bool) -> TrainingState:
    """Fresh networks (seeded by ``config.seed``, the same on every rank) and their optimisers."""
    torch.manual_seed(config.seed)
    generator = make_generator(asdict(config)).to(device)
    critic = make_critic_for(asdict(config)).to(device)
    fused = device.type == "cuda"  # one fused kernel per optimizer step on CUDA instead of a loop over parameters

    def optimizer(net: nn.Module) -> torch.optim.Optimizer:
        return make_optimizer(net.parameters(), config.optimizer, lr=config.lr, betas=(config.beta1, config.beta2),
                              weight_decay=config.weight_decay, fused=fused)

    optimizer_g, optimizer_d = optimizer(generator), optimizer(critic)
    factor = lr_factor(steps, config.schedule, config.warmup)
    return TrainingState(
        generator, critic, optimizer_g, optimizer_d,
        torch.optim.lr_scheduler.LambdaLR(optimizer_g, factor), torch.optim.lr_scheduler.LambdaLR(optimizer_d, factor),
        torch.amp.GradScaler(device.type, enabled=fp16), torch.amp.GradScaler(device.type, enabled=fp16),
        copy.deepcopy(generator).requires_grad_(False) if config.ema else None,
    )


def restore_state(state: TrainingState, path: Path, config: TrainConfig, run: Distributed) -> int:
    """Load a checkpoint into ``state`` and this rank's random-number state; returns its step.
    A setting the run must keep but ``config`` changes is a :class:`SettingError`."""
    saved = load_checkpoint(path, upsample=config.upsample)
    check_resumable(config, saved["args"])
    state.load_state_dict(saved)
    restore_rng(saved["rng"][run.rank] if run.rank < len(saved["rng"]) else saved["rng"][0])
    return int(saved["step"])


def save_state(state: TrainingState, path: Path, config: TrainConfig, run: Distributed, step: int) -> None:
    """Rank 0 writes the checkpoint (atomically), with every rank's random-number state. Under DDP
    it first checks that the ranks' critics, averaged by hand, still agree."""
    states = [rng_state()]
    if run.world > 1:
        states = [None] * run.world
        dist.all_gather_object(states, rng_state())
        sums = [None] * run.world
        dist.all_gather_object(sums, float(sum(p.double().sum() for p in state.critic.parameters())))
        if len(set(sums)) != 1:
            raise RuntimeError(f"the critic's weights differ between ranks at step {step}: {sums}")
    if run.main:
        save_checkpoint(path, {**state.state_dict(), "step": step, "rng": states, "args": asdict(config)}, keep_previous=True)
