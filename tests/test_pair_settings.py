"""The pair settings are one table: ``blurgen dataset``, ``train`` and Python accept and refuse each
pair setting the same way, with the same bounds and choices."""

import dataclasses

import pytest
from typer.testing import CliRunner

from blurgen.cli import app as blurgen_app
from blurgen.dataset import DatasetConfig
from blurgen.pair_settings import PAIR_SETTINGS, PairSettings, check_pairs, check_pairs_used
from blurgen.settings import Option, SettingError, options
from train.cli import train_app
from train.config import TrainConfig, check

TRAIN_OWN_BOUNDS = {"crop": "a training crop is at least 16 px and must suit the generator"}


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
    mine, trains = options(PairSettings), options(TrainConfig)
    for name in PAIR_SETTINGS:
        if name not in trains:
            continue
        assert trains[name].choices == mine[name].choices, name
        if name not in TRAIN_OWN_BOUNDS:
            assert (trains[name].minimum, trains[name].maximum, trains[name].above) == (mine[name].minimum, mine[name].maximum, mine[name].above), name


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
        views = {"crop": 64} if name == "min_scale" else {}  # shrinking applies to crops
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
    error = pytest.raises(SettingError, check_pairs, PairSettings(min_scale=0)).value
    assert str(error) == "min_scale must be > 0, got 0" and error.for_cli() == "--min-scale must be > 0, got 0"


def test_dataset_config_is_the_pair_table_plus_where_pairs_go():
    pair_fields = [f.name for f in dataclasses.fields(DatasetConfig)][: len(PAIR_SETTINGS)]
    assert pair_fields == list(PAIR_SETTINGS)


def test_a_value_with_braces_is_quoted_as_given():
    for settings, shown in ((PairSettings(average="{x}"), "'{x}'"), (PairSettings(preset="{odd}.json"), "{odd}.json")):
        with pytest.raises(SettingError) as refused:
            check_pairs(settings)
        assert shown in str(refused.value) and shown in refused.value.for_cli()
