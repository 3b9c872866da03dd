"""GAN objectives: what the critic minimises and the adversarial term the generator minimises.

``--gan``, for critic outputs D (raw scores, no sigmoid; each loss is averaged over score-map
positions, and over the two heads of the double-scale critic):

* ``wgan-gp`` (DeblurGAN's): critic E[D(fake)] − E[D(real)] + 10·GP; generator −E[D(fake)].
* ``vanilla`` (Goodfellow et al., the sigmoid critic of the TensorFlow port): critic
  BCE(D(real), 1) + BCE(D(fake), 0) on logits; generator BCE(D(fake), 1) (the non-saturating form).
* ``lsgan`` (Mao et al.): critic ½E[(D(real) − 1)²] + ½E[D(fake)²]; generator ½E[(D(fake) − 1)²].
* ``ragan-ls`` (DeblurGAN-v2's relativistic average least squares): with
  Δr = D(real) − E[D(fake)] and Δf = D(fake) − E[D(real)], critic ½(E[(Δr − 1)²] + E[(Δf + 1)²]),
  generator ½(E[(Δr + 1)²] + E[(Δf − 1)²]).

Only ``wgan-gp`` has a gradient penalty.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from train.losses import critic_loss, head_mean
from train.models import scores

GANS = ("wgan-gp", "vanilla", "lsgan", "ragan-ls")


def check_gan(gan: str) -> None:
    if gan not in GANS:
        raise ValueError(f"--gan must be one of {', '.join(GANS)}, got {gan!r}")


def pair_loss(gan: str, real: torch.Tensor, fake: torch.Tensor, *, for_critic: bool) -> torch.Tensor:
    """The loss of one head's score maps (``real`` may be unused by the generator's side)."""
    if gan == "vanilla":
        if for_critic:
            return F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    if gan == "lsgan":
        if for_critic:
            return 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake**2).mean()
        return 0.5 * ((fake - 1) ** 2).mean()
    relative_real, relative_fake = real - fake.mean(), fake - real.mean()
    sign = 1.0 if for_critic else -1.0
    return 0.5 * (((relative_real - sign) ** 2).mean() + ((relative_fake + sign) ** 2).mean())


def critic_objective(gan: str, critic: nn.Module, sharp: torch.Tensor, restored: torch.Tensor,
                     penalty_weight: float) -> tuple[torch.Tensor, dict]:
    """The critic's loss on a batch (``restored`` detached) and its diagnostics (as :func:`critic_loss`)."""
    if gan == "wgan-gp":
        return critic_loss(critic, sharp, restored, penalty_weight=penalty_weight)
    real_heads, fake_heads = scores(critic(sharp)), scores(critic(restored))
    loss = sum(pair_loss(gan, real, fake, for_critic=True) for real, fake in zip(real_heads, fake_heads)) / len(real_heads)
    real, fake = head_mean(real_heads), head_mean(fake_heads)
    return loss, {"critic": loss.detach(), "d_real": real.detach(), "d_fake": fake.detach(), "wasserstein": (real - fake).detach()}


def generator_objective(gan: str, critic: nn.Module, restored: torch.Tensor, sharp: torch.Tensor) -> torch.Tensor:
    """The adversarial term of the generator's loss (the critic's parameters frozen by the caller)."""
    fake_heads = scores(critic(restored))
    if gan == "wgan-gp":
        return -head_mean(fake_heads)
    real_heads = scores(critic(sharp)) if gan == "ragan-ls" else fake_heads
    return sum(pair_loss(gan, real.detach(), fake, for_critic=False) for real, fake in zip(real_heads, fake_heads)) / len(fake_heads)
