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

Beside them, the families of :mod:`blurgen.kernels.families` (``line``, ``arc``, ``walk``, ``still``,
``disk``) and ``mixture``, a named mixture of Markov presets and families (:data:`MIXTURES`): the
wide distribution a model needs to restore blur it was not trained on, with a share of
near-still kernels so that it learns to leave sharp images alone. A preset file may hold a
mixture of its own: ``{"mixture": {"deblurgan": 0.5, "line": 0.3, "still": 0.2}}``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from blurgen.kernels.families import FAMILY_SPECS, FamilySpec, Mixture
from blurgen.kernels.trajectory import Expl, TrajectorySpec

DEFAULT_PRESET = "deblurgan"

PRESETS: dict[str, TrajectorySpec] = {
    "deblurgan": TrajectorySpec(),
    "mild": TrajectorySpec(max_len=30.0),
    "strong": TrajectorySpec(expl=Expl(choices=(0.001, 0.002, 0.003, 0.004, 0.005)), max_len=90.0),
    "anxious": TrajectorySpec(expl=Expl(0.0, 0.1)),
}
FAMILY_PRESETS: dict[str, FamilySpec] = {name: spec() for name, spec in FAMILY_SPECS.items()}
# Half Markov shake (the three presets that blur, none of them calm), a third lines, arcs and smooth
# walks, and 15% near-still kernels: the share that keeps a model from changing sharp images.
MIXTURES: dict[str, Mixture] = {
    "mixture": Mixture((("deblurgan", 0.30), ("mild", 0.10), ("anxious", 0.10), ("line", 0.15), ("arc", 0.10),
                        ("walk", 0.10), ("still", 0.15))),
}
KernelSpec = TrajectorySpec | FamilySpec | Mixture


def preset_names() -> list[str]:
    """Every named kernel preset: the Markov ones, the families, the mixtures."""
    return [*PRESETS, *FAMILY_PRESETS, *MIXTURES]


PRESET_FILE_KEYS = ("format", "about", "spec", "mixture", "size", "exposures", "seed")  # about: a description for people


class PresetFileError(ValueError):
    """A preset file that cannot be used; the message names the file and what is wrong."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"preset file {path}: {problem}")


def read_preset_file(path: str | Path) -> dict:
    """A preset file's JSON object, checked for shape: exactly one of ``spec`` or ``mixture``, and
    no key outside :data:`PRESET_FILE_KEYS`. Raises :class:`PresetFileError`."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as error:
        raise PresetFileError(path, f"cannot be read ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise PresetFileError(path, f"is not UTF-8 text (byte {error.start}); a preset file is JSON") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise PresetFileError(path, f"is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None
    if not isinstance(data, dict):
        raise PresetFileError(path, f"must hold a JSON object such as {{\"mixture\": {{\"deblurgan\": 0.5, \"line\": 0.5}}}}, "
                                    f"got {type(data).__name__ if data is not None else 'null'}")
    unknown = sorted(set(data) - set(PRESET_FILE_KEYS))
    if unknown:
        raise PresetFileError(path, f"unknown key(s) {', '.join(map(repr, unknown))}; a preset file holds 'spec' (one kernel "
                                    "family's parameters) or 'mixture' (weights by preset name), and may hold 'about', "
                                    "'size', 'exposures', 'seed'")
    if ("spec" in data) == ("mixture" in data):
        raise PresetFileError(path, "must hold either 'spec' (one kernel family's parameters) or 'mixture' (weights by preset name)"
                                    + (", not both" if "spec" in data else ""))
    return data


def load_preset_file(path: str | Path) -> TrajectorySpec | FamilySpec | Mixture:
    """A preset file as a spec: JSON with a ``spec`` object (Markov parameters, as ``blurgen view``
    exports; or a family's, with its ``family`` name), or with a ``mixture`` object of weights by
    preset name. Raises :class:`PresetFileError` naming the file and the problem."""
    data = read_preset_file(path)
    key = "spec" if "spec" in data else "mixture"
    given = data[key]
    if not isinstance(given, dict):
        raise PresetFileError(path, f"'{key}' must be an object, got {type(given).__name__}")
    try:
        if key == "mixture" or given.get("family") == "mixture":
            weights = given if key == "mixture" else given.get("weights", {})
            if not isinstance(weights, dict) or not all(isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights.values()):
                raise ValueError("a mixture's weights are numbers by preset name")
            mixture = Mixture(tuple(weights.items()))
            check_members(mixture)
            return mixture
        family = given.get("family")
        if family is not None:
            if family not in FAMILY_SPECS:
                raise ValueError(f"unknown family {family!r}; families are {', '.join(FAMILY_SPECS)}")
            kind, fields = FAMILY_SPECS[family], {name: value for name, value in given.items() if name != "family"}
        else:
            kind, fields = TrajectorySpec, given
        allowed = set(kind.__dataclass_fields__)
        unknown = sorted(set(fields) - allowed)
        if unknown:
            raise ValueError(f"unknown parameter(s) {', '.join(unknown)} of {family or 'Markov'} kernels; they take "
                             f"{', '.join(sorted(allowed))}")
        return kind(**{name: tuple(value) if isinstance(value, list) else value for name, value in fields.items()})
    except (TypeError, ValueError) as error:
        raise PresetFileError(path, f"'{key}': {error}") from None


def check_members(mixture: Mixture) -> None:
    """Every member of a mixture must be a named Markov preset or family (not a mixture or a file)."""
    unknown = [name for name in mixture.names if name not in PRESETS and name not in FAMILY_PRESETS]
    if unknown:
        raise ValueError(f"unknown mixture member(s) {', '.join(unknown)}; members are {', '.join([*PRESETS, *FAMILY_PRESETS])}")


def preset_file_settings(path: str | Path) -> dict:
    """The run settings a preset file may carry beside its spec (``size``, ``exposures``, ``seed``,
    as ``blurgen view`` saves them); ``blurgen kernels`` uses them unless its options say otherwise."""
    data = read_preset_file(path)
    return {key: data[key] for key in ("size", "exposures", "seed") if data.get(key) is not None}


def preset_name(preset: str) -> str:
    """How a bank records its preset: the name, or a preset file's stem (not a path of this machine)."""
    return Path(preset).stem if preset.endswith(".json") else preset


def kernel_spec(preset: str = DEFAULT_PRESET, **overrides: object) -> KernelSpec:
    """The spec of a named preset (Markov, family or mixture), or of a preset file (``*.json``).

    ``overrides`` replace fields of a Markov spec (e.g. ``expl="0.005"``, ``max_len=40``); those
    that are ``None`` are ignored, so CLI options can pass through unset. Families and mixtures
    take none.
    """
    if preset.endswith(".json"):
        base = load_preset_file(preset)
    elif preset in PRESETS:
        base = PRESETS[preset]
    elif preset in FAMILY_PRESETS:
        base = FAMILY_PRESETS[preset]
    elif preset in MIXTURES:
        base = MIXTURES[preset]
    else:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(preset_names())}, or a preset .json file")
    given = {name: value for name, value in overrides.items() if value is not None}
    if not given:
        return base
    if not isinstance(base, TrajectorySpec):
        raise ValueError(f"{', '.join(sorted(given))} change(s) Markov trajectories; preset {preset!r} has none to change")
    return trajectory_spec(preset, **given)


def trajectory_spec(preset: str = DEFAULT_PRESET, **overrides: object) -> TrajectorySpec:
    """The spec of a Markov preset, or of a preset file (``*.json``) holding one, with some fields
    replaced (e.g. ``expl="0.005"``, ``max_len=40``). Overrides that are ``None`` are ignored.
    """
    if not preset.endswith(".json") and preset not in preset_names():
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(preset_names())}, or a preset .json file")
    base = load_preset_file(preset) if preset.endswith(".json") else PRESETS.get(preset)
    if not isinstance(base, TrajectorySpec):
        raise ValueError(f"{preset!r} is not a Markov trajectory preset; choose one of {', '.join(PRESETS)}")
    given = {name: value for name, value in overrides.items() if value is not None}
    unknown = set(given) - set(TrajectorySpec.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown trajectory parameter(s): {', '.join(sorted(unknown))}")
    return replace(base, **given)
