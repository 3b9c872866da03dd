"""The ``train`` and ``deblur`` commands: thin typer layers over :mod:`train.loop` and :mod:`train.eval.evaluate`."""

from __future__ import annotations

import inspect
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer

from blurgen.command import fail, interrupted, version_parameter
from blurgen.files import FolderBusy, WriteFailed
from blurgen.sources.images import counted
from blurgen.pairs.settings import check_pairs_used
from blurgen.settings import Option, SettingError, check_choice, check_value, command_parameters, from_command
from blurgen.stopping import stop_on_sigterm
from train.config import UNSET, TrainConfig, check_used, options, paper_config, recorded

train_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
deblur_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def cli_name(name: str) -> str:
    return options()[name].flag(name)


def train_parameters() -> list[inspect.Parameter]:
    """The ``train`` command's options: one per :class:`TrainConfig` field on the command line, and ``--paper``."""
    paper = ", ".join(f"{cli_name(name)} {described.paper}" for name, described in options().items() if described.paper is not UNSET)
    context = inspect.Parameter("context", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    return [context, *command_parameters(TrainConfig), inspect.Parameter("paper", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
        bool, typer.Option("--paper", help=f"The paper's configuration: {paper} (an explicit other value of these is an error).")]),
        version_parameter("train")]


def train(context: typer.Context, paper: bool = False, version: bool = False, **settings: object) -> None:
    """Train DeblurGAN on GoPro pairs, synthetic pairs made on the fly, or both (torchrun for several GPUs).

    The defaults differ from the paper where measurement said so: batch 16 (paper: 1), bf16
    autocast on CUDA and on CPUs with bf16 (paper: fp32), a generator that starts at the identity,
    a critic without InstanceNorm that can tell sharp from blurred, and an L1 content loss (paper:
    VGG-19). --paper restores all of them (and 300 epochs).
    """
    from blurgen.sources import SourceError
    from train.checkpoint import CheckpointError
    from train.losses.content import VggWeightsMissing
    from train.loop import TrainingInterrupted
    from train.loop import train as run

    try:
        settings = resumed_settings(settings, typed_options(context)) if settings.get("resume") else settings
    except (ValueError, OSError) as error:
        raise fail(str(error)) from None
    try:
        config = from_command(TrainConfig, settings)
        check_pairs_used(config)  # before --paper fills in its values, which the user did not give
        if paper:
            config = paper_config(config)
        check_used(config)
        result = run(config, log=lambda line: typer.echo(line, err=True))
    except TrainingInterrupted as stopped:
        checkpoint = Path(config.out) / "checkpoint.pt"
        kept = (f"its last checkpoint is step {stopped.saved} ({checkpoint}); continue with the same command and --resume"
                if stopped.saved is not None else "no checkpoint was written yet; start it again")
        raise interrupted(f"training stopped during step {stopped.step}; {kept}") from None
    except KeyboardInterrupt:
        raise interrupted("training stopped while starting; nothing to resume, start it again") from None
    except SettingError as error:
        raise fail(error.for_cli(cli_name)) from None
    except WriteFailed as error:
        kept = Path(config.out) / "checkpoint.pt"
        raise fail(f"{error}; " + (f"the last complete checkpoint ({kept}) is kept: make room and continue with the same command "
                                   "and --resume" if kept.exists() else "no checkpoint was written yet")) from None
    except (VggWeightsMissing, CheckpointError, SourceError, FolderBusy, ValueError, OSError) as error:
        raise fail(str(error)) from None
    if os.environ.get("RANK", "0") != "0":
        return
    if result["stopped_by"]:
        raise interrupted(f"training stopped at step {result['step']} ({result['stopped_by']}) with a checkpoint "
                          f"({result['checkpoint']}); continue with the same command and --resume")
    typer.echo(f"done at step {result['step']}; checkpoint {result['checkpoint']}", err=True)


# What a resumed run always takes from the command line: where it is, that it is resumed, where this call stops.
RESUME_OWN = ("out", "resume", "overwrite", "stop_at")


def typed_options(context: typer.Context) -> set[str]:
    """The names of the options the user typed (or set through the environment) in the command being run."""
    return {name for name in context.params
            if getattr(context.get_parameter_source(name), "name", None) in ("COMMANDLINE", "ENVIRONMENT")}


def resumed_settings(settings: dict, typed: set[str]) -> dict:
    """``--resume``: every setting the user did not type comes from the run's record
    (``<out>/config.json``), so the same short command continues any run; typed ones stay, and
    the resume check refuses those the run must keep by name."""
    record_file = Path(settings["out"]) / "config.json"
    if not record_file.is_file():
        return settings  # nothing recorded: the loop says there is nothing to resume
    try:
        record = recorded(json.loads(record_file.read_text()))
    except ValueError:
        raise ValueError(f"{record_file} is not a run's record (JSON); resume needs the folder a train run wrote") from None
    return {name: value if name in typed or name in RESUME_OWN or name not in record else record[name]
            for name, value in settings.items()}


train.__signature__ = inspect.Signature(train_parameters())
train_app.command()(train)


DeblurVersion = version_parameter("deblur").annotation


@deblur_app.command()
def deblur(
    checkpoint: Annotated[Path, typer.Argument(help="A checkpoint.pt written by 'train'; builtin: the small model shipped with blurgen (trained on photographs on a CPU; see the README); or wiener: non-blind Wiener deconvolution with the kernel given by --kernel.")],
    images: Annotated[Optional[list[Path]], typer.Argument(help="Images to restore (any size; grey, RGB or RGBA: the alpha channel is kept as it is).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for restored images (PNG, same stem).")] = Path("restored"),
    pairs: Annotated[Optional[Path], typer.Option(help="Evaluate on pairs instead: a benchmark's test set (GoPro_Large, RealBlur-J/R or RSBlur: their root or list file; HIDE_dataset; Levin et al. 2009: its .mat files or im*_kernel*_img.png with gt/), 'blurgen evalset' or 'blurgen dataset' output, blur/ + sharp/ folders, or .tar shards.")] = None,
    report: Annotated[Optional[Path], typer.Option(help="With --pairs: write PSNR/SSIM of restored and blurred images, per image and mean, here (JSON).")] = None,
    limit: Annotated[Optional[int], typer.Option(help="With --pairs: the first N pairs only. [>= 1]")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    upsample: Annotated[Optional[str], typer.Option(help="Fail unless the checkpoint uses this upsampling.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Images of the same size restored together. [>= 1]")] = 8,
    tile: Annotated[Optional[int], typer.Option(help="Images of more than tile² pixels are restored in overlapping windows of this side, blended "
                                           "(0: whole images, as large as memory allows). Default: 1024 for images to restore; whole "
                                           "images for --pairs, as benchmarks are scored. Memory then stays bounded whatever the image "
                                           "size: the windows' activations (measured on the CPU: 0.3 GB for builtin, 0.7 GB for the "
                                           "paper-sized ResNet) plus 16 bytes per pixel; a 24-megapixel photo took 1.4 GB in all with builtin "
                                           "(4.8 GB whole), 15 megapixels 1.5 to 2.2 GB over several runs. [>= 0]")] = None,
    amp: Annotated[str, typer.Option(help="bf16 (default: on CUDA, and on CPUs with bf16 instructions; the input passes at full precision, only the residual is bf16) or off (fp32).")] = "bf16",
    protocol: Annotated[Optional[str], typer.Option(help="With --pairs: plain (PSNR/SSIM of the whole image), realblur (aligned to the ground truth first, valid region only, as the RealBlur and RSBlur authors score), levin (the best integer shift within 5 px, a 15-px border ignored, as Levin et al. score their captures) or kohler (the best of the sharp frames recorded along the shake, each after an intensity fit and a registration, as Köhler et al. score theirs). Default: the benchmark's own.")] = None,
    detect: Annotated[bool, typer.Option("--detect", help="With --pairs: also run an object detector on the sharp, blurred and restored images and score it with COCOeval.")] = False,
    detector: Annotated[str, typer.Option(help="With --detect: fasterrcnn, retinanet or ssdlite (torchvision's COCO detectors).")] = "fasterrcnn",
    detector_weights: Annotated[str, typer.Option("--detector-weights", help="With --detect: coco (torchvision's cache; never downloaded), random, or a path.")] = "coco",
    sheet: Annotated[Optional[Path], typer.Option(help="With --pairs: a picture of the 3 worst and 3 best pairs by PSNR gain (blurred | restored | sharp, with PSNR), written here (PNG).")] = None,
    detect_threshold: Annotated[float, typer.Option("--detect-threshold", help="With --detect: the score above which the detector's boxes on the sharp image are the pseudo ground truth. [>= 0, <= 1]")] = 0.5,
    skip_existing: Annotated[bool, typer.Option("--skip-existing", help="Leave the images whose restored file is already in --out (to finish an interrupted run).")] = False,
    kernel: Annotated[Optional[Path], typer.Option(help="Non-blind restoration with a known blur kernel (.npy, or an image), or a folder of them named as the images (one per image): with wiener (classical), or a kernel-resnet checkpoint (learned).")] = None,
    light: Annotated[str, typer.Option(help="With wiener: values (the blur acted on the stored values: averaged video frames, linear captures) or linear (on light: the sRGB curve is undone first).")] = "values",
    version: DeblurVersion = False,
) -> None:
    """Restore blurred images with a trained generator, or measure it on (blurred, sharp) pairs.

    With --pairs the report gives, per image and on average, PSNR and SSIM of the restored image
    and of the blurred input, and the gain.
    """
    check_deblur_bounds(limit=limit, batch_size=batch_size, tile=tile, detect_threshold=detect_threshold)
    check_deblur_modes(images, pairs, {"--report": report, "--sheet": sheet, "--limit": limit, "--protocol": protocol,
                                       "--detect": detect or None}, skip_existing)
    names = None if pairs is not None else to_restore(images, out, skip_existing)  # before the model loads: a mistake fails at once
    if names == {}:
        typer.echo(f"nothing left to restore: every image is already in {out}", err=True)
        return
    if str(checkpoint) == "wiener" or kernel is not None:
        restore_with_kernels(checkpoint, names, kernel, light, out=out, pairs=pairs, model=dict(device=device, upsample=upsample, amp=amp))
        return
    from train.eval.tiles import BLEND, MARGIN, TILE, window_geometry

    generator, target, amp_dtype, step = load_generator(checkpoint, device=device, upsample=upsample, amp=amp)
    if tile is None:
        tile = 0 if pairs is not None else TILE
    if tile:
        try:
            window_geometry(generator, tile, MARGIN, BLEND)
        except ValueError as error:
            raise fail(f"--{error}") from None
    if pairs is not None:
        detection = dict(name=detector, weights=detector_weights, threshold=detect_threshold) if detect else None
        evaluate_pairs(generator, pairs, target, amp_dtype, report=report, limit=limit, checkpoint=checkpoint, step=step,
                       protocol=protocol, detection=detection, tile=tile, sheet=sheet)
    elif names:
        restore_files(generator, names, target, amp_dtype, out=out, batch_size=batch_size, tile=tile)


DEBLUR_BOUNDS = {"limit": Option("", minimum=1), "batch_size": Option("", minimum=1), "tile": Option("", minimum=0),
                 "detect_threshold": Option("", minimum=0, maximum=1)}


def restore_with_kernels(checkpoint: Path, names: dict[str, Path] | None, kernel: Path | None, light: str, *, out: Path,
                         pairs: Path | None, model: dict) -> None:
    """``deblur wiener --kernel K IMAGES`` (classical) or ``deblur CHECKPOINT --kernel K IMAGES`` (a
    kernel-aware model): non-blind restoration, each image with its kernel."""
    import numpy as np

    from blurgen.files import to_pixels, write_atomic
    from blurgen.sources import BadImage, read_image
    from blurgen.sources.images import encode_png
    from blurgen.kernels.measured import KernelError, check_kernel, read_kernel
    from train.deconvolution import LIGHTS, wiener

    if pairs is not None:
        raise fail("non-blind restoration needs each image's kernel; --pairs would need each pair's kernel")
    if kernel is None:
        raise fail("wiener restores with a known kernel: give --kernel (a .npy or image file, or a folder of them named as the images)")
    try:
        check_choice("light", light, LIGHTS)
        shared = None if kernel.is_dir() else read_kernel(kernel)
    except SettingError as error:
        raise fail(error.for_cli()) from None
    except KernelError as error:
        raise fail(f"--kernel: {error}") from None
    learned = None if str(checkpoint) == "wiener" else kernel_aware_model(checkpoint, model)
    out.mkdir(parents=True, exist_ok=True)
    restored = 0
    for name, path in names.items():
        try:
            image = read_image(path)
            own = check_kernel(shared if shared is not None else read_kernel(kernel_for(kernel, path)), image.shape[:2],
                               name=f"the kernel of {path.name}")
            depth = 16 if image.dtype == np.uint16 else 8
            colour = image[:, :, :3] if image.ndim == 3 else image
            if learned is None:
                result = to_pixels(wiener(colour / (65535.0 if depth == 16 else 255.0), own, light=light), depth)
            else:
                result = learned(colour, own)
            if image.ndim == 3 and image.shape[2] == 4:
                result = np.dstack([result, image[:, :, 3]])
        except (BadImage, KernelError) as error:
            typer.secho(f"skipped {path}: {error}", err=True, fg="yellow")
            continue
        write_atomic(out / name, encode_png(result))
        restored += 1
        typer.echo(f"[{restored}/{len(names)}] {path} -> {out / name}", err=True)
    if not restored:
        raise fail("nothing was restored: every image was skipped")


def kernel_aware_model(checkpoint: Path, model: dict):
    """``deblur CHECKPOINT --kernel``: a function (image H×W(×3) uint8/uint16, kernel) → the restored
    image, by a kernel-aware checkpoint; any other checkpoint is refused (a blind model takes no kernel)."""
    import numpy as np
    import torch

    from train.archs.kernel_aware import KernelAwareGenerator, WithKernel
    from train.eval.evaluate import bit_depth, restore_image, to_image

    generator, target, amp_dtype, _ = load_generator(checkpoint, **model)
    if not isinstance(generator, KernelAwareGenerator):
        raise fail(f"{checkpoint} is a blind model, which takes no kernel: for non-blind restoration use a kernel-resnet checkpoint "
                   "or 'deblur wiener --kernel K'")

    def restore_with(image, kernel):
        with torch.no_grad():
            known = WithKernel(generator, torch.from_numpy(np.ascontiguousarray(kernel))).to(target).eval()
            return to_image(restore_image(known, image, target, amp_dtype=amp_dtype), grey=image.ndim == 2, bit_depth=bit_depth(image))

    return restore_with


def kernel_for(folder: Path, image: Path) -> Path:
    """The kernel of ``image`` in ``folder``: the file with the image's stem (.npy, .png, ...)."""
    found = sorted(path for path in folder.glob(f"{image.stem}.*") if path.is_file())
    if not found:
        from blurgen.kernels.measured import KernelError

        raise KernelError(f"no kernel named {image.stem}.npy (or an image of that name) in {folder}")
    return found[0]


def check_deblur_modes(images: list[Path] | None, pairs: Path | None, pairs_options: dict, skip_existing: bool) -> None:
    """Restoring images and measuring ``--pairs`` exclude each other, and so do their options."""
    if pairs is not None and images:
        raise fail("give either images to restore or --pairs to evaluate, not both")
    given = [name for name, value in pairs_options.items() if value is not None]
    if pairs is None and given:
        raise fail(f"{given[0]} applies to --pairs only")
    if pairs is None and not images:
        raise fail("give images to restore, or --pairs to evaluate")
    if pairs is not None and skip_existing:
        raise fail("--skip-existing applies to images to restore, not to --pairs")


def check_deblur_bounds(**values: object) -> None:
    """``deblur``'s numeric options against their bounds, worded as every command words them."""
    for name, value in values.items():
        try:
            check_value(name, value, DEBLUR_BOUNDS[name])
        except SettingError as error:
            raise fail(error.for_cli()) from None


def load_generator(checkpoint: Path, *, device: str, upsample: str | None, amp: str) -> tuple:
    """The checkpoint's generator on its device, in eval mode; with its autocast dtype and step."""
    import torch

    from train.checkpoint import CheckpointError, load_checkpoint, restoring_weights
    from train.machine import amp_dtype as autocast_dtype
    from train.machine import describe_amp, resolve_device
    from train.archs.registry import UPSAMPLES, make_generator

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
    settings = recorded(state["args"])
    generator = make_generator(settings)
    generator.load_state_dict(restoring_weights(state))
    generator.to(target).eval()
    typer.echo(f"{settings['generator']} generator from {checkpoint} (step {int(state['step'])}) on {target}, "
               f"{describe_amp(amp, amp_dtype, target)}", err=True)
    if target.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fastest algorithms per image size (measured: 15 vs 20 ms at 1280×720)
    return generator, target, amp_dtype, int(state["step"])


def evaluate_pairs(generator, pairs: Path, target, amp_dtype, *, report: Path | None, limit: int | None, checkpoint: Path, step: int,
                   protocol: str | None = None, detection: dict | None = None, tile: int = 0, sheet: Path | None = None) -> None:
    """``deblur --pairs``: PSNR/SSIM of restored and blurred images (and, with ``detection``, a
    detector's AP on each), with progress, a summary, the report and the picture of the extremes."""
    from train.eval.evaluate import evaluate, summary_line

    found, detector = open_evaluation(pairs, target, protocol=protocol, outputs={"--report": report, "--sheet": sheet},
                                      detection=detection)
    described = found.describe()
    total = len(found) if limit is None else min(limit, len(found))
    protocol = protocol or found.protocol
    benchmark = f"{described['benchmark']} benchmark, " if described.get("benchmark") else ""
    typer.echo(f"{pairs}: {described['pairs']} pairs ({benchmark}{described['layout']} layout, {described['groups']} group(s)); "
               f"evaluating {total} with the {protocol} protocol", err=True)
    scorer, coco_missing = detection_scorer(detector, found, limit, target, detection)
    done = [0]

    def progress(row: dict) -> None:
        done[0] += 1
        typer.echo(f"[{done[0]}/{total}] {row['id']}: PSNR {row['psnr']:.2f} dB (blurred {row['psnr_blurred']:.2f}), "
                   f"SSIM {row['ssim']:.4f} (blurred {row['ssim_blurred']:.4f})", err=True)

    try:
        result = evaluate(generator, found, target, limit=limit, amp_dtype=amp_dtype, protocol=protocol, on_pair=progress,
                          on_images=scorer.add if scorer else None, tile=tile)
    except KeyboardInterrupt:
        raise interrupted(f"evaluation stopped after {done[0]} of {total} pairs; no report written; run it again") from None
    result.update(checkpoint=str(checkpoint), step=step, pairs=described)
    if scorer is not None:
        result["detection"] = {"detector": detection["name"], "weights": detection["weights"], **scorer.report(coco_missing)}
    if report is not None:
        report.write_text(json.dumps(result, indent=2) + "\n")
    if not result["images"]:
        raise fail(f"no pair could be evaluated (skipped: {counted(result['skipped'])})")
    typer.echo(summary_line(result))
    if sheet is not None:
        write_extremes(sheet, generator, found, result, target, amp_dtype, tile, f"deblur {checkpoint.name} (step {step}) on {pairs.name}")
    if scorer is not None:
        typer.echo(detection_table(result["detection"]))


def open_evaluation(pairs: Path, target, *, protocol: str | None, outputs: dict[str, Path | None], detection: dict | None) -> tuple:
    """The pairs and the detector of ``deblur --pairs``, every argument checked before any work:
    the protocol, the pairs' layout, that each output file can be written, the detector's weights."""
    from blurgen.sources import SourceError, open_pairs
    from train.eval.detection import DetectorWeightsMissing, load_detector
    from train.eval.protocols import check_protocol

    try:
        if protocol is not None:
            check_protocol(protocol)
        found = open_pairs(pairs)
        if protocol == "kohler" and not hasattr(found, "frames"):
            raise fail(f"--protocol kohler scores against the sharp frames recorded along each shake, which only Köhler et al.'s "
                       f"layout holds; {pairs} is a {found.describe()['layout']} layout")
        for option, path in outputs.items():
            if path is not None:
                try:
                    writable_file(path)
                except OSError as error:
                    raise fail(f"cannot write {option} {path}: {error.strerror or error}") from None
        return found, load_detector(detection["name"], detection["weights"], target) if detection else None
    except SettingError as error:
        raise fail(error.for_cli()) from None
    except (SourceError, DetectorWeightsMissing) as error:
        raise fail(str(error)) from None


def detection_scorer(detector, found, limit: int | None, target, detection: dict | None) -> tuple:
    """The detection scorer for ``--detect`` (None without it) and the note when COCO boxes are missing."""
    if detector is None:
        return None, None
    from train.eval.detection import DetectionEvaluation, coco_truth_for

    coco_truth, coco_missing = coco_truth_for(found, limit)
    if coco_missing:
        typer.echo(coco_missing, err=True)
    return DetectionEvaluation(detector, threshold=detection["threshold"], device=target, coco_truth=coco_truth), coco_missing


def write_extremes(sheet: Path, generator, found, result: dict, target, amp_dtype, tile: int, what: str) -> None:
    """``--sheet``: the 3 worst and 3 best pairs by PSNR gain, blurred | restored | sharp."""
    from blurgen.output.contact_sheet import write_png
    from train.eval.evaluate import extremes_sheet

    title = f"{what}: worst and best of {result['images']} by PSNR gain"
    write_png(sheet, extremes_sheet(generator, found, result, target, amp_dtype=amp_dtype, tile=tile, title=title))
    typer.echo(f"wrote {sheet}", err=True)


def shown(value: float, spec: str) -> str:
    """A figure, or n/a where there was nothing to measure (no true box, no AP lost to blur)."""
    return "n/a" if value != value else format(value, spec)


def detection_table(detection: dict) -> str:
    """The detection rows (sharp, blurred, restored) for each ground truth, and the share recovered."""
    lines = [f"detection ({detection['detector']}, weights {detection['weights']}): AP@[.5:.95] / AP50 / AR@100"]
    for truth, label in (("pseudo", f"vs its own detections on the sharp images (score >= {detection['threshold']:g})"), ("coco", "vs COCO annotations")):
        if truth not in detection:
            continue
        rows = detection[truth]
        lines.append(f"  {label}: {rows['sharp']['true_boxes']} boxes")
        for row in ("sharp", "blurred", "restored"):
            lines.append(f"    {row:<9} " + " / ".join(shown(rows[row][key], ".3f") for key in ("ap", "ap50", "recall")))
        lines.append(f"    share of the blur-induced AP loss recovered: {shown(rows['recovered'], '.1%')}")
    return "\n".join(lines)


def to_restore(images: list[Path], out: Path, skip_existing: bool) -> dict[str, Path]:
    """Each image to restore (a folder given stands for the images in it) by its output name in
    ``out``; with ``skip_existing``, those already restored there are left out (and said so)."""
    from blurgen.sources.images import IMAGE_EXTENSIONS

    files = []
    for path in images:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
            typer.echo(f"{path}/: {len(found)} image(s) in it", err=True)
            files += found
        else:
            files.append(path)
    if not files:
        raise fail(f"no images to restore in {', '.join(str(p) for p in images)}")
    names = output_names(files, out)
    if skip_existing:
        done = [name for name in names if (out / name).is_file()]
        for name in done:
            del names[name]
        typer.echo(f"--skip-existing: {len(done)} already restored in {out}, {len(names)} to go", err=True)
    return names


class ReadForRestoring:
    """The images of ``deblur IMAGES`` as (output name, image), read one by one: the unreadable
    ones and those the generator fails on are said and counted, and a transparent image's alpha
    channel is kept aside to go back into its restored file unchanged."""

    def __init__(self, names: dict[str, Path]) -> None:
        self.names, self.skipped, self.alphas = names, 0, {}

    def __iter__(self) -> Iterator[tuple[str, object]]:
        from blurgen.sources import BadImage, read_image

        for name, path in self.names.items():
            try:
                image = read_image(path)
            except BadImage as error:
                typer.secho(f"skipped {error}", err=True, fg="yellow")
                self.skipped += 1
                continue
            if image.ndim == 3 and image.shape[2] == 4:
                self.alphas[name] = image[:, :, 3]
            yield name, image

    def failed(self, name: str, error: Exception) -> None:
        typer.secho(f"skipped {self.names[name]}: the generator failed on it ({str(error).splitlines()[0]})", err=True, fg="yellow")
        self.skipped += 1

    def with_alpha(self, name: str, image):
        import numpy as np

        return np.dstack([image, self.alphas.pop(name)]) if name in self.alphas else image


def restore_files(generator, names: dict[str, Path], target, amp_dtype, *, out: Path, batch_size: int, tile: int) -> None:
    """``deblur IMAGES``: each restored image (``names``: output name → input) to ``out`` as PNG;
    unreadable ones skipped and counted."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from blurgen.files import write_atomic
    from blurgen.sources.images import encode_png
    from train.eval.evaluate import restore_images

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise fail(f"cannot create --out {out}: {error.strerror or error}") from None
    inputs, restored_count = ReadForRestoring(names), 0
    with Progress("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=Console(stderr=True),
                  transient=True) as progress:
        windows = {}

        def window_done(name: str, done: int, total: int) -> None:
            if name not in windows:
                windows[name] = progress.add_task(f"{names[name].name}: windows", total=total)
            progress.update(windows[name], completed=done, visible=done < total)

        try:
            for name, image in restore_images(generator, iter(inputs), target, batch_size=batch_size, amp_dtype=amp_dtype, tile=tile,
                                              on_window=window_done, on_error=inputs.failed):
                write_atomic(out / name, encode_png(inputs.with_alpha(name, image)))
                restored_count += 1
                progress.console.print(f"[{restored_count}/{len(names)}] {names[name]} -> {out / name}", highlight=False, soft_wrap=True, markup=False)
        except KeyboardInterrupt:
            raise interrupted(f"restored {restored_count} of {len(names)} image(s) into {out} (each file written whole); "
                              "the same command with --skip-existing restores the others") from None
        except WriteFailed as error:
            raise fail(f"{error}; restored {restored_count} of {len(names)} image(s) into {out} (each file written whole, "
                       "no partial file left): make room and run the same command with --skip-existing") from None
    if not restored_count:
        raise fail(f"nothing was restored: all {inputs.skipped} image(s) were skipped")
    if inputs.skipped:
        typer.secho(f"restored {restored_count}, skipped {inputs.skipped}", err=True, fg="yellow")


def output_names(images: list[Path], out: Path) -> dict[str, Path]:
    """Each input's output name in ``out`` (its stem, .png); a fail() for two inputs with one name,
    an output that would replace an input, or an ``out`` that is a file."""
    names: dict[str, Path] = {}
    for path in images:
        name = f"{path.stem}.png"
        if name in names:
            raise fail(f"{names[name]} and {path} would both be written to {out / name}; restore them in separate runs or rename one")
        names[name] = path
    if out.exists() and not out.is_dir():
        raise fail(f"--out {out} is a file; give a folder for the restored images")
    inputs = {path.resolve(): path for path in images}
    for name in names:
        replaced = inputs.get((out / name).resolve())
        if replaced is not None:
            raise fail(f"--out {out} would overwrite the input {replaced} with its restoration; give another --out")
    return names


def writable_file(path: Path) -> None:
    """Create ``path``'s folder and check the file can be written there (OSError if not), before long work."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a"):
        pass


def main() -> None:
    stop_on_sigterm()
    train_app(prog_name="train")


def deblur_main() -> None:
    stop_on_sigterm()
    deblur_app(prog_name="deblur")


if __name__ == "__main__":
    sys.exit(main())
