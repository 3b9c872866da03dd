"""Named trajectory distributions for ``--preset``.

``deblurgan`` is the default because it reproduces the kernels DeblurGAN trained on: its
``blur_image.py`` draws ``expl`` from {0.003, 0.005, 0.007, 0.008, 0.009, 0.01} with a 64-px
canvas, ``max_len`` 60 and 2000 iterations. Where the paper and the code disagree (DeblurGAN
issue #178) we follow the code. The others change one knob each, so their effect is easy to read:

* ``mild``: half the path length (30 px): small blur, for fine-tuning or light shake;
* ``strong``: 1.5× the path (90 px), calmer paths (expl ≤ 0.005), so footprints grow; use a
  kernel size of 97 or more to keep the shapes unscaled;
* ``anxious``: the reference ``Trajectory`` class default ``expl = 0.1·U``: erratic, compact
  blobs (median footprint about 6 px).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from blurgen.trajectory import Expl, TrajectorySpec

DEFAULT_PRESET = "deblurgan"

PRESETS: dict[str, TrajectorySpec] = {
    "deblurgan": TrajectorySpec(),
    "mild": TrajectorySpec(max_len=30.0),
    "strong": TrajectorySpec(expl=Expl(choices=(0.001, 0.002, 0.003, 0.004, 0.005)), max_len=90.0),
    "anxious": TrajectorySpec(expl=Expl(0.0, 0.1)),
}


def load_preset_file(path: str | Path) -> TrajectorySpec:
    """A preset file (JSON with a ``spec`` object, as ``blurgen view`` exports) as a spec."""
    try:
        spec = json.loads(Path(path).read_text())["spec"]
        return TrajectorySpec(**spec)
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"cannot read preset file {path}: {type(error).__name__}: {error}") from None


def preset_file_settings(path: str | Path) -> dict:
    """The run settings a preset file may carry beside its spec (``size``, ``exposures``, ``seed``,
    as ``blurgen view`` saves them); ``blurgen kernels`` uses them unless its options say otherwise."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read preset file {path}: {type(error).__name__}: {error}") from None
    return {key: data[key] for key in ("size", "exposures", "seed") if isinstance(data, dict) and data.get(key) is not None}


def preset_name(preset: str) -> str:
    """How a bank records its preset: the name, or a preset file's stem (not a path of this machine)."""
    return Path(preset).stem if preset.endswith(".json") else preset


def trajectory_spec(preset: str = DEFAULT_PRESET, **overrides: object) -> TrajectorySpec:
    """The spec of a named preset, or of a preset file (``*.json``), with some fields replaced
    (e.g. ``expl="0.005"``, ``max_len=40``). Overrides that are ``None`` are ignored, so CLI
    options can pass through unset.
    """
    if preset.endswith(".json"):
        base = load_preset_file(preset)
    elif preset in PRESETS:
        base = PRESETS[preset]
    else:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}, or a preset .json file")
    given = {name: value for name, value in overrides.items() if value is not None}
    unknown = set(given) - set(TrajectorySpec.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown trajectory parameter(s): {', '.join(sorted(unknown))}")
    return replace(base, **given)
