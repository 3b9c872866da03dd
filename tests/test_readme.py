"""The README is a front page a new user copies from: its first two commands, and every command and
option it shows, must work as written."""

import re
import shlex
from pathlib import Path

import cv2
import pytest
from typer.testing import CliRunner

from blurgen.cli import app as blurgen_app
from train.cli import deblur_app, train_app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
APPS = {"blurgen": blurgen_app, "train": train_app, "deblur": deblur_app}


def shown_commands() -> list[list[str]]:
    """Every ``blurgen``, ``train`` or ``deblur`` invocation in the README's shell blocks (comments
    dropped, ``&&`` chains split)."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.splitlines():
            for part in line.split("#")[0].split("&&"):
                words = shlex.split(part.replace("$SLURM_ARRAY_TASK_ID", "0"))
                if words and words[0] in APPS:
                    commands.append(words)
    return commands


def test_the_readme_starts_with_the_install_and_test_commands():
    first = re.search(r"```bash\n(.*?)```", README, re.S).group(1).splitlines()
    assert first == ['python3 -m pip install -e ".[dev]" && blurgen dataset --out demo/', "python3 -m pytest -q"]
    assert len(README.splitlines()) < 220


@pytest.mark.parametrize("words", shown_commands(), ids=lambda words: " ".join(words[:2]))
def test_every_command_and_option_the_readme_shows_exists(words):
    program, rest = words[0], words[1:]
    path = [rest[0]] if program == "blurgen" else []
    result = CliRunner().invoke(APPS[program], [*path, "--help"], prog_name=program, terminal_width=300)
    assert result.exit_code == 0, result.output
    for option in (word.split("=")[0] for word in rest if word.startswith("--")):
        assert re.search(rf"(^|[\s,]){re.escape(option)}([\s,/]|$)", result.output, re.M), f"{option} is not an option of {program} {' '.join(path)}"


def test_the_main_job_of_the_first_command_runs_and_pictures_its_pairs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(blurgen_app, ["dataset", "--out", "demo/"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "demo" / "train").glob("shard-*/blur/*.png"))) == 100
    picture = cv2.imread(str(tmp_path / "demo" / "train" / "preview.png"))  # the first 8 pairs, blurred | sharp
    assert picture is not None and picture.shape[0] > 8 * 100 and "the first pairs, pictured" in result.output


def test_the_option_pages_hold_the_tables_the_code_defines():
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    for page in hooks.PAGES:
        text = (ROOT / "docs" / page).read_text()
        assert "| option | default |" in text and hooks.filled(text) == text, f"docs/{page} is stale: run python docs/hooks.py"
