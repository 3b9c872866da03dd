"""The ``blurgen`` command line: a thin layer over the library.

Heavy modules (numba, OpenCV) are imported inside the commands, so ``blurgen --help`` is quick,
and nothing here imports torch.
"""

from __future__ import annotations

import inspect
import json
import time
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from blurgen.settings import SettingError, command_parameters, from_command
from blurgen.command import fail, interrupted, version_parameter
from blurgen.stopping import stop_on_sigterm
from rich.table import Table

app = typer.Typer(
    help="Synthetic camera-shake blur: kernel banks and aligned (blurred, sharp) training pairs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: no "<bool>" after flags, and "[ray]" stays as written
)
console = Console(stderr=True)  # progress and messages


def show_options(**_: object) -> None:
    """The options that come before any command (``blurgen --version``)."""


show_options.__signature__ = inspect.Signature([version_parameter("blurgen")])
app.callback()(show_options)
COMPILED_AFTER_S = 3.0  # loading cached machine code takes well under a second; more means numba compiled it
summary = Console()  # the closing table of a command: its result, on stdout


def kernels(**given: object) -> None:
    """Sample camera-shake blur kernels into a kernel bank (kernels.npz) with a contact sheet (kernels.png)."""
    from blurgen.kernels.bank import KernelsSettings

    try:
        settings = with_capped_workers(from_command(KernelsSettings, given), "threads")
    except SettingError as error:
        raise fail(error.for_cli()) from None
    out = Path(settings.out)
    if (out / "kernels.npz").exists() and not settings.overwrite:
        raise fail(f"--out {out} already holds a kernel bank (kernels.npz); use another --out, or --overwrite to replace it")
    measured = read_coverage_kernels(settings.coverage)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise fail(f"cannot create --out {out}: {error.strerror}") from None
    started = time.perf_counter()
    bank, options, timing = sample_bank(settings)
    written = write_bank(bank, settings, options, out)
    if measured:
        written.append(write_coverage(bank, measured, out))
    summary.print(kernels_table(bank, settings, options, {**timing, "all": time.perf_counter() - started}, written,
                                json.loads(written[-1].read_text()) if measured else None))


def kernel_options(settings: object) -> dict:
    """``sample_kernels``' options from the settings: a saved preset's size, exposures and seed
    apply unless given on the command line."""
    from blurgen.kernels.bank import parse_exposures
    from blurgen.kernels.presets import preset_file_settings

    size, seed, exposures = settings.kernel_size, settings.seed, parse_exposures(settings.exposure)
    if settings.preset.endswith(".json"):
        saved = preset_file_settings(settings.preset)
        size = saved.get("size", size) if size == 65 else size
        seed = saved.get("seed", seed) if seed == 0 else seed
        exposures = tuple(saved.get("exposures", exposures)) if settings.exposure == "1" else exposures
    return dict(seed=seed, size=size, preset=settings.preset, exposure=exposures, expl=settings.expl, max_len=settings.max_len,
                iters=settings.iters)


def sample_bank(settings: object) -> tuple[object, dict, dict]:
    """The bank, with a progress bar: (bank, the options it was sampled with, seconds of code load and of sampling)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from blurgen.kernels.bank import sample_kernels, warm_up_kernels

    try:
        options = kernel_options(settings)
        started = time.perf_counter()
        with console.status("loading blurgen's compiled code (a first run compiles it: about 10 s on 2 cores)"):
            warm_up_kernels(workers=settings.workers, **options)  # every member's code, so the rate below is sampling alone
        loaded = time.perf_counter()
        with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=console, transient=True) as progress:
            task = progress.add_task("sampling", total=settings.n)
            bank = sample_kernels(settings.n, workers=settings.workers, progress=lambda done: progress.advance(task, done), **options)
    except KeyboardInterrupt:
        raise interrupted(f"nothing written to {settings.out} (the bank is written whole at the end); run the command again") from None
    except MemoryError:
        need = settings.n * len(options["exposure"]) * options["size"] ** 2 * 4 / 2**30
        raise fail(f"--n {settings.n} kernels of {options['size']}x{options['size']} px need {need:,.1f} GiB, more than this machine "
                   "could allocate: sample fewer (several banks) or use a smaller --kernel-size") from None
    except (ValueError, TypeError) as error:
        raise fail(str(error)) from None
    return bank, options, {"load": loaded - started, "sampling": time.perf_counter() - loaded}


def write_bank(bank: object, settings: object, options: dict, out: Path) -> list[Path]:
    """The bank, its contact sheet and (``--png-dir``) one PNG per kernel; the files written."""
    from blurgen.output.contact_sheet import contact_sheet, write_kernel_pngs, write_png

    try:
        written = [bank.save(out / "kernels.npz")]
        spec = bank.info["spec"]
        described = f"expl {spec['expl']}" if "expl" in spec else ", ".join(f"{k} {v}" for k, v in spec.items() if k != "family")
        title = f"blurgen kernels - preset {settings.preset}, seed {options['seed']}, {described}"
        written.append(write_png(out / "kernels.png", contact_sheet(bank, title=title)))
        if settings.png_dir:
            write_kernel_pngs(bank, Path(settings.png_dir))
            written.append(Path(settings.png_dir))
    except OSError as error:
        raise fail(f"cannot write the output: {error}") from None
    return written


def kernels_table(bank: object, settings: object, options: dict, seconds: dict, written: list[Path], coverage: dict | None) -> Table:
    """The closing summary of ``blurgen kernels``."""
    stats, size = bank.stats(), options["size"]
    table = Table(title="blurgen kernels", show_header=False, title_justify="left")
    table.add_row("kernels", f"{len(bank)} = {settings.n} trajectories x {len(options['exposure'])} exposure(s), {size}x{size} px")
    compiled = ": numba compiled it, a first run; later runs load it from its cache" if seconds["load"] > COMPILED_AFTER_S else ""
    table.add_row("seconds", f"{seconds['all']:.2f} (code load {seconds['load']:.2f}{compiled}; sampling {seconds['sampling']:.2f})")
    table.add_row("kernel sets/s", f"{settings.n / seconds['sampling']:,.0f}")
    table.add_row("footprint px", "  ".join(f"{k} {v:.1f}" for k, v in stats["footprint_px"].items()))
    table.add_row("rescaled to fit", str(stats["rescaled"]))
    if "families" in stats:
        table.add_row("families", "  ".join(f"{name} {count}" for name, count in stats["families"].items()))
    if coverage is not None:
        table.add_row("coverage", coverage_line(coverage))
    table.add_row("written", "  ".join(str(path) + ("/" if path.is_dir() else "") for path in written))
    return table


def read_coverage_kernels(folder: str | None) -> dict | None:
    """``--coverage``'s measured kernels, read before any sampling so that a bad folder fails at once."""
    if folder is None:
        return None
    from blurgen.kernels.measured import KernelError, read_kernels

    try:
        return read_kernels(folder)
    except KernelError as error:
        raise fail(f"--coverage: {error}") from None


def write_coverage(bank: object, measured: dict, out: Path) -> Path:
    """The bank's coverage of the measured kernels, per kernel and summarised, to ``out/coverage.json``."""
    from blurgen.files import write_atomic
    from blurgen.kernels.coverage import coverage, summarise

    found = coverage(measured, bank.kernels)
    record = {"kernels": len(bank), "preset": bank.info["preset"], "seed": bank.info["seed"], "size": bank.info["size"],
              **summarise(found), "measured": found}
    path = out / "coverage.json"
    write_atomic(path, (json.dumps(record, indent=2) + "\n").encode())
    return path


def coverage_line(record: dict) -> str:
    scores = "  ".join(f"{name} {entry['ncc']:.2f}" for name, entry in record["measured"].items())
    return f"mean {record['mean']:.3f}, worst {record['worst']:.3f} (best normalised cross-correlation): {scores}"


def with_capped_workers(settings: object, what: str) -> object:
    """``settings`` with ``workers`` capped at the cores (:mod:`blurgen.cores`), said on the console."""
    from dataclasses import replace

    from blurgen.cores import capped_workers

    workers, note = capped_workers(settings.workers, what)
    if note is None:
        return settings
    console.print(f"[yellow]note:[/] {note}")
    return replace(settings, workers=workers)


def kernels_parameters() -> list:
    from blurgen.kernels.bank import KernelsSettings

    return command_parameters(KernelsSettings)


kernels.__signature__ = inspect.Signature(kernels_parameters())
app.command()(kernels)


def dataset(**given: object) -> None:
    """Blur a corpus of sharp images into aligned (blurred, sharp) pairs on disk."""
    from blurgen.kernels.bank import BankFormatError
    from blurgen.output.dataset import DatasetConfig, DatasetMismatch, dataset_spec, write_preview
    from blurgen.output.distribute import select_shards
    from blurgen.sources import SourceError

    try:
        config = from_command(DatasetConfig, given)  # refuses what the settings' rules refuse
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # said below in the command's own words
            spec = dataset_spec(config)
        mine = select_shards(spec.shards(), config.jobs, config.job_index)
    except FileNotFoundError as error:
        raise fail(f"no such file: {error.filename}") from None
    except SettingError as error:
        raise fail(error.for_cli()) from None
    except (SourceError, BankFormatError, DatasetMismatch, ValueError, TypeError) as error:
        raise fail(str(error)) from None
    if spec.averaging is not None and spec.averaging.caveat:
        console.print(f"[yellow]warning:[/] --{spec.averaging.caveat}")
    config = with_capped_workers(config, "worker processes")
    if not spec.shards():
        raise fail(f"nothing to make pairs from: {spec.describe()['source'].get('kind', 'the source')} holds no usable item")
    if not mine:
        summary.print(f"job {config.job_index} of {config.jobs} has nothing to do: the dataset has {len(spec.shards())} "
                      f"shard(s), fewer than --jobs {config.jobs}")
        return
    report, seconds, loaded = write_dataset(spec, config)
    preview = write_preview(spec, config.preview) if config.preview and mine[0].index == 0 else None
    summary.print(dataset_table(report, spec, config, seconds, loaded, preview))
    report_problems(report, spec)


def write_dataset(spec: object, config: object) -> tuple[dict, float, float]:
    """Run the dataset's shards of this job with a progress bar: (report, seconds in all, seconds of code load)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from blurgen.output.dataset import DatasetMismatch, warm_up
    from blurgen.output.distribute import build_dataset, keep_freed_memory, shards_done

    keep_freed_memory()  # this process writes pairs too (--workers 1, small jobs)
    started = time.perf_counter()
    try:
        with console.status("loading blurgen's compiled code (a first run compiles it: about 10 s on 2 cores)"):
            warm_up(spec)
        loaded = time.perf_counter() - started
        with Progress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=console, transient=True,
        ) as progress:
            task = progress.add_task("planning shards", total=None)
            report = build_dataset(
                spec, workers=config.workers, num_shards=config.jobs, shard_index=config.job_index,
                distributor=config.distributor, on_image=lambda k: progress.advance(task, k),
                on_plan=lambda total: progress.update(task, total=total, description="source images"),
            )
    except KeyboardInterrupt:
        complete, total = shards_done(spec, config.jobs, config.job_index)
        if complete == total:
            raise interrupted(f"all {total} shard(s) are complete in {spec.split_dir}: nothing is left to write") from None
        raise interrupted(f"{complete} of {total} shard(s) complete in {spec.split_dir}; run the same command again to "
                          "write the rest (complete shards are kept, unfinished ones redone)") from None
    except (DatasetMismatch, OSError, RuntimeError, ValueError) as error:
        raise fail(str(error)) from None
    return report, time.perf_counter() - started, loaded


def dataset_table(report: dict, spec: object, config: object, seconds: float, loaded: float, preview: Path | None) -> Table:
    """The closing summary of ``blurgen dataset``."""
    from blurgen.sources import left_out

    table = Table(title="blurgen dataset", show_header=False, title_justify="left")
    source = spec.describe()["source"]
    add_source_rows(table, source, f"{report['sources']} {'windows' if spec.averaging else 'images'} in this job's shards",
                    f"clips with fewer frames than a window of --average {config.average} needs")
    if source.get("repeated"):
        table.add_row("read once", f"paths to a folder or file already read (links), passed over: {', '.join(source['repeated'][:5])}"
                      + (f" and {len(source['repeated']) - 5} more" if len(source["repeated"]) > 5 else ""))
    if left_out(spec.source):
        table.add_row("left out", f"blurgen output inside --src, not sharp photos: {', '.join(left_out(spec.source))}")
    if report["transparent"]:
        table.add_row("transparent", f"{report['transparent']} image(s) with an alpha channel, composited over white (recorded as 'alpha')")
    table.add_row("pairs written", f"{report['pairs']:,}")
    table.add_row("skipped", ", ".join(f"{reason} {count}" for reason, count in report["skipped"].items()) or "none")
    if config.motion in ("objects", "mixed"):
        fell_back = report["motion_fallbacks"]
        table.add_row("motion", f"{config.motion}; rotation blur instead of objects: " + (", ".join(f"{k} {v}" for k, v in fell_back.items()) or "none"))
    empty = f", {report['without_pairs']} without any pair (not marked complete)" if report["without_pairs"] else ""
    table.add_row("shards", f"{report['shards']} ({report['already_complete']} already complete, {report['written_now']} written now{empty})")
    compiled = " (numba compiled it: a first run; later runs load it from its cache)" if loaded > COMPILED_AFTER_S else ""
    table.add_row("seconds", f"{seconds:.1f}, of which code load {loaded:.1f}{compiled}")
    table.add_row("pairs/s", f"{report['pairs_now'] / (seconds - loaded):,.1f}" if seconds > loaded else "-")
    table.add_row("written", f"{spec.split_dir}/ ({spec.shard_format} shards)")
    if report.get("layout"):
        table.add_row("layout", layout_line(report["layout"], spec.split_dir))
    if report.get("layout_pending"):
        table.add_row("layout", f"{spec.framework_layout}: arranged once every shard is complete ({report['layout_pending']} not yet): "
                      "the run that completes the last one does it, or run the same command again")
    if preview:
        table.add_row("preview", f"the first pairs, pictured: {preview}")
    return table


def add_source_rows(table: Table, source: dict, what: str, too_short: str) -> None:
    """A summary's rows about its source: what it read, and the video files and clips it left out."""
    table.add_row("source", f"{source.get('kind', 'source')}: {what}")
    if source.get("unreadable"):
        table.add_row("unreadable", f"video files OpenCV could not open, left out: {', '.join(source['unreadable'])}")
    if source.get("too_short"):
        table.add_row("too short", f"{too_short}, left out: {', '.join(source['too_short'])}")


def layout_line(record: dict, split_dir: Path) -> str:
    """What ``--layout`` / ``--format lmdb`` arranged, for the closing summary."""
    folder = split_dir / record["layout"]
    what = "crops" if record["layout"] in ("nafnet", "restormer") else "pairs"
    line = (f"{record['layout']}: {record['entries']:,} {what}{' in LMDB' if record['lmdb'] else ''} in {folder}/; "
            f"options to paste: {folder / record['options']}" + ("" if record["built_now"] else " (arranged before)"))
    if record["converted_16_bit"]:
        line += f"; {record['converted_16_bit']} 16-bit pair(s) converted to 8-bit (the framework reads 8-bit)"
    if record["too_small_for_crops"]:
        line += f"; {record['too_small_for_crops']} pair(s) smaller than a 512-px crop left out"
    return line


def report_problems(report: dict, spec: object) -> None:
    """Name the skipped files, failures and busy shards of a dataset run; no pair at all is an error."""
    skipped = report["skipped"]
    for reason, names in report["skipped_files"].items():
        more = skipped.get(reason, len(names)) - len(names)
        why = f", smaller than {report['too_small_below_px']} px a side" if reason == "too_small" and report.get("too_small_below_px") else ""
        console.print(f"[yellow]skipped ({reason}{why}):[/] {', '.join(names)}" + (f" and {more} more (named in each shard's stats.json)" if more > 0 else ""))
    if report["dim_16_bit"]:
        console.print(f"[yellow]warning:[/] 16-bit images whose values all stay below 4096 (1/16 of the range: 12-bit data "
                      f"stored in 16 bits?) are blurred as the nearly black images they encode, and camera noise swamps "
                      f"them; scale them to the full range first: {', '.join(report['dim_16_bit'])}")
    for failure in report["failures"][:5]:
        console.print(f"[yellow]failed:[/] {failure}")
    if report["busy"]:
        console.print(f"[yellow]{report['busy']} shard(s) were being written by another run into {spec.split_dir}:[/] left to it; "
                      "run this command again once it has ended, to check that every shard is complete")
    if not report["pairs"] and not report["busy"]:
        still = (": the windows move less than --min-motion asks" if "below_min_motion" in skipped else
                 ": the frames of each window are not one shot (unrelated pictures, or a cut in every window)"
                 if "scene_cut" in skipped else "")
        raise fail(f"no pair was written: every source image was skipped ({', '.join(f'{k} {v}' for k, v in skipped.items()) or 'none read'}){still}")


def dataset_parameters() -> list:
    from blurgen.output.dataset import DatasetConfig

    return command_parameters(DatasetConfig)


dataset.__signature__ = inspect.Signature(dataset_parameters())
app.command()(dataset)


def sequences(**given: object) -> None:
    """Make blurred video sequences for video deblurring: consecutive blurred frames with their sharp frames, from stills or clips."""
    from blurgen.output.dataset import DatasetMismatch
    from blurgen.output.distribute import select_shards
    from blurgen.output.sequences import SequencesConfig, sequence_spec
    from blurgen.sources import SourceError

    try:
        config = from_command(SequencesConfig, given)
        spec = sequence_spec(config)
        mine = select_shards(spec.shards(), config.jobs, config.job_index)
    except SettingError as error:
        raise fail(error.for_cli()) from None
    except (SourceError, DatasetMismatch, ValueError) as error:
        raise fail(str(error)) from None
    config = with_capped_workers(config, "worker processes")
    if not spec.shards():
        raise fail(f"nothing to make sequences from: {spec.describe()['source'].get('kind', 'the source')} holds no usable item")
    if not mine:
        summary.print(f"job {config.job_index} of {config.jobs} has nothing to do: {len(spec.shards())} shard(s), fewer than --jobs {config.jobs}")
        return
    report, seconds = write_sequences_with_progress(spec, config)
    preview = write_sequence_preview(spec, config.preview) if config.preview and mine[0].index == 0 else None
    summary.print(sequences_table(report, spec, seconds, preview))
    for reason, names in report["skipped_files"].items():
        more = report["skipped"][reason] - len(names)
        console.print(f"[yellow]skipped ({reason}):[/] {', '.join(names)}" + (f" and {more} more (named in each shard's stats.json)" if more > 0 else ""))
    for failure in report["failures"][:5]:
        console.print(f"[yellow]failed:[/] {failure}")
    if not report["sequences"] and not report["busy"]:
        raise fail(f"no sequence was written: every one was skipped ({', '.join(f'{k} {v}' for k, v in report['skipped'].items()) or 'none made'})")


def write_sequences_with_progress(spec: object, config: object) -> tuple[dict, float]:
    """Run this job's shards of sequences with a progress bar: (report, seconds)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from blurgen.output.dataset import DatasetMismatch
    from blurgen.output.distribute import keep_freed_memory, shards_done
    from blurgen.output.sequences import build_sequences

    keep_freed_memory()
    started = time.perf_counter()
    try:
        with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=console, transient=True) as progress:
            task = progress.add_task("planning shards", total=None)
            report = build_sequences(spec, workers=config.workers, num_shards=config.jobs, shard_index=config.job_index,
                                     distributor=config.distributor, on_image=lambda k: progress.advance(task, k),
                                     on_plan=lambda total: progress.update(task, total=total, description="sequences"))
    except KeyboardInterrupt:
        complete, total = shards_done(spec, config.jobs, config.job_index)
        raise interrupted(f"{complete} of {total} shard(s) complete in {spec.split_dir}; run the same command again to write the "
                          "rest (complete shards are kept, unfinished ones redone)") from None
    except (DatasetMismatch, OSError, RuntimeError, ValueError) as error:
        raise fail(str(error)) from None
    return report, time.perf_counter() - started


def write_sequence_preview(spec: object, count: int) -> Path | None:
    """``<split>/preview.png``: the first written sequence's first ``count`` frames, blurred over sharp."""
    from blurgen.output.contact_sheet import sequence_strip, write_png
    from blurgen.output.sequences import written_sequences
    from blurgen.sources.images import read_image

    written = written_sequences(spec.split_dir)
    if not written:
        return None
    first = written[0]
    frames = {side: [read_image(first.folder / side / f"{k:08d}.png") for k in range(min(count, first.count))] for side in ("blur", "sharp")}
    title = f"blurgen sequences: sequence {first.index}, {spec.settings['fps']:g} fps, duty {spec.settings['duty']:g}"
    return write_png(spec.split_dir / "preview.png", sequence_strip(frames["blur"], frames["sharp"], count=count, title=title))


def sequences_table(report: dict, spec: object, seconds: float, preview: Path | None) -> Table:
    """The closing summary of ``blurgen sequences``."""
    table = Table(title="blurgen sequences", show_header=False, title_justify="left")
    planned = "sequences planned" if spec.settings["origin"] == "clips" else "photos"
    add_source_rows(table, spec.describe()["source"], f"{report['sources']} {planned} in this job's shards",
                    f"clips shorter than one sequence of {spec.settings['frames']} frames")
    ended = f" ({report['ended_early']} ended early by a scene cut)" if report["ended_early"] else ""
    table.add_row("sequences written", f"{report['sequences']:,}{ended}, {report['frames']:,} frames")
    table.add_row("skipped", ", ".join(f"{reason} {count}" for reason, count in report["skipped"].items()) or "none")
    table.add_row("shards", f"{report['shards']} ({report['already_complete']} already complete, {report['written_now']} written now)")
    table.add_row("seconds", f"{seconds:.1f}")
    table.add_row("frames/s", f"{report['frames_now'] / seconds:,.1f}" if seconds > 0 else "-")
    table.add_row("written", f"{spec.split_dir}/ (shards of <sequence>/blur, <sequence>/sharp)")
    if report.get("layout"):
        record = report["layout"]
        left = f"; {record['left_out']} shortened sequence(s) left out (REDS readers need 100 frames)" if record["left_out"] else ""
        options = f"; options to paste: {spec.split_dir / record['layout'] / record['options']}" if record["options"] else ""
        table.add_row("layout", f"{record['layout']}: {record['sequences']:,} sequences, {record['frames']:,} frames in "
                      f"{spec.split_dir / record['layout']}/{options}{left}" + ("" if record["built_now"] else " (arranged before)"))
    if report.get("layout_pending") and report["sequences"]:
        table.add_row("layout", f"{spec.layout}: arranged once every shard is complete ({report['layout_pending']} not yet): run the same command again")
    if preview:
        table.add_row("preview", f"the first sequence's frames, pictured: {preview}")
    return table


def sequences_parameters() -> list:
    from blurgen.output.sequences import SequencesConfig

    return command_parameters(SequencesConfig)


sequences.__signature__ = inspect.Signature(sequences_parameters())
app.command()(sequences)


def output_parameter(default: Path | None, help: str) -> inspect.Parameter:
    """A command's own --out or --src option, beside the ones its settings table generates."""
    kind = Path if default is not None else Optional[Path]
    return inspect.Parameter("out" if default is not None else "src", inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[kind, typer.Option(help=help)])


def evalset(out: Path, src: Optional[Path], **given: object) -> None:
    """Write a paired evaluation set of real photographs (blur/ + sharp/), with no download.

    The default photos are the colour photographs that ship inside scikit-image (licences in
    evalset.json). Kernels and camera draws come from a stream of their own, never the one a
    training run with the same seed uses.
    """
    from blurgen.output.evalset import EvalsetExists, EvalsetSpec, build_evalset
    from blurgen.sources import SourceError, open_source
    from blurgen.sources.images import counted

    started = time.perf_counter()
    try:
        spec = from_command(EvalsetSpec, given)
        source = open_source(src) if src is not None else None
        with console.status("blurring photos") as status:
            settings = build_evalset(out, spec, source, on_pair=lambda key: status.update(f"blurred {key}"))
    except KeyboardInterrupt:
        raise interrupted(f"nothing written to {out} (the set is written under a temporary name and renamed when whole); "
                          "run the command again") from None
    except SettingError as error:
        raise fail(error.for_cli()) from None
    except (EvalsetExists, SourceError, ValueError, TypeError) as error:
        raise fail(str(error)) from None
    except OSError as error:
        from blurgen.files import write_failure

        raise fail(f"{write_failure(out, error)}; nothing was kept there (the set is written whole or not at all)") from None
    table = Table(title="blurgen evalset", show_header=False, title_justify="left")
    used, listed = settings["pairs"] // settings["per_image"], settings["source"].get("images")
    table.add_row("pairs", f"{settings['pairs']} ({settings['per_image']} per photo, from {used} of the {listed} photos found)")
    table.add_row("skipped", counted(settings["skipped"]))
    table.add_row("kernels", f"{settings['preset']}, {settings['kernel_size']} px; camera {settings['camera']}")
    table.add_row("seconds", f"{time.perf_counter() - started:.1f}")
    table.add_row("written", f"{out}/blur, {out}/sharp, {out}/evalset.json")
    summary.print(table)


def evalset_parameters() -> list:
    from blurgen.output.evalset import EvalsetSpec

    return [output_parameter(Path("evalset"), "Output folder: blur/, sharp/, meta.jsonl, evalset.json."),
            output_parameter(None, "Sharp photos to use instead of the ones scikit-image ships (any source 'blurgen dataset' takes)."),
            *command_parameters(EvalsetSpec)]


evalset.__signature__ = inspect.Signature(evalset_parameters())
app.command()(evalset)


def motion_sheet_command(out: Path, **given: object) -> None:
    """Picture a few pairs of non-uniform blur: sharp | blurred | blur map per row, with what moved."""
    from blurgen.blurring.camera import camera_preset
    from blurgen.blurring.motion import shake_preset
    from blurgen.output.contact_sheet import MotionSheetSettings, motion_sheet, write_png
    from blurgen.pairs.motion import Motion
    from blurgen.pairs.synthesizer import ImageTooSmall, LiveKernels, PairSynthesizer
    from blurgen.sources import BadImage, SourceError, open_source
    from blurgen.sources.packaged import PackagedPhotos

    try:
        settings = from_command(MotionSheetSettings, given)
        source = open_source(settings.src) if settings.src is not None else PackagedPhotos()
        synthesizer = PairSynthesizer(source, LiveKernels(), camera_preset(settings.camera), crop=settings.crop, seed=settings.seed,
                                      motion=Motion(settings.motion, shake_preset(settings.shake, settings.fov)))
    except SettingError as error:
        raise fail(error.for_cli()) from None
    except (SourceError, ValueError) as error:
        raise fail(str(error)) from None
    rows = []
    for index in range(len(synthesizer)):
        if len(rows) == settings.limit:
            break
        try:
            pair, _, blur_map = synthesizer.make_with_map(synthesizer.source[index], index)
        except (BadImage, ImageTooSmall) as error:
            console.print(f"[yellow]skipped[/] {index}: {error}")
            continue
        moved = pair.meta["motion"]
        what = f"{len(moved['objects'])} object(s)" if moved["objects"] else ("rotation" + (f" (no objects: {moved['fallback']})" if moved["fallback"] else ""))
        span = moved["rotation"]["span_deg"] if moved["rotation"] else None
        angles = f", yaw/pitch/roll span {span['yaw']:.2f}/{span['pitch']:.2f}/{span['roll']:.2f} deg" if span else ""
        rows.append((pair.sharp, pair.blurred, blur_map, f"{pair.meta['source_id']}: {what}{angles}, {moved['poses']} poses, path {moved['blur_map']['mean']:.1f} px mean"))
    if not rows:
        raise fail("no image could be used")
    try:
        title = f"blurgen --motion {settings.motion} --shake {settings.shake}, fov {settings.fov:g} deg, camera {settings.camera}"
        write_png(out, motion_sheet(rows, title=title))
    except OSError as error:
        raise fail(f"cannot write --out {out}: {error.strerror or error}") from None
    summary.print(f"wrote {out}: {len(rows)} pairs (sharp | blurred | blur map)")


def motion_sheet_parameters() -> list:
    from blurgen.output.contact_sheet import MotionSheetSettings

    return [output_parameter(Path("motion.png"), "The picture to write (PNG)."), *command_parameters(MotionSheetSettings)]


motion_sheet_command.__signature__ = inspect.Signature(motion_sheet_parameters())
app.command("motion-sheet")(motion_sheet_command)


@app.command()
def view(
    bank: Annotated[Optional[Path], typer.Argument(help="A kernel bank (.npz); default: kernels sampled live.")] = None,
    port: Annotated[int, typer.Option(help="Port (default: a free one).", min=0, max=65535)] = 0,
    host: Annotated[str, typer.Option(help="Address to bind. Only this machine can connect to the default.")] = "127.0.0.1",
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Start the server without opening a browser.")] = False,
    image: Annotated[Optional[Path], typer.Option(help="Preview image (default: a built-in dead-leaves image).")] = None,
) -> None:
    """Browse kernels in an interactive page: gallery, trajectories, live re-sampling, blur preview."""
    import webbrowser

    from blurgen.kernels.bank import BankFormatError
    from blurgen.sources import BadImage
    from blurgen.viewer.server import initial_state, make_server

    try:
        state = initial_state(bank, image)
    except FileNotFoundError as error:
        raise fail(f"no such file: {error.filename}") from None
    except (BankFormatError, BadImage) as error:
        raise fail(str(error)) from None
    try:
        server = make_server(state, host, port)
    except OSError as error:
        raise fail(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    url = f"http://{host if ':' not in host else f'[{host}]'}:{server.server_address[1]}/"
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.secho(f"note: listening on {host}, so other machines can reach this viewer", err=True, fg="yellow")
    typer.echo(f"blurgen view: {url}  (Ctrl-C to stop)", err=True)
    if not no_browser:
        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("blurgen view: stopped", err=True)
    finally:
        server.server_close()


@app.command()
def info(bank: Annotated[Path, typer.Argument(help="A kernel bank (.npz).")]) -> None:
    """Print a kernel bank's run settings and statistics as JSON."""
    from blurgen.kernels.bank import BankFormatError, KernelBank

    try:
        loaded = KernelBank.load(bank)
    except FileNotFoundError:
        raise fail(f"no such file: {bank}") from None
    except BankFormatError as error:
        raise fail(str(error)) from None
    typer.echo(json.dumps({"info": loaded.info, "stats": loaded.stats()}, indent=2))


def main() -> None:
    stop_on_sigterm()
    app()
