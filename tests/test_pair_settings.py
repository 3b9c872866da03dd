"""The pair settings are one table: ``blurgen dataset``, ``train`` and Python accept and refuse each
pair setting the same way, with the same bounds and choices."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from blurgen.cli import app as blurgen_app
from blurgen.kernels.bank import KernelsSettings
from blurgen.output.contact_sheet import MotionSheetSettings
from blurgen.output.dataset import DatasetConfig
from blurgen.output.evalset import EvalsetSpec
from blurgen.pairs.settings import PAIR_SETTINGS, VIDEO_SETTINGS, PairSettings, check_pairs, check_pairs_used
from blurgen.settings import Option, SettingError, options
from train.cli import train_app
from train.config import TrainConfig, check

TRAIN_OWN_BOUNDS = {"crop": "a training crop is at least 16 px and must suit the generator"}
TRAIN_OWN_HELP = {"crop": "the trainer always crops (the table's help is about whole images) and says what each generator needs"}


def refused_values(rule: Option) -> list:
    """Values just outside the rule's choices and bounds."""
    values = ["bogus"] if rule.choices else []
    if rule.minimum is not None:
        values.append(rule.minimum - (1 if float(rule.minimum).is_integer() else 0.5))
    if rule.maximum is not None:
        values.append(rule.maximum + 1)
    if rule.above is not None:
        values.append(rule.above)
    return values


def accepted_values(rule: Option) -> list:
    """Values on the rule's edges, inside."""
    edges = [value for value in (rule.minimum, rule.maximum) if value is not None]
    if rule.above is not None:
        edges.append(rule.above + 0.005)
    return list(rule.choices) + edges


BOUNDED = [name for name, rule in options(PairSettings).items() if refused_values(rule)]


def test_every_bounded_pair_setting_is_walked():
    assert {"crop", "kernel_size", "camera", "motion", "shake", "fov", "min_scale", "seed", "builtin"} <= set(BOUNDED)


def test_train_takes_the_pair_settings_from_the_table():
    mine, trains, datasets = options(PairSettings), options(TrainConfig), options(DatasetConfig)
    for name in PAIR_SETTINGS:
        assert datasets[name] == mine[name], name  # blurgen dataset: the table itself
        if name not in trains:
            continue
        assert trains[name].choices == mine[name].choices, name
        if name not in TRAIN_OWN_HELP:  # the table's help, and what the setting means in training after it
            assert trains[name].help.startswith(mine[name].help), name
        if name not in TRAIN_OWN_BOUNDS:
            assert (trains[name].minimum, trains[name].maximum, trains[name].above) == (mine[name].minimum, mine[name].maximum, mine[name].above), name


# what a command narrows on purpose: a picture of motion blur needs motion and a crop to show
NARROWED = {(MotionSheetSettings, "motion"): "choices", (MotionSheetSettings, "crop"): "minimum"}


@pytest.mark.parametrize("table", [EvalsetSpec, MotionSheetSettings, KernelsSettings])
def test_the_other_commands_take_their_pair_settings_from_the_table(table):
    mine = options(PairSettings)
    for name, rule in options(table).items():
        if name not in mine:
            continue
        narrowed = NARROWED.get((table, name))
        if narrowed == "choices":
            assert set(rule.choices) < set(mine[name].choices), name
        else:
            assert rule.choices == mine[name].choices, name
        if narrowed != "minimum":
            assert rule.minimum == mine[name].minimum, name
        assert (rule.maximum, rule.above) == (mine[name].maximum, mine[name].above), name
        if not narrowed and rule.choices:
            assert rule.help == mine[name].help, name  # the table's words, which name every choice
    for name, rule in options(table).items():  # Python refuses what the command refuses
        for value in refused_values(rule):
            with pytest.raises(SettingError, match=name):
                table(**{name: value})


def test_the_motion_sheet_accepts_every_camera_and_refuses_uniform_motion(tmp_path):
    runner = CliRunner()
    result = runner.invoke(blurgen_app, ["motion-sheet", "--motion", "uniform", "--out", str(tmp_path / "m.png")])
    assert result.exit_code == 2 and "--motion must be one of" in result.output
    for camera in options(PairSettings)["camera"].choices:
        assert camera in runner.invoke(blurgen_app, ["motion-sheet", "--help"]).output
    result = runner.invoke(blurgen_app, ["evalset", "--per-image", "0", "--out", str(tmp_path / "e")])
    assert result.exit_code == 2 and "--per-image must be >= 1" in result.output and not (tmp_path / "e").exists()
    result = runner.invoke(blurgen_app, ["kernels", "--size", "1026", "--out", str(tmp_path / "k")])
    assert result.exit_code == 2 and "--kernel-size must be <= 1025" in result.output and not (tmp_path / "k").exists()


@pytest.mark.parametrize("name", BOUNDED)
def test_each_pair_setting_is_refused_alike_by_python_blurgen_dataset_and_train(name, tmp_path):
    rule = options(PairSettings)[name]
    runner = CliRunner()
    flag = rule.flag(name)
    for value in refused_values(rule):
        with pytest.raises(SettingError, match=name):
            check_pairs(PairSettings(**{name: value}))
        result = runner.invoke(blurgen_app, ["dataset", flag, str(value), "--out", str(tmp_path / "d")])
        assert result.exit_code == 2 and flag in result.output, (value, result.output)
        if name in options(TrainConfig) and name not in TRAIN_OWN_BOUNDS:
            with pytest.raises(SettingError, match=name):
                check(TrainConfig(mix="synth", **{name: value}))
            result = runner.invoke(train_app, ["--mix", "synth", flag, str(value), "--out", str(tmp_path / "t")])
            assert result.exit_code == 2 and flag in result.output, (value, result.output)
    assert not (tmp_path / "d").exists() and not (tmp_path / "t").exists()


@pytest.mark.parametrize("name", BOUNDED)
def test_each_pair_setting_is_accepted_alike_on_its_edges(name):
    rule = options(PairSettings)[name]
    for value in accepted_values(rule):
        # shrinking applies to crops; shake and field of view to motion blur; the video settings to --average
        views = {"crop": 64} if name == "min_scale" else {"motion": "rotation"} if name in ("shake", "fov") else \
            {"average": "7-23"} if name in VIDEO_SETTINGS else {}
        check_pairs(PairSettings(**{name: value}, **views))
        check_pairs(DatasetConfig(**{name: value}, **views))
        if name in options(TrainConfig) and name not in TRAIN_OWN_BOUNDS:
            check(TrainConfig(mix="synth", **{name: value}))


def test_the_rules_between_pair_settings_are_the_same_for_both_commands():
    for table in (PairSettings, TrainConfig):
        crop = {"crop": 64}
        with pytest.raises(SettingError, match="min_scale applies to uniform blur"):
            check_pairs(table(**crop, motion="rotation", min_scale=0.5))
        with pytest.raises(SettingError, match="not kernels: drop kernels"):
            check_pairs(table(**crop, motion="objects", kernels="bank/kernels.npz"))
        with pytest.raises(SettingError, match="builtin chooses the corpus"):
            check_pairs_used(table(src="photos/", builtin=next(c for c in ("photos", "dead-leaves") if c != getattr(table, "builtin", table().builtin))))
        with pytest.raises(SettingError, match="shake applies to"):
            check_pairs_used(table(shake="kohler"))
    with pytest.raises(SettingError, match="orientations needs crop"):
        check_pairs(PairSettings(orientations=True))


def test_a_setting_error_shows_each_commands_own_flag():
    error = pytest.raises(SettingError, PairSettings, min_scale=0).value
    assert str(error) == "min_scale must be > 0, got 0" and error.for_cli() == "--min-scale must be > 0, got 0"


def test_dataset_config_is_the_pair_table_plus_where_pairs_go():
    pair_fields = [f.name for f in dataclasses.fields(DatasetConfig)][: len(PAIR_SETTINGS)]
    assert pair_fields == list(PAIR_SETTINGS)


def test_a_value_with_braces_is_quoted_as_given():
    for given, shown in (({"average": "{x}"}, "'{x}'"), ({"preset": "{odd}.json"}, "{odd}.json")):
        with pytest.raises(SettingError) as refused:
            PairSettings(**given)
        assert shown in str(refused.value) and shown in refused.value.for_cli()


def test_python_builds_video_pairs_when_average_is_set_the_same_pairs_the_command_writes(tmp_path):
    from fixtures import moving_scene, write_clip
    from blurgen.pairs.build import make_synthesizer, open_pair_source
    from blurgen.sources.images import read_image
    from blurgen.pairs.video import FrameAverager

    write_clip(tmp_path / "clips" / "pan.mkv", moving_scene([(0.7 * k, -0.3 * k) for k in range(30)], 48, 64, seed=5))
    (tmp_path / "clips" / "frame.png").write_bytes(b"")  # a stray still beside the clip: not a clip, not a pair
    settings = PairSettings(src=str(tmp_path / "clips"), average="5-9", crop=32)
    pairs = make_synthesizer(settings, open_pair_source(settings))
    assert isinstance(pairs, FrameAverager) and len(pairs) > 1
    blurred, sharp, meta = pairs[0]
    assert meta["clip"] == "pan.mkv" and blurred.shape == sharp.shape == (32, 32, 3)
    result = CliRunner().invoke(blurgen_app, ["dataset", "--src", str(tmp_path / "clips"), "--average", "5-9", "--crop", "32",
                                              "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    written = read_image(tmp_path / "out" / "train" / "shard-00000" / "blur" / "00000000.png")
    assert np.array_equal(written, np.round(blurred * 255).astype(np.uint8))


@pytest.mark.parametrize("given, flags", [
    ({"average": "7-23", "preset": "mixture"}, ["--average", "7-23", "--preset", "mixture"]),
    ({"interpolate": 4}, ["--interpolate", "4"]),
    ({"kernels": "bank.npz", "expl": "0.005"}, ["--kernels", "bank.npz", "--expl", "0.005"]),
    ({"crop": "25x"}, ["--crop", "25x"]),
])
def test_python_refuses_what_blurgen_dataset_refuses_in_the_same_words(tmp_path, given, flags):
    with pytest.raises(SettingError) as refused:
        PairSettings(**given)
    result = CliRunner().invoke(blurgen_app, ["dataset", *flags, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
    if "crop" not in given:  # typer words its own type errors
        assert refused.value.for_cli() in result.output, (refused.value.for_cli(), result.output)


def test_python_converts_text_of_numbers_as_a_command_line_does():
    settings = PairSettings(crop="256", motion="rotation", fov="45", seed=np.int64(3), src=Path("photos"))
    assert (settings.crop, settings.fov, settings.seed, settings.src) == (256, 45.0, 3, "photos")
    assert type(settings.crop) is int and type(settings.seed) is int
    with pytest.raises(SettingError, match="crop must be a whole number, got '25x'"):
        PairSettings(crop="25x")
    with pytest.raises(SettingError, match="orientations must be True or False"):
        PairSettings(crop=64, orientations="yes")
