"""The ``train`` and ``deblur`` commands: thin typer layers over :mod:`train.loop` and :mod:`train.evaluate`."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer

from blurgen.cli import fail

train_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
deblur_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


@train_app.command()
def train(
    mix: Annotated[str, typer.Option(help="wild (GoPro only), synth (synthetic only) or comb (both).")] = "comb",
    gopro: Annotated[Optional[Path], typer.Option(help="GoPro_Large root (its train/ split is used).")] = None,
    gopro_blur: Annotated[str, typer.Option("--gopro-blur", help="blur or blur_gamma.")] = "blur",
    sharp: Annotated[Optional[Path], typer.Option("--src", "--sharp", help="Sharp images for synthetic pairs: any source 'blurgen dataset --src' takes. Default: the built-in corpus. (--sharp: the former name.)")] = None,
    kernels: Annotated[Optional[Path], typer.Option(help="Kernel bank for synthetic pairs (default: sampled live, deblurgan preset).")] = None,
    ratio: Annotated[str, typer.Option(help="comb: synthetic:GoPro samples per epoch, exactly.")] = "2:1",
    camera: Annotated[str, typer.Option(help="Camera preset of synthetic pairs: none, gamma, realistic.")] = "none",
    motion: Annotated[str, typer.Option(help="Synthetic blur: uniform (one kernel per pair, made on the GPU), camera (camera rotation), objects or mixed (made by the CPU workers), as for 'blurgen dataset --motion'.")] = "uniform",
    shake: Annotated[str, typer.Option(help="With --motion camera/mixed: shake, kohler or roll.")] = "shake",
    out: Annotated[Path, typer.Option(help="Run folder: checkpoint.pt, metrics.jsonl, tensorboard/.")] = Path("runs/deblurgan"),
    steps: Annotated[Optional[int], typer.Option(help="Generator steps in all (overrides --epochs).", min=1)] = None,
    epochs: Annotated[Optional[int], typer.Option(help="Epochs (default 300: the paper's 150 constant + 150 decaying).", min=1)] = None,
    epoch_size: Annotated[Optional[int], typer.Option("--epoch-size", help="Samples per epoch (default: every GoPro pair once plus its synthetic share; synth: the sharp source's size).", min=1)] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Per GPU. Default 16; the paper used 1 (see --paper).", min=1)] = 16,
    crop: Annotated[int, typer.Option(help="Training crop side in px (multiple of 4).", min=16)] = 256,
    lr: Annotated[float, typer.Option(help="Adam learning rate of both nets (betas 0.5, 0.999).")] = 1e-4,
    critic_steps: Annotated[int, typer.Option("--critic-steps", help="Critic steps per generator step (the paper: 5; fewer is faster and changes the algorithm).", min=1)] = 5,
    gp_every: Annotated[int, typer.Option("--gp-every", help="Gradient penalty on every k-th critic step only, its weight times k (lazy regularisation, as StyleGAN2's R1); 1 = every step, the paper's.", min=1)] = 1,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    amp: Annotated[str, typer.Option(help="Mixed precision on CUDA: bf16 (default; the paper trained in fp32), fp16 or off.")] = "bf16",
    compile: Annotated[bool, typer.Option("--compile/--no-compile", help="torch.compile the generator.")] = False,
    vgg_weights: Annotated[str, typer.Option("--vgg-weights", help="Perceptual-loss VGG-19: imagenet (torchvision's cache; never downloaded), random, or a path.")] = "imagenet",
    upsample: Annotated[str, typer.Option(help="Generator upsampling: transpose (the paper) or resize (no checkerboard artefacts).")] = "transpose",
    init: Annotated[str, typer.Option(help="Generator initialisation: identity (last conv zeroed: step 0 returns the input) or paper (N(0, 0.02)).")] = "identity",
    generator: Annotated[str, typer.Option(help="Generator: resnet (DeblurGAN's) or unet (Pix2Pix-style encoder-decoder with skips; global residual on; sides a multiple of 32).")] = "resnet",
    norm: Annotated[str, typer.Option(help="Generator normalisation: instance (the paper's), batch or none.")] = "instance",
    attention: Annotated[str, typer.Option(help="Generator attention at the bottleneck (and channel attention after each resolution change): none, self, channel or both.")] = "none",
    spectral_norm: Annotated[str, typer.Option("--spectral-norm", help="Spectral normalisation added to: none, critic, or both nets (the generator's last layer, which starts at zero, excepted).")] = "none",
    critic: Annotated[str, typer.Option(help="Critic: spectral (PatchGAN without InstanceNorm, spectral norm), nonorm (without InstanceNorm), paper (with InstanceNorm, as the paper) or double (DeblurGAN-v2's patch + whole-image critic).")] = "spectral",
    gan: Annotated[str, typer.Option(help="GAN objective: wgan-gp (the paper's), vanilla (sigmoid cross-entropy), lsgan or ragan-ls (DeblurGAN-v2's; pair it with --critic double).")] = "wgan-gp",
    perceptual_net: Annotated[str, typer.Option("--perceptual-net", help="Perceptual-loss network: vgg19 (the paper's) or vgg16 (conv3_3 of either).")] = "vgg19",
    content: Annotated[str, typer.Option(help="Content loss: l1 (10 x L1 of the pixels), perceptual+l1 (adds 100 x VGG conv3_3 MSE), perceptual (the paper's, alone) or mse (10 x L2 of the pixels).")] = "l1",
    adv_weight: Annotated[float, typer.Option("--adv-weight", help="Weight of the adversarial term (the paper's 1).", min=0.0)] = 1.0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue exactly from <out>/checkpoint.pt.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Delete the run already in --out and start again (without it, such a run is refused).")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the data stream and the initial weights.", min=0)] = 0,
    workers: Annotated[Optional[int], typer.Option(help="DataLoader workers per GPU (default: the cores this machine has per GPU, at most 8).", min=0)] = None,
    val: Annotated[Optional[Path], typer.Option(help="Pairs to validate on: GoPro_Large (its test/), 'blurgen evalset' or 'blurgen dataset' output, blur/ + sharp/ folders, or .tar shards.")] = None,
    val_every: Annotated[int, typer.Option("--val-every", help="Validate every N steps.", min=1)] = 1000,
    val_images: Annotated[Optional[int], typer.Option("--val-limit", "--val-images", help="Validate on the first N pairs only. (--val-images: the former name.)", min=1)] = None,
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", help="Write the checkpoint every N steps (and at the end).", min=1)] = 1000,
    log_every: Annotated[int, typer.Option("--log-every", help="Console line every N steps.", min=1)] = 50,
    stop_at: Annotated[Optional[int], typer.Option("--stop-at", help="Stop at this step with a checkpoint (for jobs with a time limit; continue with --resume).", min=1)] = None,
    paper: Annotated[bool, typer.Option("--paper", help="The paper's configuration: batch 1, fp32, 300 epochs, paper critic, init and perceptual loss, adversarial weight 1.")] = False,
) -> None:
    """Train DeblurGAN on GoPro pairs, synthetic pairs made on the fly, or both (torchrun for several GPUs).

    The defaults differ from the paper where measurement said so: batch 16 (paper: 1), bf16
    autocast on CUDA (paper: fp32), a generator that starts at the identity, a critic without
    InstanceNorm that can tell sharp from blurred, and an L1 content loss (paper: VGG-19).
    --paper restores all of them (and 300 epochs).
    """
    from blurgen.sources import SourceError
    from train.checkpoint import CheckpointError
    from train.losses import VggWeightsMissing
    from train.loop import TrainConfig
    from train.loop import train as run

    if paper:
        paper_settings = {"batch_size": (batch_size, 16, 1), "amp": (amp, "bf16", "off"), "init": (init, "identity", "paper"),
                          "critic": (critic, "spectral", "paper"), "content": (content, "l1", "perceptual"),
                          "adv_weight": (adv_weight, 1.0, 1.0), "generator": (generator, "resnet", "resnet"),
                          "norm": (norm, "instance", "instance"), "attention": (attention, "none", "none"),
                          "spectral_norm": (spectral_norm, "none", "none"), "gan": (gan, "wgan-gp", "wgan-gp"),
                          "perceptual_net": (perceptual_net, "vgg19", "vgg19")}
        for name, (given, default, fixed) in paper_settings.items():
            if given != default and given != fixed:
                raise fail(f"--paper sets --{name.replace('_', '-')} {fixed}; drop --{name.replace('_', '-')} {given} or --paper")
        batch_size, amp, epochs = 1, "off", epochs or 300
        init, critic, content, adv_weight = "paper", "paper", "perceptual", 1.0
    if (vgg_weights != "imagenet" or perceptual_net != "vgg19") and "perceptual" not in content:
        option = "--vgg-weights" if vgg_weights != "imagenet" else "--perceptual-net"
        raise fail(f"{option} is for the perceptual loss, which --content {content} does not use: drop it, or add --content perceptual+l1")
    config = TrainConfig(
        mix=mix, gopro=str(gopro) if gopro else None, gopro_blur=gopro_blur, sharp=str(sharp) if sharp else None,
        kernels=str(kernels) if kernels else None, ratio=ratio, camera=camera, motion=motion, shake=shake, out=str(out), steps=steps, epochs=epochs,
        epoch_size=epoch_size, batch_size=batch_size, crop=crop, lr=lr, critic_steps=critic_steps, gp_every=gp_every, device=device, amp=amp,
        compile=compile, vgg_weights=vgg_weights, upsample=upsample, init=init, critic=critic, content=content,
        adv_weight=adv_weight, resume=resume, overwrite=overwrite, generator=generator, norm=norm, attention=attention,
        spectral_norm=spectral_norm, gan=gan, perceptual_net=perceptual_net, seed=seed, workers=workers,
        val=str(val) if val else None, val_every=val_every, val_images=val_images, checkpoint_every=checkpoint_every,
        log_every=log_every, stop_at=stop_at,
    )
    try:
        result = run(config, log=lambda line: typer.echo(line, err=True))
    except (VggWeightsMissing, CheckpointError, SourceError, ValueError, OSError) as error:
        raise fail(str(error)) from None
    if os.environ.get("RANK", "0") == "0":
        typer.echo(f"done at step {result['step']}; checkpoint {result['checkpoint']}", err=True)


@deblur_app.command()
def deblur(
    checkpoint: Annotated[Path, typer.Argument(help="A checkpoint.pt written by 'train'.")],
    images: Annotated[Optional[list[Path]], typer.Argument(help="Images to restore (any size; grey or RGB).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for restored images (PNG, same stem).")] = Path("restored"),
    pairs: Annotated[Optional[Path], typer.Option(help="Evaluate on pairs instead: GoPro_Large (its test/), 'blurgen evalset' or 'blurgen dataset' output, blur/ + sharp/ folders, or .tar shards.")] = None,
    report: Annotated[Optional[Path], typer.Option(help="With --pairs: write PSNR/SSIM of restored and blurred images, per image and mean, here (JSON).")] = None,
    limit: Annotated[Optional[int], typer.Option(help="With --pairs: the first N pairs only.", min=1)] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    upsample: Annotated[Optional[str], typer.Option(help="Fail unless the checkpoint uses this upsampling.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Images of the same size restored together.", min=1)] = 8,
    amp: Annotated[str, typer.Option(help="On CUDA: bf16 (default; the input passes at full precision, only the residual is bf16) or off (fp32).")] = "bf16",
) -> None:
    """Restore blurred images with a trained generator, or measure it on (blurred, sharp) pairs.

    With --pairs the report gives, per image and on average, PSNR and SSIM of the restored image
    and of the blurred input, and the gain.
    """
    import numpy as np
    import torch

    from blurgen.sources import BadImage, SourceError, open_pairs, read_image
    from blurgen.sources.images import encode_png
    from train.checkpoint import CheckpointError, load_checkpoint
    from train.evaluate import evaluate, restore_images, summary_line
    from train.loop import resolve_device
    from train.models import UPSAMPLES, make_generator

    if pairs is not None and images:
        raise fail("give either images to restore or --pairs to evaluate, not both")
    if pairs is None and (report is not None or limit is not None):
        raise fail(f"{'--report' if report is not None else '--limit'} applies to --pairs only")
    if upsample is not None and upsample not in UPSAMPLES:
        raise fail(f"--upsample must be one of {', '.join(UPSAMPLES)}, got {upsample!r}")
    if amp not in ("bf16", "off"):
        raise fail(f"--amp must be bf16 or off, got {amp!r}")
    try:
        target = resolve_device(device)
        state = load_checkpoint(checkpoint, upsample=upsample)
    except (CheckpointError, ValueError) as error:
        raise fail(str(error)) from None
    generator = make_generator(state["args"])
    generator.load_state_dict(state["generator"])
    generator.to(target).eval()
    amp_dtype = torch.bfloat16 if amp == "bf16" and target.type == "cuda" else None
    if target.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fastest algorithms per image size (measured: 15 vs 20 ms at 1280×720)

    if pairs is not None:
        try:
            found = open_pairs(pairs)
            if report is not None:
                writable_file(report)
        except SourceError as error:
            raise fail(str(error)) from None
        except OSError as error:
            raise fail(f"cannot write --report {report}: {error.strerror or error}") from None
        described = found.describe()
        total = len(found) if limit is None else min(limit, len(found))
        typer.echo(f"{pairs}: {described['pairs']} pairs ({described['layout']} layout, {described['groups']} group(s)); evaluating {total}", err=True)
        done = [0]

        def progress(row: dict) -> None:
            done[0] += 1
            typer.echo(f"[{done[0]}/{total}] {row['id']}: PSNR {row['psnr']:.2f} dB (blurred {row['psnr_blurred']:.2f}), "
                       f"SSIM {row['ssim']:.4f} (blurred {row['ssim_blurred']:.4f})", err=True)

        result = evaluate(generator, found, target, limit=limit, amp_dtype=amp_dtype, on_pair=progress)
        result.update(checkpoint=str(checkpoint), step=int(state["step"]), pairs=described)
        if report is not None:
            report.write_text(json.dumps(result, indent=2) + "\n")
        if not result["images"]:
            raise fail(f"no pair could be evaluated (skipped: {result['skipped']})")
        typer.echo(summary_line(result))
        return
    if not images:
        raise fail("give images to restore, or --pairs to evaluate")
    names: dict[str, Path] = {}
    for path in images:
        name = f"{path.stem}.png"
        if name in names:
            raise fail(f"{names[name]} and {path} would both be written to {out / name}; restore them in separate runs or rename one")
        names[name] = path
    if out.exists() and not out.is_dir():
        raise fail(f"--out {out} is a file; give a folder for the restored images")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise fail(f"cannot create --out {out}: {error.strerror or error}") from None
    skipped = 0

    def readable() -> Iterator[tuple[str, np.ndarray]]:
        nonlocal skipped
        for name, path in names.items():
            try:
                yield name, read_image(path)
            except BadImage as error:
                typer.secho(f"skipped {error}", err=True, fg="yellow")
                skipped += 1

    restored_count = 0
    for name, image in restore_images(generator, readable(), target, batch_size=batch_size, amp_dtype=amp_dtype):
        (out / name).write_bytes(encode_png(image))
        restored_count += 1
        typer.echo(f"[{restored_count}/{len(names)}] {names[name]} -> {out / name}")
    if not restored_count:
        raise fail(f"nothing was restored: all {skipped} image(s) were skipped")
    if skipped:
        typer.secho(f"restored {restored_count}, skipped {skipped}", err=True, fg="yellow")


def writable_file(path: Path) -> None:
    """Create ``path``'s folder and check the file can be written there (OSError if not), before long work."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a"):
        pass


def main() -> None:
    train_app(prog_name="train")


def deblur_main() -> None:
    deblur_app(prog_name="deblur")


if __name__ == "__main__":
    sys.exit(main())
