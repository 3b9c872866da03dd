"""Real blur as the judge: Levin et al.'s benchmark (its layouts and its shift-searching protocol),
kernels held against measured camera shake, the noisy camera, and the real-blur benchmark script."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat
from scipy.signal import fftconvolve

from fixtures import cli, textured, write
from blurgen.blurring.camera import camera_preset
from blurgen.kernels.bank import sample_kernels
from blurgen.kernels.coverage import best_correlation, coverage
from blurgen.kernels.measured import read_kernel as read_measured_kernel, read_kernels as read_measured_kernels
from blurgen.pairs.synthesizer import LiveKernels, PairSynthesizer
from blurgen.sources import SourceError, open_pairs
from blurgen.sources.public_sets import read_levin_mat
from train.eval.protocols import kohler_scores, shift_scores

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def shake_kernel() -> np.ndarray:
    """An uneven, asymmetric 9×9 kernel like a measured one: a bent path with a bright dwell."""
    kernel = np.zeros((9, 9))
    kernel[2, 2:6] = 1.0
    kernel[2:7, 6] = 0.5
    kernel[6, 6] = 3.0
    return kernel / kernel.sum()


def test_the_levin_protocol_finds_the_shift_and_ignores_the_border():
    rng = np.random.default_rng(0)
    sharp = textured(rng, 80, 96)
    moved = np.roll(sharp, (2, -3), axis=(0, 1))
    moved[:5] = 0  # spoiled rows inside the border do not count
    scored = shift_scores(moved, sharp)
    assert scored["shift"] == [2, -3] and scored["psnr"] > 100 and scored["ssim"] == pytest.approx(1.0)
    far = np.roll(sharp, (7, 0), axis=(0, 1))  # beyond the ±5 px window: scored as it is
    assert shift_scores(far, sharp)["psnr"] < 40
    grey = shift_scores(moved[:, :, 0], sharp[:, :, 0])
    assert grey["shift"] == [2, -3]
    with pytest.raises(ValueError, match="nothing left inside a 15-px border"):
        shift_scores(sharp[:30, :30], sharp[:30, :30])


def test_levin_pngs_and_mat_files_are_recognised_with_their_protocol(tmp_path):
    rng = np.random.default_rng(1)
    for image in (1, 2):
        write(tmp_path / "png" / "gt" / f"im{image}.png", textured(rng, 48, 48, 1)[:, :, 0])
        for kernel in (1, 2):
            write(tmp_path / "png" / f"im{image}_kernel{kernel}_img.png", textured(rng, 48, 48, 1)[:, :, 0])
    found = open_pairs(tmp_path / "png")
    assert found.benchmark == "Levin" and found.protocol == "levin" and len(found) == 4
    assert [found.id(i) for i in range(4)] == ["im1_kernel1", "im1_kernel2", "im2_kernel1", "im2_kernel2"]
    (tmp_path / "png" / "gt" / "im2.png").unlink()
    with pytest.raises(SourceError, match=r"im2_kernel1_img\.png has no sharp image .*gt/im2\.png"):
        open_pairs(tmp_path / "png")

    kernel = shake_kernel()
    sharp = textured(rng, 64, 64, 1)[:, :, 0] / 255.0
    blurred = fftconvolve(sharp, kernel, mode="same")
    (tmp_path / "mat").mkdir()
    savemat(tmp_path / "mat" / "im05_flit01.mat", {"x": sharp, "y": blurred, "f": np.rot90(kernel, 2)})  # the file's orientation
    found = open_pairs(tmp_path / "mat")
    assert found.benchmark == "Levin" and found.id(0) == "im5_kernel1" and found.protocol == "levin"
    read_blurred, read_sharp = found[0]
    assert read_blurred.dtype == np.uint8 and np.abs(read_blurred.astype(float) - blurred * 255).max() <= 0.5
    _, _, read_kernel = read_levin_mat(tmp_path / "mat" / "im05_flit01.mat")
    assert np.allclose(read_kernel, kernel)  # turned into the orientation a convolution takes


def test_deblur_scores_levin_captures_by_their_protocol(tmp_path):
    rng = np.random.default_rng(2)
    kernel = shake_kernel()
    for image in (5, 6):
        sharp = textured(rng, 64, 64, 1)[:, :, 0] / 255.0
        savemat(tmp_path / f"im{image:02d}_flit01.mat", {"x": sharp, "y": fftconvolve(sharp, kernel, mode="same"), "f": np.rot90(kernel, 2)})
    report = tmp_path / "report.json"
    result = cli("deblur", "builtin", "--pairs", str(tmp_path), "--report", str(report), "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert "Levin benchmark" in result.stderr and "levin protocol" in result.stdout
    written = json.loads(report.read_text())
    assert written["protocol_name"] == "levin" and "15-px border" in written["protocol"] and written["images"] == 2
    assert all(len(row["shift"]) == 2 for row in written["per_image"])


def kohler_scene(rng: np.random.Generator, frames: int = 7) -> np.ndarray:
    """A Köhler-style recording: the sharp frames (N×48×56×3 uint8) along a camera path that drifts 1 px right per frame."""
    wide = textured(rng, 48, 56 + frames, 3)
    return np.stack([wide[:, k:k + 56] for k in range(frames)])


def test_the_kohler_protocol_scores_the_best_recorded_frame_after_a_gain_and_a_shift():
    rng = np.random.default_rng(4)
    frames = kohler_scene(rng)
    darker = np.clip(np.rint(frames[4] * 0.8), 0, 255).astype(np.uint8)  # the least-squares gain undoes it
    scored = kohler_scores(darker, frames)
    assert scored["frame"] == 4 and scored["shift"] == [0, 0] and scored["psnr"] > 45 and scored["ssim"] > 0.99
    moved = kohler_scores(np.roll(frames[4], (2, -3), axis=(0, 1)), frames)  # the registration finds it
    assert moved["frame"] == 4 and moved["shift"] == [-2, 3]
    blurred = np.clip(np.rint(frames.astype(float).mean(axis=0)), 0, 255).astype(np.uint8)
    assert kohler_scores(blurred, frames)["psnr"] < scored["psnr"] - 10
    with pytest.raises(ValueError, match="N×H×W×3 of the image's size"):
        kohler_scores(blurred[:40], frames)


def test_kohler_layouts_are_recognised_and_deblur_scores_them_by_their_protocol(tmp_path):
    rng = np.random.default_rng(5)
    root = tmp_path / "kohler"
    for scene in (1, 2):
        frames = kohler_scene(rng)
        write(root / "BlurryImages" / f"Blurry{scene}_1.png", np.clip(np.rint(frames.astype(float).mean(axis=0)), 0, 255).astype(np.uint8))
        if scene == 1:
            for number, frame in enumerate(frames, start=1):
                write(root / "GroundTruth" / f"GroundTruth{scene}_1_{number}.png", frame)
        else:
            (root / "groundTruthMatFiles").mkdir(parents=True)
            savemat(root / "groundTruthMatFiles" / "GroundTruth2_1.mat", {"GroundTruth": np.moveaxis(frames, 0, 3)})
    found = open_pairs(root)
    assert found.benchmark == "Kohler" and found.protocol == "kohler" and [found.id(i) for i in range(2)] == ["Blurry1_1", "Blurry2_1"]
    assert found.frames(0).shape == (7, 48, 56, 3) and np.array_equal(found.frames(1)[3], found[1][1])
    report = tmp_path / "report.json"
    result = cli("deblur", "builtin", "--pairs", str(root), "--report", str(report), "--device", "cpu")
    assert result.returncode == 0, result.stderr
    written = json.loads(report.read_text())
    assert written["protocol_name"] == "kohler" and written["images"] == 2 and all(0 <= row["frame"] < 7 for row in written["per_image"])
    for kind in ("blur", "sharp"):
        write(tmp_path / "plain" / kind / "a.png", textured(rng, 48, 48))
    result = cli("deblur", "builtin", "--pairs", str(tmp_path / "plain"), "--protocol", "kohler")
    assert result.returncode == 2 and "only Köhler et al.'s layout" in result.stderr, result.stderr
    (root / "GroundTruth" / "GroundTruth1_1_3.png").unlink()
    for path in (root / "GroundTruth").iterdir():
        path.unlink()
    with pytest.raises(SourceError, match=r"Blurry1_1\.png has no ground truth"):
        open_pairs(root)


def test_a_bank_holding_a_measured_kernel_covers_it_exactly_and_others_do_not(tmp_path):
    measured = shake_kernel()
    bank = sample_kernels(64, preset="mixture", seed=0).kernels
    placed = np.zeros_like(bank[0])
    placed[20:29, 30:39] = measured  # anywhere on the canvas: coverage searches every shift
    with_it = np.concatenate([bank, placed[None]])
    score, index = best_correlation(measured, with_it)
    assert score == pytest.approx(1.0, abs=1e-9) and index == 64
    without, _ = best_correlation(measured, bank)
    assert 0.0 < without < 0.95
    found = coverage({"a": measured, "b": np.rot90(measured)}, with_it)
    assert found["a"]["ncc"] == pytest.approx(1.0) and found["b"]["ncc"] < 0.95


def test_measured_kernels_are_read_checked_and_normalised(tmp_path):
    np.save(tmp_path / "k1.npy", shake_kernel() * 7)
    write(tmp_path / "k2.png", (shake_kernel() / shake_kernel().max() * 65535).astype(np.uint16))
    kernels = read_measured_kernels(tmp_path)
    assert list(kernels) == ["k1", "k2"] and all(k.sum() == pytest.approx(1.0) and k.min() >= 0 for k in kernels.values())
    assert np.allclose(kernels["k1"], kernels["k2"], atol=1e-4)
    for name, bad, message in (("neg.npy", -shake_kernel(), "negative values"), ("zero.npy", np.zeros((5, 5)), "sums to zero"),
                               ("flat.npy", np.ones(5), "2-D")):
        np.save(tmp_path / name, bad)
        with pytest.raises(ValueError, match=message):
            read_measured_kernel(tmp_path / name)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no .npy or image kernels"):
        read_measured_kernels(tmp_path / "empty")


def test_blurgen_kernels_coverage_reports_each_measured_kernel(tmp_path):
    (tmp_path / "measured").mkdir()
    np.save(tmp_path / "measured" / "shake.npy", shake_kernel())
    result = cli("blurgen", "kernels", "--n", "32", "--kernel-size", "17", "--out", str(tmp_path / "bank"),
                 "--coverage", str(tmp_path / "measured"))
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "bank" / "coverage.json").read_text())
    assert record["kernels"] == 32 and 0 < record["measured"]["shake"]["ncc"] < 1 and record["worst"] == record["mean"]
    assert "coverage" in result.stdout
    result = cli("blurgen", "kernels", "--n", "32", "--out", str(tmp_path / "other"), "--coverage", str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "--coverage" in result.stderr and "does not exist" in result.stderr
    assert not (tmp_path / "other" / "kernels.npz").exists()


def test_the_noisy_camera_blurs_the_stored_values_and_adds_sensor_noise():
    rng = np.random.default_rng(3)
    images = [textured(rng, 96, 96) for _ in range(3)]
    clean = PairSynthesizer(images, LiveKernels(size=9), camera_preset("none"), crop=48)
    noisy = PairSynthesizer(images, LiveKernels(size=9), camera_preset("noisy"), crop=48)
    for index in range(3):
        blurred_clean, sharp_clean, _ = clean[index]
        blurred_noisy, sharp_noisy, meta = noisy[index]
        assert np.array_equal(sharp_clean, sharp_noisy)
        residual = blurred_noisy.astype(np.float64) - blurred_clean
        level = float(np.mean(blurred_clean))
        expected = np.sqrt(8.89e-5 * level + 2.94e-5)  # RealBlur's noise at this level, the factor drawn in [0.5, 1.5]
        assert np.sqrt(0.4) * expected < residual.std() < np.sqrt(1.6) * expected
        assert abs(residual.mean()) < 3 * expected / 48


def test_measured_kernels_blur_the_photos_outside_blurgen(tmp_path):
    import independent_blur

    (tmp_path / "kernels").mkdir()
    np.save(tmp_path / "kernels" / "kernel1.npy", shake_kernel())
    count = independent_blur.build(tmp_path / "dark", max_side=96, process="levin-dark", kernels=tmp_path / "kernels")
    assert count == len(list((tmp_path / "dark" / "blur").iterdir()))
    pairs = open_pairs(tmp_path / "dark")
    blurred, sharp = pairs[0]
    assert blurred.shape == sharp.shape and np.array_equal(sharp[..., 0], sharp[..., 1])  # grey
    assert abs(float(sharp.mean()) - 67) < 2  # as dark as the captures
    expected = fftconvolve(np.pad(sharp[..., 0] / 255.0, 4, mode="edge"), shake_kernel(), mode="valid")
    inner = (slice(4, -4), slice(4, -4))  # away from the edge the pair's crop leaves
    assert np.abs(blurred[..., 0][inner] / 255.0 - expected[inner]).std() < 2 / 255


def test_the_real_blur_benchmark_scores_models_and_the_unsharp_mask(tmp_path):
    import realblur

    rng = np.random.default_rng(4)
    for name in ("a", "b"):
        sharp = textured(rng, 48, 64)
        write(tmp_path / "gopro" / "sharp" / f"{name}.png", sharp)
        write(tmp_path / "gopro" / "blur" / f"{name}.png", (sharp * 0.5 + np.roll(sharp, 3, axis=1) * 0.5).astype(np.uint8))
    (tmp_path / "kernels").mkdir()
    np.save(tmp_path / "kernels" / "kernel1.npy", shake_kernel())
    out = tmp_path / "results.json"
    results = realblur.main(["--runs", str(tmp_path / "runs"), "--gopro", str(tmp_path / "gopro"), "--levin-kernels",
                             str(tmp_path / "kernels"), "--results", str(out)])
    assert set(results["sets"]) == {"gopro-dev", "levin", "levin-linear", "levin-dark"}
    for model in ("builtin", "unsharp"):
        for entry in results["models"][model]["sets"].values():
            assert np.isfinite(entry["psnr_gain"]) and np.isfinite(entry["brightness_shift"]) and entry["images"] > 0
    assert "| unsharp |" in out.with_suffix(".md").read_text()
    assert all(entry["psnr_gain"] > 1 for entry in results["models"]["wiener-true"]["sets"].values())  # the true kernel helps
    from fixtures import TINY_NETS
    from train.config import TrainConfig
    from train.loop import train

    train(TrainConfig(mix="synth", builtin="photos", generator="kernel-resnet", crop=48, steps=1, batch_size=2, adv_weight=0.0,
                      out=str(tmp_path / "kernel"), vgg_weights="random", workers=0, device="cpu", **TINY_NETS), log=lambda _: None)
    sets = {name: tmp_path / "runs" / "sets" / name for name in realblur.MEASURED_SETS}
    known = realblur.learned_true(tmp_path / "kernel" / "checkpoint.pt", sets, tmp_path / "kernels", tmp_path / "nonblind")
    assert set(known) == set(realblur.MEASURED_SETS) and all(np.isfinite(entry["psnr_gain"]) for entry in known.values())
    import torch

    flat = torch.full((1, 3, 32, 32), 0.2)
    assert torch.allclose(realblur.UnsharpMask()(flat), flat)  # nothing to sharpen: unchanged


def blurred_photo(kernel: np.ndarray, noise: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A 96×128 photo-like image and its blur by ``kernel`` (the scene beyond the frame mirrored), with noise, 8-bit."""
    from blurgen.sources.packaged import PackagedPhotos
    import cv2

    sharp = cv2.resize(PackagedPhotos()[0][:, :, :3], (128, 96), interpolation=cv2.INTER_AREA)
    half = kernel.shape[0] // 2
    padded = np.pad(sharp / 255.0, ((half, half), (half, half), (0, 0)), mode="reflect")
    blurred = np.stack([fftconvolve(padded[:, :, c], kernel, mode="valid") for c in range(3)], axis=2)
    blurred += np.random.default_rng(0).normal(0, noise / 255, blurred.shape)
    return np.clip(np.rint(blurred * 255), 0, 255).astype(np.uint8), sharp


def psnr_of(image: np.ndarray, sharp: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((image.astype(float) - sharp.astype(float)) ** 2)))


def test_wiener_with_the_true_kernel_restores_a_blurred_photo(tmp_path):
    from train.deconvolution import wiener

    kernel = shake_kernel()
    blurred, sharp = blurred_photo(kernel)
    restored = np.rint(wiener(blurred / 255.0, kernel) * 255).astype(np.uint8)
    assert restored.shape == sharp.shape and restored.dtype == np.uint8
    assert psnr_of(restored, sharp) > psnr_of(blurred, sharp) + 4  # stated in docs: +5 to +6 dB on Levin's kernels
    assert abs(float(restored.mean()) - float(sharp.mean())) < 1.0  # no darkening, no tint
    edge = (slice(0, 4), slice(None))
    assert psnr_of(restored[edge], sharp[edge]) > psnr_of(blurred[edge], sharp[edge]) - 0.5  # no ringing at the border
    grey = wiener(blurred[:, :, 1] / 255.0, kernel)
    assert grey.shape == blurred.shape[:2]


def test_deblur_wiener_takes_a_kernel_per_image_and_refuses_bad_kernels_in_one_line(tmp_path):
    kernel = shake_kernel()
    blurred, sharp = blurred_photo(kernel)
    write(tmp_path / "in" / "a.png", blurred)
    (tmp_path / "kernels").mkdir()
    np.save(tmp_path / "kernels" / "a.npy", kernel)
    result = cli("deblur", "wiener", str(tmp_path / "in" / "a.png"), "--kernel", str(tmp_path / "kernels"), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    import cv2

    restored = cv2.imread(str(tmp_path / "out" / "a.png"))[:, :, ::-1]
    assert psnr_of(restored, sharp) > psnr_of(blurred, sharp) + 4
    bad = {"empty.npy": np.zeros((0, 0)), "negative.npy": -kernel, "zero.npy": np.zeros((5, 5)), "huge.npy": np.ones((200, 200))}
    messages = {"empty.npy": "2-D array", "negative.npy": "negative values", "zero.npy": "sums to zero", "huge.npy": "larger than the image"}
    for name, values in bad.items():
        np.save(tmp_path / name, values)
        result = cli("deblur", "wiener", str(tmp_path / "in" / "a.png"), "--kernel", str(tmp_path / name), "--out", str(tmp_path / "bad"))
        assert result.returncode in (0, 2) and messages[name] in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert len([line for line in result.stderr.splitlines() if messages[name] in line]) == 1
    result = cli("deblur", "builtin", str(tmp_path / "in" / "a.png"), "--kernel", str(tmp_path / "kernels" / "a.npy"))
    assert result.returncode == 2 and "blind model" in result.stderr


def test_the_coverage_benchmark_gives_a_row_per_generator_with_its_seeds(tmp_path):
    import kernel_coverage as coverage_benchmark

    (tmp_path / "kernels").mkdir()
    for j in range(8):  # tuning and held-out halves need eight measured kernels
        np.save(tmp_path / "kernels" / f"kernel{j + 1}.npy", np.rot90(shake_kernel(), j % 4))
    out = tmp_path / "coverage.json"
    results = coverage_benchmark.main(["--kernels", str(tmp_path / "kernels"), "--n", "64", "--seeds", "2", "--rows", "line,walk",
                                       "--results", str(out)])
    assert set(results["rows"]) == {"line", "walk"}
    for row in results["rows"].values():
        summary = row["summary"]["all"]["mean"]
        assert row["seeds"] == 2 and 0 < summary["min"] <= summary["mean"] <= summary["max"] < 1
    assert "| walk | 2 |" in out.with_suffix(".md").read_text()
