"""Errors about settings, written once for the library and its command lines.

A :class:`SettingError` names the settings it is about as ``{field}`` placeholders. In Python its
message uses the plain names (``crop must be a multiple of 4``); a command line shows the
option names instead (``--crop must be a multiple of 4``) with :meth:`SettingError.for_cli`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


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


def check_choice(setting: str, value: object, allowed: Iterable[object]) -> None:
    """A :class:`SettingError` unless ``value`` is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise SettingError(f"{{{setting}}} must be one of {', '.join(map(str, allowed))}, got {value!r}")
