"""Sequences for video deblurring: continuous motion over stills, clip timelines, layouts, resuming."""

import json
import os

import cv2
import numpy as np
import pytest
import torch

from fixtures import cli, kill_after_first_shard, moving_scene, textured, tree_digest, write_frames
from blurgen.blurring.camera import camera_preset
from blurgen.blurring.camera_path import CameraPath, PathSpec, apply, exposure_times, view_corners
from blurgen.blurring.convolve import blur
from blurgen.kernels.raster import rasterise
from blurgen.output.dataset import DatasetMismatch
from blurgen.output.sequences import SequencesConfig, sequence_spec
from blurgen.pairs.datasets import SequenceDataset
from blurgen.pairs.sequences import ClipSequencer, ClipSequences, StillSequencer, Timing, averaged_frames
from blurgen.settings import SettingError
from blurgen.sources.images import read_image
from blurgen.sources.video import find_clips

PHOTO = 320


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A photo with detail at every scale, float32 in [0, 1]."""
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.random((PHOTO, PHOTO, 3)).astype(np.float32), (0, 0), 1.0)
    return (image - image.min()) / (image.max() - image.min())


def linear_sequence(photo: np.ndarray, velocity: tuple[float, float], duty: float, frames: int = 3, view: int = 128):
    return StillSequencer([photo], camera_preset("none"), view, Timing(frames, 24.0, duty), CameraPath.linear(velocity))[0]


def line_kernel(velocity: tuple[float, float], length: float) -> np.ndarray:
    """A straight streak of ``length`` px along ``velocity``, rasterised by the kernel sampler's own code."""
    direction = complex(*velocity) / abs(complex(*velocity))
    return rasterise(np.linspace(-length / 2, length / 2, 4001) * direction, size=21)[0]


def inner_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b)[12:-12, 12:-12].mean())


@pytest.mark.parametrize("velocity, duty", [((8.0, 4.0), 0.5), ((4.0, -2.0), 1.0), ((10.0, 0.0), 0.8)])
def test_a_panning_camera_blurs_each_frame_by_a_line_of_its_displacement_times_the_duty_cycle(photo, velocity, duty):
    # velocities whose exposure middles fall on whole pixels: the sharp frames are the photo's own pixels
    sequence = linear_sequence(photo, velocity, duty)
    length = float(np.hypot(*velocity)) * duty
    for blurred, sharp in zip(sequence.blurred, sequence.sharp):
        right = inner_error(blur(sharp, line_kernel(velocity, length)), blurred)
        assert right < 0.002
        assert inner_error(blur(sharp, line_kernel(velocity, 1.2 * length)), blurred) > 4 * right
        assert inner_error(sharp, blurred) > 10 * right


def measured_shift(first: np.ndarray, second: np.ndarray) -> tuple[float, float]:
    """(dx, dy) that moves ``first`` onto ``second``: the peak of their Hann-windowed cross-power
    spectrum, refined on a 100× upsampled grid (scikit-image's registration; its phase
    normalisation is left out, which on smooth pictures pulls the peak by tenths of a pixel, as
    does OpenCV's centroid)."""
    from skimage.filters import window
    from skimage.registration import phase_cross_correlation

    taper = window("hann", first.shape[:2])
    a, b = first.mean(axis=2), second.mean(axis=2)
    (dy, dx), _, _ = phase_cross_correlation((a - a.mean()) * taper, (b - b.mean()) * taper, upsample_factor=100, normalization=None)
    return -dx, -dy


@pytest.mark.parametrize("velocity", [(3.0, 1.5), (-2.3, 0.7), (0.45, -0.2)])
def test_consecutive_sharp_frames_are_shifted_by_the_displacement_per_frame(photo, velocity):
    sequence = linear_sequence(photo, velocity, 0.5, frames=4, view=160)
    for first, second in zip(sequence.sharp, sequence.sharp[1:]):
        dx, dy = measured_shift(first, second)
        assert abs(dx + velocity[0]) < 0.2 and abs(dy + velocity[1]) < 0.2  # the camera moves right: the scene moves left


def test_with_duty_cycle_one_each_exposure_ends_where_the_next_begins(photo):
    velocity = (3.0, 1.0)
    slow = linear_sequence(photo, velocity, 1.0, frames=2)
    fast = linear_sequence(photo, (2 * velocity[0], 2 * velocity[1]), 1.0, frames=1)  # one exposure over both intervals
    # both see the photo through the same window positions: frame 0 of each starts at the same pose
    together = (slow.blurred[0] + slow.blurred[1]) / 2
    assert inner_error(together, fast.blurred[0]) < 0.002
    gapped = linear_sequence(photo, velocity, 0.5, frames=2)
    assert inner_error((gapped.blurred[0] + gapped.blurred[1]) / 2, fast.blurred[0]) > 5 * inner_error(together, fast.blurred[0])
    times = [exposure_times(CameraPath.linear(velocity), k, 1.0, (128, 128), (PHOTO, PHOTO)) for k in range(2)]
    step = times[0][1] - times[0][0]
    assert times[0][-1] + step / 2 == pytest.approx(1.0) == times[1][0] - step / 2


def test_drawn_paths_are_smooth_continuous_inside_the_photo_and_the_same_for_the_same_seed(photo):
    sequencer = StillSequencer([photo, photo[::-1]], camera_preset("gamma"), 96, Timing(12, 24.0, 0.8), PathSpec((4.0, 8.0), 0.5), seed=3)
    first, again, other = sequencer[1], sequencer[1], StillSequencer([photo, photo[::-1]], view=96, timing=Timing(12), seed=4)[1]
    assert np.array_equal(first.blurred, again.blurred) and not np.array_equal(first.blurred, other.blurred)
    assert first.meta["peak_speed_px_per_frame"] <= 8.0 + 1e-6 and first.meta["path_scaled_to_fit"] <= 1.0
    offsets = np.array([frame["view_offset_px"] for frame in first.meta["frames"]])
    steps = np.linalg.norm(np.diff(offsets, axis=0), axis=1)
    assert steps.max() <= 8.0 + 1e-3 and np.abs(np.diff(steps)).max() < 4.0  # no jump from one frame to the next
    assert first.blurred.shape == first.sharp.shape == (12, 96, 96, 3) and first.blurred.dtype == np.float32

    fast = StillSequencer([photo], view=200, timing=Timing(40, 24.0, 1.0), path=PathSpec((30.0, 30.0), 2.0), seed=5)
    path, factor = fast.camera_path(0, (PHOTO, PHOTO))
    assert factor < 1.0  # 30 px a frame would leave a 320-px photo: the path was scaled down
    corners = apply(path.view_to_photo(np.linspace(0, 40, 801), (200, 200), (PHOTO, PHOTO)), view_corners((200, 200))[:4])
    assert corners.min() >= 0 and corners.max() <= PHOTO - 1  # inside the photo ...
    assert min(corners.min(), PHOTO - 1 - corners.max()) < 1.0  # ... and scaled no more than it had to be


def test_each_frame_of_a_sequence_has_a_noise_field_of_its_own(photo):
    still_camera = CameraPath.linear((0.0, 0.0))  # every frame sees the same scene: what differs is the sensor's noise
    sequencer = StillSequencer([photo], camera_preset("noisy"), 64, Timing(3), still_camera, seed=4)
    first, again = sequencer[0], sequencer[0]
    assert np.array_equal(first.blurred, again.blurred)
    assert not np.array_equal(first.blurred[0], first.blurred[1]) and not np.array_equal(first.blurred[1], first.blurred[2])
    assert np.abs(first.blurred[0] - first.blurred[1]).mean() < 0.05  # noise, not another picture


def test_each_frame_of_a_clip_sequence_has_a_noise_field_of_its_own(tmp_path):
    write_frames(tmp_path / "clips" / "still", clip_frames(12, (0.0, 0.0)))  # a still scene: frames differ by noise alone
    clips, _ = find_clips(tmp_path / "clips")
    sequence = ClipSequencer(ClipSequences(clips, Timing(2, 24.0, 0.8), clip_fps=120.0), camera_preset("noisy"))[0]
    assert not np.array_equal(sequence.blurred[0], sequence.blurred[1])
    assert np.array_equal(sequence.sharp[0], sequence.sharp[1])


def clip_frames(count: int, velocity: tuple[float, float]) -> np.ndarray:
    return moving_scene([(k * velocity[0], k * velocity[1]) for k in range(count)], 72, 88)


def test_sequences_from_a_clip_average_consecutive_original_frames_around_each_centre(tmp_path):
    frames = clip_frames(40, (1.0, 0.5))
    write_frames(tmp_path / "clips" / "pan", frames)
    clips, _ = find_clips(tmp_path / "clips")
    planned = ClipSequences(clips, Timing(3, 24.0, 1.0), clip_fps=120.0)
    assert planned.averaged(0) == averaged_frames(5.0, 1.0) == 5 and planned.reach(0) == 2
    assert [plan.centres for plan in planned.plans] == [(2, 7, 12), (17, 22, 27)]  # 40 frames: 7 output frames, the 7th left over
    sequencer = ClipSequencer(planned, camera_preset("none"), response="none")
    sequence = sequencer[1]
    for k, centre in enumerate((17, 22, 27)):
        assert np.array_equal(np.rint(sequence.sharp[k] * 255).astype(np.uint8), frames[centre])
        expected = frames[centre - 2 : centre + 3].astype(np.float32).mean(axis=0) / 255
        assert np.abs(sequence.blurred[k] - expected).max() < 1e-5
    assert [frame["frame"] for frame in sequence.meta["frames"]] == [3, 4, 5]  # the clip's timeline goes on from sequence 0


def test_the_reds_recipe_averages_65_frames_of_a_120_fps_clip_interpolated_16_times_per_24_fps_frame(tmp_path):
    frames = clip_frames(12, (0.8, 0.3))
    write_frames(tmp_path / "clips" / "pan", frames)
    clips, _ = find_clips(tmp_path / "clips")
    planned = ClipSequences(clips, Timing(2, 24.0, 0.8), interpolate=16, clip_fps=120.0)
    assert planned.averaged(0) == 65 and planned.reach(0) == 2 and planned.plans[0].centres == (2, 7)
    sequence = ClipSequencer(planned, camera_preset("none"), response="none")[0]
    assert sequence.meta["frames"][1]["window"] == [7 * 16 - 32, 7 * 16 + 32]
    assert np.array_equal(np.rint(sequence.sharp[1] * 255).astype(np.uint8), frames[7])
    # 64 interpolated intervals of a 0.8-px-per-frame pan: a streak of 3.2 px, centred on the sharp frame
    direction = (0.8, 0.3)
    right = inner_error(blur(sequence.sharp[1], line_kernel(direction, 4 * float(np.hypot(*direction)))), sequence.blurred[1])
    assert right < 0.5 * inner_error(sequence.sharp[1], sequence.blurred[1])


def test_a_scene_cut_ends_a_sequence_and_a_cut_in_its_first_window_skips_it(tmp_path):
    rng = np.random.default_rng(5)
    frames = np.concatenate([clip_frames(14, (1.0, 0.0)), np.stack([textured(rng, 72, 88)] * 14)])
    write_frames(tmp_path / "clips" / "cut", frames)
    clips, _ = find_clips(tmp_path / "clips")
    sequencer = ClipSequencer(ClipSequences(clips, Timing(4, 24.0, 0.8), clip_fps=120.0), camera_preset("none"))
    shortened = sequencer[0]
    assert shortened.meta["ended"] == "scene_cut" and len(shortened.blurred) == 2  # centres 2, 7, then 12's window crosses 14
    dataset = SequenceDataset(sequencer)
    with pytest.raises(Exception, match="could not be used"):
        dataset[0]  # the one sequence is shortened, so no window of 4 frames exists


def test_a_cut_between_two_windows_ends_the_sequence_too(tmp_path):
    rng = np.random.default_rng(6)
    frames = np.concatenate([clip_frames(10, (1.0, 0.0)), np.stack([textured(rng, 72, 88)] * 12)])  # the cut: frame 10
    write_frames(tmp_path / "clips" / "cut", frames)
    clips, _ = find_clips(tmp_path / "clips")
    sequence = ClipSequencer(ClipSequences(clips, Timing(4, 24.0, 0.8), clip_fps=120.0), camera_preset("none"))[0]
    # windows [0, 4], [5, 9] and [10, 14] are each one shot: only the step from frame 9 to 10 shows the cut
    assert sequence.meta["ended"] == "scene_cut" and len(sequence.blurred) == 2


def test_a_sequence_that_fails_part_of_the_way_is_skipped_and_leaves_no_frame_behind(tmp_path):
    write_frames(tmp_path / "clips" / "pan", clip_frames(40, (1.0, 0.5)))
    (tmp_path / "clips" / "pan" / "000012.png").write_bytes(b"not a png")  # in sequence 0's third window
    result = cli("blurgen", "sequences", "--from", "clips", "--src", tmp_path / "clips", "--clip-fps", "120", "--frames", "3",
                 "--duty", "1", "--workers", "1", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "corrupt 1" in result.stdout and "pan@0" in result.stderr
    shard = tmp_path / "out" / "train" / "shard-00000"
    assert sorted(p.name for p in shard.iterdir() if p.is_dir()) == ["000001"]


def test_the_sequence_dataset_yields_aligned_windows_the_same_for_any_number_of_workers(photo):
    sequencer = StillSequencer([photo, photo[:, ::-1], photo[::-1]], view=64, timing=Timing(5, 24.0, 0.8), seed=2)
    dataset = SequenceDataset(sequencer, centre=True)
    item = dataset[1]
    assert item["blurred"].shape == (5, 3, 64, 64) and item["sharp"].shape == (3, 64, 64) and item["blurred"].dtype == torch.float32
    assert torch.equal(item["sharp"], SequenceDataset(sequencer)[1]["sharp"][2])
    batches = [torch.cat([batch["blurred"] for batch in torch.utils.data.DataLoader(dataset, batch_size=2, num_workers=workers)])
               for workers in (0, 2)]
    assert torch.equal(*batches)


def test_settings_refuse_what_does_not_apply_in_the_commands_words(tmp_path):
    with pytest.raises(SettingError, match="needs frames 100"):
        SequencesConfig(layout="reds", frames=30)
    with pytest.raises(SettingError, match="interpolate applies to origin clips"):
        SequencesConfig(interpolate=4)
    with pytest.raises(SettingError, match="give src"):
        SequencesConfig(origin="clips")
    with pytest.raises(SettingError, match="speed must be a number or a range"):
        SequencesConfig(speed="9-3")
    result = cli("blurgen", "sequences", "--layout", "reds", "--frames", "30", "--out", tmp_path)
    assert result.returncode == 2 and "--layout reds needs --frames 100" in result.stderr


def written(out, layout: str, *args: str) -> object:
    result = cli("blurgen", "sequences", "--limit", "3", "--frames", "4", "--crop", "48", "--shard-size", "2", "--workers", "1",
                 "--out", out, "--layout", layout, *args)
    assert result.returncode == 0, result.stderr
    return out / "train" / layout


def test_the_kair_and_reds_meta_info_parse_by_their_readers_rules_and_list_every_frame_on_disk(tmp_path):
    kair = written(tmp_path / "k", "kair")
    keys = []
    for line in (kair / "meta_info.txt").read_text().splitlines(keepends=True):
        folder, frame_num, shape, start_frame = line.split(" ")  # KAIR's VideoRecurrentTrainDataset
        assert shape == "(48,48,3)"
        keys += [f"{folder}/{i:06d}" for i in range(int(start_frame), int(start_frame) + int(frame_num))]
    for side in ("train_GT", "train_GT_blurred"):
        on_disk = sorted(str(p.relative_to(kair / side).with_suffix("")) for p in (kair / side).rglob("*.png"))
        assert on_disk == sorted(keys) and len(keys) == 12
    options = json.loads((kair / "kair.json").read_text())["datasets"]["train"]
    assert options["filename_tmpl"] == "06d" and options["meta_info_file"] == str(kair / "meta_info.txt")

    clips = tmp_path / "clips"
    write_frames(clips / "pan", clip_frames(40, (1.0, 0.5)))
    result = cli("blurgen", "sequences", "--from", "clips", "--src", clips, "--clip-fps", "120", "--frames", "3", "--duty", "1",
                 "--workers", "1", "--out", tmp_path / "c", "--layout", "kair")
    assert result.returncode == 0, result.stderr
    kair = tmp_path / "c" / "train" / "kair"
    lines = [line.split(" ") for line in (kair / "meta_info.txt").read_text().splitlines()]
    assert [(frames, start) for _, frames, _, start in lines] == [("3", "000000"), ("3", "000003")]  # the clip's timeline goes on
    for folder, frames, _, start in lines:
        for i in range(int(start), int(start) + int(frames)):
            assert (kair / "train_GT_blurred" / folder / f"{i:06d}.png").is_file() and (kair / "train_GT" / folder / f"{i:06d}.png").is_file()

    reds = tmp_path / "r"
    result = cli("blurgen", "sequences", "--limit", "2", "--crop", "24", "--speed", "1-2", "--workers", "1", "--out", reds, "--layout", "reds")
    assert result.returncode == 0, result.stderr
    reds = reds / "train" / "reds"
    keys = []
    for line in (reds / "meta_info.txt").read_text().splitlines(keepends=True):
        folder, frame_num, _ = line.split(" ")  # BasicSR's REDSDataset and REDSRecurrentDataset
        keys += [f"{folder}/{i:08d}" for i in range(int(frame_num))]
    assert keys == [f"{clip:03d}/{i:08d}" for clip in range(2) for i in range(100)]
    for side in ("train_blur", "train_sharp"):
        assert sorted(str(p.relative_to(reds / side).with_suffix("")) for p in (reds / side).rglob("*.png")) == keys
    assert "val_partition: REDS4" in (reds / "basicsr.yml").read_text()


def test_gopro_and_dvd_layouts_pair_frames_by_name_in_their_folders(tmp_path):
    gopro = written(tmp_path / "g", "gopro")
    clips = sorted(p.name for p in gopro.iterdir() if p.is_dir())
    assert clips == ["000000", "000001", "000002"]
    for clip in clips:
        names = sorted(p.name for p in (gopro / clip / "blur").iterdir())
        assert names == sorted(p.name for p in (gopro / clip / "sharp").iterdir()) == [f"{k:06d}.png" for k in range(4)]
        assert sorted(p.name for p in (gopro / clip / "blur_gamma").iterdir()) == names
    shard_frame = next((tmp_path / "g" / "train").glob("shard-*/000001/blur/00000002.png"))
    assert os.path.samefile(shard_frame, gopro / "000001" / "blur" / "000002.png")  # a link, not a copy
    dvd = written(tmp_path / "d", "dvd")
    for clip in sorted(p for p in dvd.iterdir() if p.is_dir()):
        assert sorted(p.name for p in (clip / "input").iterdir()) == sorted(p.name for p in (clip / "GT").iterdir()) == [
            f"{k:05d}.jpg" for k in range(4)]
    shard_sharp = read_image(next((tmp_path / "d" / "train").glob("shard-*/000000/sharp/00000000.png")))
    assert np.abs(read_image(dvd / "000000" / "GT" / "00000.jpg").astype(int) - shard_sharp).mean() < 1.0  # JPEG at quality 100


def test_a_killed_sequence_run_rerun_gives_the_uninterrupted_bytes(tmp_path):
    args = ["sequences", "--limit", "8", "--frames", "6", "--crop", "64", "--shard-size", "1", "--workers", "1", "--seed", "7",
            "--camera", "realistic", "--layout", "gopro"]
    assert cli("blurgen", *args, "--out", tmp_path / "clean").returncode == 0
    complete = kill_after_first_shard(args, tmp_path / "killed")
    assert 1 <= complete < 8, "the kill should land mid-run"
    assert not (tmp_path / "killed" / "train" / "gopro").exists()
    result = cli("blurgen", *args, "--out", tmp_path / "killed")
    assert result.returncode == 0 and f"{complete} already complete" in result.stdout
    assert not list((tmp_path / "killed").rglob("*.partial"))
    assert tree_digest(tmp_path / "killed") == tree_digest(tmp_path / "clean")


def test_the_same_seed_gives_the_same_bytes_for_any_number_of_workers(tmp_path):
    config = dict(limit=4, frames=3, crop=48, shard_size=1, seed=1)
    from blurgen.output.sequences import build_sequences

    for workers in (1, 2):
        build_sequences(sequence_spec(SequencesConfig(out=str(tmp_path / f"w{workers}"), **config)), workers=workers)
    assert tree_digest(tmp_path / "w1") == tree_digest(tmp_path / "w2")
    again = build_sequences(sequence_spec(SequencesConfig(out=str(tmp_path / "w1"), **config)))
    assert again["already_complete"] == 4 and again["written_now"] == 0 and again["frames"] == 12
    with pytest.raises(DatasetMismatch, match="seed"):
        build_sequences(sequence_spec(SequencesConfig(out=str(tmp_path / "w1"), **{**config, "seed": 2})))


class AnnotatedPhotos:
    """Photos with one annotated square each, as a COCO source gives them (``masks(i)``)."""

    def __init__(self, photo: np.ndarray) -> None:
        self.photo = photo

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> np.ndarray:
        return self.photo

    def masks(self, index: int) -> list[dict]:
        mask = np.zeros(self.photo.shape[:2], np.uint8)
        mask[130:170, 140:180] = 1
        return [{"mask": mask, "category_id": 3}]


def test_annotated_objects_move_on_their_own_paths_over_the_moving_background(photo):
    timing, path = Timing(4, 24.0, 0.8), PathSpec((2.0, 4.0), 0.2)
    moving = StillSequencer(AnnotatedPhotos(photo), camera_preset("gamma"), 128, timing, path, objects=2, seed=1)[0]
    still = StillSequencer(AnnotatedPhotos(photo), camera_preset("gamma"), 128, timing, path, objects=0, seed=1)[0]
    assert [info["category_id"] for info in moving.meta["objects"]] == [3]
    assert moving.meta["camera_path"] == still.meta["camera_path"]  # objects add motion; the camera's stays the same
    changed = np.abs(moving.blurred - still.blurred).max(axis=(0, 3)) > 1e-4  # (the rest differs by float rounding only)
    assert 0.02 < changed.mean() < 0.3  # around the object, and nowhere else
    near = np.abs(moving.sharp - still.sharp).max(axis=3) > 0.02  # where the object, or the place it left, shows
    assert near.mean() > 0.05  # it has moved from where the photo holds it
    # each blurred frame is centred on its sharp frame, the object smeared along its own path during the exposure:
    # around it, blurred and sharp differ a little more than the camera alone makes them (an object left still during
    # the exposure, or seen where the photo holds it in the sharp frame, would put them several times further apart)
    around_moving = np.mean([np.abs(b - s)[n].mean() for b, s, n in zip(moving.blurred, moving.sharp, near)])
    around_still = np.mean([np.abs(b - s)[n].mean() for b, s, n in zip(still.blurred, still.sharp, near)])
    assert around_still < around_moving < 2.5 * around_still


def test_a_transparent_photo_is_seen_over_white_and_a_grey_one_in_three_equal_channels(photo):
    clear = np.dstack([photo, np.zeros(photo.shape[:2], np.float32)])  # fully transparent
    assert np.all(StillSequencer([clear], view=64, timing=Timing(2), seed=1)[0].sharp == 1.0)
    grey = StillSequencer([photo[:, :, 0]], view=64, timing=Timing(2), seed=1)[0].sharp
    assert grey.shape[-1] == 3 and np.array_equal(grey[..., 0], grey[..., 2])


def test_bad_photos_are_skipped_counted_and_named(tmp_path):
    from fixtures import make_coco

    make_coco(tmp_path / "coco")
    result = cli("blurgen", "sequences", "--src", tmp_path / "coco", "--frames", "3", "--crop", "96", "--workers", "1",
                 "--out", tmp_path / "out", "--layout", "kair")
    assert result.returncode == 0, result.stderr
    assert "4, 12 frames" in result.stdout
    for reason in ("too_small 1", "truncated 1", "empty 1", "missing 1"):
        assert reason in result.stdout
    assert "skipped (too_small): 7" in result.stderr  # COCO names a photo by its image id: tiny.png is 7
    records = [json.loads(line) for shard in sorted((tmp_path / "out" / "train").glob("shard-*")) for line in (shard / "meta.jsonl").open()]
    # the second shard's photos were all bad: it yielded nothing, and the layout did not wait for it
    assert json.loads((tmp_path / "out" / "train" / ".shard-00001.nothing.json").read_text())["skipped"] == {
        "empty": 1, "missing": 1, "too_small": 1, "truncated": 1}
    transparent = next(record for record in records if record["source_id"] == "4")  # alpha.png: RGB under alpha 200/255
    assert transparent["alpha"] == "composited over white" and transparent["bit_depth"] == 8
    deep = next(record for record in records if record["source_id"] == "3")
    assert deep["bit_depth"] == 16 and read_image(tmp_path / "out" / "train" / "shard-00000" / deep["name"] / "sharp" / "00000000.png").dtype == np.uint16
    kair = tmp_path / "out" / "train" / "kair"
    assert json.loads((kair / "layout.json").read_text())["converted_16_bit"] == 3  # its 3 frames, in 8 bits for KAIR
    assert read_image(kair / "train_GT" / deep["name"] / "000000.png").dtype == np.uint8
