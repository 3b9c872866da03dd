import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from blurgen.kernels.bank import sample_kernels
from blurgen.blurring.camera import (
    CAMERA_PRESETS, Camera, CameraDraws, Jpeg, draw_camera, Saturation, Sensor, ToneCurve, camera_preset, expose, linear_to_srgb,
    srgb_to_linear,
)
from blurgen.blurring.camera_torch import expose_batch, signed_key
from blurgen.blurring.camera_torch import linear_to_srgb as linear_to_srgb_torch
from blurgen.blurring.camera_torch import srgb_to_linear as srgb_to_linear_torch
from blurgen.pairs.synthesizer import BankKernels, PairSynthesizer
from blurgen.pairs.datasets import SharpCropDataset, pairs_on_device

GREYS = (0.25, 0.5, 0.75)


@pytest.fixture(scope="module")
def bank():
    return sample_kernels(50, seed=0)


def flat_sources(size: int = 360) -> list[np.ndarray]:
    return [np.full((size, size, 3), round(g * 255), np.uint8) for g in GREYS]


def test_srgb_curve_round_trips_and_matches_torch():
    values = np.linspace(0, 1, 1001)
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(values)), values, atol=1e-12)
    assert srgb_to_linear(np.array([0.5]))[0] == pytest.approx(0.21404, abs=1e-5)
    torch.testing.assert_close(srgb_to_linear_torch(torch.from_numpy(values)), torch.from_numpy(srgb_to_linear(values)))
    torch.testing.assert_close(linear_to_srgb_torch(torch.from_numpy(values)), torch.from_numpy(linear_to_srgb(values)))


def test_preset_none_keeps_mean_intensity(bank):
    rng = np.random.default_rng(0)
    sources = [(rng.random((300, 300, 3)) ** 2 * 255).astype(np.uint8) for _ in range(3)]
    synth = PairSynthesizer(sources, BankKernels(bank), CAMERA_PRESETS["none"], crop=200, seed=1)
    for pair in (synth[i] for i in range(len(synth))):
        assert abs(pair.blurred.mean() / pair.sharp.mean() - 1) < 0.005


@pytest.mark.parametrize("camera", ["gamma", "mixed", "realistic"])
def test_flat_images_stay_flat_in_the_mean(camera, bank):
    # Averaging light of one value gives that value back: no rescaling in any curve.
    sharp = np.full((200, 200, 3), 0.4, np.float32)
    out = expose(sharp, bank.kernels[0], CAMERA_PRESETS[camera], CameraDraws(beta1=1e-5, beta2=1e-6), noise_key=3)
    assert abs(float(out.mean()) - 0.4) < 1e-3


def test_gamma_blurs_in_linear_light(bank):
    # Half black, half white: the average of light is brighter than the average of values.
    sharp = np.zeros((100, 100, 3), np.float32)
    sharp[:, 50:] = 1.0
    box = np.ones((21, 21))
    plain = expose(sharp, box, CAMERA_PRESETS["none"], CameraDraws(), border="reflect")
    gamma = expose(sharp, box, CAMERA_PRESETS["gamma"], CameraDraws(), border="reflect")
    assert plain[50, 50, 0] == pytest.approx(11 / 21, abs=1e-5)
    assert gamma[50, 50, 0] == pytest.approx((11 / 21) ** (1 / 2.2), abs=1e-5)


def test_mixed_draws_each_pairs_exponent_from_srgb_blur_to_linear_light(bank):
    sharp = np.zeros((100, 100, 3), np.float32)
    sharp[:, 50:] = 1.0
    box = np.ones((21, 21))
    mixed = CAMERA_PRESETS["mixed"]
    for exponent, expected in ((1.0, 11 / 21), (2.2, (11 / 21) ** (1 / 2.2)), (1.6, (11 / 21) ** (1 / 1.6))):
        out = expose(sharp, box, mixed, CameraDraws(gamma=exponent), border="reflect")
        assert out[50, 50, 0] == pytest.approx(expected, abs=1e-5)
    synth = PairSynthesizer(flat_sources(), BankKernels(bank), mixed, crop=64, seed=2, per_image=40)
    exponents = [synth[i].meta["camera_draws"]["gamma"] for i in range(40)]
    assert min(exponents) >= 1.0 and max(exponents) <= 2.2 and max(exponents) - min(exponents) > 0.8
    assert PairSynthesizer(flat_sources(), BankKernels(bank), CAMERA_PRESETS["gamma"], crop=64)[0].meta["camera_draws"] == {}


def linear_variance(pair_blurred: np.ndarray) -> float:
    return float(srgb_to_linear(pair_blurred.astype(np.float64)).var())


def test_realistic_noise_follows_the_poisson_gaussian_model(bank):
    synth = PairSynthesizer(flat_sources(), BankKernels(bank), CAMERA_PRESETS["realistic"], crop=256, seed=2, per_image=3)
    for i in range(len(synth)):
        blurred, sharp, meta = synth[i]
        x = float(srgb_to_linear(sharp.astype(np.float64)).mean())
        draws = meta["camera_draws"]
        assert 8.89e-5 * 0.5 <= draws["beta1"] <= 8.89e-5 * 1.5 and 2.94e-5 * 0.5 <= draws["beta2"] <= 2.94e-5 * 1.5
        expected = draws["beta1"] * x + draws["beta2"]
        assert linear_variance(blurred) == pytest.approx(expected, rel=0.10)


def test_realistic_noise_on_the_device_path_follows_the_model_too(bank):
    synth = PairSynthesizer(flat_sources(), BankKernels(bank), CAMERA_PRESETS["realistic"], crop=256, seed=3, per_image=2)
    dataset = SharpCropDataset(synth)
    batch = default_collate([dataset[i] for i in range(len(dataset))])
    blurred, sharp = pairs_on_device(batch, synth.camera, "cpu")
    for b in range(len(dataset)):
        x = float(srgb_to_linear(sharp[b].double().numpy()).mean())
        beta1, beta2 = synth.camera.column(batch["draws"], "beta1")[b].item(), synth.camera.column(batch["draws"], "beta2")[b].item()
        variance = float(srgb_to_linear(blurred[b].double().numpy()).var())
        assert variance == pytest.approx(beta1 * x + beta2, rel=0.10)


def test_saturated_highlights_spread_brighter(bank):
    sharp = np.full((200, 200, 3), 0.3, np.float32)
    sharp[90:110, 90:110] = 1.0  # a clipped highlight
    kernel = bank.kernels[np.argmax(bank.meta["footprint"])]
    camera = Camera((Saturation((0.25, 1.75)), Sensor(), ToneCurve("srgb")))
    dim = expose(sharp, kernel, camera, CameraDraws(saturation_alpha=0.0))
    bright = expose(sharp, kernel, camera, CameraDraws(saturation_alpha=1.5))
    assert bright.max() <= 1.0 and (bright >= dim - 1e-6).all()
    assert bright.mean() > dim.mean() + 1e-3
    far_away = np.s_[:20, :20]
    np.testing.assert_allclose(bright[far_away], dim[far_away], atol=1e-6)


def test_jpeg_quality_is_drawn_and_applied(bank):
    rng = np.random.default_rng(4)
    sources = [(rng.random((300, 300, 3)) * 255).astype(np.uint8)]
    camera = Camera((*camera_preset("realistic").steps, Jpeg((40, 60))))
    synth = PairSynthesizer(sources, BankKernels(bank), camera, crop=128, seed=5, per_image=6)
    qualities = [synth[i].meta["camera_draws"]["jpeg_quality"] for i in range(6)]
    assert all(40 <= q <= 60 for q in qualities) and len(set(qualities)) > 1
    blurred = synth[0].blurred
    np.testing.assert_allclose(blurred * 255, np.rint(blurred * 255), atol=1e-3)  # decoded 8-bit values


def test_camera_draws_are_in_the_metadata_and_deterministic(bank):
    synth = PairSynthesizer(flat_sources(), BankKernels(bank), CAMERA_PRESETS["realistic"], crop=64, seed=9)
    again = PairSynthesizer(flat_sources(), BankKernels(bank), CAMERA_PRESETS["realistic"], crop=64, seed=9)
    assert synth[1].meta == again[1].meta
    np.testing.assert_array_equal(synth[1].blurred, again[1].blurred)
    assert 0.25 <= synth[1].meta["camera_draws"]["saturation_alpha"] <= 1.75
    assert synth[1].meta["camera"]["name"] == "realistic" and synth[1].meta["camera"]["steps"][2] == {
        "step": "tone_curve", "curve": "srgb", "gamma": 2.2}


def test_device_path_jpeg_runs(bank):
    synth = PairSynthesizer(flat_sources(200), BankKernels(bank), Camera((Sensor(), ToneCurve("gamma"), Jpeg((50, 50)))), crop=64, seed=1)
    batch = default_collate([SharpCropDataset(synth)[i] for i in range(3)])
    blurred, _ = pairs_on_device(batch, synth.camera, "cpu")
    np.testing.assert_allclose(blurred.numpy() * 255, np.rint(blurred.numpy() * 255), atol=1e-3)


@pytest.mark.parametrize("make,message", [
    (lambda: ToneCurve("log"), "curve"),
    (lambda: Saturation((1.0, 0.5)), "saturation"),
    (lambda: Jpeg((0, 50)), "jpeg quality"),
    (lambda: Sensor(beta1=-1.0), "variances"),
    (lambda: ToneCurve(gamma_range=(1.0, 2.2)), "gamma_range"),
    (lambda: ToneCurve("gamma", gamma_range=(2.2, 1.0)), "gamma_range"),
    (lambda: Camera((ToneCurve(), Sensor())), "in the order"),
    (lambda: Camera((Sensor(), Sensor(), ToneCurve())), "once each"),
    (lambda: Camera((ToneCurve(),)), "a sensor and a tone curve"),
])
def test_bad_cameras_are_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()
    with pytest.raises(ValueError, match="unknown camera preset"):
        camera_preset("film")


def test_expose_batch_takes_one_row_of_draws_per_sample(bank):
    sharp = torch.full((2, 3, 100, 100), 0.5)
    realistic = CAMERA_PRESETS["realistic"]
    draws = torch.stack([realistic.draws_tensor(CameraDraws(saturation_alpha=0.0, beta1=1e-4, beta2=3e-5)),
                         realistic.draws_tensor(CameraDraws(saturation_alpha=0.0, beta1=0.0, beta2=0.0))])
    keys = torch.tensor([signed_key(1), signed_key(2)])
    out = expose_batch(sharp, torch.from_numpy(bank.kernels[:2]), realistic, draws, keys)
    assert out[0].std() > 1e-3 and out[1].std() < 1e-5


@pytest.mark.parametrize("name", list(CAMERA_PRESETS))
def test_camera_draws_round_trip_through_their_tensor_form_by_name(name):
    camera = CAMERA_PRESETS[name]
    drawn = draw_camera(camera, lambda counter: (counter * 0.37) % 1)
    assert tuple(drawn) == camera.columns  # each step draws under its own names, in step order
    row = camera.draws_tensor(drawn)
    assert row.dtype == torch.float32 and row.shape == (len(camera.columns),)
    back = camera.draws_from_tensor(row)
    assert back == {name: float(torch.tensor(value, dtype=torch.float32)) if isinstance(value, float) else value
                    for name, value in drawn.items()}
    assert all(type(back[name]) is type(drawn[name]) for name in drawn)  # JPEG quality stays an integer
    batch = torch.stack([row, row])
    for column in camera.columns:
        assert camera.column(batch, column)[0].item() == pytest.approx(drawn[column], rel=1e-6)


def test_expose_batch_refuses_draws_of_another_camera(bank):
    sharp = torch.full((2, 3, 100, 100), 0.5)
    keys = torch.tensor([signed_key(1), signed_key(2)])
    with pytest.raises(ValueError, match=r"\(B, 3\) with columns saturation_alpha, beta1, beta2"):
        expose_batch(sharp, torch.from_numpy(bank.kernels[:2]), CAMERA_PRESETS["realistic"], torch.zeros(2, 1), keys)
