"""The raw camera: white balance, Bayer mosaic, noise on the mosaic, demosaicking — on both paths."""

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from blurgen.blurring.camera import (
    CAMERA_PRESETS, STEPS, Camera, Demosaic, Exposure, Mosaic, Sensor, ToneCurve, WhiteBalance, demosaic, draw_camera, expose, mosaic,
    response_camera,
)
from blurgen.blurring.camera_torch import BATCHED, demosaic_batch, mosaic_batch
from blurgen.kernels.bank import sample_kernels
from blurgen.pairs.datasets import SharpCropDataset, pairs_on_device
from blurgen.pairs.settings import PairSettings
from blurgen.pairs.synthesizer import BankKernels, PairSynthesizer
from blurgen.settings import SettingError

RAW = CAMERA_PRESETS["raw"]


@pytest.fixture(scope="module")
def bank():
    return sample_kernels(8, seed=4, size=17)


def test_every_kind_of_step_has_a_batched_twin():
    assert set(BATCHED) == set(STEPS)


@pytest.mark.parametrize("grey", [0.2, 0.5, 0.93])
def test_a_flat_grey_patch_survives_mosaic_and_demosaic(grey):
    light = np.full((3, 12, 15), grey, np.float32)
    light[0] *= 0.5  # a colour, not only grey
    back = demosaic(mosaic(light))
    np.testing.assert_allclose(back, light, atol=0.5 / 65535 + 1e-7)  # 16-bit rounding only
    batch = demosaic_batch(mosaic_batch(torch.from_numpy(light)[None]))
    np.testing.assert_allclose(batch[0].numpy(), light, atol=0.5 / 65535 + 1e-7)


def test_the_mosaic_keeps_one_colour_per_photosite_in_rggb_order():
    light = np.stack([np.full((4, 4), value, np.float32) for value in (0.1, 0.2, 0.3)])
    expected = np.array([[0.1, 0.2] * 2, [0.2, 0.3] * 2] * 2, np.float32)
    np.testing.assert_array_equal(mosaic(light)[0], expected)


def test_batched_demosaicking_is_opencvs_on_any_mosaic():
    raw = np.random.default_rng(0).random((1, 21, 18)).astype(np.float32)
    np.testing.assert_allclose(demosaic_batch(torch.from_numpy(raw)[None])[0].numpy(), demosaic(raw), atol=1.01 / 65535)


def test_noise_on_the_mosaic_follows_the_drawn_variances():
    camera = Camera((Mosaic(), Sensor(noise=(0.5, 1.5)), Demosaic(), ToneCurve()))
    for index in range(3):
        drawn = draw_camera(camera, lambda counter, index=index: ((counter + 1) * 0.618 * (index + 1)) % 1)
        for level in (0.1, 0.6):
            exposure = Exposure([], noise_key=index + 7, light=np.full((3, 300, 300), level, np.float32))
            for step in camera.steps[:2]:  # mosaic, then the sensor: the raw values a camera records
                step.after(exposure, drawn)
            assert exposure.light.shape == (1, 300, 300)
            expected = drawn["beta1"] * level + drawn["beta2"]
            assert float(exposure.light.var()) == pytest.approx(expected, rel=0.05)
            assert float(exposure.light.mean()) == pytest.approx(level, abs=3e-4)


def test_white_balance_keeps_grey_grey_and_clips_highlights():
    sharp = np.full((40, 40, 3), 0.5, np.float32)
    sharp[:, :, 0] = 0.8  # a flat colour: no edge for demosaicking to fringe
    camera = Camera((Mosaic(), Sensor(), Demosaic(), WhiteBalance(), ToneCurve("srgb")))
    drawn = {"red_gain": 2.2, "blue_gain": 1.6}
    out = expose(sharp, np.ones((1, 1)), camera, drawn, border="reflect")
    np.testing.assert_allclose(out, sharp, atol=2e-4)  # the gains are divided out, then applied again
    raw_light = np.full((3, 4, 4), 0.5, np.float32)  # in raw a bright red clips only after its gain
    exposure = Exposure([], 0, light=raw_light.copy())
    WhiteBalance().after(exposure, drawn)
    assert exposure.light[0].max() == 1.0 and exposure.light[1].max() == pytest.approx(0.5)


def test_raw_pairs_record_their_draws_and_reproduce_their_bytes(bank):
    rng = np.random.default_rng(2)
    sources = [(rng.random((90, 90, 3)) * 255).astype(np.uint8) for _ in range(2)]
    synth = PairSynthesizer(sources, BankKernels(bank), RAW, crop=40, seed=5, per_image=6)
    again = PairSynthesizer(sources, BankKernels(bank), RAW, crop=40, seed=5, per_image=6)
    for index in range(len(synth)):
        pair = synth[index]
        draws = pair.meta["camera_draws"]
        assert set(draws) == {"saturation_alpha", "beta1", "beta2", "red_gain", "blue_gain", "jpeg_quality"}
        assert 1.9 <= draws["red_gain"] <= 2.4 and 1.5 <= draws["blue_gain"] <= 1.9
        assert pair.blurred.tobytes() == again[index].blurred.tobytes() and pair.meta == again[index].meta
        assert pair.blurred.shape == (40, 40, 3) and 0 <= pair.blurred.min() and pair.blurred.max() <= 1
    assert synth[0].meta["camera"]["name"] == "raw"
    assert [step["step"] for step in synth[0].meta["camera"]["steps"]] == [
        "saturation", "mosaic", "sensor", "demosaic", "white_balance", "tone_curve", "jpeg"]


def test_the_device_path_makes_the_same_raw_pairs(bank):
    rng = np.random.default_rng(3)
    sources = [(rng.random((90, 90, 3)) * 255).astype(np.uint8)]
    synth = PairSynthesizer(sources, BankKernels(bank), RAW, crop=40, seed=6, per_image=24)
    plain = [i for i in range(len(synth)) if not synth.plan(i, (90, 90)).draws["jpeg_quality"]][:4]
    assert len(plain) == 4
    batch = default_collate([SharpCropDataset(synth)[i] for i in plain])
    blurred, _ = pairs_on_device(batch, RAW, "cpu")
    for row, index in enumerate(plain):
        np.testing.assert_allclose(blurred[row].permute(1, 2, 0).numpy(), synth[index].blurred, atol=2e-4)


def test_video_averaging_refuses_the_raw_camera():
    with pytest.raises(ValueError, match="not in camera raw"):
        response_camera(RAW, "srgb")
    with pytest.raises(SettingError, match="camera"):
        PairSettings(src="clips", average="7", camera="raw")
