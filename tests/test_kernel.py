import numpy as np
import pytest

import oracle
from blurgen.kernels.bank import sample_kernels
from blurgen.kernels.raster import EXPOSURES_ALL, exposure_counts, rasterise
from blurgen.kernels.presets import PRESETS
from blurgen.kernels.trajectory import TrajectorySpec, sample_trajectory


def centroids(kernels: np.ndarray) -> np.ndarray:
    """(N, 2) centroids (x, y) in pixel coordinates, computed in float64."""
    k = kernels.astype(np.float64)
    size = k.shape[-1]
    grid = np.arange(size, dtype=np.float64)
    mass = k.sum(axis=(1, 2))
    return np.stack([(k.sum(axis=1) * grid).sum(axis=1) / mass, (k.sum(axis=2) * grid).sum(axis=1) / mass], axis=1)


@pytest.fixture(scope="module")
def bank():
    return sample_kernels(300, seed=11, exposure="all")


def test_every_kernel_is_a_centred_probability_distribution(bank):
    k = bank.kernels
    assert k.dtype == np.float32 and k.shape == (1200, 65, 65)
    assert np.isfinite(k).all()
    assert (k >= 0).all()
    np.testing.assert_allclose(k.astype(np.float64).sum(axis=(1, 2)), 1.0, atol=1e-6)
    assert np.abs(centroids(k) - 32.0).max() < 0.01


@pytest.mark.parametrize("size", [31, 64, 65])
def test_centroid_is_the_centre_for_odd_and_even_sizes(size):
    k = sample_kernels(100, seed=2, size=size, exposure="all").kernels
    assert np.abs(centroids(k) - (size - 1) / 2).max() < 0.01
    np.testing.assert_allclose(k.astype(np.float64).sum(axis=(1, 2)), 1.0, atol=1e-6)


@pytest.mark.parametrize("index", [0, 1, 2, 17])
@pytest.mark.parametrize("preset,size", [("deblurgan", 65), ("strong", 33)])
def test_kernels_match_the_oracle(index, preset, size):
    spec = PRESETS[preset]
    ours = sample_kernels([index], seed=3, size=size, preset=preset, exposure="all").kernels
    expected = oracle.kernel_set(
        3, index, size, EXPOSURES_ALL, spec.max_len, spec.iters,
        expl_choices=spec.expl.choices, expl_range=(spec.expl.low, spec.expl.high),
    )
    for fraction, kernel in enumerate(expected):
        np.testing.assert_allclose(ours[fraction], kernel, rtol=0, atol=1e-6)


def test_trajectories_that_do_not_fit_are_scaled_about_the_centroid():
    bank = sample_kernels(200, seed=0, size=15, preset="strong")
    rescaled = bank.meta["rescaled"]
    assert rescaled.sum() > 100
    assert (bank.meta["scale"][rescaled] < 1).all() and (bank.meta["scale"][~rescaled] == 1).all()
    np.testing.assert_allclose(bank.meta["path_length"], bank.meta["scale"] * 90.0, rtol=1e-9)
    assert np.abs(centroids(bank.kernels) - 7.0).max() < 0.01
    assert (bank.meta["footprint"] <= 14.0 + 1e-9).all()
    # The shape is kept: a rescaled kernel equals the oracle's splat of the shrunken path.
    row = bank.meta[np.flatnonzero(rescaled)[0]]
    path = sample_trajectory(0, int(row["index"]), PRESETS["strong"]).positions
    expected, scale = oracle.kernel(path, 15)
    assert scale == pytest.approx(row["scale"], rel=1e-12)
    np.testing.assert_allclose(bank.regenerate(int(np.flatnonzero(rescaled)[0])), expected, atol=1e-6)


def test_path_length_is_max_len():
    bank = sample_kernels(200, seed=4)
    assert not bank.meta["rescaled"].any()
    np.testing.assert_allclose(bank.meta["path_length"], 60.0, rtol=1e-9)


@pytest.mark.parametrize("expl,median", [(0.005, 17.0), (0.01, 12.5)])
def test_footprints_match_the_reference_code(expl, median):
    bank = sample_kernels(2000, seed=0, expl=str(expl))
    assert np.median(bank.meta["footprint"]) == pytest.approx(median, rel=0.10)


def test_exposure_fractions_are_cumulative_and_monotone():
    bank = sample_kernels(50, seed=9, exposure="all")
    spec = TrajectorySpec()
    counts = exposure_counts(EXPOSURES_ALL, spec.iters)
    assert list(counts) == [21, 201, 1001, 2000]
    meta = bank.meta.reshape(50, 4)
    for trajectory_meta in meta:
        assert list(trajectory_meta["exposure"]) == list(EXPOSURES_ALL)
        assert np.all(np.diff(trajectory_meta["path_length"]) > 0)
        assert np.all(np.diff(trajectory_meta["footprint"]) >= 0)
    np.testing.assert_allclose(meta["path_length"], np.broadcast_to((counts - 1) * 60.0 / 1999, (50, 4)), rtol=1e-9)
    # Each fraction is the kernel of the leading part of the same trajectory.
    path = sample_trajectory(9, 5, spec).positions
    for fraction, count in enumerate(counts):
        np.testing.assert_array_equal(bank.kernels[5 * 4 + fraction], rasterise(path[:count], 65)[0])


def test_rasterise_a_known_path():
    # A horizontal segment from x=0 to x=4 through sub-pixel positions: mass spreads along one row.
    path = np.linspace(0, 4, 401) + 0j
    kernel = rasterise(path, size=9)[0]
    assert kernel.shape == (9, 9) and kernel.dtype == np.float32
    assert np.count_nonzero(kernel.sum(axis=1)) == 1
    np.testing.assert_allclose(kernel[4, 2:7], [1 / 8, 1 / 4, 1 / 4, 1 / 4, 1 / 8], atol=1e-3)
    assert kernel.sum() == pytest.approx(1.0, abs=1e-6)


def test_a_single_position_is_a_delta():
    kernel = rasterise(np.array([3.7 + 1.2j]), size=5)[0]
    assert kernel[2, 2] == 1.0 and kernel.sum() == 1.0


@pytest.mark.parametrize("bad", [[], [np.nan + 0j], np.zeros((2, 2))])
def test_rasterise_rejects_bad_paths(bad):
    with pytest.raises(ValueError, match="positions"):
        rasterise(np.asarray(bad, dtype=complex))


@pytest.mark.parametrize("exposures", [(0.0,), (1.5,), ()])
def test_bad_exposures_are_rejected(exposures):
    with pytest.raises(ValueError, match="exposure"):
        exposure_counts(exposures, 2000)


def test_warming_up_a_mixture_loads_the_code_of_every_member(monkeypatch):
    import blurgen.kernels.bank as bank
    from blurgen.kernels.presets import MIXTURES

    sampled = []
    monkeypatch.setattr(bank, "sample_kernels", lambda n, **options: sampled.append(options["preset"]))
    bank.warm_up_kernels("mixture", size=15)
    assert sampled == list(MIXTURES["mixture"].names)
