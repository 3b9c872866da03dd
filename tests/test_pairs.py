import hashlib
import json

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from blurgen.kernels.bank import sample_kernels
from blurgen.blurring.camera import CAMERA_PRESETS
from blurgen.pairs.synthesizer import BankKernels, ImageTooSmall, LiveKernels, PairSynthesizer, Views, orient
from blurgen.pairs.datasets import PairDataset, SharpCropDataset, pairs_on_device


@pytest.fixture(scope="module")
def sources():
    rng = np.random.default_rng(0)
    return [(rng.random((200 + 10 * i, 240, 3)) * 255).astype(np.uint8) for i in range(5)]


@pytest.fixture(scope="module")
def bank():
    return sample_kernels(40, seed=3)


def digest(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def test_sample_i_depends_only_on_seed_and_i(sources, bank):
    make = lambda seed: PairSynthesizer(sources, BankKernels(bank), CAMERA_PRESETS["realistic"], crop=64, seed=seed, per_image=2)
    a, b = make(7), make(7)
    forward = [a[i] for i in range(len(a))]
    backward = [b[i] for i in reversed(range(len(b)))][::-1]
    assert digest(p.blurred for p in forward) == digest(p.blurred for p in backward)
    assert [p.meta for p in forward] == [p.meta for p in backward]
    assert digest(p.blurred for p in forward) != digest(make(8)[i].blurred for i in range(len(a)))


def test_the_sharp_crop_is_the_source_at_the_recorded_box(sources, bank):
    synth = PairSynthesizer(sources, BankKernels(bank), crop=80, seed=1, per_image=3)
    for i in range(len(synth)):
        _, sharp, meta = synth[i]
        box = meta["crop_box"]
        source = sources[meta["source_index"]]
        expected = source[box["y"] : box["y"] + 80, box["x"] : box["x"] + 80] / 255.0
        np.testing.assert_allclose(sharp, expected, atol=1e-7)
        assert meta["source_index"] == i // 3


def test_pairs_are_aligned_a_point_blurs_around_itself(bank):
    image = np.zeros((300, 300), np.uint8)
    image[150, 150] = 255
    synth = PairSynthesizer([image.astype(np.float32) / 255], BankKernels(bank), crop=150, seed=4, per_image=10)
    for i in range(len(synth)):
        blurred, sharp, _ = synth[i]
        rows, cols = np.mgrid[:150, :150]
        for picture in (sharp, blurred):
            mass = picture[:, :, 0]
            assert (mass * rows).sum() / mass.sum() == pytest.approx((sharp[:, :, 0] * rows).sum() / sharp[:, :, 0].sum(), abs=0.05)
            assert (mass * cols).sum() / mass.sum() == pytest.approx((sharp[:, :, 0] * cols).sum() / sharp[:, :, 0].sum(), abs=0.05)


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_yields_the_same_samples_for_any_worker_count(sources, bank, workers):
    synth = PairSynthesizer(sources, BankKernels(bank), CAMERA_PRESETS["realistic"], crop=48, seed=5, per_image=2)
    reference = [synth[i] for i in range(len(synth))]
    loader = DataLoader(PairDataset(synth), batch_size=3, num_workers=workers)
    seen = 0
    for batch in loader:
        for j, index in enumerate(batch["index"].tolist()):
            np.testing.assert_array_equal(batch["blurred"][j].permute(1, 2, 0).numpy(), reference[index].blurred)
            np.testing.assert_array_equal(batch["sharp"][j].permute(1, 2, 0).numpy(), reference[index].sharp)
            kernel = batch["kernel"][j].numpy()  # the kernel that made the pair, for a kernel-aware model
            assert kernel.shape == (bank.size, bank.size) and kernel.sum() == pytest.approx(1.0, abs=1e-5)
            np.testing.assert_array_equal(kernel, bank[json.loads(batch["meta"][j])["kernel"]["bank_index"]][0])
            seen += 1
    assert seen == len(synth)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU"))])
@pytest.mark.parametrize("camera", [CAMERA_PRESETS[name] for name in ("none", "gamma", "mixed", "realistic")])
def test_device_path_equals_the_cpu_path(sources, bank, camera, device):
    synth = PairSynthesizer(sources, BankKernels(bank), camera, crop=64, seed=6, per_image=2)
    loader = DataLoader(SharpCropDataset(synth), batch_size=4, num_workers=2)
    for batch in loader:
        blurred, sharp = pairs_on_device(batch, camera, device)
        for j, index in enumerate(batch["index"].tolist()):
            pair = synth[index]
            np.testing.assert_allclose(blurred[j].permute(1, 2, 0).cpu().numpy(), pair.blurred, atol=1e-4)
            np.testing.assert_array_equal(sharp[j].permute(1, 2, 0).cpu().numpy(), pair.sharp)


def test_live_kernels_are_the_bank_that_blurgen_kernels_would_write(sources):
    synth = PairSynthesizer(sources, LiveKernels(seed=11, size=33), crop=64, seed=11)
    bank = sample_kernels(len(sources), seed=11, size=33)
    for i in range(len(sources)):
        meta = synth[i].meta["kernel"]
        assert meta["index"] == i and meta["seed"] == 11
        np.testing.assert_array_equal(synth.plan(i, (200, 240)).kernel, bank.kernels[i])


def test_kernel_choice_is_recorded(sources, bank):
    synth = PairSynthesizer(sources, BankKernels(bank), crop=64, seed=2, per_image=4)
    chosen = [synth[i].meta["kernel"]["bank_index"] for i in range(len(synth))]
    assert len(set(chosen)) > 5
    for i, j in enumerate(chosen[:3]):
        np.testing.assert_array_equal(synth.plan(i, (200, 240)).kernel, bank.kernels[j])


def test_whole_images_use_reflected_borders(sources, bank):
    synth = PairSynthesizer(sources, BankKernels(bank), crop=None, seed=1)
    blurred, sharp, meta = synth[2]
    assert blurred.shape == sharp.shape == (220, 240, 3)
    assert meta["crop_box"] == {"x": 0, "y": 0, "width": 240, "height": 220}
    with pytest.raises(ValueError, match="crop size"):
        SharpCropDataset(synth)


def test_grey_sources_become_rgb_and_transparent_ones_are_composited_over_white(bank):
    grey = np.full((150, 150), 128, np.uint8)
    hidden = np.zeros((150, 150, 4), np.uint16)
    hidden[..., 1] = 65535  # green, under alpha 0: invisible, so never pair content
    half = hidden.copy()
    half[..., 3] = 32768  # green at half opacity
    synth = PairSynthesizer([grey, hidden, half], BankKernels(bank), crop=32, seed=0)
    assert synth[0].sharp.shape == (32, 32, 3) and np.allclose(synth[0].sharp, 128 / 255)
    np.testing.assert_allclose(synth[1].blurred, 1.0, atol=1e-6)
    np.testing.assert_allclose(synth[2].sharp, np.broadcast_to([0.5, 1.0, 0.5], (32, 32, 3)), atol=1e-4)
    assert synth[1].meta["alpha"] == "composited over white" and "alpha" not in synth[0].meta


def test_small_images_and_bad_settings_are_clear_errors(bank):
    synth = PairSynthesizer([np.zeros((100, 100, 3), np.uint8)], BankKernels(bank), crop=64)
    with pytest.raises(ImageTooSmall, match="smaller than crop 64"):
        synth[0]
    with pytest.raises(IndexError):
        synth[1]
    with pytest.raises(ValueError, match="crop"):
        PairSynthesizer([], BankKernels(bank), crop=0)
    with pytest.raises(ValueError, match="per_image"):
        PairSynthesizer([], BankKernels(bank), per_image=0)


def test_uint8_regions_carry_exact_source_values(sources, bank):
    synth = PairSynthesizer(sources, BankKernels(bank), crop=32, seed=3)
    item = SharpCropDataset(synth)[0]
    region, plan = synth.sharp_region(0)
    assert item["region"].dtype == torch.uint8 and item["region"].shape == (3, 96, 96)
    np.testing.assert_array_equal(item["region"].permute(1, 2, 0).numpy(), region)
    assert item["kernel"].shape == (65, 65) and item["draws"].shape == (len(synth.camera.columns),)


def test_orient_gives_the_eight_orientations_of_the_square():
    image = np.arange(12).reshape(3, 4)
    seen = {orient(image, k).tobytes() + bytes(orient(image, k).shape) for k in range(8)}
    assert len(seen) == 8
    np.testing.assert_array_equal(orient(image, 0), image)
    np.testing.assert_array_equal(orient(image, 4), image.T)
    with pytest.raises(ValueError, match="0..7"):
        orient(image, 8)


def test_oriented_views_are_the_source_crop_turned_as_recorded(sources, bank):
    synth = PairSynthesizer(sources, BankKernels(bank), crop=64, seed=2, per_image=8, views=Views(orientations=True))
    orientations = set()
    for i in range(len(synth)):
        _, sharp, meta = synth[i]
        box, source = meta["crop_box"], sources[meta["source_index"]]
        crop = source[box["y"] : box["y"] + 64, box["x"] : box["x"] + 64] / 255.0
        np.testing.assert_allclose(sharp, orient(crop, meta["view"]["orientation"]), atol=1e-7)
        orientations.add(meta["view"]["orientation"])
    assert orientations == set(range(8))


def test_shrunk_views_stay_aligned_and_sharp(bank):
    image = np.zeros((300, 300), np.float32)
    image[150, 150] = 1.0  # inside every sharp crop: regions are read larger only up to the image's side
    synth = PairSynthesizer([image], BankKernels(bank), crop=150, seed=4, per_image=12, views=Views(True, 0.7))
    scales = []
    rows, cols = np.mgrid[:150, :150]
    for i in range(len(synth)):
        blurred, sharp, meta = synth[i]
        scales.append(meta["view"]["scale"])
        for picture in (sharp, blurred):
            mass = picture[:, :, 0]
            assert (mass * rows).sum() / mass.sum() == pytest.approx((sharp[:, :, 0] * rows).sum() / sharp[:, :, 0].sum(), abs=0.05)
            assert (mass * cols).sum() / mass.sum() == pytest.approx((sharp[:, :, 0] * cols).sum() / sharp[:, :, 0].sum(), abs=0.05)
        # area averaging: the shrunk point's light is kept, spread over at most 2×2 pixels
        assert sharp[:, :, 0].sum() == pytest.approx(image.sum() * meta["view"]["scale"] ** 2, rel=0.02)
    assert min(scales) >= 0.7 and max(scales) <= 1 and max(scales) - min(scales) > 0.15


def test_views_are_a_function_of_seed_and_index(sources, bank):
    make = lambda: PairSynthesizer(sources, BankKernels(bank), crop=48, seed=3, per_image=4, views=Views(True, 0.6))
    a, b = make(), make()
    forward = [a[i].blurred for i in range(len(a))]
    assert digest(forward) == digest([b[i].blurred for i in reversed(range(len(b)))][::-1])
    assert digest(forward) != digest(PairSynthesizer(sources, BankKernels(bank), crop=48, seed=3, per_image=4)[i].blurred
                                     for i in range(len(a)))


def test_views_need_a_crop_and_uniform_blur(sources, bank):
    with pytest.raises(ValueError, match="orientations needs crop"):
        PairSynthesizer(sources, BankKernels(bank), crop=None, views=Views(orientations=True))
    with pytest.raises(ValueError, match="min_scale"):
        Views(min_scale=0)
