"""The DeblurGAN training loop: one GPU, several under ``torchrun``, or the CPU.

Each step takes one batch: the generator restores it once; the critic then takes
``critic_steps`` Adam steps on that same batch (as DeblurGAN's code does) with the WGAN-GP loss;
then the generator takes one step on −adv_weight·D(restored) + the content loss. The learning
rate of both is constant for the first half of the run and falls linearly to 0 over the second
(the paper: 150 + 150 epochs).

Under DDP the generator is wrapped in ``DistributedDataParallel``; the critic's gradients are
averaged by hand after each backward pass, because its gradient penalty needs a double backward,
which DDP's hooks do not support. Rank 0 alone logs and writes checkpoints.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader

from blurgen.camera import CAMERA_PRESETS, Camera, camera_preset
from blurgen.motion import MOTIONS, SHAKES, shake_preset
from blurgen.motion_pairs import Motion
from blurgen.pairs import BankKernels, LiveKernels, PairSynthesizer
from blurgen.sources import GoProPairs, open_pairs, open_source
from blurgen.sources.gopro import BLUR_KINDS
from blurgen.writers import make_writable, remove
from train.checkpoint import CheckpointError, load_checkpoint, restore_rng, rng_state, save_checkpoint
from train.data import MIXES, StreamSampler, TrainingStream, assemble, collate, parse_ratio, shares
from train.evaluate import evaluate, summary_line
from train.blocks import ATTENTIONS, NORMS
from train.losses import CONTENTS, GRADIENT_PENALTY_WEIGHT, PERCEPTUAL_NETS, ContentLoss, PerceptualLoss, vgg_conv3_3
from train.models import CRITICS, GENERATORS, INITS, SPECTRAL_NORMS, UPSAMPLES, Generator, make_critic, make_generator, parameter_count
from train.unet import UNetGenerator
from train.objectives import GANS, critic_objective, generator_objective

PAPER_EPOCHS = 300
AMP_MODES = ("bf16", "fp16", "off")
RUN_FILES = ("checkpoint.pt", "metrics.jsonl", "config.json", "tensorboard")  # what makes a folder hold a run
# What a run must keep when resumed; checkpoints written before a setting existed used the paper's.
KEPT_ON_RESUME = {"mix": None, "crop": None, "batch_size": None, "seed": None, "ratio": None, "camera": None, "motion": "uniform",
                  "critic": "paper", "content": "perceptual", "init": "paper", "adv_weight": 1.0, "gp_every": 1,
                  "generator": "resnet", "norm": "instance", "attention": "none", "spectral_norm": "none", "gan": "wgan-gp",
                  "perceptual_net": "vgg19"}


@dataclass
class TrainConfig:
    """The ``train`` command's arguments (see ``train --help``); defaults are the modern ones."""

    mix: str = "comb"
    gopro: str | None = None
    gopro_blur: str = "blur"
    sharp: str | None = None
    sharp_images: int = 1000
    kernels: str | None = None
    ratio: str = "2:1"
    camera: str = "none"
    motion: str = "uniform"
    shake: str = "shake"
    out: str = "runs/deblurgan"
    steps: int | None = None
    epochs: int | None = None
    epoch_size: int | None = None
    batch_size: int = 16
    crop: int = 256
    lr: float = 1e-4
    critic_steps: int = 5
    gp_every: int = 1
    device: str = "auto"
    amp: str = "bf16"
    compile: bool = False
    vgg_weights: str = "imagenet"
    upsample: str = "transpose"
    init: str = "identity"
    generator: str = "resnet"
    norm: str = "instance"
    attention: str = "none"
    spectral_norm: str = "none"
    critic: str = "spectral"
    gan: str = "wgan-gp"
    content: str = "l1"
    perceptual_net: str = "vgg19"
    adv_weight: float = 1.0
    resume: bool = False
    overwrite: bool = False
    seed: int = 0
    workers: int | None = None
    val: str | None = None
    val_every: int = 1000
    val_images: int | None = None
    checkpoint_every: int = 1000
    log_every: int = 50
    image_every: int = 500
    stop_at: int | None = None


@dataclass
class Distributed:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA when there is a GPU, else the CPU), ``cpu``, ``cuda`` or ``cuda:N``; anything
    else, or a GPU that is not there, is a ValueError naming ``--device``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"--device {name}: not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"--device {name}: only cpu and cuda are supported")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"--device {name}: no CUDA GPU is visible here; use --device cpu (or auto)")
        if device.index is not None and device.index >= count:
            raise ValueError(f"--device {name}: there are only {count} CUDA device(s)")
    return device


def setup_distributed(device_name: str) -> tuple[Distributed, torch.device]:
    """Join the ``torchrun`` process group when its variables are set; pick this rank's device."""
    run = Distributed(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0)))
    device = resolve_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", run.local_rank if device.index is None else device.index)
        torch.cuda.set_device(device)
    if run.world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return run, device


def default_workers(run: Distributed) -> int:
    """DataLoader workers per rank: this machine's cores shared among its ranks, at most 8."""
    ranks_here = int(os.environ.get("LOCAL_WORLD_SIZE", run.world))
    return max(0, min(8, len(os.sched_getaffinity(0)) // max(1, ranks_here)))


def lr_factor(total_steps: int) -> Callable[[int], float]:
    """1 for the first half of the steps, then linearly down to 0 at the last step."""
    half = total_steps // 2

    def factor(step: int) -> float:
        if step < half:
            return 1.0
        return max(0.0, (total_steps - step) / max(1, total_steps - half))

    return factor


def build_stream(config: TrainConfig, camera: Camera) -> tuple[TrainingStream, int]:
    """The data stream of the regime, and its epoch size."""
    synth_share, gopro_share = shares(config.mix, parse_ratio(config.ratio))
    if gopro_share and not config.gopro:
        raise ValueError(f"--mix {config.mix} trains on GoPro pairs and needs --gopro (a GoPro_Large root); "
                         "--mix synth trains on synthetic pairs alone")
    gopro = GoProPairs(config.gopro, "train", config.gopro_blur) if gopro_share else None
    synthesizer = None
    if synth_share:
        source = open_source(config.sharp, n=config.sharp_images if config.sharp is None else None, seed=config.seed)
        if config.kernels:
            from blurgen.bank import KernelBank

            kernels = BankKernels(KernelBank.load(config.kernels))
        else:
            kernels = LiveKernels(seed=config.seed)
        motion = Motion(config.motion, shake_preset(config.shake)) if config.motion != "uniform" else None
        synthesizer = PairSynthesizer(source, kernels, camera, crop=config.crop, seed=config.seed, motion=motion)
    if config.epoch_size:
        epoch_size = config.epoch_size
    elif gopro is not None:  # one epoch sees every GoPro pair once, plus its share of synthetic pairs
        epoch_size = round(len(gopro) * (synth_share + gopro_share) / gopro_share)
    else:
        epoch_size = len(synthesizer.source)
    stream = TrainingStream(seed=config.seed, epoch_size=epoch_size, crop=config.crop, synth_share=synth_share,
                            gopro_share=gopro_share, gopro=gopro, synthesizer=synthesizer)
    return stream, epoch_size


def total_steps(config: TrainConfig, epoch_size: int, global_batch: int) -> int:
    if config.steps:
        return config.steps
    return math.ceil((config.epochs or PAPER_EPOCHS) * epoch_size / global_batch)


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


def check_writable(out: Path) -> None:
    """Create the run folder and write a probe file there now, not at the first checkpoint."""
    try:
        make_writable(out)
    except OSError as error:
        raise ValueError(f"cannot write to --out {out}: {error.strerror or error}") from None


def check_choices(config: TrainConfig) -> None:
    """Every option with a fixed set of values, checked before anything is built or written."""
    choices = {"amp": AMP_MODES, "mix": MIXES, "gopro_blur": BLUR_KINDS, "upsample": UPSAMPLES, "init": INITS,
               "critic": CRITICS, "content": CONTENTS, "camera": tuple(CAMERA_PRESETS), "motion": MOTIONS,
               "shake": SHAKES, "generator": GENERATORS, "norm": NORMS, "attention": ATTENTIONS,
               "spectral_norm": SPECTRAL_NORMS, "gan": GANS, "perceptual_net": PERCEPTUAL_NETS}
    for name, allowed in choices.items():
        value = getattr(config, name)
        if value not in allowed:
            raise ValueError(f"--{name.replace('_', '-')} must be one of {', '.join(allowed)}, got {value!r}")
    multiple = (UNetGenerator if config.generator == "unet" else Generator).multiple
    if config.crop % multiple:
        raise ValueError(f"--crop must be a multiple of {multiple} for the {config.generator} generator, got {config.crop}")
    if config.motion != "uniform" and config.kernels:
        raise ValueError(f"--motion {config.motion} blurs by camera and object motion, not kernels: drop --kernels")
    if config.gp_every < 1:
        raise ValueError(f"--gp-every must be >= 1, got {config.gp_every}")
    if config.resume and config.overwrite:
        raise ValueError("--resume continues the run in --out and --overwrite deletes it: choose one")


def train(config: TrainConfig, log: Callable[[str], None] = print) -> dict:
    """Run (or resume) training; returns ``{"step", "history", "checkpoint", "images_per_s",
    "data_wait_fraction"}`` (speed over the steps after the first).

    ``config.stop_at`` ends this call at that step with a checkpoint (a job with a time limit);
    ``--resume`` then continues as if nothing had happened.

    ``history`` holds one dict of losses per step of this call (also appended to
    ``<out>/metrics.jsonl`` by rank 0).
    """
    check_choices(config)
    out = Path(config.out)
    earlier = [out / name for name in RUN_FILES if (out / name).exists()]
    if earlier and not (config.resume or config.overwrite):
        raise ValueError(f"--out {out} already holds a run ({earlier[0].name}); continue it with --resume, "
                         "or start again with --overwrite (which deletes it)")
    run, device = setup_distributed(config.device)
    camera = camera_preset(config.camera)
    stream, epoch_size = build_stream(config, camera)
    val_pairs = open_pairs(config.val) if config.val else None  # checked now, not at the first validation
    stream.check()  # a source with no usable image fails here, in one line, not inside a worker
    if run.main:
        check_writable(out)
    global_batch = config.batch_size * run.world
    steps = total_steps(config, epoch_size, global_batch)
    cuda = device.type == "cuda"
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(config.amp) if cuda else None

    torch.manual_seed(config.seed)  # the same initial weights on every rank
    generator = make_generator(asdict(config)).to(device)
    critic = make_critic(config.critic, spectral_norm=config.spectral_norm in ("critic", "both")).to(device)
    perceptual = PerceptualLoss(vgg_conv3_3(config.vgg_weights, net=config.perceptual_net, seed=config.seed)) if "perceptual" in config.content else None
    content_loss = ContentLoss(config.content, perceptual).to(device)
    torch.manual_seed(config.seed + 1 + run.rank)  # dropout and penalty draws differ between ranks
    if cuda:
        # NCHW, not channels_last: measured faster on an H100 for these InstanceNorm networks
        # (90 vs 82 img/s); cuDNN picks its fastest algorithms for the fixed crop size.
        torch.backends.cudnn.benchmark = True
    # One fused kernel per optimizer step on CUDA instead of a loop over parameters.
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=config.lr, betas=(0.5, 0.999), fused=cuda)
    optimizer_d = torch.optim.Adam(critic.parameters(), lr=config.lr, betas=(0.5, 0.999), fused=cuda)
    scheduler_g = torch.optim.lr_scheduler.LambdaLR(optimizer_g, lr_factor(steps))
    scheduler_d = torch.optim.lr_scheduler.LambdaLR(optimizer_d, lr_factor(steps))
    scaler_g = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
    scaler_d = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)

    checkpoint_path = out / "checkpoint.pt"
    start_step = 0
    if config.resume:
        state = load_checkpoint(checkpoint_path, upsample=config.upsample)
        for key, legacy in KEPT_ON_RESUME.items():
            saved = state["args"].get(key, legacy)
            if saved != getattr(config, key):
                raise CheckpointError(f"--{key.replace('_', '-')} {getattr(config, key)} differs from the checkpoint's {saved}; a resumed run must keep it")
        generator.load_state_dict(state["generator"])
        critic.load_state_dict(state["critic"])
        optimizer_g.load_state_dict(state["optimizer_g"])
        optimizer_d.load_state_dict(state["optimizer_d"])
        scheduler_g.load_state_dict(state["scheduler_g"])
        scheduler_d.load_state_dict(state["scheduler_d"])
        scaler_g.load_state_dict(state["scaler_g"])
        scaler_d.load_state_dict(state["scaler_d"])
        start_step = int(state["step"])
        restore_rng(state["rng"][run.rank] if run.rank < len(state["rng"]) else state["rng"][0])

    trained_generator: nn.Module = generator
    if run.world > 1:
        trained_generator = nn.parallel.DistributedDataParallel(generator, device_ids=[device.index] if cuda else None)
    if config.compile:
        trained_generator = torch.compile(trained_generator)

    if run.main and start_step == 0:
        log(f"generator {config.generator} {parameter_count(generator):,} parameters ({config.upsample} upsampling, {config.init} init, "
            f"{config.norm} norm, attention {config.attention}, spectral norm {config.spectral_norm}), critic {config.critic} "
            f"{parameter_count(critic):,}; {config.gan}, content {config.content}, adversarial weight {config.adv_weight:g}")
        log(f"mix {config.mix}, epoch {epoch_size} samples, {steps} steps of {global_batch} images on {device}, amp {config.amp if amp_dtype else 'off'}")

    workers = default_workers(run) if config.workers is None else config.workers
    loader = DataLoader(
        stream, batch_size=config.batch_size, collate_fn=collate, num_workers=workers, pin_memory=cuda,
        sampler=StreamSampler(batch_size=config.batch_size, steps=steps, start_step=start_step, rank=run.rank, world=run.world),
        prefetch_factor=4 if workers else None,
        # Its own generator: making an iterator draws a seed, which must not move the training RNG.
        generator=torch.Generator().manual_seed(config.seed),
    )
    writer = None
    if run.main:
        from torch.utils.tensorboard import SummaryWriter

        if config.overwrite and not config.resume:
            for name in RUN_FILES:
                remove(out / name)
        out.mkdir(parents=True, exist_ok=True)
        writer = SummaryWriter(str(out / "tensorboard"))
        (out / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")

    def autocast():
        return torch.autocast(device.type, dtype=amp_dtype) if amp_dtype else nullcontext()

    def checkpoint(step: int) -> None:
        states = [rng_state()]
        if run.world > 1:
            states = [None] * run.world
            dist.all_gather_object(states, rng_state())
            sums = [None] * run.world  # the critic is averaged by hand: check that the ranks agree
            dist.all_gather_object(sums, float(sum(p.double().sum() for p in critic.parameters())))
            if len(set(sums)) != 1:
                raise RuntimeError(f"the critic's weights differ between ranks at step {step}: {sums}")
        if run.main:
            save_checkpoint(checkpoint_path, {
                "generator": generator.state_dict(), "critic": critic.state_dict(),
                "optimizer_g": optimizer_g.state_dict(), "optimizer_d": optimizer_d.state_dict(),
                "scheduler_g": scheduler_g.state_dict(), "scheduler_d": scheduler_d.state_dict(),
                "scaler_g": scaler_g.state_dict(), "scaler_d": scaler_d.state_dict(),
                "step": step, "rng": states, "args": asdict(config),
            })

    history: list[dict] = []
    pending: list[tuple[int, float, dict]] = []  # steps whose losses are still on the device

    def flush() -> None:
        """Bring the pending steps' losses to the host in one transfer; log them to disk and TensorBoard."""
        if not pending:
            return
        names = list(pending[0][2])
        values = torch.stack([torch.stack([terms[name].float() for name in names]) for _, _, terms in pending]).tolist()
        for (step_done, lr, _), row in zip(pending, values):
            record = {"step": step_done, **dict(zip(names, row)), "lr": lr}
            history.append(record)
            if run.main:
                for key, value in record.items():
                    if key != "step":
                        writer.add_scalar(f"train/{key}", value, step_done)
        if run.main:
            with (out / "metrics.jsonl").open("a") as handle:
                handle.writelines(json.dumps(record) + "\n" for record in history[-len(pending):])
        pending.clear()

    totals = {"waited": 0.0, "computed": 0.0, "images": 0}  # over the steps after the first (warm-up)
    waited = computed = 0.0
    window_images = 0
    tick = time.perf_counter()
    step = start_step
    not_yet = torch.tensor(float("nan"), device=device)
    penalty_parts = {"gp": not_yet, "grad_norm": not_yet}
    for step, batch in enumerate(loader, start=start_step + 1):
        fetched = time.perf_counter()
        blurred, sharp, _ = assemble(batch, camera, device)
        with autocast():
            restored = trained_generator(blurred)

        critic.requires_grad_(True)
        for critic_step in range((step - 1) * config.critic_steps, step * config.critic_steps):
            optimizer_d.zero_grad(set_to_none=True)
            with_penalty = config.gan == "wgan-gp" and critic_step % config.gp_every == 0  # --gp-every k: every k-th step, weight × k
            with autocast():
                loss_d, step_parts = critic_objective(config.gan, critic, sharp, restored.detach(),
                                                      config.gp_every * GRADIENT_PENALTY_WEIGHT if with_penalty else 0.0)
            if with_penalty:
                penalty_parts = {"gp": step_parts.pop("gp"), "grad_norm": step_parts.pop("grad_norm")}
            parts = {**step_parts, **penalty_parts}  # the penalty as last computed
            scaler_d.scale(loss_d).backward()
            if run.world > 1:
                average_gradients(critic, run.world)
            scaler_d.step(optimizer_d)
            scaler_d.update()

        critic.requires_grad_(False)
        optimizer_g.zero_grad(set_to_none=True)
        with autocast():
            adversarial = generator_objective(config.gan, critic, restored, sharp)
            content, content_terms = content_loss(restored.float(), sharp.float())
            loss_g = config.adv_weight * adversarial + content
        scaler_g.scale(loss_g).backward()
        scaler_g.step(optimizer_g)
        scaler_g.update()
        lr = scheduler_g.get_last_lr()[0]
        scheduler_g.step()
        scheduler_d.step()

        pending.append((step, lr, {**parts, "adversarial": adversarial.detach(), "content": content.detach(), **content_terms,
                                   "loss_g": loss_g.detach()}))
        logging_now = step % config.log_every == 0 or step == steps
        if logging_now:
            flush()  # the one host synchronisation of a logging window
        done = time.perf_counter()
        waited += fetched - tick
        computed += done - fetched
        window_images += global_batch
        if step > start_step + 1:
            totals["waited"] += fetched - tick
            totals["computed"] += done - fetched
            totals["images"] += global_batch
        tick = done

        if run.main:
            if logging_now:
                record = history[-1]
                elapsed = waited + computed
                images_per_s = window_images / elapsed if elapsed else 0.0
                data_share = waited / elapsed if elapsed else 0.0
                writer.add_scalar("speed/images_per_s", images_per_s, step)
                writer.add_scalar("speed/data_wait_fraction", data_share, step)
                terms = "  ".join(f"{key} {record[key]:.4g}" for key in ("perceptual", "l1", "mse") if key in record)
                log(f"step {step}/{steps}  lr {record['lr']:.2e}  D(real) {record['d_real']:+.4g}  D(fake) {record['d_fake']:+.4g}  "
                    f"gap {record['wasserstein']:+.3e}  GP {record['gp']:.3e}  |grad D| {record['grad_norm']:.4g}  "
                    f"G_adv {record['adversarial']:+.4g}  {terms}  |  {images_per_s:.1f} img/s  data wait {data_share:.0%}")
                waited = computed = 0.0
                window_images = 0
            if step % config.image_every == 0 or step == steps:
                from torchvision.utils import make_grid

                shown = min(4, blurred.shape[0])
                rows = torch.cat([blurred[:shown], restored[:shown].detach(), sharp[:shown]], dim=3).float()
                writer.add_image("train/blurred|restored|sharp", make_grid((rows + 1) / 2, nrow=1).clamp(0, 1), step)
        if val_pairs is not None and step % config.val_every == 0 and run.main:
            report = evaluate(generator, val_pairs, device, limit=config.val_images, amp_dtype=amp_dtype)
            for key, value in report["mean"].items():
                writer.add_scalar(f"val/{key}", value, step)
            log(f"validation at step {step}: {summary_line(report)}")
        stopping = config.stop_at is not None and step >= config.stop_at
        if step % config.checkpoint_every == 0 or step == steps or stopping:
            flush()
            checkpoint(step)
        if stopping:
            break

    flush()
    if writer is not None:
        writer.close()
    if run.world > 1:
        dist.barrier()
    elapsed = totals["waited"] + totals["computed"]
    return {
        "step": step, "history": history, "checkpoint": str(checkpoint_path),
        "images_per_s": totals["images"] / elapsed if elapsed else float("nan"),
        "data_wait_fraction": totals["waited"] / elapsed if elapsed else float("nan"),
    }
