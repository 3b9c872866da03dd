"""The DeblurGAN training loop: one GPU, several under ``torchrun``, or the CPU.

build (data stream, networks, optimisers) → restore (``--resume``) → steps → log → validate →
checkpoint. Each step takes one batch: the generator restores it once; the critic then takes
``critic_steps`` steps on that same batch (:mod:`train.critic_step`; none with ``--adv-weight 0``,
where the critic could not affect the generator); then the generator takes one
(:mod:`train.generator_step`). Under DDP the generator is wrapped in
``DistributedDataParallel``; rank 0 alone logs and writes checkpoints.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader

from blurgen.settings import SettingError
from blurgen.sources import open_pairs
from blurgen.stopping import StopAtBoundary, die_with_parent, leave_stops_to_parent
from blurgen.cores import capped_workers
from blurgen.files import folder_lock, make_writable, remove, write_atomic
from train.config import PAPER_EPOCHS, TrainConfig, check, resolved
from train.losses.content import ContentLoss, PerceptualLoss, vgg_conv3_3
from train.critic_step import CriticStep
from train.data import StreamSampler, TrainingStream, assemble, build_stream, collate, cut_windows, parse_crop_stages, rng, stage_side
from train.eval.evaluate import evaluate, summary_line
from train.flops import forward_flops
from train.generator_step import GeneratorStep
from train.logger import MetricLogger
from train.machine import (Distributed, ThreadPlan, amp_dtype, apply_threads, autocast, describe_amp, plan_threads,
                           setup_distributed)
from train.archs.kernel_aware import kernel_loss
from train.archs.registry import parameter_count
from train.state import TrainingState, build_state, restore_state, save_state

TEACHER_SHARE = 0.5  # kernel-resnet: the share of pairs with a known kernel deconvolved with it during training
RUN_FILES = ("checkpoint.pt", "metrics.jsonl", "config.json", "tensorboard")  # what makes a folder hold a run


def total_steps(config: TrainConfig, epoch_size: int, global_batch: int) -> int:
    if config.steps:
        return config.steps
    return math.ceil((config.epochs or PAPER_EPOCHS) * epoch_size / global_batch)


def refuse_earlier_run(out: Path, config: TrainConfig) -> None:
    earlier = [out / name for name in RUN_FILES if (out / name).exists()]
    if earlier and not (config.resume or config.overwrite):
        raise SettingError(f"{{out}} {out} already holds a run ({earlier[0].name}); continue it with {{resume}}, "
                           "or start again with {overwrite} (which deletes it)")


def check_writable(out: Path) -> None:
    """Create the run folder and write a probe file there now, not at the first checkpoint."""
    try:
        make_writable(out)
    except OSError as error:
        raise SettingError(f"cannot write to {{out}} {out}: {error.strerror or error}") from None


def open_run_folder(out: Path, config: TrainConfig, start_step: int = 0) -> object:
    """Rank 0: clear an overwritten run, record the settings, open TensorBoard. A resumed run
    drops what the interrupted one logged after its checkpoint, which it is about to redo."""
    from torch.utils.tensorboard import SummaryWriter

    if config.overwrite and not config.resume:
        for name in RUN_FILES:
            remove(out / name)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
    if config.resume:
        keep_metrics_until(out / "metrics.jsonl", start_step)
    return SummaryWriter(str(out / "tensorboard"), purge_step=start_step + 1 if config.resume else None)


def keep_metrics_until(path: Path, step: int) -> None:
    """Drop the rows of ``metrics.jsonl`` after ``step`` (rewritten whole, atomically)."""
    if not path.exists():
        return
    kept = [line for line in path.read_text().splitlines(keepends=True) if line.strip() and json.loads(line)["step"] <= step]
    write_atomic(path, "".join(kept).encode())


def content_loss_for(config: TrainConfig) -> ContentLoss:
    perceptual = None
    if "perceptual" in config.content:
        perceptual = PerceptualLoss(vgg_conv3_3(config.vgg_weights, net=config.perceptual_net, seed=config.seed))
    return ContentLoss(config.content, perceptual, fft_weight=config.fft_weight)


def quiet_worker(worker_id: int) -> None:
    """A data worker leaves Ctrl-C and SIGTERM (sent to the whole group by ``timeout`` or Slurm) to
    the training process, which stops the workers itself, and ends with it when it dies without a
    word (SIGKILL)."""
    leave_stops_to_parent()
    die_with_parent()


def make_loader(stream: TrainingStream, config: TrainConfig, plan: ThreadPlan, steps: int, start_step: int, run: Distributed,
                cuda: bool) -> DataLoader:
    return DataLoader(
        stream, batch_size=config.batch_size, collate_fn=collate, num_workers=plan.workers, pin_memory=cuda,
        sampler=StreamSampler(batch_size=config.batch_size, steps=steps, start_step=start_step, rank=run.rank, world=run.world),
        prefetch_factor=4 if plan.workers else None, worker_init_fn=quiet_worker,
        # Its own generator: making an iterator draws a seed, which must not move the training RNG.
        generator=torch.Generator().manual_seed(config.seed),
    )


def describe_run(config: TrainConfig, state: TrainingState, log: Callable[[str], None], *, epoch_size: int, steps: int,
                 global_batch: int, device: torch.device, precision: str, plan: ThreadPlan) -> None:
    generator_flops = forward_flops(state.generator, config.crop) / config.crop**2 * 256**2
    critic_flops = forward_flops(state.critic, config.crop) / config.crop**2 * 256**2
    log(f"generator {config.generator} {parameter_count(state.generator):,} parameters (ngf {config.ngf}"
        f"{'' if config.generator == 'unet' else f', {config.blocks} blocks'}, {config.upsample} upsampling, {config.init} init, "
        f"{config.norm} norm, attention {config.attention}, spectral norm {config.spectral_norm}), {generator_flops / 1e9:.1f} GFLOP "
        f"per 256² image; critic {config.critic} {parameter_count(state.critic):,} (ndf {config.ndf}), {critic_flops / 1e9:.1f} GFLOP; "
        f"{config.gan}, content {config.content}, adversarial weight {config.adv_weight:g}"
        f"{'' if config.adv_weight else ' (the critic is not trained: content loss only)'}")
    log(f"mix {config.mix}, epoch {epoch_size} samples, {steps} steps of {global_batch} images on {device}, {precision}, "
        f"{plan.describe()}")


def wrap_generator(generator: nn.Module, run: Distributed, device: torch.device, compile: bool) -> nn.Module:
    if run.world > 1:
        generator = nn.parallel.DistributedDataParallel(generator, device_ids=[device.index] if device.type == "cuda" else None)
    return torch.compile(generator) if compile else generator


RUN_LOCK = ".train.lock"


def train(config: TrainConfig, log: Callable[[str], None] = print) -> dict:
    """Run (or resume) training; returns ``{"step", "history", "checkpoint", "images_per_s",
    "data_wait_fraction"}`` (speed over the steps after the first).

    ``config.stop_at`` ends this call at that step with a checkpoint (a job with a time limit);
    ``--resume`` then continues as if nothing had happened. ``history`` holds one dict of losses
    per step of this call (also appended to ``<out>/metrics.jsonl`` by rank 0). One run at a time
    writes into ``config.out``: a second is refused (:class:`~blurgen.files.FolderBusy`) while the
    first holds ``<out>/.train.lock``.
    """
    check(config)
    if os.environ.get("RANK", "0") != "0":  # the ranks of one run share its folder; rank 0 holds the lock for all
        return run_training(config, log)
    out = Path(config.out)
    created = not out.exists()
    try:
        check_writable(out)
        busy = f"another train is writing into {out} now; wait for it, or give another --out"
        with folder_lock(out / RUN_LOCK, busy):
            return run_training(config, log)
    finally:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # a run refused before it wrote anything leaves no empty folder behind



def run_training(config: TrainConfig, log: Callable[[str], None]) -> dict:
    """:func:`train`'s work, with the run folder's lock held."""
    config, out = resolved(config), Path(config.out)
    refuse_earlier_run(out, config)
    run, device = setup_distributed(config.device)
    dtype = amp_dtype(config.amp, device)
    stream, epoch_size = build_stream(config)
    val_pairs = open_pairs(config.val) if config.val else None  # checked now, not at the first validation
    stream.check()  # a source with no usable image fails here, in one line, not inside a worker
    if run.main:
        check_writable(out)
    global_batch = config.batch_size * run.world
    steps = total_steps(config, epoch_size, global_batch)
    workers, capped = capped_workers(config.workers, "data workers")
    if capped and run.main:
        log(capped)
    plan = plan_threads(device, run.here, heavy_data=config.motion != "uniform", workers=workers, threads=config.threads)
    apply_threads(plan)
    state = build_state(config, device, steps, fp16=dtype == torch.float16)
    content = content_loss_for(config).to(device)
    torch.manual_seed(config.seed + 1 + run.rank)  # dropout and penalty draws differ between ranks
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # NCHW with the fastest algorithms for the fixed crop (measured on an H100)
    start_step = restore_state(state, out / "checkpoint.pt", config, run) if config.resume else 0
    generator = wrap_generator(state.generator, run, device, config.compile)
    if run.main:
        if config.resume:
            log(f"resumed {out / 'checkpoint.pt'} at step {start_step} of {steps}")
        describe_run(config, state, log, epoch_size=epoch_size, steps=steps, global_batch=global_batch, device=device,
                     precision=describe_amp(config.amp, dtype, device), plan=plan)
    loader = make_loader(stream, config, plan, steps, start_step, run, device.type == "cuda")
    logger = MetricLogger(out=out, gan=config.gan, steps=steps, log_every=config.log_every, global_batch=global_batch, log=log,
                          writer=open_run_folder(out, config, start_step) if run.main else None)
    mixed = partial(autocast, device, dtype)
    critic_step = CriticStep(state.critic, state.optimizer_d, state.scaler_d, gan=config.gan, critic_steps=config.critic_steps,
                             gp_every=config.gp_every, autocast=mixed, world=run.world)
    generator_step = GeneratorStep(state.critic, state.optimizer_g, state.scaler_g, gan=config.gan, content=content,
                                   adv_weight=config.adv_weight, autocast=mixed)
    stages = parse_crop_stages(config.crop_stages, config.crop)
    trains_critic = config.adv_weight > 0  # otherwise nothing the critic learns could reach the generator
    step, saved = start_step, start_step if config.resume else None
    stop_ranks = stop_group(run, device)
    with StopAtBoundary() as stop:
        try:
            for step, batch in enumerate(loader, start=start_step + 1):
                fetched = time.perf_counter()
                made = assemble(batch, stream, device)
                blurred, sharp = cut_windows(made.blurred, made.sharp, stage_side(stages, step, steps, config.crop), config.seed, step)
                with mixed():
                    restored, extra = generate(generator, blurred, made.kernels, config, step)
                critic_terms = critic_step.step(step, sharp, restored.detach()) if trains_critic else {}
                terms = {**critic_terms, **generator_step.step(restored, sharp, extra)}
                logger.step(step, step == start_step + 1, fetched, state.scheduler_g.get_last_lr()[0], terms)
                state.average(config.ema)
                state.schedule_step(trains_critic)
                signalled = any_rank(stop.stopping(), stop_ranks)
                stopping = signalled or (config.stop_at is not None and step >= config.stop_at)
                if after_step(config, step, steps, stopping, state=state, logger=logger, run=run, device=device, dtype=dtype,
                              val_pairs=val_pairs, batch=(blurred, restored, sharp)):
                    saved = step
                if stopping:
                    break
        except KeyboardInterrupt:
            raise TrainingInterrupted(step, saved) from None
        finally:
            if logger.writer is not None:
                logger.writer.close()
    logger.flush()
    if run.world > 1:
        dist.barrier()
    return {"step": step, "history": logger.history, "checkpoint": str(out / "checkpoint.pt"), "stopped_by": stop.requested,
            **logger.speed()}


def generate(generator: nn.Module, blurred: torch.Tensor, kernels: torch.Tensor | None, config: TrainConfig,
             step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The generator's output on a batch, and the loss terms beside the content loss: for the
    kernel-aware generator, ``kernel`` (``--kernel-weight`` × the kernel loss). It deconvolves half
    of the pairs with a known kernel, drawn from (seed, step), with that kernel (so its refiner
    learns from exact deconvolutions too) and the rest with its own estimate."""
    if config.generator != "kernel-resnet":
        return generator(blurred), {}
    if kernels is None:
        restored, estimate = generator(blurred, with_estimate=True)
        return restored, {"kernel": estimate.new_zeros(())}
    known = kernels.sum(dim=(1, 2)) > 0
    coin = torch.from_numpy(rng(config.seed, step, 13).random(len(kernels)) < TEACHER_SHARE).to(known.device)
    restored, estimate = generator(blurred, kernels, given=known & coin, with_estimate=True)
    return restored, {"kernel": config.kernel_weight * kernel_loss(estimate, kernels)}


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM in the middle of a step that did not end within the grace time: the run
    stopped at ``step``, and its last checkpoint is ``saved`` (None: none yet)."""

    def __init__(self, step: int, saved: int | None) -> None:
        super().__init__(step, saved)
        self.step, self.saved = step, saved


def stop_group(run: Distributed, device: torch.device) -> object:
    """Under DDP, the process group in which ranks agree to stop: a CPU (gloo) one, so that
    asking every step costs no device synchronisation; None for one process."""
    if run.world == 1:
        return None
    return dist.new_group(backend="gloo") if device.type == "cuda" else dist.group.WORLD


def any_rank(flag: bool, group: object) -> bool:
    """Whether ``flag`` holds on any rank of ``group`` (None: this process alone), so that all
    ranks stop at the same step."""
    if group is None:
        return flag
    value = torch.tensor([float(flag)])
    dist.all_reduce(value, op=dist.ReduceOp.MAX, group=group)
    return bool(value.item())


def after_step(config: TrainConfig, step: int, steps: int, stopping: bool, *, state: TrainingState, logger: MetricLogger,
               run: Distributed, device: torch.device, dtype: torch.dtype | None, val_pairs: object, batch: tuple) -> bool:
    """Image grids, validation and checkpoints when their turn comes; whether a checkpoint was written."""
    last = step == steps
    if run.main and (step % config.image_every == 0 or last):
        logger.images(step, *batch)
    if val_pairs is not None and run.main and step % config.val_every == 0:
        report = evaluate(state.restoring_generator, val_pairs, device, limit=config.val_images, amp_dtype=dtype)
        logger.flush()  # the steps' losses before the validation line, in order
        logger.validation(step, report["mean"])
        logger.log(f"validation at step {step}: {summary_line(report)}")
    if step % config.checkpoint_every == 0 or last or stopping:
        logger.flush()
        save_state(state, Path(config.out) / "checkpoint.pt", config, run, step)
        return True
    return False
