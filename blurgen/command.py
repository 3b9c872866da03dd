"""What both command lines (``blurgen`` and ``train``/``deblur``) say when they stop early: one
clear line for a bad input (status 2, as for bad usage) or for an interruption (status 130), so
the two commands cannot drift apart."""

from __future__ import annotations

import inspect
from typing import Annotated

import typer

from blurgen import __version__
from blurgen.stopping import interrupted_exit


def fail(message: str) -> typer.Exit:
    """Print one clear line and return the exit to raise (status 2, as for bad usage)."""
    typer.secho(f"error: {message}", err=True, fg="red")  # one line, never wrapped
    return typer.Exit(2)


def interrupted(message: str) -> typer.Exit:
    """Ctrl-C or SIGTERM: one line saying where the command stopped and how to go on; status 130
    for Ctrl-C, 143 for SIGTERM (128 + the signal, as shells report it)."""
    typer.secho(f"interrupted: {message}", err=True, fg="yellow")
    return typer.Exit(interrupted_exit())


def version_parameter(program: str) -> inspect.Parameter:
    """A ``--version`` option for a command's signature: prints ``<program> <version>`` and exits at once."""

    def show(value: bool) -> None:
        if value:
            typer.echo(f"{program} {__version__}")
            raise typer.Exit()

    option = typer.Option("--version", callback=show, is_eager=True, help=f"Print {program}'s version and exit.")
    return inspect.Parameter("version", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, option])
