"""Pairs from video: the average of consecutive frames in linear light, the middle frame sharp."""

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from fixtures import moving_scene, write_clip, write_frames
from blurgen.blurring.camera import Camera, CameraDraws, Sensor, ToneCurve, expose
from blurgen.cli import app
from blurgen.kernels.families import family_path
from blurgen.kernels.raster import rasterise
from blurgen.sources.video import ClipReader, VideoWindows, find_clips
from blurgen.pairs.video import Averaging, FrameAverager, scene_cut


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return 10 * math.log10(1 / float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def averager(folder: Path, lengths: tuple[int, int], interpolate: int = 1, **settings) -> FrameAverager:
    clips, _ = find_clips(folder)
    windows = VideoWindows(clips, lengths, interpolate=interpolate, stride=settings.pop("stride", None))
    return FrameAverager(windows, averaging=Averaging(lengths, interpolate, **settings))


def blurgen_dataset(*args: str) -> object:
    return CliRunner().invoke(app, ["dataset", *map(str, args)])


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.png"))}


def test_averaging_a_translating_scene_is_the_middle_frame_blurred_by_the_matching_line_kernel(tmp_path):
    velocity, frames_averaged = (0.9, 0.45), 9
    offsets = [((k - 4) * velocity[0], (k - 4) * velocity[1]) for k in range(frames_averaged)]
    folder = write_frames(tmp_path / "clip", moving_scene(offsets, 80, 96))
    pair = averager(folder, (frames_averaged, frames_averaged))[0]

    length = frames_averaged * math.hypot(*velocity)  # the path the scene travels while the frames are exposed
    kernel = rasterise(family_path("line", 0, 0, length, math.atan2(velocity[1], velocity[0]), 0.0), size=17)[0]
    expected = expose(pair.sharp, kernel, Camera((Sensor(), ToneCurve("srgb"))), CameraDraws(), border="reflect")
    inner = (slice(12, -12), slice(12, -12))
    assert psnr(pair.blurred[inner], expected[inner]) >= 40
    assert psnr(pair.blurred[inner], pair.sharp[inner]) < 33  # 9 px of blur: far from the 40 dB the kernel matches
    assert pair.meta["frames"] == frames_averaged and pair.meta["sharp_frame"] == 4 and pair.meta["motion_px"] == pytest.approx(length * 8 / 9, rel=0.1)


def test_interpolating_a_30_fps_clip_comes_closer_to_the_240_fps_average_than_its_own_frames(tmp_path):
    speed = 1.0  # px per 240-fps frame: 8 px between 30-fps frames, where plain averaging ghosts
    fast = moving_scene([(speed * k, 0.4 * speed * k) for k in range(33)], 72, 96, seed=3)
    reference = averager(write_frames(tmp_path / "fast", fast), (17, 17))[0]  # frames 8..24, sharp 16
    slow = write_frames(tmp_path / "slow", fast[::8])  # frames 0, 8, ..., 32
    smooth = averager(slow, (17, 17), interpolate=8)[0]
    ghosted = averager(slow, (3, 3))[0]
    assert np.array_equal(smooth.sharp, reference.sharp) and np.array_equal(ghosted.sharp, reference.sharp)
    inner = (slice(10, -10), slice(10, -10))
    with_interpolation, without = psnr(smooth.blurred[inner], reference.blurred[inner]), psnr(ghosted.blurred[inner], reference.blurred[inner])
    assert with_interpolation > without + 3, (with_interpolation, without)


def test_no_pair_spans_a_scene_cut(tmp_path):
    first = moving_scene([(0.5 * k, 0.0) for k in range(20)], 64, 64, seed=1)
    second = moving_scene([(0.0, 0.5 * k) for k in range(20)], 64, 64, seed=2)
    assert scene_cut(np.concatenate([first[-4:], second[:3]])) == 4
    assert scene_cut(first) is None and scene_cut(moving_scene([(6.0 * k, 0.0) for k in range(7)], 64, 64)) is None  # fast motion is no cut
    write_frames(tmp_path / "clips" / "cut", np.concatenate([first, second]))
    result = blurgen_dataset("--src", tmp_path / "clips", "--average", "7", "--stride", "3", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    records = [line for line in (tmp_path / "out" / "train" / "shard-00000" / "meta.jsonl").read_text().splitlines()]
    spans = [(int(r.split('"first_frame": ')[1].split(",")[0])) for r in records]
    assert spans and all(first_frame + 7 <= 20 or first_frame >= 20 for first_frame in spans)
    assert "scene_cut" in result.output


def test_a_still_clip_with_min_motion_makes_no_pair_and_says_why(tmp_path):
    write_frames(tmp_path / "clips" / "still", moving_scene([(0.0, 0.0)] * 12, 48, 48))
    result = blurgen_dataset("--src", tmp_path / "clips", "--average", "5", "--min-motion", "1", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "no pair was written" in result.output and "below_min_motion" in result.output and "--min-motion" in result.output


@pytest.fixture(scope="module")
def clip_frames() -> np.ndarray:
    return moving_scene([(0.7 * k, -0.3 * k) for k in range(40)], 48, 64, seed=5)


def test_a_video_file_a_frame_folder_and_the_gopro_layout_give_the_same_pairs(tmp_path, clip_frames):
    write_clip(tmp_path / "video" / "clip.mkv", clip_frames)
    write_frames(tmp_path / "frames" / "clip", clip_frames)
    write_frames(tmp_path / "GoPro_Large" / "train" / "GOPR0001_00_00" / "sharp", clip_frames)
    outputs = []
    for src in ("video", "frames", "GoPro_Large"):
        result = blurgen_dataset("--src", tmp_path / src, "--average", "5-11", "--crop", "32", "--out", tmp_path / f"out-{src}")
        assert result.exit_code == 0, result.output
        outputs.append(tree_digest(tmp_path / f"out-{src}"))
    assert outputs[0] and outputs[0] == outputs[1] == outputs[2]


def test_a_window_far_into_an_mp4_reads_the_same_frames_by_seeking_as_by_decoding_up_to_it(tmp_path):
    frames = moving_scene([(0.5 * k, 0.2 * k) for k in range(100)], 32, 48, seed=7)
    clip = find_clips(write_clip(tmp_path / "long.mp4", frames))[0][0]
    far = ClipReader(clip).read(90, 95)  # 90 frames ahead of a fresh reader: a seek
    step_by_step = ClipReader(clip)
    for first in range(10, 90, 10):  # gaps of 5 frames: decoded, never a seek
        step_by_step.read(first, first + 5)
    assert np.array_equal(far, step_by_step.read(90, 95))


def test_same_seed_same_bytes_for_any_worker_count_and_after_a_killed_run(tmp_path, clip_frames):
    for name in ("a", "b"):
        write_clip(tmp_path / "clips" / f"{name}.mkv", clip_frames if name == "a" else clip_frames[::-1])
    common = ["--src", tmp_path / "clips", "--average", "3-9", "--stride", "4", "--shard-size", "3", "--camera", "realistic"]
    assert blurgen_dataset(*common, "--workers", "1", "--out", tmp_path / "one").exit_code == 0
    assert blurgen_dataset(*common, "--workers", "2", "--out", tmp_path / "two").exit_code == 0
    one = tree_digest(tmp_path / "one")
    assert len(one) > 10 and one == tree_digest(tmp_path / "two")
    # A run killed inside a shard leaves it without stats: the next run redoes exactly that one.
    killed = sorted((tmp_path / "two" / "train").glob("shard-*"))[1]
    (killed / "stats.json").unlink()
    (killed / "blur" / sorted(p.name for p in (killed / "blur").iterdir())[0]).unlink()
    result = blurgen_dataset(*common, "--workers", "2", "--out", tmp_path / "two")
    assert result.exit_code == 0 and "1 written now" in result.output
    assert tree_digest(tmp_path / "two") == one


def test_corrupt_and_truncated_videos_are_skipped_and_named(tmp_path, clip_frames):
    write_clip(tmp_path / "clips" / "good.mkv", clip_frames)
    (tmp_path / "clips" / "garbage.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"junk" * 500)
    whole = write_clip(tmp_path / "clips" / "cut.mkv", clip_frames).read_bytes()
    (tmp_path / "clips" / "cut.mkv").write_bytes(whole[: len(whole) // 3])
    result = blurgen_dataset("--src", tmp_path / "clips", "--average", "5", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "garbage.mp4" in result.output
    assert "truncated" in result.output and "cut.mkv" in result.output


def test_video_pairs_read_as_gopro_pairs_the_trainer_takes(tmp_path, clip_frames):
    from blurgen.sources import GoProPairs

    write_frames(tmp_path / "clips" / "clip", clip_frames)
    assert blurgen_dataset("--src", tmp_path / "clips", "--average", "5", "--stride", "5", "--out", tmp_path / "pairs").exit_code == 0
    pairs = GoProPairs(tmp_path / "pairs", "train")  # what train --mix wild --gopro pairs/ reads
    blurred, sharp = pairs[0]
    assert len(pairs) == 8 and blurred.shape == sharp.shape == clip_frames.shape[1:]  # windows centred on frames 2, 7, ..., 37


def test_a_folder_of_unrelated_stills_makes_no_pair_and_says_why(tmp_path):
    rng = np.random.default_rng(0)
    stills = []
    for k in range(12):  # unrelated pictures of one size: smooth scenes of different seeds and tints
        still = moving_scene([(0.0, 0.0)], 48, 64, seed=100 + k)[0].astype(np.int16)
        stills.append(np.clip(still + rng.integers(-60, 60, size=3), 0, 255).astype(np.uint8))
    write_frames(tmp_path / "photos", np.stack(stills))
    assert all(scene_cut(np.stack(stills[k : k + 2])) == 1 for k in range(11))
    result = blurgen_dataset("--src", tmp_path / "photos", "--average", "5", "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "no pair was written" in result.output and "scene_cut" in result.output and "not one shot" in result.output


def test_clips_too_short_for_a_window_are_named_and_a_run_of_only_those_fails(tmp_path, clip_frames):
    write_frames(tmp_path / "short" / "tiny", clip_frames[:3])
    result = blurgen_dataset("--src", tmp_path / "short", "--average", "7-23", "--out", tmp_path / "out")
    assert result.exit_code == 2 and "tiny (3 frames)" in result.output and "23 frames" in result.output, result.output
    assert not (tmp_path / "out").exists()
    write_frames(tmp_path / "mixed" / "long", clip_frames)
    write_frames(tmp_path / "mixed" / "tiny", clip_frames[:3])
    result = blurgen_dataset("--src", tmp_path / "mixed", "--average", "5-9", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "too short" in result.output and "tiny" in result.output
    assert json.loads((tmp_path / "out" / "train" / "dataset.json").read_text())["source"]["too_short"] == ["tiny"]


def test_windows_of_one_frame_are_warned_about(tmp_path, clip_frames):
    write_frames(tmp_path / "clips" / "pan", clip_frames)
    result = blurgen_dataset("--src", tmp_path / "clips", "--average", "1-5", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "warning: --average 1-5 includes windows of 1 frame, whose blurred image is the sharp frame itself" in " ".join(result.output.split())
    with pytest.warns(UserWarning, match="windows of 1 frame"):
        Averaging((1, 1))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_the_mean_light_of_integer_frames_is_the_float_sum_of_each_frame_through_the_curve(dtype):
    from blurgen.blurring.camera import linearise
    from blurgen.pairs.video import mean_light

    top = np.iinfo(dtype).max
    frames = np.random.default_rng(3).integers(0, top + 1, (7, 9, 11, 3)).astype(dtype)
    for curve in (ToneCurve("srgb"), ToneCurve("gamma", gamma=2.2)):
        expected = sum((linearise(frame, curve) for frame in frames[1:]), linearise(frames[0], curve)) * np.float32(1 / 7)
        assert np.array_equal(mean_light(frames, curve), expected.transpose(2, 0, 1))
        as_floats = mean_light(frames.astype(np.float32) / np.float32(top), curve)  # the curve computed, not looked up
        assert np.allclose(mean_light(frames, curve), as_floats, atol=1e-6)
