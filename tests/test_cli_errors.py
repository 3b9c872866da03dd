"""What a new user runs into: every bad invocation gives exit code 2, one line naming the offending
option or file, no traceback, and changes nothing already on disk; natural invocations just work."""

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from fixtures import make_gopro, textured, write
from blurgen.blurring.camera import camera_preset
from blurgen.cli import app as blurgen_app
from blurgen.output.dataset import DatasetSpec, ShardFailed, is_complete
from blurgen.output.distribute import build_dataset
from blurgen.output.evalset import EvalsetSpec, build_evalset
from blurgen.sources import FolderSource
from train.cli import deblur_app, train_app

APPS = {"blurgen": blurgen_app, "train": train_app, "deblur": deblur_app}
TRAIN = ["--steps", "1", "--batch-size", "2", "--crop", "32", "--workers", "0", "--device", "cpu"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    """A workspace: photos, broken files, a GoPro tree, a bank folder, an evaluation set, a checkpoint."""
    root = tmp_path_factory.mktemp("ws")
    rng = np.random.default_rng(0)
    for i in range(3):
        write(root / "photos" / f"{i}.png", textured(rng, 96, 96))
    (root / "broken").mkdir()
    (root / "broken" / "a.jpg").write_bytes(b"")
    (root / "broken" / "b.png").write_bytes(b"not a png at all")
    make_gopro(root / "gopro", {"GOPR0372_07_00": 2}, size=(144, 176))
    write(root / "a" / "x.jpg", textured(rng, 40, 48))
    write(root / "b" / "x.png", textured(rng, 40, 48))
    (root / "junk.pt").write_bytes(b"junk" * 64)
    (root / "afile").write_text("keep me\n")
    build_evalset(root / "ev", EvalsetSpec(per_image=1, kernel_size=15, max_side=64), FolderSource(root / "photos"))
    assert run("blurgen", "kernels", "--n", "4", "--kernel-size", "15", "--out", str(root / "bank")).exit_code == 0
    assert run("train", "--mix", "wild", "--gopro", str(root / "gopro"), "--out", str(root / "run"), *TRAIN).exit_code == 0
    return root


def run(program: str, *args: str):
    return CliRunner().invoke(APPS[program], list(args))


def snapshot(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "tensorboard" not in p.parts}


NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="asking for CUDA is only an error where there is none")

# (program, arguments with {ws} for the workspace, text the error line must contain)
BAD = [
    ("train", ["--out", "{ws}/t1", *TRAIN], "--gopro"),  # default --mix comb without GoPro pairs
    ("train", ["--mix", "wild", "--out", "{ws}/t2", *TRAIN], "--gopro"),
    pytest.param("train", ["--mix", "synth", "--out", "{ws}/t3", *TRAIN[:-2], "--device", "cuda"], "--device cuda", marks=NO_GPU),
    ("train", ["--mix", "synth", "--out", "{ws}/t4", *TRAIN[:-2], "--device", "bogus"], "--device bogus"),
    ("train", ["--mix", "synth", "--src", "{ws}/broken", "--out", "{ws}/t5", *TRAIN], "--src"),
    ("train", ["--mix", "synth", "--out", "{ws}/t6", *TRAIN[:4], "--crop", "100000", *TRAIN[6:]], "smaller than crop"),
    ("train", ["--mix", "wild", "--gopro", "{ws}/gopro", "--out", "{ws}/t7", "--content", "perceptual", "--vgg-weights", "{ws}/junk.pt", *TRAIN], "junk.pt is not a VGG-19"),
    ("train", ["--mix", "wild", "--gopro", "{ws}/gopro", "--out", "{ws}/t11", "--vgg-weights", "random", *TRAIN], "--vgg-weights is for the perceptual loss"),
    ("train", ["--mix", "wild", "--gopro", "{ws}/gopro", "--val", "{ws}/nonexist", "--out", "{ws}/t8", *TRAIN], "nonexist"),
    ("train", ["--mix", "wild", "--gopro", "{ws}/gopro", "--out", "{ws}/run", *TRAIN], "--resume"),  # a run is there
    ("train", ["--mix", "synth", "--src", "{ws}/photos", "--builtin", "dead-leaves", "--out", "{ws}/t12", *TRAIN], "--builtin chooses the corpus used when no --src"),
    ("train", ["--mix", "synth", "--min-scale", "1.5", "--out", "{ws}/t13", *TRAIN], "--min-scale must be <= 1, got 1.5"),
    ("train", ["--mix", "synth", "--motion", "rotation", "--orientations", "--out", "{ws}/t14", *TRAIN], "--orientations applies to uniform blur"),
    ("blurgen", ["dataset", "--src", "{ws}/photos", "--builtin", "photos", "--out", "{ws}/d12"], "--builtin chooses the corpus used when no --src"),
    ("blurgen", ["dataset", "--builtin", "leaves", "--out", "{ws}/d13"], "--builtin must be one of dead-leaves, photos"),
    ("blurgen", ["dataset", "--min-scale", "0", "--crop", "32", "--out", "{ws}/d14"], "--min-scale must be > 0, got 0"),
    ("train", ["--mix", "wild", "--gopro", "{ws}/gopro", "--out", "{ws}/t9", "--paper", *TRAIN], "--paper sets --batch-size 1"),
    ("train", ["--mix", "wild", "--gopro", "{ws}/gopro", "--gopro-blur", "bogus", "--out", "{ws}/t10", *TRAIN], "--gopro-blur"),
    ("train", ["--mix", "wild", "--gopro", "{ws}/gopro", "--out", "/proc/nope/run", *TRAIN], "--out /proc/nope/run"),
    ("train", ["--mix", "synth", "--preset", "lines", "--out", "{ws}/t15", *TRAIN], "--preset: unknown preset 'lines'"),
    ("train", ["--mix", "synth", "--preset", "line", "--kernels", "{ws}/bank", "--out", "{ws}/t16", *TRAIN], "--kernels uses the bank's kernels; --preset applies to live kernels only"),
    ("blurgen", ["kernels", "--n", "2", "--preset", "line", "--max-len", "9", "--out", "{ws}/k3"], "Markov"),
    ("deblur", ["{ws}/junk.pt", "{ws}/a/x.jpg", "--out", "{ws}/r1"], "junk.pt is not a checkpoint: it is not a PyTorch file"),
    ("deblur", ["{ws}/afile", "{ws}/a/x.jpg", "--out", "{ws}/r4"], "afile is not a checkpoint"),
    ("deblur", ["{ws}/photos", "{ws}/a/x.jpg", "--out", "{ws}/r5"], "a folder without checkpoint.pt"),
    ("deblur", ["{ws}/run/checkpoint.pt", "{ws}/a/x.jpg", "{ws}/b/x.png", "--out", "{ws}/r2"], "would both be written"),
    ("deblur", ["{ws}/run/checkpoint.pt", "{ws}/missing.jpg", "--out", "{ws}/r3"], "nothing was restored"),
    ("deblur", ["{ws}/run/checkpoint.pt", "{ws}/a/x.jpg", "--out", "{ws}/afile"], "--out"),
    ("deblur", ["{ws}/run/checkpoint.pt", "{ws}/a/x.jpg", "--out", "/proc/nope"], "--out /proc/nope"),
    ("deblur", ["{ws}/run/checkpoint.pt", "--pairs", "{ws}/ev", "--report", "/proc/nope/m.json"], "--report"),
    ("deblur", ["{ws}/run/checkpoint.pt", "{ws}/a/x.jpg", "--report", "{ws}/m.json"], "--report applies to --pairs"),
    ("deblur", ["{ws}/run/checkpoint.pt", "{ws}/a/x.jpg", "--pairs", "{ws}/ev"], "not both"),
    ("deblur", ["{ws}/run/checkpoint.pt", "{ws}/a/x.jpg", "--upsample", "bogus"], "--upsample"),
    pytest.param("deblur", ["{ws}/run/checkpoint.pt", "{ws}/a/x.jpg", "--device", "cuda"], "--device cuda", marks=NO_GPU),
    ("blurgen", ["kernels", "--n", "2", "--expl", "1e308", "--out", "{ws}/k1"], "expl"),
    ("blurgen", ["kernels", "--n", "50000000", "--out", "{ws}/k2"], "GiB"),
    ("blurgen", ["dataset", "--src", "{ws}/broken", "--out", "{ws}/d1"], "no pair was written"),
    ("blurgen", ["dataset", "--src", "{ws}/photos", "--kernel-size", "100001", "--out", "{ws}/d2"], "--kernel-size"),
    ("blurgen", ["dataset", "--src", "{ws}/photos", "--kernels", "{ws}/bank", "--preset", "strong", "--out", "{ws}/d3"], "--preset"),
    ("blurgen", ["dataset", "--src", "{ws}/photos", "--coco-split", "val2017", "--out", "{ws}/d4"], "--coco-split"),
    ("blurgen", ["info", "{ws}/photos"], "no .npz"),
    ("deblur", ["{ws}/run/checkpoint.pt", "{ws}/b/x.png", "--out", "{ws}/b"], "would overwrite the input"),
    ("deblur", ["{ws}/run/checkpoint.pt", "{ws}/a/x.jpg", "--tile", "100"], "--tile 100 px is too small"),
    ("train", ["--mix", "wild", "--gopro", "{ws}/gopro", "--generator", "unet", "--out", "{ws}/t12", *TRAIN], "at least 64"),
    ("blurgen", ["kernels", "--n", "2", "--kernel-size", "15", "--out", "{ws}/bank"], "--overwrite"),
    ("blurgen", ["dataset", "--src", "{ws}/photos", "--jobs", "3", "--job-index", "3", "--out", "{ws}/d5"], "--job-index must be between 0 and --jobs - 1"),
]


@pytest.mark.parametrize("program, args, expected", BAD, ids=[f"{case.values[0] if hasattr(case, 'values') else case[0]}-{case.values[2] if hasattr(case, 'values') else case[2]}" for case in BAD])
def test_bad_invocations_fail_in_one_clear_line_and_change_nothing(ws, program, args, expected):
    before = snapshot(ws)
    result = run(program, *[arg.replace("{ws}", str(ws)) for arg in args])
    output = result.output
    assert result.exit_code == 2, output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not an unhandled exception
    assert "Traceback" not in output and "weights_only=False" not in output
    lines = [line for line in output.splitlines() if expected in line]
    assert lines and (lines[0].startswith("error:") or lines[0].startswith("Error:")), output
    after = snapshot(ws)
    assert {name: after.get(name) for name in before} == before  # what was there is untouched


def test_natural_invocations_work(ws, tmp_path):
    from blurgen.viewer.server import initial_state

    assert run("blurgen", "info", str(ws / "bank")).exit_code == 0  # the folder holding one bank
    assert len(initial_state(ws / "bank", None).bank) == 4  # what `blurgen view bank/` opens
    result = run("blurgen", "dataset", "--src", str(ws / "photos"), "--kernels", str(ws / "bank"), "--crop", "32", "--out", str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    assert "pairs written" in result.stdout  # the summary is the command's result, on stdout
    scene = ws / "gopro" / "train" / "GOPR0372_07_00"
    result = run("blurgen", "dataset", "--src", str(scene), "--crop", "32", "--kernel-size", "15", "--out", str(tmp_path / "g"))
    assert result.exit_code == 0 and "paired folder (its sharp/ frames only)" in result.stdout
    assert len(list((tmp_path / "g" / "train" / "shard-00000" / "sharp").iterdir())) == 2  # not 4: blur/ was not read
    result = run("train", "--mix", "synth", "--src", str(ws / "photos"), "--kernels", str(ws / "bank"), "--out", str(tmp_path / "t"), *TRAIN)
    assert result.exit_code == 0, result.output
    before = (tmp_path / "t" / "metrics.jsonl").read_text()
    result = run("train", "--mix", "synth", "--src", str(ws / "photos"), "--out", str(tmp_path / "t"), "--overwrite", *TRAIN[:1], "2", *TRAIN[2:])
    assert result.exit_code == 0, result.output
    steps = [json.loads(line)["step"] for line in (tmp_path / "t" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2] and before.count("\n") == 1
    result = run("deblur", str(ws / "run"), str(ws / "a" / "x.jpg"), "--out", str(tmp_path / "restored"))  # a run folder is its checkpoint
    assert result.exit_code == 0, result.output
    assert (tmp_path / "restored" / "x.png").is_file()


def test_a_shard_that_fails_for_reasons_other_than_its_images_is_not_marked_complete(tmp_path, ws):
    class BrokenKernels:  # every kernel draw runs out of memory, as --kernel-size 100001 did
        size = 15

        def kernel(self, index, uniform):
            raise MemoryError("out of memory")

    spec = DatasetSpec(out=tmp_path, source=FolderSource(ws / "photos"), kernels=BrokenKernels(), camera=camera_preset("none"), crop=32)
    with pytest.raises(ShardFailed, match="MemoryError"):
        build_dataset(spec, workers=1)
    assert not is_complete(spec, spec.shards()[0])


def test_png_dir_holds_only_the_current_banks_kernels(tmp_path):
    assert run("blurgen", "kernels", "--n", "6", "--kernel-size", "15", "--out", str(tmp_path), "--png-dir", str(tmp_path / "png")).exit_code == 0
    assert run("blurgen", "kernels", "--n", "2", "--kernel-size", "15", "--out", str(tmp_path), "--png-dir", str(tmp_path / "png"),
               "--overwrite").exit_code == 0
    assert len(list((tmp_path / "png").iterdir())) == 2


def test_a_saved_viewer_preset_brings_its_size_exposures_and_seed(tmp_path):
    preset = tmp_path / "mine.json"
    preset.write_text(json.dumps({"format": "blurgen.preset", "spec": {"expl": "0.005", "max_len": 30.0}, "size": 21,
                                  "exposures": [0.5, 1.0], "seed": 7}))
    assert run("blurgen", "kernels", "--n", "3", "--preset", str(preset), "--out", str(tmp_path / "b")).exit_code == 0
    info = json.loads(run("blurgen", "info", str(tmp_path / "b")).stdout)["info"]
    assert (info["size"], info["seed"], info["exposures"], info["preset"]) == (21, 7, [0.5, 1.0], "mine")


def test_deblur_restores_images_of_any_size(ws, tmp_path):
    rng = np.random.default_rng(1)
    sizes = {"strip": (3, 500), "dot": (1, 1), "column": (37, 2)}
    for name, (height, width) in sizes.items():
        write(tmp_path / f"{name}.png", textured(rng, height, width))
    result = run("deblur", str(ws / "run" / "checkpoint.pt"), *[str(tmp_path / f"{name}.png") for name in sizes], "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    for name, size in sizes.items():
        assert cv2.imread(str(tmp_path / "r" / f"{name}.png")).shape[:2] == size


def test_a_job_with_no_shard_to_write_succeeds(tmp_path):
    result = run("blurgen", "dataset", "--limit", "8", "--shard-size", "2", "--jobs", "8", "--job-index", "0", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.output and not (tmp_path / "train").exists()


def test_a_run_that_wrote_no_pair_does_not_block_the_corrected_one(ws, tmp_path):
    args = ["dataset", "--src", str(ws / "photos"), "--kernel-size", "15", "--out", str(tmp_path)]
    first = run("blurgen", *args, "--crop", "500")  # larger than every photo
    assert first.exit_code == 2 and "no pair was written" in first.output
    assert run("blurgen", *args, "--crop", "500").exit_code == 2  # still nothing, not "already complete"
    corrected = run("blurgen", *args, "--crop", "32")
    assert corrected.exit_code == 0, corrected.output
    assert len(list((tmp_path / "train" / "shard-00000" / "blur").iterdir())) == 3


def test_skipped_files_are_named(ws, tmp_path):
    for name in ("0.png", "1.png"):
        (tmp_path / "src").mkdir(exist_ok=True)
        (tmp_path / "src" / name).write_bytes((ws / "photos" / name).read_bytes())
    (tmp_path / "src" / "empty.png").write_bytes(b"")
    (tmp_path / "src" / "junk.jpg").write_bytes(b"not a jpeg")
    result = run("blurgen", "dataset", "--src", str(tmp_path / "src"), "--kernel-size", "15", "--crop", "32", "--out", str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "d" / "train" / "shard-00000" / "stats.json").read_text())
    named = [Path(name).name for names in stats["skipped_files"].values() for name in names]
    assert sorted(named) == ["empty.png", "junk.jpg"] and sum(stats["skipped"].values()) == 2
    assert "empty.png" in result.output and "junk.jpg" in result.output


def test_a_stop_after_the_last_shard_says_nothing_is_left_to_write(tmp_path, monkeypatch):
    import blurgen.output.distribute

    finish = blurgen.output.distribute.build_dataset

    def finish_then_stop(*args, **kwargs):
        finish(*args, **kwargs)
        raise KeyboardInterrupt  # SIGTERM arrives as the last shard is done

    monkeypatch.setattr(blurgen.output.distribute, "build_dataset", finish_then_stop)
    result = run("blurgen", "dataset", "--n", "3", "--crop", "16", "--kernel-size", "15", "--out", str(tmp_path / "d"))
    assert result.exit_code == 130 and "nothing is left to write" in result.output and "run the same command again" not in result.output


@pytest.mark.parametrize("content, problem", [
    (b"[1, 2]", "must hold a JSON object"),
    (b'{"line": {"length": [3, 9]}}', "unknown key(s) 'line'"),
    (b'{"mixture": {"line": 1}, "colour": "red"}', "unknown key(s) 'colour'"),
    (b'{"spec": {"max_len": 30, "speed": 2}}', "unknown parameter(s) speed of Markov kernels"),
    (b'{"spec": {"family": "line", "lenght": [3, 9]}}', "unknown parameter(s) lenght of line kernels"),
    (b'{"mixture": {"line": "half"}}', "weights are numbers"),
    (b'{"mixture": {"line": 1}, "spec": {}}', "not both"),
    (b'{"mixture": "\xff\xfe"}', "is not UTF-8 text"),
    (b'{"mixture": ', "is not valid JSON"),
])
def test_every_malformed_preset_file_is_one_line_naming_the_file(tmp_path, content, problem):
    preset = tmp_path / "mine.json"
    preset.write_bytes(content)
    for args in (["kernels", "--n", "2", "--kernel-size", "9"], ["dataset", "--limit", "2", "--kernel-size", "9"]):
        result = run("blurgen", *args, "--preset", str(preset), "--out", str(tmp_path / "out"))
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        message = " ".join(result.output.split())
        assert f"preset file {preset}" in message and problem in message, message


def test_a_preset_file_may_hold_one_familys_parameters(tmp_path):
    preset = tmp_path / "short-lines.json"
    preset.write_text(json.dumps({"spec": {"family": "line", "length": [3, 9]}}))
    result = run("blurgen", "kernels", "--n", "8", "--kernel-size", "15", "--preset", str(preset), "--out", str(tmp_path / "bank"))
    assert result.exit_code == 0, result.output
    from blurgen.kernels.bank import KernelBank

    bank = KernelBank.load(tmp_path / "bank" / "kernels.npz")
    assert bank.info["spec"] == {"family": "line", "length": [3.0, 9.0]}


def test_the_benchmarks_preset_files_load_with_their_descriptions():
    from blurgen.kernels.presets import load_preset_file
    from blurgen.kernels.families import Mixture

    files = sorted((Path(__file__).resolve().parents[1] / "benchmarks" / "presets").glob("*.json"))
    assert files and all(isinstance(load_preset_file(path), Mixture) for path in files)
