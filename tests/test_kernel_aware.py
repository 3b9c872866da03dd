"""The kernel-aware generator: its kernel branch gives kernels (non-negative, summing to 1,
centred), its deconvolution restores a known blur and passes finite gradients for any kernel,
training supervises the kernel and resumes bit for bit, and ``deblur CHECKPOINT --kernel`` uses it."""

import numpy as np
import pytest
import torch

import blurgen
from fixtures import TINY_NETS, cli, textured, write
from train.archs.kernel_aware import KERNEL_SIDE, KernelAwareGenerator, KernelEstimator, centred, fit_kernels, kernel_loss, wiener_deconvolve
from train.checkpoint import load_checkpoint
from train.config import TrainConfig
from train.loop import train


def centroid(kernel: torch.Tensor) -> tuple[float, float]:
    coords = torch.arange(kernel.shape[-1], dtype=torch.float64)
    mass = kernel.detach().double().sum()
    kernel = kernel.detach().double()
    return float((kernel.sum(1) * coords).sum() / mass), float((kernel.sum(0) * coords).sum() / mass)


def test_the_kernel_branch_gives_centred_kernels_that_sum_to_one():
    torch.manual_seed(0)
    estimator = KernelEstimator(width=8)
    torch.nn.init.normal_(estimator.head[-1].weight, std=0.5)  # a trained-looking, off-centre estimate
    kernels = estimator(torch.rand(3, 3, 64, 64) * 2 - 1)
    assert kernels.shape == (3, KERNEL_SIDE, KERNEL_SIDE) and kernels.dtype == torch.float32
    assert (kernels >= 0).all() and torch.allclose(kernels.sum((1, 2)), torch.ones(3), atol=1e-5)
    for kernel in kernels:
        assert centroid(kernel) == pytest.approx(((KERNEL_SIDE - 1) / 2,) * 2, abs=0.05)
    off = torch.zeros(1, 9, 9)
    off[0, 1, 6], off[0, 2, 7] = 0.75, 0.25
    assert centroid(centred(off)[0]) == pytest.approx((4.0, 4.0), abs=1e-4)


def shake() -> np.ndarray:
    """An uneven 9×9 kernel like a measured one: a bent path with a bright dwell."""
    kernel = np.zeros((9, 9), np.float32)
    kernel[2, 2:6], kernel[2:7, 6], kernel[6, 6] = 1.0, 0.5, 3.0
    return kernel / kernel.sum()


@pytest.mark.parametrize("name", ["shake", "box"])
def test_wiener_deconvolution_restores_a_known_blur_and_its_gradients_stay_finite(name):
    photo = textured(np.random.default_rng(1), 96, 96).astype(np.float32) / 255
    known = shake()
    if name == "box":
        known = np.zeros((9, 9), np.float32)
        known[4, :8] = 1 / 8  # a box whose spectrum has exact zeros
    blurred = blurgen.blur(photo, known)
    image = torch.from_numpy(blurred).permute(2, 0, 1)[None].requires_grad_(True)
    kernel = torch.from_numpy(known)[None].requires_grad_(True)
    balance = torch.tensor(1e-2, requires_grad=True)
    restored = wiener_deconvolve(image, kernel, balance)
    inner = (slice(None), slice(None), slice(12, -12), slice(12, -12))
    truth = torch.from_numpy(photo).permute(2, 0, 1)[None]
    error = torch.mean((restored[inner] - truth[inner]) ** 2)
    before = torch.mean((image[inner] - truth[inner]) ** 2)
    gain = float(10 * torch.log10(before / error).detach())
    assert gain > (10 if name == "shake" else 2), gain  # measured: +11.4 dB and +2.7 dB (the box's zeros cannot be undone)
    error.backward()
    for tensor in (image, kernel, balance):
        assert tensor.grad is not None and torch.isfinite(tensor.grad).all()


def test_the_kernel_loss_compares_on_the_estimates_canvas_and_skips_pairs_without_a_kernel():
    truth = torch.zeros(2, 65, 65)
    truth[0, 32, 30:35] = 0.2  # a short line, centred; the second pair has no kernel
    fitted = fit_kernels(truth)
    assert fitted.shape == (2, KERNEL_SIDE, KERNEL_SIDE) and fitted[1].sum() == 0 and fitted[0].sum() == pytest.approx(1.0)
    assert kernel_loss(fitted, truth) == pytest.approx(0.0, abs=1e-6)
    delta = torch.zeros(2, KERNEL_SIDE, KERNEL_SIDE)
    delta[:, 16, 16] = 1
    assert kernel_loss(delta, truth) == pytest.approx(1.6, abs=1e-5)  # |1 - 0.2| + 4 × 0.2, the first pair only
    assert kernel_loss(delta, torch.zeros(2, 65, 65)) == 0


def test_the_untrained_generator_is_the_deconvolution_and_restores_non_blind_with_a_given_kernel():
    generator = KernelAwareGenerator(ngf=8, blocks=1).eval()
    image = torch.rand(2, 3, 48, 48) * 2 - 1
    with torch.no_grad():
        restored, estimate = generator(image, with_estimate=True)
        deconvolved = wiener_deconvolve((image + 1) / 2, estimate, generator.log_balance_estimated.exp()) * 2 - 1
        assert torch.allclose(restored, deconvolved.clamp(-1, 1), atol=1e-5)  # the refiner starts as the identity on it
        line = torch.zeros(2, 9, 9)
        line[:, 4, :] = 1 / 9
        assert generator(image, line).shape == image.shape and estimate.shape == (2, KERNEL_SIDE, KERNEL_SIDE)
    with pytest.raises(ValueError, match="61-px kernel needs an image larger than it"):
        generator(image, torch.ones(2, 61, 61) / 61**2)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(2)
    for i in range(4):
        write(root / f"{i}.png", textured(rng, 120, 120))
    return root


def kernel_run(photos, out, **changes) -> TrainConfig:
    settings = dict(mix="synth", src=str(photos), out=str(out), steps=4, batch_size=2, crop=48, generator="kernel-resnet",
                    adv_weight=0.0, vgg_weights="random", workers=0, device="cpu", log_every=100, image_every=100, checkpoint_every=100,
                    **TINY_NETS)
    settings.update(changes)
    return TrainConfig(**settings)


def test_a_kernel_aware_run_learns_its_kernels_and_resumes_bit_for_bit(photos, tmp_path):
    straight = train(kernel_run(photos, tmp_path / "straight"), log=lambda _: None)
    assert all(record["kernel"] > 0 for record in straight["history"])  # synthetic pairs carry their kernels
    train(kernel_run(photos, tmp_path / "resumed", stop_at=2), log=lambda _: None)
    resumed = train(kernel_run(photos, tmp_path / "resumed", resume=True), log=lambda _: None)
    assert resumed["history"] == straight["history"][2:]
    a, b = (load_checkpoint(tmp_path / name / "checkpoint.pt")["generator"] for name in ("straight", "resumed"))
    assert a.keys() == b.keys() and all(torch.equal(a[key], b[key]) for key in a)
    unweighted = train(kernel_run(photos, tmp_path / "unweighted", steps=1, kernel_weight=0.0), log=lambda _: None)
    assert unweighted["history"][0]["kernel"] == 0


def test_deblur_restores_with_a_known_kernel_by_a_kernel_aware_checkpoint(photos, tmp_path):
    train(kernel_run(photos, tmp_path / "run", steps=1), log=lambda _: None)
    line = np.zeros((7, 7), np.float32)
    line[3] = 1
    np.save(tmp_path / "line.npy", line)
    write(tmp_path / "in" / "a.png", textured(np.random.default_rng(3), 60, 70))
    checkpoint = str(tmp_path / "run" / "checkpoint.pt")
    result = cli("deblur", checkpoint, str(tmp_path / "in" / "a.png"), "--kernel", str(tmp_path / "line.npy"), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "a.png").is_file()
    result = cli("deblur", "builtin", str(tmp_path / "in" / "a.png"), "--kernel", str(tmp_path / "line.npy"), "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and "is a blind model, which takes no kernel" in result.stderr
    for name, bad in (("negative", -line), ("zero", np.zeros((7, 7))), ("large", np.ones((81, 81)))):
        np.save(tmp_path / f"{name}.npy", bad)
        result = cli("deblur", checkpoint, str(tmp_path / "in" / "a.png"), "--kernel", str(tmp_path / f"{name}.npy"), "--out", str(tmp_path / "o"))
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert len([line for line in result.stderr.splitlines() if "error" in line]) == 1, result.stderr


def test_training_deconvolves_about_half_of_the_pairs_with_a_known_kernel_with_that_kernel(photos, tmp_path):
    from train.loop import generate

    seen = {}

    class Recorder(torch.nn.Module):
        def forward(self, blurred, kernels=None, given=None, with_estimate=False):
            seen["given"] = given
            return blurred, torch.full((len(blurred), KERNEL_SIDE, KERNEL_SIDE), 1 / KERNEL_SIDE**2)

    kernels = torch.zeros(16, 65, 65)
    kernels[4:, 32, 32] = 1  # the first 4 pairs have no kernel (GoPro's, motion blur)
    settings = kernel_run(photos, tmp_path)
    _, extra = generate(Recorder(), torch.zeros(16, 3, 48, 48), kernels, settings, step=3)
    given = seen["given"]
    assert not given[:4].any() and 2 <= int(given[4:].sum()) <= 10  # never where unknown; some, not all, where known
    generate(Recorder(), torch.zeros(16, 3, 48, 48), kernels, settings, step=3)
    assert torch.equal(seen["given"], given) and extra["kernel"] > 0  # drawn from (seed, step): a resumed run draws the same
