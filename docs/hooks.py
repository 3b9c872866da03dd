"""MkDocs hook: option tables generated from the settings tables, so the pages cannot drift from the code.

A page line ``<!-- options: module.Table -->`` becomes a table of that settings table's fields
(the command-line flags, default, choices and bounds, help), read from its ``Option`` metadata.
"""

from __future__ import annotations

import importlib
import re

MARKER = re.compile(r"^<!-- options: ([\w.]+) -->$", re.MULTILINE)


def shown(value: object) -> str:
    return "—" if value is None else f"`{value}`"


def options_table(path: str) -> str:
    from blurgen.settings import defaults, options

    module, _, name = path.rpartition(".")
    table = getattr(importlib.import_module(module), name)
    start = defaults(table)
    lines = ["| option | default | values | meaning |", "| --- | --- | --- | --- |"]
    for field, rule in options(table).items():
        if not rule.cli:
            continue
        flags = ", ".join(f"`{flag}`" for flag in (rule.flags or ("--" + field.replace("_", "-"),)))
        bounds = [f"≥ {rule.minimum:g}" if rule.minimum is not None else "", f"> {rule.above:g}" if rule.above is not None else "",
                  f"≤ {rule.maximum:g}" if rule.maximum is not None else ""]
        values = ", ".join(f"`{choice}`" for choice in rule.choices) or " ".join(bound for bound in bounds if bound)
        help_text = rule.help.replace("|", "\\|")
        lines.append(f"| {flags} | {shown(start[field])} | {values} | {help_text} |")
    return "\n".join(lines)


def on_page_markdown(markdown: str, **_: object) -> str:
    return MARKER.sub(lambda match: options_table(match.group(1)), markdown)
