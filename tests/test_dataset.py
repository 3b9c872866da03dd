import io
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from fixtures import cli, kill_after_first_shard, make_coco, textured, tree_digest, write
from blurgen.kernels.bank import sample_kernels
from blurgen.blurring.camera import camera_preset
from blurgen.output.dataset import DatasetMismatch, DatasetSpec
from blurgen.output.distribute import build_dataset
from blurgen.pairs.synthesizer import BankKernels, LiveKernels, Views
from blurgen.sources import CocoSource, DeadLeaves, FolderSource, GoProPairs, read_image


def small_spec(out: Path, **changes) -> DatasetSpec:
    settings = dict(
        out=out, source=DeadLeaves(n=7, height=96, width=128, seed=3), kernels=LiveKernels(seed=3, size=33),
        camera=camera_preset("realistic"), crop=48, per_image=2, seed=3, shard_size=2,
    )
    settings.update(changes)
    return DatasetSpec(**settings)


def blurgen(*args: str) -> subprocess.CompletedProcess:
    return cli("blurgen", *args)


def test_coco_fixture_becomes_pairs_that_read_back_through_the_gopro_reader(tmp_path):
    make_coco(tmp_path / "coco")
    bank = sample_kernels(20, seed=1, size=33)
    spec = DatasetSpec(out=tmp_path / "pairs", source=CocoSource(tmp_path / "coco"), kernels=BankKernels(bank),
                       camera=camera_preset("gamma"), crop=64, per_image=2, seed=1, shard_size=3)
    report = build_dataset(spec, workers=1)
    assert report["pairs"] == 8 and report["pairs_now"] == 8
    assert report["skipped"] == {"empty": 1, "missing": 1, "too_small": 1, "truncated": 1}
    pairs = GoProPairs(tmp_path / "pairs", "train")
    assert len(pairs) == 8
    for i in range(len(pairs)):
        blurred, sharp = pairs[i]
        assert blurred.shape == sharp.shape == (64, 64, 3)
    # Paired-folder loaders zip two sorted file lists: the names must match one to one.
    for shard in (tmp_path / "pairs" / "train").glob("shard-*"):
        assert sorted(p.name for p in (shard / "blur").iterdir()) == sorted(p.name for p in (shard / "sharp").iterdir())
    records = [json.loads(line) for shard in sorted((tmp_path / "pairs" / "train").glob("shard-*"))
               for line in (shard / "meta.jsonl").read_text().splitlines()]
    assert len(records) == 8 and {r["source_id"] for r in records} == {"1", "2", "3", "4"}
    deep = next(r for r in records if r["source_id"] == "3")
    assert deep["bit_depth"] == 16 and "bank_index" in deep["kernel"] and "camera_draws" in deep
    assert read_image(tmp_path / "pairs" / "train" / "shard-00000" / "sharp" / f"{deep['key']}.png").dtype == np.uint16
    stats = [json.loads(p.read_text()) for p in (tmp_path / "pairs" / "train").glob("shard-*/stats.json")]
    # A shard of only bad files yields no pair: it is not marked complete, and a rerun looks at it again.
    assert report["without_pairs"] == 1 and len(stats) == report["shards"] - 1
    assert sum(s["pairs"] for s in stats) == 8 and sum(sum(s["skipped"].values()) for s in stats) == 2
    described = json.loads((tmp_path / "pairs" / "train" / "dataset.json").read_text())
    assert described["source"]["kind"] == "coco" and described["camera"]["name"] == "gamma"
    assert described["format"] == "blurgen.dataset"  # as every earlier release wrote it: a rerun resumes old output


def test_same_bytes_for_any_worker_count_and_sharding(tmp_path):
    one = small_spec(tmp_path / "one")
    build_dataset(one, workers=1)
    build_dataset(small_spec(tmp_path / "two"), workers=2)
    for index in range(3):  # three separate jobs, as a Slurm array would run them
        build_dataset(small_spec(tmp_path / "jobs"), workers=1, num_shards=3, shard_index=index)
    reference = tree_digest(tmp_path / "one")
    assert len(reference) == 7 * 2 * 2 + 4 + 1  # blur+sharp per pair, meta.jsonl per shard, dataset.json
    assert tree_digest(tmp_path / "two") == reference
    assert tree_digest(tmp_path / "jobs") == reference


def test_a_job_runs_only_its_shards(tmp_path):
    report = build_dataset(small_spec(tmp_path), workers=1, num_shards=2, shard_index=1)
    assert report["shards"] == 2 and sorted(p.name for p in (tmp_path / "train").glob("shard-*")) == ["shard-00002", "shard-00003"]
    with pytest.raises(ValueError, match="--job-index must be between 0 and --jobs - 1"):
        build_dataset(small_spec(tmp_path), num_shards=2, shard_index=2)


def test_a_rerun_skips_complete_shards_and_refuses_other_settings(tmp_path):
    build_dataset(small_spec(tmp_path), workers=1)
    again = build_dataset(small_spec(tmp_path), workers=1)
    assert again["already_complete"] == 4 and again["written_now"] == 0 and again["pairs"] == 14
    with pytest.raises(DatasetMismatch, match="seed"):
        build_dataset(small_spec(tmp_path, seed=4), workers=1)


def test_kill_minus_nine_then_rerun_gives_the_uninterrupted_bytes(tmp_path):
    args = ["dataset", "--n", "12", "--shard-size", "2", "--workers", "1", "--crop", "64", "--camera", "realistic", "--seed", "5"]
    assert blurgen(*args, "--out", str(tmp_path / "clean")).returncode == 0
    complete = kill_after_first_shard(args, tmp_path / "killed")
    assert 1 <= complete < 6, "the kill should land mid-run"
    result = blurgen(*args, "--out", str(tmp_path / "killed"))
    assert result.returncode == 0, result.stderr
    assert f"{complete} already complete" in result.stdout
    assert not list((tmp_path / "killed").rglob("*.partial"))
    assert tree_digest(tmp_path / "killed") == tree_digest(tmp_path / "clean")


def test_webdataset_shards_read_back_with_the_webdataset_library(tmp_path):
    wds = pytest.importorskip("webdataset")
    spec = small_spec(tmp_path, format="webdataset")
    build_dataset(spec, workers=1)
    tars = sorted((tmp_path / "train").glob("shard-*.tar"))
    assert len(tars) == 4 and len(list((tmp_path / "train").glob("shard-*.stats.json"))) == 4
    samples = list(wds.WebDataset([str(t) for t in tars], shardshuffle=False))
    assert [s["__key__"] for s in samples] == [f"{i:08d}" for i in range(14)]
    for sample in samples:
        blurred = read_png(sample["blur.png"])
        sharp = read_png(sample["sharp.png"])
        kernel = np.load(io.BytesIO(sample["kernel.npy"]))
        meta = json.loads(sample["json"])
        assert blurred.shape == sharp.shape == (48, 48, 3)
        assert kernel.shape == (33, 33) and abs(kernel.sum() - 1) < 1e-5
        assert meta["key"] == sample["__key__"] and meta["kernel"]["index"] == meta["index"]
    # Tar headers carry no time or owner: the same seed gives the same tar bytes.
    build_dataset(small_spec(tmp_path / "again", format="webdataset"), workers=2)
    assert tree_digest(tmp_path / "train") == tree_digest(tmp_path / "again" / "train")


def read_png(data: bytes) -> np.ndarray:
    import cv2

    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


def test_ray_distributor_writes_the_same_bytes(tmp_path):
    ray = pytest.importorskip("ray")
    build_dataset(small_spec(tmp_path / "local"), workers=1)
    try:
        build_dataset(small_spec(tmp_path / "ray"), workers=2, distributor="ray")
    finally:
        ray.shutdown()
    assert tree_digest(tmp_path / "ray") == tree_digest(tmp_path / "local")


def test_cli_main_job_on_the_builtin_corpus(tmp_path):
    result = blurgen("dataset", "--out", str(tmp_path / "demo"), "--n", "3", "--per-image", "2", "--crop", "128", "--preview", "0")
    assert result.returncode == 0, result.stderr
    assert "pairs written" in result.stdout and "pairs/s" in result.stdout
    assert len(GoProPairs(tmp_path / "demo", "train")) == 6
    assert not (tmp_path / "demo" / "train" / "preview.png").exists()  # --preview 0: no picture


def test_views_are_recorded_and_written_the_same_by_any_worker_count(tmp_path):
    views = Views(orientations=True, min_scale=0.6)
    build_dataset(small_spec(tmp_path / "one", views=views), workers=1)
    build_dataset(small_spec(tmp_path / "two", views=views), workers=2)
    assert tree_digest(tmp_path / "one") == tree_digest(tmp_path / "two")
    build_dataset(small_spec(tmp_path / "plain"), workers=1)
    assert tree_digest(tmp_path / "one") != tree_digest(tmp_path / "plain")
    settings = json.loads((tmp_path / "one" / "train" / "dataset.json").read_text())
    assert settings["views"] == {"orientations": True, "min_scale": 0.6}
    assert "views" not in json.loads((tmp_path / "plain" / "train" / "dataset.json").read_text())
    records = [json.loads(line) for path in sorted((tmp_path / "one" / "train").glob("shard-*/meta.jsonl"))
               for line in path.read_text().splitlines()]
    assert all(0.6 <= record["view"]["scale"] <= 1 for record in records)
    assert len({record["view"]["orientation"] for record in records}) > 2


def test_the_mixture_and_the_wide_camera_write_the_same_bytes_for_any_worker_count(tmp_path):
    wide = dict(kernels=LiveKernels(seed=3, size=33, preset="mixture"), camera=camera_preset("wide"))
    build_dataset(small_spec(tmp_path / "one", **wide), workers=1)
    build_dataset(small_spec(tmp_path / "two", **wide), workers=2)
    assert tree_digest(tmp_path / "one") == tree_digest(tmp_path / "two")
    records = [json.loads(line) for path in sorted((tmp_path / "one" / "train").glob("shard-*/meta.jsonl"))
               for line in path.read_text().splitlines()]
    assert len({record["kernel"]["family"] for record in records}) > 2
    assert {"jpeg_quality", "gamma", "beta1"} <= set(records[0]["camera_draws"])
    settings = json.loads((tmp_path / "one" / "train" / "dataset.json").read_text())
    assert settings["camera"]["name"] == "wide" and settings["camera"]["steps"][-1]["share"] == 0.5


@pytest.mark.parametrize("make,args,message", [
    (lambda root: None, ["--src", "{root}/nowhere"], "does not exist"),
    (lambda root: (root / "empty").mkdir(), ["--src", "{root}/empty"], "no image files"),
    (lambda root: ((root / "coco" / "annotations").mkdir(parents=True),
                   (root / "coco" / "annotations" / "instances_val2017.json").write_text("{broken")),
     ["--src", "{root}/coco"], "cannot read"),
    (lambda root: (root / "file").write_text("x"), ["--out", "{root}/file/pairs"], "cannot write to --out"),
    (lambda root: None, ["--kernels", "{root}/bank.npz"], "bank.npz does not exist (a kernel bank is"),
    (lambda root: None, ["--camera", "film"], "--camera must be one of none, gamma"),
    (lambda root: None, ["--format", "zip"], "format must be"),
    (lambda root: None, ["--orientations"], "--orientations needs --crop"),
])
def test_run_wide_problems_fail_fast_with_one_line(tmp_path, make, args, message):
    make(tmp_path)
    args = [a.replace("{root}", str(tmp_path)) for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "out")]
    result = blurgen("dataset", "--n", "2", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_folder_sources_report_non_images(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        write(tmp_path / "photos" / f"{i}.png", textured(rng, 100, 100))
    (tmp_path / "photos" / "README.txt").write_text("hi")
    result = blurgen("dataset", "--src", str(tmp_path / "photos"), "--out", str(tmp_path / "out"), "--crop", "16", "--kernel-size", "15")
    assert result.returncode == 0, result.stderr
    assert "not_an_image 1" in result.stdout


def test_blurgen_output_inside_the_source_is_never_read_as_sharp_photos(tmp_path):
    rng = np.random.default_rng(0)
    photos = tmp_path / "photos"
    for i in range(3):
        write(photos / "day" / f"{i}.png", textured(rng, 64, 64))
    first = ["dataset", "--src", str(photos), "--crop", "16", "--kernel-size", "15", "--out", str(photos / "pairs")]
    assert blurgen(*first).returncode == 0
    again = blurgen(*first)  # the same command again: its own output did not become part of its source
    assert again.returncode == 0, again.stderr
    (photos / "deep" / "ev").mkdir(parents=True)
    (photos / "deep" / "ev" / "evalset.json").write_text("{}")
    write(photos / "deep" / "ev" / "blur" / "x.png", textured(rng, 64, 64))
    other = blurgen("dataset", "--src", str(photos), "--crop", "16", "--kernel-size", "15", "--out", str(tmp_path / "other"))
    assert other.returncode == 0, other.stderr
    assert "left out" in other.stdout and "deep/ev" in other.stdout and "pairs/train" in other.stdout
    records = [json.loads(line) for line in (tmp_path / "other" / "train" / "shard-00000" / "meta.jsonl").read_text().splitlines()]
    assert sorted(record["source_id"] for record in records) == ["day/0.png", "day/1.png", "day/2.png"]


def test_file_names_that_are_not_utf8_are_recorded_so_any_json_reader_takes_them(tmp_path):
    rng = np.random.default_rng(0)
    photos = tmp_path / "photos"
    photos.mkdir()
    raw_name = b"caf\xe9.png"  # Latin-1, as old cameras and archives name files
    ok, encoded = cv2.imencode(".png", textured(rng, 128, 128))
    with open(os.path.join(os.fsencode(photos), raw_name), "wb") as handle:
        handle.write(encoded.tobytes())
    spec = small_spec(tmp_path / "out", source=FolderSource(photos), per_image=1, camera=camera_preset("none"))
    assert build_dataset(spec, workers=1)["pairs"] == 1
    line = (tmp_path / "out" / "train" / "shard-00000" / "meta.jsonl").read_text(encoding="utf-8").strip()
    assert "\\ud" not in line  # no lone-surrogate escape, which strict JSON readers refuse
    record = json.loads(line)
    assert record["source_id"] == "caf\ufffd.png" and bytes.fromhex(record["source_id_bytes"]) == raw_name


def test_transparent_sources_are_composited_and_said_to_be(tmp_path):
    rng = np.random.default_rng(0)
    rgba = np.dstack([textured(rng, 64, 64), np.full((64, 64), 255, np.uint8)])
    rgba[:, :32, 3] = 0  # the left half transparent
    write(tmp_path / "photos" / "logo.png", rgba)
    result = blurgen("dataset", "--src", str(tmp_path / "photos"), "--crop", "16", "--kernel-size", "15", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "transparent" in result.stdout and "composited over white" in result.stdout
    record = json.loads((tmp_path / "out" / "train" / "shard-00000" / "meta.jsonl").read_text().splitlines()[0])
    assert record["alpha"] == "composited over white"


def test_earlier_output_of_either_layout_is_a_source_of_its_sharp_crops(tmp_path):
    from blurgen.sources import open_source

    for layout in ("files", "webdataset"):
        build_dataset(small_spec(tmp_path / layout, format=layout), workers=1)
        source = open_source(tmp_path / layout)
        assert len(source) == 14 and source[0].shape == (48, 48, 3)
        assert "blurgen dataset output" in source.describe()["kind"]
        split = open_source(tmp_path / layout / "train")
        assert np.array_equal(split[3], source[3])
    with pytest.raises(Exception, match="without a val/ split"):
        open_source(tmp_path / "files", gopro_split="val")


def test_two_runs_into_one_folder_at_once_end_complete_and_identical_to_one_run(tmp_path):
    args = ["dataset", "--limit", "24", "--shard-size", "2", "--crop", "48", "--kernel-size", "21", "--workers", "1"]
    runs = [subprocess.Popen([sys.executable, "-m", "blurgen", *args, "--out", str(tmp_path / "shared")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert all("Traceback" not in err and "Errno" not in err for _, err in outputs)
    reference = blurgen(*args, "--out", str(tmp_path / "alone"))
    assert reference.returncode == 0, reference.stderr
    assert tree_digest(tmp_path / "shared") == tree_digest(tmp_path / "alone")
    assert not list((tmp_path / "shared" / "train").glob(".*"))  # no lock or partial file left


def test_a_full_disk_names_the_folder_removes_the_unfinished_shard_and_a_rerun_completes(tmp_path, monkeypatch):
    import errno

    from blurgen.output.writers import FilesShardWriter

    real_add, calls = FilesShardWriter.add, []

    def add_until_full(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(FilesShardWriter, "add", add_until_full)
    with pytest.raises(OSError, match=r"cannot write .*train \(No space left on device\); the unfinished shard shard-00001 was "
                                      r"removed.*run the same command again"):
        build_dataset(small_spec(tmp_path / "full"), workers=1)
    assert not list((tmp_path / "full" / "train").glob(".*"))  # the partial shard gave its space back
    monkeypatch.setattr(FilesShardWriter, "add", real_add)
    build_dataset(small_spec(tmp_path / "full"), workers=1)
    build_dataset(small_spec(tmp_path / "alone"), workers=1)
    assert tree_digest(tmp_path / "full") == tree_digest(tmp_path / "alone")


def test_a_lock_left_by_a_run_killed_after_its_shard_was_complete_is_cleared_by_the_rerun(tmp_path):
    build_dataset(small_spec(tmp_path), workers=1)
    (tmp_path / "train" / ".shard-00000.lock").touch()  # killed between the shard's stats and unlocking it
    assert build_dataset(small_spec(tmp_path), workers=1)["already_complete"] == 4
    assert not list((tmp_path / "train").glob(".*"))

