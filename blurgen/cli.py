"""The ``blurgen`` command line: a thin layer over the library.

Heavy modules (numba, OpenCV) are imported inside the commands, so ``blurgen --help`` is quick,
and nothing here imports torch.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="Synthetic camera-shake blur: kernel banks and aligned (blurred, sharp) training pairs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Print one clear line and return the exit to raise (status 2, as for bad usage)."""
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(2)


@app.command()
def kernels(
    n: Annotated[int, typer.Option("--n", help="Number of trajectories (kernel sets) to sample.", min=1)] = 1000,
    out: Annotated[Path, typer.Option(help="Output folder: kernels.npz and kernels.png go here.")] = Path("bank"),
    size: Annotated[int, typer.Option(help="Kernel side in px. 65 = DeblurGAN's 64-px canvas + 1, odd so the centre is a pixel.", min=3)] = 65,
    seed: Annotated[int, typer.Option(help="Run seed; kernel i depends only on (seed, i).", min=0)] = 0,
    preset: Annotated[str, typer.Option(help="deblurgan (default, as DeblurGAN trained), mild, strong or anxious.")] = "deblurgan",
    expl: Annotated[Optional[str], typer.Option(help="Anxiety: a value (0.005), a range (0.003:0.01) or a set (0.003,0.01). Overrides the preset.")] = None,
    max_len: Annotated[Optional[float], typer.Option("--max-len", help="Path length in px. Overrides the preset (deblurgan: 60).")] = None,
    iters: Annotated[Optional[int], typer.Option(help="Positions per trajectory. Overrides the preset (deblurgan: 2000).")] = None,
    exposure: Annotated[str, typer.Option(help="Exposure fraction (1, 0.5, 1/2) or 'all' for 1/100, 1/10, 1/2, 1 per trajectory.")] = "1",
    workers: Annotated[Optional[int], typer.Option(help="Threads (default: all cores). The output does not depend on it.")] = None,
    png_dir: Annotated[Optional[Path], typer.Option("--png-dir", help="Also write one 16-bit PNG per kernel here.")] = None,
) -> None:
    """Sample camera-shake blur kernels into a kernel bank (kernels.npz) with a contact sheet (kernels.png)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from blurgen.bank import parse_exposures, sample_kernels
    from blurgen.contact_sheet import contact_sheet, write_kernel_pngs, write_png

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise fail(f"cannot create --out {out}: {error.strerror}") from None
    try:
        exposures = parse_exposures(exposure)
        options = dict(seed=seed, size=size, preset=preset, exposure=exposures, expl=expl, max_len=max_len, iters=iters)
        started = time.perf_counter()
        sample_kernels(1, **options)  # loads numba's cached machine code, so the rate below is sampling alone
        loaded = time.perf_counter()
        with Progress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=console, transient=True,
        ) as progress:
            task = progress.add_task("sampling", total=n)
            bank = sample_kernels(n, workers=workers, progress=lambda done: progress.advance(task, done), **options)
        sampled = time.perf_counter() - loaded
    except (ValueError, TypeError) as error:
        raise fail(str(error)) from None

    try:
        bank_path = bank.save(out / "kernels.npz")
        title = f"blurgen kernels - preset {preset}, seed {seed}, expl {bank.info['spec']['expl']}"
        sheet_path = write_png(out / "kernels.png", contact_sheet(bank, title=title))
        if png_dir is not None:
            write_kernel_pngs(bank, png_dir)
    except OSError as error:
        raise fail(f"cannot write the output: {error}") from None
    elapsed = time.perf_counter() - started

    stats = bank.stats()
    table = Table(title="blurgen kernels", show_header=False, title_justify="left")
    table.add_row("kernels", f"{len(bank)} = {n} trajectories x {len(exposures)} exposure(s), {size}x{size} px")
    table.add_row("seconds", f"{elapsed:.2f} (code load {loaded - started:.2f}, sampling {sampled:.2f})")
    table.add_row("kernel sets/s", f"{n / sampled:,.0f}")
    footprint = stats["footprint_px"]
    table.add_row("footprint px", "  ".join(f"{k} {v:.1f}" for k, v in footprint.items()))
    table.add_row("rescaled to fit", str(stats["rescaled"]))
    table.add_row("written", f"{bank_path}  {sheet_path}" + (f"  {png_dir}/" if png_dir else ""))
    console.print(table)


@app.command()
def info(bank: Annotated[Path, typer.Argument(help="A kernel bank (.npz).")]) -> None:
    """Print a kernel bank's run settings and statistics as JSON."""
    from blurgen.bank import BankFormatError, KernelBank

    try:
        loaded = KernelBank.load(bank)
    except FileNotFoundError:
        raise fail(f"no such file: {bank}") from None
    except BankFormatError as error:
        raise fail(str(error)) from None
    typer.echo(json.dumps({"info": loaded.info, "stats": loaded.stats()}, indent=2))


def main() -> None:
    app()
