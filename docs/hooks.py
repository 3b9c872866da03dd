"""Option tables generated from the settings tables, so the pages cannot drift from the code.

Between a line ``<!-- options: module.Table -->`` and the line ``<!-- /options -->`` a page holds
the table of that settings table's fields (the command-line flags, default, choices and bounds,
help), read from its ``Option`` metadata. The tables are written into the pages themselves, so
they read the same on GitHub as on the site: ``python docs/hooks.py`` rewrites them after a
settings change (a test fails while a page is stale), and the MkDocs hook fills them again when
the site is built.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

BLOCK = re.compile(r"^<!-- options: ([\w.]+) -->\n(?:.*?\n)?<!-- /options -->$", re.MULTILINE | re.DOTALL)
PAGES = ("data/options.md", "data/sequences.md", "training/options.md")


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


def filled(markdown: str) -> str:
    """``markdown`` with every options block holding its table as the code defines it now."""
    return BLOCK.sub(lambda match: f"<!-- options: {match.group(1)} -->\n{options_table(match.group(1))}\n<!-- /options -->", markdown)


def on_page_markdown(markdown: str, **_: object) -> str:
    return filled(markdown)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    for page in PAGES:
        path = Path(__file__).parent / page
        path.write_text(filled(path.read_text()))
        print(f"wrote {path}")
