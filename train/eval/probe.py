"""Can a critic tell sharp from blurred? Train it alone with WGAN-GP and rank held-out pairs.

This is the measurement behind the default ``--critic``: a critic trained for a few dozen steps
on sharp vs blurred crops (the blurred crops play the generator's output at step 0) should score
a held-out sharp crop above its own blurred partner far more often than chance.
"""

from __future__ import annotations

import torch
from torch import nn

from blurgen.pairs.synthesizer import LiveKernels, PairSynthesizer
from blurgen.sources import DeadLeaves
from train.archs.critics import scores
from train.losses.gan import critic_loss


def synthetic_crops(count: int, crop: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` (blurred, sharp) pairs of the built-in corpus: two N×3×crop×crop tensors in [-1, 1]."""
    synthesizer = PairSynthesizer(DeadLeaves(n=count, height=crop * 2, width=crop * 2, seed=seed), LiveKernels(seed=seed, size=33),
                                  crop=crop, seed=seed)
    pairs = [synthesizer[i] for i in range(count)]

    def stack(images: list) -> torch.Tensor:
        return torch.stack([torch.from_numpy(image).permute(2, 0, 1) for image in images]) * 2 - 1

    return stack([pair.blurred for pair in pairs]), stack([pair.sharp for pair in pairs])


@torch.no_grad()
def ranking(critic: nn.Module, blurred: torch.Tensor, sharp: torch.Tensor) -> dict:
    """Pairwise accuracy (share of pairs whose sharp crop scores above its blurred partner) and the mean gap."""
    def per_sample(images: torch.Tensor) -> torch.Tensor:  # mean score, averaged over the critic's heads
        heads = scores(critic(images))
        return sum(head.flatten(1).mean(1) for head in heads) / len(heads)

    real, fake = per_sample(sharp), per_sample(blurred)
    return {"pairwise_accuracy": float((real > fake).double().mean()), "mean_gap": float((real - fake).mean())}


def critic_probe(critic: nn.Module, *, steps: int = 40, batch_size: int = 8, crop: int = 64, lr: float = 1e-4,
                 seed: int = 0, train_pairs: int = 64, heldout_pairs: int = 64) -> dict:
    """Train ``critic`` alone (Adam, β 0.5/0.999, WGAN-GP) on sharp vs blurred crops, then rank held-out pairs.

    Returns ``{"pairwise_accuracy", "mean_gap", "steps", ...}`` measured on pairs it never saw.
    """
    blurred, sharp = synthetic_crops(train_pairs, crop, seed)
    held_blurred, held_sharp = synthetic_crops(heldout_pairs, crop, seed + 1)
    optimizer = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.999))
    draw = torch.Generator().manual_seed(seed)
    critic.train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _ in range(steps):
            chosen = torch.randint(0, train_pairs, (batch_size,), generator=draw)
            loss, _ = critic_loss(critic, sharp[chosen], blurred[chosen])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    critic.eval()
    result = ranking(critic, held_blurred, held_sharp)
    critic.train()
    return {**result, "steps": steps, "batch_size": batch_size, "crop": crop, "heldout_pairs": heldout_pairs}
