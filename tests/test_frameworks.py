"""blurgen inside other frameworks: each layout read back by its framework's own documented rules
(BasicSR, NAFNet, Restormer, KAIR, DeblurGANv2; the frameworks themselves do not install beside
today's torch, so their readers are followed here), BasicSR's LMDB read with the lmdb package, and
blur as an albumentations transform, a torch module and a deepinv PSF generator."""

import json
import os
import re
import subprocess
import sys
from glob import glob
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml

import blurgen
from fixtures import cli, textured, write
from blurgen.output.frameworks import build_layout, nafnet_starts, restormer_starts
from blurgen.pairs.shake import ShakeSampler
from blurgen.pairs.synthesizer import LiveKernels, PairSynthesizer

lmdb = pytest.importorskip("lmdb")


def files_shards(root: Path, sizes: list[tuple[int, int]], bit_depth: int = 8) -> Path:
    """A ``files`` dataset split made by hand (two shards, a stats file each): pairs of the given sizes."""
    rng = np.random.default_rng(0)
    split = root / "train"
    for number, (height, width) in enumerate(sizes):
        shard = split / f"shard-{number // 2:05d}"
        for kind in ("blur", "sharp"):
            image = textured(rng, height, width)
            write(shard / kind / f"{number:08d}.png", image.astype(np.uint16) * 257 if bit_depth == 16 else image)
        (shard / "stats.json").write_text("{}")
    return split


def read_bgr(path_or_bytes) -> np.ndarray:
    """An 8-bit image as these frameworks read it (OpenCV, colour)."""
    if isinstance(path_or_bytes, bytes):
        return cv2.imdecode(np.frombuffer(path_or_bytes, np.uint8), cv2.IMREAD_COLOR)
    return cv2.imread(str(path_or_bytes), cv2.IMREAD_COLOR)


def shard_image(split: Path, kind: str, name: str) -> np.ndarray:
    return read_bgr(next(split.glob(f"shard-*/{kind}/{name}.png")))


def basicsr_meta_pairs(lq: Path, gt: Path, meta_info: Path, template: str = "{}") -> list[tuple[Path, Path]]:
    """BasicSR's paired_paths_from_meta_info_file: GT names from the file, the LQ name made by the template."""
    pairs = []
    for line in meta_info.read_text().splitlines():
        gt_name = line.rstrip().split(" ")[0]
        stem, ext = os.path.splitext(os.path.basename(gt_name))
        pairs.append((lq / f"{template.format(stem)}{ext}", gt / gt_name))
    return pairs


def basicsr_lmdb_keys(database: Path) -> list[str]:
    """BasicSR's paired_paths_from_lmdb: the keys are meta_info.txt's names cut at the first dot."""
    assert database.name.endswith(".lmdb")
    return [line.split(".")[0] for line in (database / "meta_info.txt").read_text().splitlines()]


def lmdb_value(database: Path, key: str) -> bytes:
    env = lmdb.open(str(database), readonly=True, lock=False, readahead=False, meminit=False)
    with env.begin(write=False) as txn:
        value = txn.get(key.encode("ascii"))
    env.close()
    assert value is not None, f"{key} missing from {database}"
    return value


def folder_pairs(lq: Path, gt: Path, template: str = "{}") -> list[tuple[Path, Path]]:
    """BasicSR's paired_paths_from_folder (Restormer's loader): every GT file has its LQ partner by name."""
    inputs, truths = sorted(p.name for p in lq.iterdir()), sorted(p.name for p in gt.iterdir())
    assert len(inputs) == len(truths)
    pairs = []
    for name in truths:
        stem, ext = os.path.splitext(name)
        assert f"{template.format(stem)}{ext}" in inputs
        pairs.append((lq / f"{template.format(stem)}{ext}", gt / name))
    return pairs


def options(path: Path) -> dict:
    return json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())


def test_basicsr_folders_and_meta_info_give_the_shards_pixels(tmp_path):
    split = files_shards(tmp_path, [(40, 48)] * 3)
    record = build_layout(split, "basicsr")
    assert record["pairs"] == 3 and record["entries"] == 3 and record["built_now"] and not record["lmdb"]
    dataset = options(split / "basicsr" / "basicsr.yml")["datasets"]["train"]
    assert dataset["type"] == "PairedImageDataset" and dataset["io_backend"]["type"] == "disk" and dataset["gt_size"] == 40
    pairs = basicsr_meta_pairs(Path(dataset["dataroot_lq"]), Path(dataset["dataroot_gt"]), Path(dataset["meta_info_file"]),
                               dataset["filename_tmpl"])
    assert [gt.stem for _, gt in pairs] == ["00000000", "00000001", "00000002"]
    for lq, gt in pairs:
        assert np.array_equal(read_bgr(lq), shard_image(split, "blur", gt.stem))
        assert np.array_equal(read_bgr(gt), shard_image(split, "sharp", gt.stem))
        assert os.stat(gt).st_ino == next(split.glob(f"shard-*/sharp/{gt.name}")).stat().st_ino  # a link, not a copy
    assert build_layout(split, "basicsr")["built_now"] is False  # there already: kept


def test_basicsr_lmdb_keys_meta_info_and_values_match_file_for_file(tmp_path):
    split = files_shards(tmp_path, [(40, 48), (40, 48), (36, 44)])
    build_layout(split, "basicsr", lmdb=True)
    dataset = options(split / "basicsr" / "basicsr.yml")["datasets"]["train"]
    assert dataset["io_backend"]["type"] == "lmdb" and "meta_info_file" not in dataset
    lq, gt = Path(dataset["dataroot_lq"]), Path(dataset["dataroot_gt"])
    assert (gt / "data.mdb").is_file() and (gt / "lock.mdb").is_file()
    keys = basicsr_lmdb_keys(gt)
    assert keys == basicsr_lmdb_keys(lq) == ["00000000", "00000001", "00000002"]
    lines = (gt / "meta_info.txt").read_text().splitlines()
    assert lines[2] == "00000002.png (36,44,3) 1"
    for key in keys:
        assert np.array_equal(read_bgr(lmdb_value(lq, key)), shard_image(split, "blur", key))
        assert np.array_equal(read_bgr(lmdb_value(gt, key)), shard_image(split, "sharp", key))


def test_nafnet_and_restormer_crops_follow_their_scripts(tmp_path):
    assert nafnet_starts(700) == [0, 188] and nafnet_starts(768) == [0, 256] and nafnet_starts(511) == []
    assert restormer_starts(700) == [0, 188] and restormer_starts(512) == [0] and restormer_starts(1000) == [0, 256, 488]
    split = files_shards(tmp_path, [(520, 700), (600, 512), (300, 300)])
    record = build_layout(split, "nafnet")
    assert record["lmdb"] and record["too_small_for_crops"] == 1 and record["entries"] == 2 * 2 + 2 * 1
    dataset = options(split / "nafnet" / "nafnet.yml")["datasets"]["train"]
    lq, gt = Path(dataset["dataroot_lq"]), Path(dataset["dataroot_gt"])
    assert lq.name == "blur_crops.lmdb" and gt.name == "sharp_crops.lmdb"
    keys = basicsr_lmdb_keys(gt)
    assert keys == basicsr_lmdb_keys(lq) == ["00000000_s001", "00000000_s002", "00000000_s003", "00000000_s004", "00000001_s001",
                                             "00000001_s002"]
    sharp = shard_image(split, "sharp", "00000000")
    assert np.array_equal(read_bgr(lmdb_value(gt, "00000000_s004")), sharp[8:520, 188:700])  # row 2, column 2

    record = build_layout(split, "restormer")
    dataset = options(split / "restormer" / "restormer.yml")["datasets"]["train"]
    assert dataset["type"] == "Dataset_PairedImage" and dataset["gt_size"] <= 512
    pairs = folder_pairs(Path(dataset["dataroot_lq"]), Path(dataset["dataroot_gt"]), dataset["filename_tmpl"])
    assert [gt.name for _, gt in pairs] == ["00000000-1.png", "00000000-2.png", "00000000-3.png", "00000000-4.png", "00000001-1.png",
                                            "00000001-2.png"]
    blurred = shard_image(split, "blur", "00000000")
    assert np.array_equal(read_bgr(pairs[1][0]), blurred[0:512, 188:700])  # rows outermost, as its script loops


def test_kair_and_deblurganv2_pair_by_sorted_names(tmp_path):
    split = files_shards(tmp_path, [(40, 48)] * 3, bit_depth=16)
    record = build_layout(split, "kair")
    assert record["converted_16_bit"] == 3  # these frameworks read 8 bits: said, and done
    dataset = options(split / "kair" / "kair.json")["datasets"]["train"]
    high, low = sorted(Path(dataset["dataroot_H"]).iterdir()), sorted(Path(dataset["dataroot_L"]).iterdir())
    assert [p.name for p in high] == [p.name for p in low] and dataset["H_size"] == 40
    for sharp, blurred in zip(high, low):
        assert cv2.imread(str(sharp), cv2.IMREAD_UNCHANGED).dtype == np.uint8
        written = cv2.imread(str(next(split.glob(f"shard-*/blur/{blurred.name}"))), cv2.IMREAD_UNCHANGED)
        assert written.dtype == np.uint16 and np.array_equal(read_bgr(blurred), written // 257)

    build_layout(split, "deblurganv2")
    train = options(split / "deblurganv2" / "deblurganv2.yaml")["train"]
    files_a, files_b = sorted(glob(train["files_a"], recursive=True)), sorted(glob(train["files_b"], recursive=True))
    assert len(files_a) == len(files_b) == 3
    for blurred, sharp in zip(files_a, files_b):  # its loader pairs the two sorted lists by position
        assert Path(blurred).name == Path(sharp).name and "blur" in blurred and "sharp" in sharp


def test_a_layout_killed_while_it_is_built_is_built_whole_by_the_rerun(tmp_path, monkeypatch):
    import blurgen.output.frameworks as frameworks

    split = files_shards(tmp_path, [(40, 48)] * 4)
    put = frameworks.LmdbWriter.put
    calls = []

    def dies_on_the_third(self, key, data):
        calls.append(key)
        if len(calls) == 3:
            raise KeyboardInterrupt
        put(self, key, data)

    monkeypatch.setattr(frameworks.LmdbWriter, "put", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        build_layout(split, "basicsr", lmdb=True)
    assert not (split / "basicsr").exists() and not (split / ".basicsr.partial").exists()
    monkeypatch.setattr(frameworks.LmdbWriter, "put", put)
    record = build_layout(split, "basicsr", lmdb=True)
    assert record["entries"] == 4 and basicsr_lmdb_keys(split / "basicsr" / "blur.lmdb") == [f"{i:08d}" for i in range(4)]
    assert all(read_bgr(lmdb_value(split / "basicsr" / "sharp.lmdb", f"{i:08d}")) is not None for i in range(4))


def test_a_full_disk_while_arranging_says_so_and_keeps_the_shards(tmp_path, monkeypatch):
    import errno

    import blurgen.output.frameworks as frameworks

    split = files_shards(tmp_path, [(40, 48)] * 2)

    def full(self, key, data):
        raise lmdb.MapFullError("mdb_put: MDB_MAP_FULL: Environment mapsize limit reached")

    monkeypatch.setattr(frameworks.LmdbWriter, "put", full)
    with pytest.raises(OSError, match="shards are complete and kept: make room and run the same command again"):
        build_layout(split, "basicsr", lmdb=True)
    monkeypatch.setattr(frameworks, "write_folder_pairs", lambda *args: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(OSError, match=r"cannot arrange .* as kair \(No space left on device\)"):
        build_layout(split, "kair")
    assert sorted(p.name for p in split.iterdir()) == ["shard-00000"]  # nothing half-built, the shards untouched


def test_dataset_layout_and_lmdb_from_the_command_line(tmp_path):
    out = tmp_path / "pairs"
    common = ["dataset", "--n", "4", "--crop", "24", "--kernel-size", "9", "--shard-size", "2", "--out", str(out)]
    result = cli("blurgen", *common, "--format", "lmdb")
    assert result.returncode == 0, result.stderr
    assert "basicsr: 4 pairs in LMDB" in " ".join(result.stdout.split())
    assert basicsr_lmdb_keys(out / "train" / "basicsr" / "sharp.lmdb") == [f"{i:08d}" for i in range(4)]
    result = cli("blurgen", *common, "--layout", "kair")  # the same shards, another framework's view beside
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (out / "train" / "kair" / "trainL").iterdir()) == [f"{i:08d}.png" for i in range(4)]
    result = cli("blurgen", *common, "--format", "webdataset", "--layout", "kair", "--out", str(tmp_path / "other"))
    assert result.returncode == 2 and "--layout kair is arranged from files shards" in result.stderr, result.stderr


def test_shards_whose_images_were_all_skipped_hold_no_layout_back_but_records_of_other_settings_do_not_count(tmp_path):
    from fixtures import make_coco

    make_coco(tmp_path / "coco")  # 4 shards of 2 (one per job): good photos in the first two, bad files in the last two
    common = ["dataset", "--src", tmp_path / "coco", "--shard-size", "2", "--workers", "1", "--out", tmp_path / "out", "--layout", "kair",
              "--jobs", "4"]
    assert cli("blurgen", *common, "--crop", "400", "--job-index", "0").returncode == 2  # every photo too small: nothing kept
    for job in (1, 2, 3):  # new settings: shard 0's record of what the old ones skipped says nothing of them
        cli("blurgen", *common, "--crop", "64", "--job-index", str(job))
    assert not (tmp_path / "out" / "train" / "kair").exists()
    assert cli("blurgen", *common, "--crop", "64", "--job-index", "0").returncode == 0
    assert json.loads((tmp_path / "out" / "train" / "kair" / "layout.json").read_text())["pairs"] == 4
    # the last two shards never complete (only bad files): what they skipped is recorded, and the layout did not wait
    assert sorted(p.name for p in (tmp_path / "out" / "train").glob(".*.nothing.json")) == [
        ".shard-00002.nothing.json", ".shard-00003.nothing.json"]


def test_blurgen_itself_never_imports_the_adapters_or_their_libraries():
    code = ("import sys, blurgen, blurgen.cli, blurgen.output.dataset, blurgen.output.frameworks, blurgen.pairs.datasets, train.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('albumentations', 'deepinv', 'kornia') "
            "or m.startswith('blurgen.adapters')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
    root = Path(blurgen.__file__).parent
    imports = re.compile(r"^\s*(from blurgen\.adapters|import blurgen\.adapters|from blurgen import adapters)", re.MULTILINE)
    importers = [p for p in root.rglob("*.py") if "adapters" not in p.parts and imports.search(p.read_text())]
    assert importers == []


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return textured(np.random.default_rng(3), 48, 56)


def test_the_shake_sampler_draws_what_the_dataset_draws():
    synthesizer = PairSynthesizer([np.zeros((80, 80, 3), np.uint8)], LiveKernels(seed=5, preset="mixture", size=15), "wide",
                                  crop=None, seed=5, whole_border="reflect")
    plan = synthesizer.plan(0, (80, 80, 3))
    drawn = ShakeSampler("mixture", "wide", seed=5, kernel_size=15).draw(0)
    assert np.array_equal(drawn.kernel, plan.kernel) and drawn.draws == plan.draws and drawn.noise_key == plan.key
    with pytest.raises(ValueError, match="camera must be one of"):
        ShakeSampler("mixture", "sepia")
    with pytest.raises(ValueError, match="sample index must be an integer >= 0"):
        ShakeSampler().draw(-1)


def test_albumentations_transform_blurs_the_image_and_keeps_the_sharp_target(photo):
    A = pytest.importorskip("albumentations")
    from blurgen.adapters.albumentations import CameraShake

    pipeline = A.Compose([A.HorizontalFlip(p=1.0), CameraShake(kernels="line", camera="none", sample_seed=4, kernel_size=11)],
                         additional_targets={"sharp": "image"}, save_applied_params=True)
    out = pipeline(image=photo, sharp=photo)
    params = out["applied_transforms"][-1][1]
    assert np.array_equal(out["sharp"], photo[:, ::-1]) and out["image"].dtype == np.uint8 and out["image"].shape == photo.shape
    assert params["kernel"].shape == (11, 11) and params["kernel"].sum() == pytest.approx(1.0, abs=1e-5) and params["index"] == 0
    assert np.array_equal(out["image"], blurgen.blur(np.ascontiguousarray(photo[:, ::-1]), params["kernel"]))
    again = pipeline(image=photo, sharp=photo)
    assert again["applied_transforms"][-1][1]["index"] == 1  # call n draws sample n
    first = A.Compose([CameraShake(kernels="line", camera="none", sample_seed=4, kernel_size=11)])(image=photo, index=0)["image"]
    assert np.array_equal(first, blurgen.blur(photo, params["kernel"]))  # sample 0 of seed 4, whatever the pipeline
    as_float = CameraShake(kernels="line", camera="none", sample_seed=4, kernel_size=11)(image=photo.astype(np.float32) / 255)["image"]
    assert as_float.dtype == np.float32 and np.abs(as_float * 255 - first).max() <= 0.5 + 1e-3
    with pytest.raises(ValueError, match="p must be a probability"):
        CameraShake(p=2)
    with pytest.raises(ValueError, match="camera must be one of"):
        CameraShake(camera="sepia")


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU"))])
def test_torch_module_blurs_each_sample_with_its_own_kernel_on_the_device(photo, device):
    from blurgen.adapters.module import CameraShakeBlur

    batch = torch.from_numpy(np.stack([photo, photo[::-1].copy()])).permute(0, 3, 1, 2).float().div(255).to(device)
    shake = CameraShakeBlur(kernels="mixture", camera="none", seed=2, kernel_size=11)
    blurred, sharp, kernels = shake(batch)
    assert blurred.shape == batch.shape and blurred.dtype == torch.float32 and blurred.device.type == device
    assert sharp is batch and kernels.shape == (2, 11, 11) and torch.allclose(kernels.sum((1, 2)), torch.ones(2, device=device))
    for k in range(2):
        expected = blurgen.blur(batch[k].permute(1, 2, 0).cpu().numpy(), kernels[k].cpu().numpy())
        assert np.abs(blurred[k].permute(1, 2, 0).cpu().numpy() - expected).max() < 1e-4
    following, _, later = shake(batch)  # counts on: samples 2 and 3
    again, _, same = CameraShakeBlur(kernels="mixture", camera="none", seed=2, kernel_size=11)(batch, indices=[2, 3])
    assert torch.equal(later, same) and torch.equal(following, again)
    from torchvision.transforms import v2

    composed = v2.Compose([v2.RandomHorizontalFlip(p=1.0), CameraShakeBlur(kernels="mixture", camera="none", seed=2, kernel_size=11)])
    assert torch.equal(composed(batch)[0], shake(batch.flip(-1), indices=[0, 1])[0])
    wide = CameraShakeBlur(camera="wide", seed=2, kernel_size=11)
    first, _, _ = wide(batch, indices=[0, 1])
    assert torch.equal(first, wide(batch, indices=[0, 1])[0])  # noise and JPEG drawn by (seed, index) too
    leaf = batch.clone().requires_grad_(True)
    CameraShakeBlur(kernels="line", camera="gamma", seed=0, kernel_size=11)(leaf)[0].mean().backward()
    assert leaf.grad is not None and torch.isfinite(leaf.grad).all() and leaf.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="float B×C×H×W"):
        shake(batch[0])
    with pytest.raises(ValueError, match="2 images but 1 indices"):
        shake(batch, indices=[0])


def test_deepinv_blur_takes_blurgens_kernels(photo):
    deepinv = pytest.importorskip("deepinv")
    from blurgen.adapters.deepinv import ShakePSFGenerator

    generator = ShakePSFGenerator(kernels="mixture", kernel_size=11, seed=6)
    filters = generator.step(batch_size=2)["filter"]
    assert filters.shape == (2, 1, 11, 11) and filters.dtype == torch.float32
    assert torch.allclose(filters.sum((-2, -1)), torch.ones(2, 1)) and (filters >= 0).all()
    assert np.array_equal(filters[1, 0].numpy(), ShakeSampler("mixture", "none", 6, 11).draw(1).kernel)
    assert torch.equal(generator.step(batch_size=2, seed=6)["filter"], filters)  # a seed restarts at its sample 0
    image = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255
    blurred = deepinv.physics.Blur(filter=filters[:1], padding="valid")(image)
    expected = blurgen.blur(photo.astype(np.float32) / 255, filters[0, 0].numpy())[5:-5, 5:-5]
    assert np.abs(blurred[0].permute(1, 2, 0).numpy() - expected).max() < 1e-4  # the same orientation: a true convolution
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        generator.step(batch_size=0)
