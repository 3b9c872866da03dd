"""Blur that varies across the image: camera rotation and moving objects (``--motion``)."""

import hashlib
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from fixtures import textured, write
from blurgen.blurring.camera import camera_preset
from blurgen.blurring.convolve import blur
from blurgen.output.dataset import DatasetSpec
from blurgen.output.distribute import build_dataset
from blurgen.kernels.raster import rasterise
from blurgen.blurring.motion import RotationShake, intrinsics, project, rotation_homographies, shake_preset, translation_homographies
from blurgen.pairs.motion import Motion
from blurgen.blurring.nonuniform import render
from blurgen.blurring.nonuniform_torch import render_batch
from blurgen.pairs.synthesizer import LiveKernels, PairSynthesizer
from blurgen.sources import FolderSource
from blurgen.kernels.trajectory import sample_trajectory
from blurgen.files import to_pixels


def planes_of(rng: np.random.Generator, side: int) -> np.ndarray:
    return np.ascontiguousarray(textured(rng, side, side).astype(np.float32).transpose(2, 0, 1) / 255)


def test_zero_motion_is_the_identity():
    rng = np.random.default_rng(0)
    region = textured(rng, 120, 120)
    still = Motion("camera", RotationShake(None, 0.0))
    synthesizer = PairSynthesizer([region], LiveKernels(), crop=64, motion=still)
    pair, _, blur_map = synthesizer.make_with_map(region, 0)
    assert np.array_equal(to_pixels(pair.blurred, 8), to_pixels(pair.sharp, 8)) and not blur_map.any()


def test_a_pure_camera_translation_is_the_uniform_blur_of_the_same_path():
    rng = np.random.default_rng(1)
    path = sample_trajectory(0, 5).positions[::4]  # 500 positions, as poses
    kernel = rasterise(path, size=65)[0]
    planes = planes_of(rng, 48 + 64)
    moves = path - (path.mean())  # both are centred on the path's centroid
    out, blur_map = render(planes, np.linalg.inv(translation_homographies(moves)), 32, 48)
    uniform = blur(planes.transpose(1, 2, 0), kernel, border="valid")
    np.testing.assert_allclose(out.transpose(1, 2, 0), uniform, atol=2e-5)
    travelled = np.abs(np.diff(moves)).sum()
    np.testing.assert_allclose(blur_map, travelled, rtol=1e-3)  # a translation moves every pixel alike


def test_a_pure_roll_blurs_in_proportion_to_the_distance_from_the_centre():
    rng = np.random.default_rng(2)
    size, margin = 96, 12
    planes = planes_of(rng, size + 2 * margin)
    centre = margin + (size - 1) / 2  # the principal point: the middle of the crop
    angle = math.radians(4.0)
    rolls = np.linspace(-angle / 2, angle / 2, 64)
    H = rotation_homographies(np.stack([0 * rolls, 0 * rolls, rolls], 1), intrinsics(500.0, centre, centre))
    out, blur_map = render(planes, np.linalg.inv(H), margin, size)
    for radius in (10, 20, 30, 40):
        for direction in (0.0, 1.0, 2.5, 4.0):
            row = round(centre + radius * math.sin(direction)) - margin
            col = round(centre + radius * math.cos(direction)) - margin
            distance = math.hypot(col + margin - centre, row + margin - centre)
            assert blur_map[row, col] == pytest.approx(distance * angle, rel=0.03)  # an arc of the roll angle
    # With the principal point on a pixel (an odd crop), that pixel does not move: it stays sharp.
    odd = planes_of(rng, 97 + 2 * margin)
    blurred, odd_map = render(odd, np.linalg.inv(rotation_homographies(np.stack([0 * rolls, 0 * rolls, rolls], 1),
                                                                       intrinsics(500.0, margin + 48, margin + 48))), margin, 97)
    assert odd_map[48, 48] < 1e-9 and np.abs(blurred[:, 48, 48] - odd[:, margin + 48, margin + 48]).max() < 1e-6
    assert np.abs(blurred[:, 48, 60] - odd[:, margin + 48, margin + 60]).max() > 1e-3  # 12 px away it does blur


def test_a_point_light_traces_the_projected_trajectory():
    size, margin = 80, 30
    planes = np.zeros((1, size + 2 * margin, size + 2 * margin), np.float32)
    light = np.array([[margin + 55.0, margin + 20.0]])  # x, y in region coordinates
    planes[0, int(light[0, 1]), int(light[0, 0])] = 1.0
    path = sample_trajectory(3, 1).positions[::20] * 0.4
    yaw, pitch = np.arctan(path.real / 300), np.arctan(path.imag / 300)
    yaw, pitch = yaw - yaw.mean(), pitch - pitch.mean()
    H = rotation_homographies(np.stack([yaw, pitch, np.linspace(-0.02, 0.02, len(path))], 1),
                              intrinsics(300.0, margin + size / 2, margin + size / 2))
    out, _ = render(planes, np.linalg.inv(H), margin, size)
    streak = out[0]
    trace = project(H, light)[:, 0] - margin  # where the light is seen at each pose, in crop pixels
    ys, xs = np.mgrid[:size, :size]
    assert streak.sum() == pytest.approx(1.0, rel=1e-3)  # all of the light, nowhere else
    assert (xs * streak).sum() / streak.sum() == pytest.approx(trace[:, 0].mean(), abs=0.05)
    assert (ys * streak).sum() / streak.sum() == pytest.approx(trace[:, 1].mean(), abs=0.05)
    lit = np.argwhere(streak > 1e-6)
    assert lit[:, 1].min() >= math.floor(trace[:, 0].min()) and lit[:, 1].max() <= math.ceil(trace[:, 0].max())
    assert lit[:, 0].min() >= math.floor(trace[:, 1].min()) and lit[:, 0].max() <= math.ceil(trace[:, 1].max())


class Annotated:
    """A sharp source with instance masks, as COCO's is."""

    def __init__(self, images: list[np.ndarray], masks: list[list[dict]]) -> None:
        self.images, self.annotations = images, masks

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.images[index]

    def id(self, index: int) -> str:
        return str(index)

    def masks(self, index: int) -> list[dict]:
        return self.annotations[index]


def square(height: int, width: int, top: int, left: int, side: int) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    mask[top : top + side, left : left + side] = 1
    return mask


def test_a_moving_object_blurs_only_its_swept_region_and_smears_over_the_background():
    rng = np.random.default_rng(3)
    image = textured(rng, 200, 200)
    image[80:120, 80:120] = [250, 40, 40]  # a red square object
    source = Annotated([image], [[{"category_id": 1, "mask": square(200, 200, 80, 80, 40)}]])
    synthesizer = PairSynthesizer(source, LiveKernels(), camera_preset("none"), crop=128, seed=4, motion=Motion("objects"))
    pair, plan, blur_map = synthesizer.make_with_map(image, 0)
    moved = pair.meta["motion"]
    assert moved["fallback"] is None and len(moved["objects"]) == 1 and moved["rotation"] is None
    reach = math.ceil(moved["objects"][0]["path_px"]) + 2  # no point of the object travels further from the middle
    y, x = plan.region[0] + plan.margin, plan.region[1] + plan.margin
    swept = np.zeros((128, 128), bool)
    swept[max(0, 80 - y - reach) : 120 - y + reach, max(0, 80 - x - reach) : 120 - x + reach] = True
    assert not blur_map[~swept].any() and blur_map[swept].any()
    blurred, sharp = to_pixels(pair.blurred, 8), to_pixels(pair.sharp, 8)
    assert np.array_equal(blurred[~swept], sharp[~swept])  # bit-exact where nothing moved over
    inside = sharp[:, :, 0] == 250
    assert (blurred[inside][:, 0] < 250).any()  # the background shows through the smear
    ring = swept & ~inside & (sharp[:, :, 0] < 150)
    assert (blurred[ring][:, 0] > sharp[ring][:, 0] + 10).any()  # and the object smears over it


@pytest.mark.parametrize("annotations, reason", [
    (None, "no_masks"),
    ([], "no_annotations"),
    ([{"category_id": 1, "mask": square(50, 50, 0, 0, 10)}], "mask_size"),
    ([{"category_id": 1, "mask": np.zeros((200, 200), np.uint8)}], "empty_mask"),
    ([{"category_id": 1, "mask": square(200, 200, 0, 0, 3)}], "no_object_in_crop"),
])
def test_pairs_without_usable_objects_fall_back_to_camera_blur_and_say_why(annotations, reason):
    image = textured(np.random.default_rng(5), 200, 200)
    source = Annotated([image], [annotations]) if annotations is not None else [image]
    pair, _, blur_map = PairSynthesizer(source, LiveKernels(), crop=64, seed=1, motion=Motion("objects")).make_with_map(image, 0)
    assert pair.meta["motion"]["fallback"] == reason and pair.meta["motion"]["rotation"] is not None and blur_map.min() > 0


def digest(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "stats.json"}


def test_motion_datasets_are_the_same_bytes_for_any_worker_count_with_blur_maps(tmp_path):
    rng = np.random.default_rng(6)
    for i in range(3):
        write(tmp_path / "photos" / f"{i}.png", textured(rng, 150, 170))
    for workers in (1, 2):
        spec = DatasetSpec(out=tmp_path / f"w{workers}", source=FolderSource(tmp_path / "photos"), kernels=LiveKernels(size=15),
                           camera=camera_preset("gamma"), crop=48, shard_size=1, motion=Motion("rotation", shake_preset("kohler")))
        assert build_dataset(spec, workers=workers)["pairs"] == 3
    assert digest(tmp_path / "w1") == digest(tmp_path / "w2")
    maps = sorted((tmp_path / "w1" / "train").rglob("blurmap/*.png"))
    assert len(maps) == 3


def test_the_torch_path_equals_the_cpu_path():
    rng = np.random.default_rng(7)
    shake = shake_preset("shake")
    from blurgen.blurring.motion import draw_rotation_path

    inverses = [np.linalg.inv(draw_rotation_path(shake, 0, i, 0.8, (400, 600)).homographies(299.5 - 50, 199.5 - 70)) for i in range(2)]
    count = max(map(len, inverses))
    padded, weights = np.tile(np.eye(3), (2, count, 1, 1)), np.zeros((2, count))
    for i, inverse in enumerate(inverses):
        padded[i, : len(inverse)], weights[i, : len(inverse)] = inverse, 1
    regions = np.stack([planes_of(rng, 64 + 2 * 80) for _ in range(2)])
    device = "cuda" if torch.cuda.is_available() else "cpu"
    batched = render_batch(torch.from_numpy(regions).to(device), torch.from_numpy(padded), torch.from_numpy(weights), 80, 64).cpu().numpy()
    for i in range(2):
        np.testing.assert_allclose(batched[i], render(regions[i], inverses[i], 80, 64)[0], atol=1e-5)
    with pytest.raises(ValueError, match="does not fit"):
        render_batch(torch.from_numpy(regions), torch.from_numpy(padded), torch.from_numpy(weights), 90, 64)


def test_the_trainer_makes_motion_pairs_on_the_fly(tmp_path):
    from train.config import TrainConfig
    from train.loop import train

    rng = np.random.default_rng(8)
    for i in range(3):
        write(tmp_path / "photos" / f"{i}.png", textured(rng, 160, 160))
    result = train(TrainConfig(mix="synth", src=str(tmp_path / "photos"), motion="camera", shake="kohler", out=str(tmp_path / "run"),
                               steps=1, batch_size=2, crop=32, workers=0, device="cpu", log_every=10, image_every=10), log=lambda _: None)
    assert np.isfinite(result["history"][0]["content"])


def test_what_a_moving_object_uncovers_is_filled_with_values_of_the_image_around_it():
    from blurgen.blurring.nonuniform import inpaint_under

    rng = np.random.default_rng(0)
    planes = np.stack([cv2.GaussianBlur(plane, (0, 0), 3) for plane in (rng.random((3, 100, 100)) * 0.5 + 0.25).astype(np.float32)])
    masks = np.zeros((1, 100, 100), np.float32)
    cv2.ellipse(masks[0], (50, 50), (20, 15), 0, 0, 360, 1, -1)
    filled = inpaint_under(planes, masks)
    hidden = cv2.dilate((masks[0] > 0).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    assert np.array_equal(filled[:, ~hidden], planes[:, ~hidden])
    assert filled[:, hidden].min() >= planes.min() - 1e-3 and filled[:, hidden].max() <= planes.max() + 1e-3  # float32 Telea gave -0.96 to 2.06
