"""Where a CPU training step spends its time: the generator's forward pass, the critic's steps with
and without the gradient penalty, and the generator's update, each timed alone in the same run;
channels-last beside NCHW; and torch.profiler's most expensive operators over whole steps.

Usage: python benchmarks/profile_step.py [--ngf 16 --blocks 4 --ndf 8] [--amp bf16|off] [--crop 96 --batch 8]
Writes benchmarks/results/profile-cpu-<generator>-<ngf>-<amp>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run as a script, this file's folder would make "train" mean this file

from train.losses.content import ContentLoss  # noqa: E402
from train.critic_step import CriticStep  # noqa: E402
from train.generator_step import GeneratorStep  # noqa: E402
from train.machine import autocast, cores_here  # noqa: E402
from train.archs.registry import make_critic, make_generator  # noqa: E402


def seconds(work, repeats: int) -> float:
    work()
    start = time.perf_counter()
    for _ in range(repeats):
        work()
    return (time.perf_counter() - start) / repeats


def phases(args: argparse.Namespace, memory_format: torch.memory_format) -> dict:
    torch.manual_seed(0)
    generator = make_generator({"generator": args.generator, "ngf": args.ngf, "blocks": args.blocks, "init": "identity"})
    critic = make_critic("spectral", ndf=args.ndf)
    generator, critic = generator.to(memory_format=memory_format), critic.to(memory_format=memory_format)
    blurred = (torch.rand(args.batch, 3, args.crop, args.crop) * 2 - 1).contiguous(memory_format=memory_format)
    sharp = (torch.rand_like(blurred) * 2 - 1).contiguous(memory_format=memory_format)
    dtype = torch.bfloat16 if args.amp == "bf16" else None
    mixed = partial(autocast, torch.device("cpu"), dtype)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=1e-4, betas=(0.5, 0.999))
    optimizer_d = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.999))

    def forward() -> torch.Tensor:
        with mixed():
            return generator(blurred)

    with torch.no_grad():
        restored = forward()
    penalised = CriticStep(critic, optimizer_d, scaler, gan="wgan-gp", critic_steps=1, gp_every=1, autocast=mixed)
    plain = CriticStep(critic, optimizer_d, scaler, gan="wgan-gp", critic_steps=1, gp_every=10**9, autocast=mixed)
    update = GeneratorStep(critic, optimizer_g, scaler, gan="wgan-gp", content=ContentLoss("l1"), adv_weight=1.0, autocast=mixed)
    counter = iter(range(2, 10**6))
    result = {
        "generator forward (no grad)": seconds(lambda: torch.no_grad()(forward)(), args.repeats),
        "critic step with gradient penalty": seconds(lambda: penalised.step(1, sharp, restored), args.repeats),
        "critic step without penalty": seconds(lambda: plain.step(next(counter), sharp, restored), args.repeats),
        "generator forward + update (adversarial + L1)": seconds(lambda: update.step(forward(), sharp), args.repeats),
    }
    result["whole step (5 critic steps with penalty)"] = (result["generator forward + update (adversarial + L1)"]
                                                          + 5 * result["critic step with gradient penalty"])
    return result


def top_operators(args: argparse.Namespace, rows: int = 12) -> list[dict]:
    torch.manual_seed(0)
    generator = make_generator({"generator": args.generator, "ngf": args.ngf, "blocks": args.blocks, "init": "identity"})
    critic = make_critic("spectral", ndf=args.ndf)
    blurred, sharp = torch.rand(args.batch, 3, args.crop, args.crop) * 2 - 1, torch.rand(args.batch, 3, args.crop, args.crop) * 2 - 1
    dtype = torch.bfloat16 if args.amp == "bf16" else None
    mixed = partial(autocast, torch.device("cpu"), dtype)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    critic_update = CriticStep(critic, torch.optim.Adam(critic.parameters()), scaler, gan="wgan-gp", critic_steps=5, gp_every=1, autocast=mixed)
    generator_update = GeneratorStep(critic, torch.optim.Adam(generator.parameters()), scaler, gan="wgan-gp", content=ContentLoss("l1"),
                                     adv_weight=1.0, autocast=mixed)

    def step(n: int) -> None:
        with mixed():
            restored = generator(blurred)
        critic_update.step(n, sharp, restored.detach())
        generator_update.step(restored, sharp)

    step(1)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
        for n in range(2, 2 + args.repeats):
            step(n)
    events = sorted(profile.key_averages(), key=lambda event: event.self_cpu_time_total, reverse=True)
    total = sum(event.self_cpu_time_total for event in events)
    return [{"operator": event.key, "share": event.self_cpu_time_total / total, "calls": event.count} for event in events[:rows]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", default="resnet")
    parser.add_argument("--ngf", type=int, default=16)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--ndf", type=int, default=8)
    parser.add_argument("--amp", default="bf16", choices=("bf16", "off"))
    parser.add_argument("--crop", type=int, default=96)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(cores_here())
    results = {"settings": vars(args), "nchw": phases(args, torch.contiguous_format),
               "channels_last": phases(args, torch.channels_last), "top_operators": top_operators(args)}
    whole = results["nchw"]["whole step (5 critic steps with penalty)"]
    print(f"{args.generator} ngf {args.ngf} blocks {args.blocks} ndf {args.ndf}, {args.amp}, batch {args.batch} at {args.crop} px")
    for name, value in results["nchw"].items():
        print(f"  {name:<48} {value * 1e3:8.1f} ms  ({value / whole:.0%} of a step)   channels-last {results['channels_last'][name] * 1e3:8.1f} ms")
    for row in results["top_operators"]:
        print(f"  {row['operator']:<48} {row['share']:6.1%}  ({row['calls']} calls)")
    out = ROOT / "benchmarks" / "results" / f"profile-cpu-{args.generator}-{args.ngf}-{args.amp}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
