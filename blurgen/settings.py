"""Errors about settings, written once for the library and its command lines.

A :class:`SettingError` names the settings it is about as ``{field}`` placeholders. In Python its
message uses the plain names (``crop must be a multiple of 4``); a command line shows the
option names instead (``--crop must be a multiple of 4``) with :meth:`SettingError.for_cli`.

Settings tables are dataclasses whose fields carry an :class:`Option` (:func:`option`): the pair
settings (:mod:`blurgen.pairs.settings`) and the trainer's. Each command line is generated from its
table (:func:`command_parameters`), so help, choices and bounds are written once.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


class _Names(dict):
    def __init__(self, name_of: Callable[[str], str]) -> None:
        super().__init__()
        self.name_of = name_of

    def __missing__(self, key: str) -> str:
        return self.name_of(key)


def option_name(setting: str) -> str:
    """``batch_size`` → ``--batch-size``."""
    return "--" + setting.replace("_", "-")


class SettingError(ValueError):
    """A setting whose value cannot be used; ``template`` names settings as ``{name}`` fields
    (literal braces doubled)."""

    def __init__(self, template: str) -> None:
        self.template = template
        super().__init__(template.format_map(_Names(str)))

    def for_cli(self, name_of: Callable[[str], str] = option_name) -> str:
        """The message with each setting written as its command-line option."""
        return self.template.format_map(_Names(name_of))


def literal(text: str) -> str:
    """``text`` inside a :class:`SettingError` template, its braces shown as they are."""
    return text.replace("{", "{{").replace("}", "}}")


def check_choice(setting: str, value: object, allowed: Iterable[object]) -> None:
    """A :class:`SettingError` unless ``value`` is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise SettingError(f"{{{setting}}} must be one of {', '.join(map(str, allowed))}, got {value!r}")


UNSET = object()  # no value: the paper says nothing, or every record holds the setting


@dataclass(frozen=True)
class Option:
    """One setting's description: the metadata of a field of a settings table (a dataclass).

    ``help``, ``choices`` and the bounds (``minimum``/``maximum``, inclusive; ``above``: a strict
    lower bound) are checked by :func:`check_options` and shown by each command. ``flags``: the
    command-line names (default ``--field-name``; more are former names kept working); ``path``:
    given as a path; ``cli``: on the command line at all. The trainer's table also uses ``paper``
    (the value ``--paper`` sets; ``paper_fixed``: an explicit other value is then an error),
    ``kept`` (a resumed run must keep it) and ``legacy`` (the value of checkpoints that predate it).
    ``group``: the settings it works with (the pair table's ``live`` kernels and ``video``
    averaging), from which a table's rules take their lists.
    """

    help: str
    choices: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    flags: tuple[str, ...] = ()
    path: bool = False
    cli: bool = True
    paper: Any = UNSET
    paper_fixed: bool = True
    kept: bool = False
    legacy: Any = UNSET
    group: str = ""

    def flag(self, name: str) -> str:
        """The option's command-line name (``--compile/--no-compile``: ``--compile``)."""
        return (self.flags or (option_name(name),))[0].split("/")[0]


def option(default: Any, help: str, **description: Any) -> Any:
    """A settings-table field: its default and its :class:`Option`."""
    return field(default=default, metadata={"option": Option(help, **description)})


def options(table: Any) -> dict[str, Option]:
    """Each setting's :class:`Option` of a settings table (class or instance), in the table's order."""
    return {f.name: f.metadata["option"] for f in dataclasses.fields(table) if "option" in f.metadata}


def defaults(table: Any) -> dict[str, Any]:
    return {f.name: f.default for f in dataclasses.fields(table)}


def check_value(name: str, value: Any, rule: Option) -> None:
    """One setting's value against its choices and bounds, as a :class:`SettingError`. None is
    the unset value of an optional setting (checked by the table's own rules where it matters)."""
    if rule.choices and value is not None:
        check_choice(name, value, rule.choices)
    if value is None or isinstance(value, bool):
        return
    shown = f"{value:g}" if isinstance(value, float) else value  # 0.0 given as 0 on a command line reads back as 0
    if rule.minimum is not None and value < rule.minimum:
        raise SettingError(f"{{{name}}} must be >= {rule.minimum:g}, got {shown}")
    if rule.maximum is not None and value > rule.maximum:
        raise SettingError(f"{{{name}}} must be <= {rule.maximum:g}, got {shown}")
    if rule.above is not None and value <= rule.above:
        raise SettingError(f"{{{name}}} must be > {rule.above:g}, got {shown}")


def check_setting(table: Any, name: str, value: Any) -> None:
    """``value`` as setting ``name`` of ``table`` (class or instance): its choices and bounds."""
    check_value(name, value, options(table)[name])


def check_options(settings: Any, names: Iterable[str] | None = None) -> None:
    """Each setting's type, choices and bounds (of ``names``, default all), as a :class:`SettingError`;
    checking them all first converts what a command line would have parsed (:func:`convert_types`)."""
    if names is None:
        convert_types(settings)
    described = options(settings)
    for name in described if names is None else names:
        check_value(name, getattr(settings, name), described[name])


_NUMBERS = {"int": (numbers.Integral, int), "float": (numbers.Real, float)}  # what a number field accepts, and its type


def _converted(name: str, value: Any, hint: str, path: bool) -> Any:
    """``value`` as a command would have parsed it for a field annotated ``hint``."""
    kinds = [part.strip() for part in hint.split("|")]
    if value is None:
        if "None" in kinds:
            return None
        raise SettingError(f"{{{name}}} needs a value, got None")
    kind = next(part for part in kinds if part != "None")
    if kind == "str":
        if isinstance(value, str) or (path and isinstance(value, os.PathLike)):
            return os.fspath(value)
    elif kind == "bool":
        if isinstance(value, bool):
            return value
    elif kind in _NUMBERS:
        accepted, cast = _NUMBERS[kind]
        if isinstance(value, accepted) and not isinstance(value, bool):
            return cast(value)
        if isinstance(value, str):
            try:
                return cast(value.strip())
            except ValueError:
                pass
    else:
        return value
    wanted = {"str": "text" + (" or a path" if path else ""), "bool": "True or False", "int": "a whole number",
              "float": "a number"}[kind]
    raise SettingError(f"{{{name}}} must be {wanted}, got {value!r}")


def convert_types(settings: Any) -> None:
    """Each setting of a table given from Python as a command line would have parsed it: text of
    a number becomes the number (``crop="256"`` → 256), a path becomes text; a value no command
    would accept is a :class:`SettingError` naming the setting."""
    hints = {f.name: f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
             for f in dataclasses.fields(settings)}
    for name, rule in options(settings).items():
        value = getattr(settings, name)
        converted = _converted(name, value, hints[name], rule.path)
        if converted is not value:
            object.__setattr__(settings, name, converted)  # frozen tables too: this is their own __post_init__


def command_parameters(table: type, *, extra_choices: dict[str, tuple] | None = None) -> list:
    """A typer command's parameters, one keyword option per field of ``table`` on the command line.

    A command built from them receives each setting under its field name; the help lists the
    choices when it does not already name them all. ``extra_choices`` are values accepted beyond
    the listed choices (former names), which the help does not show.
    """
    import inspect
    import typing
    from pathlib import Path
    from typing import Annotated, Optional

    import typer

    hints, start = typing.get_type_hints(table), defaults(table)
    parameters = []
    for name, rule in options(table).items():
        if not rule.cli:
            continue
        kind = hints[name]
        if rule.path:
            kind = Optional[Path] if start[name] is None else Path
        elif set(typing.get_args(kind) or (kind,)) & {int, float}:
            # numbers reach the table as typed, so that its own check words a bad one as Python does
            kind = Optional[str] if type(None) in typing.get_args(kind) else str
        help = rule.help
        if rule.choices and not all(str(choice) in help for choice in rule.choices):
            help += f" One of: {', '.join(map(str, rule.choices))}."
        bounds = [f"{sign} {value:g}" for sign, value in ((">=", rule.minimum), (">", rule.above), ("<=", rule.maximum)) if value is not None]
        if bounds:  # checked by check_options, which names the option in one line, not by typer
            help += f" [{', '.join(bounds)}]"
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=start[name],
                                            annotation=Annotated[kind, typer.Option(*(rule.flags or (option_name(name),)), help=help)]))
    return parameters


def from_command(table: type, given: dict[str, Any]) -> Any:
    """The settings a command built by :func:`command_parameters` received (paths as text)."""
    described = options(table)
    return table(**{name: str(value) if name in described and described[name].path and value is not None else value
                    for name, value in given.items()})
