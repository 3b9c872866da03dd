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

Only ``wgan-gp`` has a gradient penalty: mean over samples of (‖∇D(x̂)‖₂ − 1)² at
x̂ = ε·sharp + (1−ε)·restored, ε ~ U(0, 1) per sample, weight 10 (the paper's), in float32.

:data:`LABELS` names each objective's diagnostics on the console: the critic's two scores, their
gap (an estimate of the Wasserstein distance only for ``wgan-gp``) and, for ``wgan-gp``, the
penalty and the mean critic gradient norm it pulls towards 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from blurgen.settings import check_choice
from train.archs.critics import scores

GANS = ("wgan-gp", "vanilla", "lsgan", "ragan-ls")
GRADIENT_PENALTY_WEIGHT = 10.0
# Console names of the logged diagnostics (keys of the critic's parts), per objective.
LABELS = {
    "wgan-gp": {"d_real": "D(real)", "d_fake": "D(fake)", "wasserstein": "W-gap", "gp": "GP", "grad_norm": "|grad D|"},
    "vanilla": {"d_real": "logit(real)", "d_fake": "logit(fake)", "wasserstein": "logit gap"},
    "lsgan": {"d_real": "D(real)", "d_fake": "D(fake)", "wasserstein": "gap"},
    "ragan-ls": {"d_real": "D(real)", "d_fake": "D(fake)", "wasserstein": "gap"},
}


def has_penalty(gan: str) -> bool:
    return gan == "wgan-gp"


def critic_loss(critic: nn.Module, sharp: torch.Tensor, restored: torch.Tensor,
                penalty_weight: float = GRADIENT_PENALTY_WEIGHT) -> tuple[torch.Tensor, dict]:
    """WGAN-GP critic loss: D(restored) − D(sharp) + penalty_weight·GP (10, the paper's), with one
    interpolation factor per sample; ``penalty_weight=0`` skips the penalty (lazy ``--gp-every``).

    ``restored`` should be detached. The penalty is computed in float32 (outside autocast).
    Returns the loss and detached diagnostics: ``critic`` (the loss), ``d_real`` and ``d_fake``
    (mean scores), ``wasserstein`` (their gap, D(real) − D(fake)) and, with the penalty, ``gp``
    (the penalty before its weight) and ``grad_norm`` (mean ‖∇D(x̂)‖₂, which it pulls towards 1).
    """
    real = head_mean(critic(sharp))
    fake = head_mean(critic(restored))
    loss = fake - real
    parts = {"d_real": real.detach(), "d_fake": fake.detach(), "wasserstein": (real - fake).detach()}
    if penalty_weight:
        penalty, norms = gradient_penalty(critic, sharp, restored)
        loss = loss + penalty_weight * penalty
        parts.update(gp=penalty.detach(), grad_norm=norms.mean().detach())
    return loss, {"critic": loss.detach(), **parts}


def head_mean(output: torch.Tensor | tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The mean score of a critic's output, averaged over its heads (one, or two for the double-scale critic)."""
    heads = scores(output)
    return sum(head.mean() for head in heads) / len(heads)


def gradient_penalty(critic: nn.Module, sharp: torch.Tensor, restored: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """mean over samples of (‖∇D(x̂)‖₂ − 1)², x̂ = ε·sharp + (1−ε)·restored, ε ~ U(0, 1) per sample;
    and the (B,) gradient norms themselves."""
    with torch.autocast(device_type=sharp.device.type, enabled=False):
        epsilon = torch.rand(sharp.shape[0], 1, 1, 1, device=sharp.device)
        mixed = (epsilon * sharp.float() + (1 - epsilon) * restored.float()).requires_grad_(True)
        total = sum(head.sum() for head in scores(critic(mixed)))
        (gradients,) = torch.autograd.grad(total, mixed, create_graph=True)
        norms = gradients.flatten(1).norm(2, dim=1)
        return ((norms - 1.0) ** 2).mean(), norms




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
    check_choice("gan", gan, GANS)
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
