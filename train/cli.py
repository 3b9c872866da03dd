"""The ``train`` and ``deblur`` commands: thin typer layers over :mod:`train.loop` and :mod:`train.evaluate`."""

from __future__ import annotations

import inspect
import json
import os
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer

from blurgen.cli import fail
from blurgen.settings import SettingError, check_choice, option_name
from train.config import UNSET, TrainConfig, check_used, defaults, options, paper_config

train_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
deblur_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def option_flags(name: str) -> tuple[str, ...]:
    described = options()[name]
    return described.flags or (option_name(name),)


def cli_name(name: str) -> str:
    return option_flags(name)[0]


def train_parameters() -> list[inspect.Parameter]:
    """The ``train`` command's options, one per :class:`TrainConfig` field on the command line."""
    hints = typing.get_type_hints(TrainConfig)
    parameters = []
    for name, described in options().items():
        if not described.cli:
            continue
        kind = hints[name]
        if described.path:
            kind = Optional[Path] if defaults()[name] is None else Path
        help = described.help
        if described.choices and not all(str(choice) in help for choice in described.choices):
            help += f" One of: {', '.join(described.choices)}."
        flags = option_flags(name)
        if kind is bool and name == "compile":
            flags = ("--compile/--no-compile",)
        extra = {"min": described.minimum} if described.minimum is not None else {}
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=defaults()[name],
                                            annotation=Annotated[kind, typer.Option(*flags, help=help, **extra)]))
    paper = ", ".join(f"{cli_name(name)} {described.paper}" for name, described in options().items() if described.paper is not UNSET)
    parameters.append(inspect.Parameter("paper", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
        bool, typer.Option("--paper", help=f"The paper's configuration: {paper} (an explicit other value of these is an error).")]))
    return parameters


def train(paper: bool = False, **settings: object) -> None:
    """Train DeblurGAN on GoPro pairs, synthetic pairs made on the fly, or both (torchrun for several GPUs).

    The defaults differ from the paper where measurement said so: batch 16 (paper: 1), bf16
    autocast on CUDA and on CPUs with bf16 (paper: fp32), a generator that starts at the identity,
    a critic without InstanceNorm that can tell sharp from blurred, and an L1 content loss (paper:
    VGG-19). --paper restores all of them (and 300 epochs).
    """
    from blurgen.sources import SourceError
    from train.checkpoint import CheckpointError
    from train.content import VggWeightsMissing
    from train.loop import train as run

    paths = {name for name, described in options().items() if described.path}
    config = TrainConfig(**{name: str(value) if name in paths and value is not None else value for name, value in settings.items()})
    try:
        if paper:
            config = paper_config(config)
        check_used(config)
        result = run(config, log=lambda line: typer.echo(line, err=True))
    except SettingError as error:
        raise fail(error.for_cli(cli_name)) from None
    except (VggWeightsMissing, CheckpointError, SourceError, ValueError, OSError) as error:
        raise fail(str(error)) from None
    if os.environ.get("RANK", "0") == "0":
        typer.echo(f"done at step {result['step']}; checkpoint {result['checkpoint']}", err=True)


train.__signature__ = inspect.Signature(train_parameters())
train_app.command()(train)


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
    amp: Annotated[str, typer.Option(help="bf16 (default: on CUDA, and on CPUs with bf16 instructions; the input passes at full precision, only the residual is bf16) or off (fp32).")] = "bf16",
) -> None:
    """Restore blurred images with a trained generator, or measure it on (blurred, sharp) pairs.

    With --pairs the report gives, per image and on average, PSNR and SSIM of the restored image
    and of the blurred input, and the gain.
    """
    if pairs is not None and images:
        raise fail("give either images to restore or --pairs to evaluate, not both")
    if pairs is None and (report is not None or limit is not None):
        raise fail(f"{'--report' if report is not None else '--limit'} applies to --pairs only")
    generator, target, amp_dtype, step = load_generator(checkpoint, device=device, upsample=upsample, amp=amp)
    if pairs is not None:
        evaluate_pairs(generator, pairs, target, amp_dtype, report=report, limit=limit, checkpoint=checkpoint, step=step)
    elif not images:
        raise fail("give images to restore, or --pairs to evaluate")
    else:
        restore_files(generator, images, target, amp_dtype, out=out, batch_size=batch_size)


def load_generator(checkpoint: Path, *, device: str, upsample: str | None, amp: str) -> tuple:
    """The checkpoint's generator on its device, in eval mode; with its autocast dtype and step."""
    import torch

    from train.checkpoint import CheckpointError, load_checkpoint
    from train.machine import amp_dtype as autocast_dtype
    from train.machine import describe_amp, resolve_device
    from train.models import UPSAMPLES, make_generator

    try:
        if upsample is not None:
            check_choice("upsample", upsample, UPSAMPLES)
        check_choice("amp", amp, ("bf16", "off"))
        target = resolve_device(device)
        amp_dtype = autocast_dtype(amp, target)
        state = load_checkpoint(checkpoint, upsample=upsample)
    except SettingError as error:
        raise fail(error.for_cli()) from None
    except (CheckpointError, ValueError) as error:
        raise fail(str(error)) from None
    generator = make_generator(state["args"])
    generator.load_state_dict(state["generator"])
    generator.to(target).eval()
    typer.echo(f"{state['args'].get('generator', 'resnet')} generator from {checkpoint} (step {int(state['step'])}) on {target}, "
               f"{describe_amp(amp, amp_dtype, target)}", err=True)
    if target.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fastest algorithms per image size (measured: 15 vs 20 ms at 1280×720)
    return generator, target, amp_dtype, int(state["step"])


def evaluate_pairs(generator, pairs: Path, target, amp_dtype, *, report: Path | None, limit: int | None, checkpoint: Path, step: int) -> None:
    """``deblur --pairs``: PSNR/SSIM of restored and blurred images, with progress, a summary and the report."""
    from blurgen.sources import SourceError, open_pairs
    from train.evaluate import evaluate, summary_line

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
    result.update(checkpoint=str(checkpoint), step=step, pairs=described)
    if report is not None:
        report.write_text(json.dumps(result, indent=2) + "\n")
    if not result["images"]:
        raise fail(f"no pair could be evaluated (skipped: {result['skipped']})")
    typer.echo(summary_line(result))


def restore_files(generator, images: list[Path], target, amp_dtype, *, out: Path, batch_size: int) -> None:
    """``deblur IMAGES``: each restored image to ``out`` as PNG of the same stem; unreadable ones skipped and counted."""
    import numpy as np

    from blurgen.sources import BadImage, read_image
    from blurgen.sources.images import encode_png
    from train.evaluate import restore_images

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
