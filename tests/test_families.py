"""Kernel families beyond the Markov trajectory, the mixture, and the wide camera's per-pair acquisition."""

import json
import math

import numba
import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from blurgen.kernels.bank import KernelBank, sample_kernels
from blurgen.blurring.camera import CAMERA_PRESETS
from blurgen.kernels.families import PATH_POINTS, family_path, kernel_draws, walk_velocity
from blurgen.pairs.synthesizer import BankKernels, LiveKernels, PairSynthesizer
from blurgen.pairs.datasets import SharpCropDataset, pairs_on_device
from blurgen.kernels.presets import FAMILY_PRESETS, MIXTURES, kernel_spec
from blurgen.rng import stream_key

FAMILIES = ("line", "arc", "walk", "still", "disk", "mixture")


def moments(kernels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroids (N×2: x, y, px from the centre) and covariance matrices (N×2×2) of kernels (N×K×K)."""
    size = kernels.shape[-1]
    offsets = np.arange(size) - (size - 1) / 2
    x, y = np.meshgrid(offsets, offsets)
    weights = kernels.astype(np.float64)
    cx, cy = (weights * x).sum(axis=(1, 2)), (weights * y).sum(axis=(1, 2))
    dx, dy = x[None] - cx[:, None, None], y[None] - cy[:, None, None]
    cov = np.stack([np.stack([(weights * dx * dx).sum(axis=(1, 2)), (weights * dx * dy).sum(axis=(1, 2))], -1),
                    np.stack([(weights * dx * dy).sum(axis=(1, 2)), (weights * dy * dy).sum(axis=(1, 2))], -1)], -2)
    return np.stack([cx, cy], -1), cov


@pytest.fixture(scope="module")
def banks():
    return {name: sample_kernels(300, seed=4, preset=name, exposure="all" if name != "mixture" else 1) for name in FAMILIES}


@pytest.mark.parametrize("name", FAMILIES)
def test_kernels_are_psfs_centred_on_the_pixel_that_keeps_the_image_in_place(banks, name):
    kernels = banks[name].kernels
    assert kernels.dtype == np.float32 and (kernels >= 0).all()
    np.testing.assert_allclose(kernels.sum(axis=(1, 2)), 1.0, atol=1e-5)
    centroids, _ = moments(kernels)
    assert np.abs(centroids).max() < 1e-4


@pytest.mark.parametrize("name", FAMILIES)
def test_kernel_i_depends_only_on_seed_and_i(banks, name):
    bank = banks[name]
    order = np.random.default_rng(1).permutation(300)
    shuffled = sample_kernels(order, seed=4, preset=name, exposure="all" if name != "mixture" else 1)
    per_trajectory = len(bank) // 300
    rows = (order[:, None] * per_trajectory + np.arange(per_trajectory)).reshape(-1)
    np.testing.assert_array_equal(shuffled.kernels, bank.kernels[rows])
    np.testing.assert_array_equal(shuffled.meta, bank.meta[rows])
    for workers in range(1, numba.config.NUMBA_NUM_THREADS + 1):
        again = sample_kernels(300, seed=4, preset=name, exposure="all" if name != "mixture" else 1, workers=workers)
        np.testing.assert_array_equal(again.kernels, bank.kernels)
    for i in (0, 7, len(bank) - 1):
        np.testing.assert_array_equal(bank.regenerate(i), bank.kernels[i])
    assert not np.array_equal(sample_kernels(5, seed=5, preset=name).kernels, bank.kernels[::per_trajectory][:5])


def test_a_line_has_its_drawn_length_and_angle(banks):
    bank = banks["line"][banks["line"].meta["exposure"] == 1.0]
    _, cov = moments(bank.kernels)
    spread, axes = np.linalg.eigh(cov)
    # A segment of length L has variance L²/12 along it; bilinear splatting adds 1/6 px² on each axis.
    length = np.sqrt(12 * (spread[:, 1] - 1 / 6))
    np.testing.assert_allclose(length, bank.meta["max_len"], atol=0.5)
    assert ((3 <= bank.meta["max_len"]) & (bank.meta["max_len"] <= 35)).all()
    long = bank.meta["max_len"] > 8
    angle = np.arctan2(axes[long, 1, 1], axes[long, 0, 1]) % np.pi
    error = np.abs((angle - bank.meta["phi"][long] + np.pi / 2) % np.pi - np.pi / 2)
    assert error.max() < math.radians(2)


def test_an_arc_turns_by_its_drawn_angle_over_its_drawn_length():
    spec = FAMILY_PRESETS["arc"]
    for index in range(20):
        draws = kernel_draws(spec, 3, index)
        path = family_path("arc", 3, index, draws["max_len"], draws["phi"], draws["shape"])
        steps = np.diff(path)
        np.testing.assert_allclose(np.abs(steps).sum(), draws["max_len"], rtol=1e-4)
        turned = np.angle(steps[-1] / steps[0])
        assert turned == pytest.approx(draws["shape"] * (1 - 1 / (PATH_POINTS - 1)), abs=1e-6)
        assert 0.5 <= abs(draws["shape"]) <= 3.0


def test_a_walk_is_band_limited_to_its_cycles_and_has_its_drawn_length():
    for cycles in (1, 3, 7):
        key = np.uint64(stream_key(np.uint64(2), np.uint64(5)))
        vx, vy = walk_velocity(key, cycles, 512)
        spectrum = np.abs(np.fft.fft(vx + 1j * vy))
        bands = np.minimum(np.arange(512), 512 - np.arange(512))
        assert spectrum[bands > cycles].max() < 1e-9 * spectrum.max()
        assert spectrum[(bands > 0) & (bands <= cycles)].max() > 1e-3 * spectrum.max()
    spec = FAMILY_PRESETS["walk"]
    for index in range(10):
        draws = kernel_draws(spec, 1, index)
        path = family_path("walk", 1, index, draws["max_len"], 0.0, draws["shape"])
        assert np.abs(np.diff(path)).sum() == pytest.approx(draws["max_len"], rel=1e-9)


def test_still_kernels_have_their_sigma_and_zero_is_a_delta():
    bank = sample_kernels(200, seed=2, preset="still")
    _, cov = moments(bank.kernels)
    sigma = bank.meta["shape"]
    assert ((0 <= sigma) & (sigma <= 0.8)).all()
    wide = sigma > 0.55  # integrating over a pixel adds 1/12 px² of variance, once σ is not far below a pixel
    np.testing.assert_allclose(cov[wide, 0, 0], sigma[wide] ** 2 + 1 / 12, rtol=0.02)
    assert (np.diff(cov[np.argsort(sigma), 0, 0]) >= -1e-9).all()  # more σ, more spread
    np.testing.assert_allclose(cov[:, 0, 0], cov[:, 1, 1], atol=1e-6)
    assert (bank.kernels.max(axis=(1, 2)) > 0.15).all()  # near-still: the mass stays near the centre pixel
    from blurgen.kernels.families import still_kernel

    delta = still_kernel(0.0, 9)
    assert delta[4, 4] == 1.0 and delta.sum() == 1.0


def test_disks_have_their_radius():
    bank = sample_kernels(50, seed=2, preset="disk")
    _, cov = moments(bank.kernels)
    radius = bank.meta["shape"]
    assert ((1 <= radius) & (radius <= 6)).all()
    large = radius > 2  # a uniform disk has variance r²/4 on each axis (+1/12 px² from the pixels)
    np.testing.assert_allclose(cov[large, 0, 0], radius[large] ** 2 / 4 + 1 / 12, rtol=0.05)
    offsets = np.arange(65) - 32
    distance = np.hypot(offsets[:, None], offsets[None, :])
    for kernel, r in zip(bank.kernels, radius):
        assert kernel[distance > r + 0.75].sum() == 0 and kernel[distance < r - 0.75].std() < 1e-6


def test_the_mixture_draws_each_family_in_its_share_and_as_the_family_alone_would():
    mixture = MIXTURES["mixture"]
    bank = sample_kernels(4000, seed=6, preset="mixture", size=33)
    names, counts = np.unique(bank.meta["family"], return_counts=True)
    share = dict(zip(names.tolist(), (counts / 4000).tolist()))
    for name, expected in zip(mixture.names, mixture.shares()):
        assert share[name] == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / 4000)), name
    assert share["still"] == pytest.approx(0.15, abs=0.025)  # the near-delta share that teaches "leave it alone"
    for name in ("deblurgan", "line", "still"):
        rows = np.flatnonzero(bank.meta["family"] == name)[:20]
        alone = sample_kernels(rows, seed=6, preset=name, size=33)
        np.testing.assert_array_equal(bank.kernels[rows], alone.kernels)
    assert bank.stats()["families"] == {name: int(count) for name, count in zip(names, counts)}


def test_a_preset_file_sets_the_weights(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"mixture": {"line": 3, "still": 1}}))
    bank = sample_kernels(400, seed=1, preset=str(path))
    assert set(bank.meta["family"]) == {"line", "still"}
    assert (bank.meta["family"] == "still").mean() == pytest.approx(0.25, abs=0.07)
    assert bank.info["spec"] == {"family": "mixture", "weights": {"line": 3.0, "still": 1.0}}
    path.write_text(json.dumps({"mixture": {"line": 1, "mixture": 1}}))
    with pytest.raises(ValueError, match="unknown mixture member"):
        sample_kernels(4, preset=str(path))


def test_banks_of_families_save_load_and_record_them(tmp_path, banks):
    bank = banks["mixture"]
    loaded = KernelBank.load(bank.save(tmp_path / "bank.npz"))
    np.testing.assert_array_equal(loaded.meta, bank.meta)
    line = next(i for i in range(len(bank)) if bank.meta["family"][i] == "line")
    assert loaded[line].meta["family"] == "line" and loaded.regenerate(line).tobytes() == bank.kernels[line].tobytes()
    markov = sample_kernels(3, seed=1)
    assert "family" not in markov[0].meta and "shape" not in markov[0].meta  # records of Markov banks are as before


def test_a_version_1_bank_still_loads(tmp_path):
    bank = sample_kernels(6, seed=1, size=15)
    old_names = [name for name in bank.meta.dtype.names if name not in ("family", "shape")]
    old = np.zeros(len(bank), dtype=[(name, bank.meta.dtype[name]) for name in old_names])
    for name in old_names:
        old[name] = bank.meta[name]
    info = {**bank.info, "version": 1}
    np.savez_compressed(tmp_path / "v1.npz", kernels=bank.kernels, meta=old, info=np.array(json.dumps(info)))
    loaded = KernelBank.load(tmp_path / "v1.npz")
    np.testing.assert_array_equal(loaded.meta, bank.meta)
    np.testing.assert_array_equal(loaded.regenerate(3), bank.kernels[3])


def test_overrides_of_markov_parameters_refuse_other_presets():
    with pytest.raises(ValueError, match="Markov"):
        sample_kernels(2, preset="line", max_len=20)
    with pytest.raises(ValueError, match="unknown preset"):
        kernel_spec("lines")


def test_live_mixture_kernels_record_their_family():
    sources = [np.full((120, 120, 3), 128, np.uint8)] * 4
    synth = PairSynthesizer(sources, LiveKernels(seed=2, preset="mixture", size=33), crop=32, seed=2)
    bank = sample_kernels(4, seed=2, preset="mixture", size=33)
    for i in range(4):
        meta = synth[i].meta["kernel"]
        assert meta["preset"] == "mixture" and meta["family"] == bank.meta["family"][i]


def test_the_wide_camera_draws_each_pairs_acquisition_and_records_it():
    rng = np.random.default_rng(3)
    sources = [(rng.random((160, 160, 3)) * 255).astype(np.uint8)]
    camera = CAMERA_PRESETS["wide"]
    synth = PairSynthesizer(sources, BankKernels(sample_kernels(20, seed=1, size=17)), camera, crop=48, seed=8, per_image=200)
    draws = [synth.plan(i, (160, 160)).draws for i in range(200)]
    compressed = [d["jpeg_quality"] for d in draws if d["jpeg_quality"]]
    assert 0.4 < len(compressed) / 200 < 0.6 and all(75 <= q <= 95 for q in compressed)
    assert all(1.0 <= d["gamma"] <= 2.2 for d in draws) and min(d["beta1"] for d in draws) < 0.1 * max(d["beta1"] for d in draws)
    first = next(i for i, d in enumerate(draws) if d["jpeg_quality"])
    pair, again = synth[first], PairSynthesizer(sources, synth.kernels, camera, crop=48, seed=8, per_image=200)[first]
    assert pair.blurred.tobytes() == again.blurred.tobytes() and pair.meta == again.meta
    assert pair.meta["camera_draws"]["jpeg_quality"] == draws[first]["jpeg_quality"]
    assert pair.meta["camera"]["steps"][-1] == {"step": "jpeg", "quality": (75, 95), "share": 0.5}
    np.testing.assert_allclose(pair.blurred * 255, np.rint(pair.blurred * 255), atol=1e-3)  # decoded JPEG: 8-bit values
    # The device path takes the same draws: without JPEG it makes the same pairs.
    plain = [i for i, d in enumerate(draws) if not d["jpeg_quality"]][:4]
    batch = default_collate([SharpCropDataset(synth)[i] for i in plain])
    blurred, _ = pairs_on_device(batch, camera, "cpu")
    for j, index in enumerate(plain):
        np.testing.assert_allclose(blurred[j].permute(1, 2, 0).numpy(), synth[index].blurred, atol=1e-4)
    assert torch.isfinite(blurred).all()
