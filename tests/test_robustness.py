"""What a user meets off the happy path: full disks, two runs in one folder, inputs that are not
what they seem (a string for a count, an animated GIF, a folder given as an image)."""

import errno
import io
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

import blurgen.files
from fixtures import cli, textured, write
from blurgen.files import WriteFailed, write_atomic
from blurgen.kernels.bank import sample_kernels
from blurgen.sources import FolderSource
from blurgen.sources.images import BadImage, read_image

TINY_TRAIN = ["--mix", "synth", "--builtin", "dead-leaves", "--generator", "resnet", "--ngf", "4", "--blocks", "1", "--ndf", "4",
              "--crop", "32", "--batch-size", "2", "--workers", "0", "--device", "cpu", "--adv-weight", "0"]


def full_disk_after(monkeypatch, written: int = 100) -> None:
    """From now on, every file written through Path.write_bytes gets ``written`` bytes, then ENOSPC,
    and the disk reports no free space."""
    def write_bytes(self, data):
        with open(self, "wb") as handle:
            handle.write(bytes(data)[:written])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "write_bytes", write_bytes)
    monkeypatch.setattr(blurgen.files, "free_megabytes", lambda path: 0.0)


@pytest.mark.parametrize("bad", ["100", 2.7, True, [1.5], [[0, 1]]])
def test_sample_kernels_refuses_what_is_not_a_count_or_indices(bad):
    with pytest.raises(ValueError, match="whole number of kernels or a list of trajectory indices"):
        sample_kernels(bad)


def test_a_full_disk_leaves_no_partial_file_and_says_so(tmp_path, monkeypatch):
    full_disk_after(monkeypatch)
    with pytest.raises(WriteFailed, match=r"cannot write .*out\.png: no space left on the device \(0\.0 MB free there\)"):
        write_atomic(tmp_path / "out.png", b"x" * 1000)
    assert list(tmp_path.iterdir()) == []


def test_train_on_a_full_disk_keeps_its_last_checkpoint_and_says_how_to_go_on(tmp_path, monkeypatch):
    out = tmp_path / "run"
    result = cli("train", *TINY_TRAIN, "--steps", "2", "--checkpoint-every", "1", "--out", str(out), "--stop-at", "1")
    assert result.returncode == 130 or result.returncode == 0, result.stderr
    import train.checkpoint

    def save_on_a_full_disk(state, path):  # what torch.save does when the disk fills mid-archive
        with open(path, "wb") as handle:
            handle.write(b"PK" * 100)
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 3520 vs 3456")

    monkeypatch.setattr(train.checkpoint.torch, "save", save_on_a_full_disk)
    monkeypatch.setattr(blurgen.files, "free_megabytes", lambda path: 0.0)
    result = cli("train", *TINY_TRAIN, "--steps", "2", "--checkpoint-every", "1", "--out", str(out), "--resume")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no space left on the device" in result.stderr and "--resume" in result.stderr and "is kept" in result.stderr
    assert sorted(p.name for p in out.iterdir() if p.name.endswith(".partial")) == []
    assert (out / "checkpoint.pt").stat().st_size > 1000  # the earlier checkpoint, whole


def test_deblur_on_a_full_disk_stops_cleanly_and_skip_existing_finishes_the_job(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for name in ("a", "b", "c"):
        write(tmp_path / "in" / f"{name}.png", textured(rng, 40, 48))
    out = tmp_path / "out"
    result = cli("deblur", "builtin", str(tmp_path / "in"), "--out", str(out), "--device", "cpu")  # a folder: its images
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png", "c.png"] and "3 image(s) in it" in result.stderr
    kept = (out / "a.png").stat().st_mtime_ns
    (out / "b.png").unlink()
    (out / "c.png").unlink()
    with monkeypatch.context() as patched:
        full_disk_after(patched)
        result = cli("deblur", "builtin", str(tmp_path / "in"), "--out", str(out), "--device", "cpu", "--skip-existing")
    assert result.returncode == 2 and "no space left on the device" in result.stderr and "--skip-existing" in result.stderr
    assert "Traceback" not in result.stderr and sorted(p.name for p in out.iterdir()) == ["a.png"]
    result = cli("deblur", "builtin", str(tmp_path / "in"), "--out", str(out), "--device", "cpu", "--skip-existing")
    assert result.returncode == 0 and "1 already restored" in result.stderr and "2 to go" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png", "c.png"] and (out / "a.png").stat().st_mtime_ns == kept


def test_a_second_train_into_the_same_folder_is_refused_while_the_first_runs(tmp_path):
    code = "import sys; sys.argv[0] = 'train'; from train.cli import main; main()"
    args = [*TINY_TRAIN, "--steps", "100000", "--log-every", "1", "--out", str(tmp_path / "run")]
    first = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "run" / "metrics.jsonl").exists():
            assert time.monotonic() < deadline and first.poll() is None, first.stderr.read() if first.poll() is not None else "timed out"
            time.sleep(0.1)
        second = subprocess.run([sys.executable, "-c", code, *args, "--resume"], capture_output=True, text=True, timeout=120)
        assert second.returncode == 2 and "another train is writing into" in second.stderr and f"process {first.pid}" in second.stderr
    finally:
        first.terminate()
        first.communicate(timeout=60)
    assert not (tmp_path / "run" / ".train.lock").exists()  # released when the run ended


def gif(frames: int, rng: np.random.Generator) -> bytes:
    images = [Image.fromarray(textured(rng, 40, 48)) for _ in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=frames > 1, append_images=images[1:])
    return buffer.getvalue()


def test_a_still_gif_is_an_image_and_an_animated_one_is_skipped_by_name(tmp_path):
    rng = np.random.default_rng(1)
    (tmp_path / "still.gif").write_bytes(gif(1, rng))
    (tmp_path / "anim.gif").write_bytes(gif(3, rng))
    assert read_image(tmp_path / "still.gif").shape[:2] == (40, 48)
    with pytest.raises(BadImage, match=r"animated: .*anim\.gif \(3 frames"):
        read_image(tmp_path / "anim.gif")
    assert len(FolderSource(tmp_path)) == 2  # both listed; the animated one is skipped and counted when read
    result = cli("deblur", "builtin", str(tmp_path / "anim.gif"), str(tmp_path / "still.gif"), "--out", str(tmp_path / "out"),
                 "--device", "cpu")
    assert result.returncode == 0 and "skipped animated" in result.stderr and (tmp_path / "out" / "still.png").exists()
    assert not (tmp_path / "out" / "anim.png").exists()


def test_resume_takes_the_run_settings_and_refuses_a_typed_change_by_name(tmp_path):
    out = tmp_path / "run"
    result = cli("train", *TINY_TRAIN, "--steps", "4", "--stop-at", "2", "--seed", "3", "--out", str(out))
    assert result.returncode in (0, 130), result.stderr
    result = cli("train", "--out", str(out), "--resume")  # nothing else typed: the run's own settings
    assert result.returncode == 0, result.stderr
    assert "resumed" in result.stderr and "at step 2 of 4" in result.stderr and "done at step 4" in result.stderr
    result = cli("train", "--out", str(out), "--resume", "--crop", "48", "--steps", "6")
    assert result.returncode == 2 and "--crop 48 differs from the checkpoint's 32" in result.stderr


def test_more_workers_than_cores_are_capped_with_a_note_by_every_command(tmp_path):
    from blurgen.cores import cores_here

    cores = cores_here()
    result = cli("blurgen", "kernels", "--n", "4", "--workers", "1000", "--out", str(tmp_path / "bank"))
    assert result.returncode == 0 and f"capped at {cores}" in result.stderr.replace("\n", " ")
    result = cli("blurgen", "dataset", "--limit", "2", "--crop", "32", "--workers", "1000", "--out", str(tmp_path / "pairs"))
    assert result.returncode == 0 and f"capped at {cores}" in result.stderr.replace("\n", " ")
    flags = TINY_TRAIN[:TINY_TRAIN.index("--workers")] + TINY_TRAIN[TINY_TRAIN.index("--workers") + 2:]
    result = cli("train", *flags, "--workers", "1000", "--steps", "1", "--out", str(tmp_path / "run2"))
    assert result.returncode == 0 and f"--workers 1000: capped at {cores}" in result.stderr
    assert f"{cores} data worker(s)" in result.stderr


@pytest.mark.parametrize("program", ["blurgen", "train", "deblur"])
def test_every_command_says_its_version(program):
    from blurgen import __version__

    result = cli(program, "--version")
    assert result.returncode == 0 and result.stdout.strip() == f"{program} {__version__}"


def test_python_and_the_commands_refuse_in_the_same_words(tmp_path):
    import blurgen
    from blurgen.settings import SettingError

    cases = [(dict(crop="abc"), ["--crop", "abc"], "crop must be a whole number, got 'abc'"),
             (dict(src=str(tmp_path / "nowhere")), ["--src", str(tmp_path / "nowhere")], f"src {tmp_path / 'nowhere'} does not exist"),
             (dict(kernels=str(tmp_path / "none.npz")), ["--kernels", str(tmp_path / "none.npz")], f"kernels {tmp_path / 'none.npz'} does not exist")]
    for python, command, words in cases:
        with pytest.raises(SettingError) as raised:
            settings = blurgen.PairSettings(**python)
            blurgen.make_synthesizer(settings, blurgen.open_pair_source(settings))
        assert str(raised.value).startswith(words) and "--" not in str(raised.value)
        result = cli("blurgen", "dataset", *command, "--out", str(tmp_path / "out"))
        assert result.returncode == 2 and f"error: --{words}" in result.stderr, result.stderr


def test_a_camera_is_given_by_name_too_and_a_data_loader_passes_over_a_corrupt_image(tmp_path):
    import json

    import torch

    import blurgen

    rng = np.random.default_rng(5)
    for name in ("a", "b", "c"):
        write(tmp_path / f"{name}.png", textured(rng, 48, 48))
    (tmp_path / "b.png").write_bytes(b"not a png")
    pairs = blurgen.PairSynthesizer(FolderSource(tmp_path), blurgen.LiveKernels(size=9), "gamma", crop=32)
    assert pairs.camera.name == "gamma"
    with pytest.raises(TypeError, match="camera must be a Camera or a preset's name"):
        blurgen.PairSynthesizer(FolderSource(tmp_path), blurgen.LiveKernels(size=9), 2.2, crop=32)
    for workers in (0, 2):
        batches = list(torch.utils.data.DataLoader(blurgen.PairDataset(pairs), batch_size=3, num_workers=workers))
        assert batches[0]["blurred"].shape == (3, 3, 32, 32)
        replaced = json.loads(batches[0]["meta"][1])["replaces"]
        assert replaced["index"] == 1 and "corrupt" in replaced["because"][0]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 3 MB file system (tmpfs; needs root, as CI has): a real full disk, not a simulated one."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_dataset_and_evalset_on_a_full_disk_leave_no_temporary_files(tiny_disk):
    for output in ("files", "webdataset"):
        result = cli("blurgen", "dataset", "--crop", "128", "--workers", "2", "--limit", "200", "--shard-size", "20",
                     "--format", output, "--out", str(tiny_disk / output))
        assert result.returncode == 2 and "No space left on device" in result.stderr and "Traceback" not in result.stderr
        left = [p.name for p in (tiny_disk / output / "train").iterdir() if p.name.startswith(".")]
        assert left == [], left
    for output in ("files", "webdataset"):
        subprocess.run(["rm", "-rf", str(tiny_disk / output)])
    result = cli("blurgen", "evalset", "--out", str(tiny_disk / "evalset"))
    assert result.returncode == 2 and "no space left on the device" in result.stderr and "nothing was kept" in result.stderr
    assert list(tiny_disk.iterdir()) == []
