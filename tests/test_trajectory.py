import math

import numpy as np
import pytest

import oracle
from blurgen.kernels.presets import PRESETS, trajectory_spec
from blurgen.kernels.trajectory import Expl, TrajectorySpec, sample_trajectory


@pytest.mark.parametrize("seed,index", [(0, 0), (0, 1), (5, 99), (2**63 + 11, 3)])
@pytest.mark.parametrize("preset", ["deblurgan", "anxious"])
def test_trajectory_matches_the_oracle(seed, index, preset):
    spec = PRESETS[preset]
    ours = sample_trajectory(seed, index, spec)
    params = oracle.draw_params(
        oracle.stream_key(seed, index), expl_choices=spec.expl.choices, expl_range=(spec.expl.low, spec.expl.high)
    )
    assert ours.params.expl == params["expl"]
    assert ours.params.phi == pytest.approx(params["phi"], abs=0)
    expected = oracle.trajectory(seed, index, params, spec.max_len, spec.iters)
    np.testing.assert_allclose(ours.positions, expected, rtol=0, atol=1e-9)


def test_path_length_equals_max_len():
    for max_len in (10.0, 60.0, 90.0):
        path = sample_trajectory(1, 2, TrajectorySpec(max_len=max_len)).positions
        assert np.abs(np.diff(path)).sum() == pytest.approx(max_len, rel=1e-12)
        assert np.abs(np.diff(path)) == pytest.approx(max_len / 1999, rel=1e-12)


def test_zero_anxiety_gives_a_straight_line():
    path = sample_trajectory(0, 4, TrajectorySpec(expl=Expl.fixed(0.0), max_len=40.0)).positions
    assert abs(path[-1] - path[0]) == pytest.approx(40.0, rel=1e-12)


def test_big_shakes_happen_at_high_anxiety_and_reverse_direction():
    spec = TrajectorySpec(expl=Expl.fixed(0.1), prob_big_shake_max=0.2)
    counts = [sample_trajectory(0, i, spec).n_big_shakes for i in range(40)]
    assert sum(counts) > 0
    assert all(sample_trajectory(0, i, TrajectorySpec(expl=Expl.fixed(0.0))).n_big_shakes == 0 for i in range(5))


def test_expl_is_drawn_from_the_spec():
    choices = (0.003, 0.01)
    drawn = {sample_trajectory(0, i, TrajectorySpec(expl=Expl(choices=choices))).params.expl for i in range(50)}
    assert drawn == set(choices)
    ranged = [sample_trajectory(0, i, TrajectorySpec(expl=Expl(0.002, 0.004))).params.expl for i in range(50)]
    assert all(0.002 <= e <= 0.004 for e in ranged) and len(set(ranged)) == 50


@pytest.mark.parametrize("text,expected", [
    ("0.005", Expl(0.005, 0.005)),
    ("0.003:0.01", Expl(0.003, 0.01)),
    ("0.003,0.005", Expl(choices=(0.003, 0.005))),
    (0.007, Expl(0.007, 0.007)),
])
def test_expl_parsing(text, expected):
    assert Expl.parse(text) == expected
    assert Expl.parse(str(Expl.parse(text))) == expected


@pytest.mark.parametrize("bad", ["abc", "0.01:0.001", "-0.1", "0.1:", "nan"])
def test_bad_expl_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="expl"):
        Expl.parse(bad)


def test_bad_specs_and_presets_are_clear_errors():
    with pytest.raises(ValueError, match="iters"):
        TrajectorySpec(iters=1)
    with pytest.raises(ValueError, match="max_len"):
        TrajectorySpec(max_len=0)
    with pytest.raises(ValueError, match="unknown preset"):
        trajectory_spec("nope")
    with pytest.raises(TypeError, match="unknown trajectory parameter"):
        trajectory_spec("deblurgan", anxiety=0.1)
    assert trajectory_spec("mild", max_len=None).max_len == 30.0
    assert math.isclose(trajectory_spec("deblurgan", expl="0.004").expl.low, 0.004)
