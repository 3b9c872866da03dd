"""Evaluating as the papers do: the public benchmarks' layouts, RealBlur's aligned protocol, and
object detection on sharp, blurred and restored images."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from fixtures import cli, make_coco, make_gopro, textured, wild_config, write
from blurgen.blurring.camera import camera_preset
from blurgen.output.dataset import DatasetSpec
from blurgen.output.distribute import build_dataset
from blurgen.pairs.synthesizer import LiveKernels, Views
from blurgen.sources import CocoSource, SourceError, open_pairs
from blurgen.sources.coco import boxes_in_crop
from train.eval.detection import coco_scores, coco_truth_for, load_detector
from train.loop import train
from train.eval.protocols import realblur_scores
from train.eval.metrics import psnr
from train.eval.evaluate import to_tensor

REALBLUR = {"J": "RealBlur-J_ECC_IMCORR_centroid_itensity_ref", "R": "RealBlur-R_BM3D_ECC_IMCORR_centroid_itensity_ref"}


def detailed(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A photo-like image with edges at several scales (ECC needs structure to lock on to)."""
    image = textured(rng, height, width).astype(np.float32)
    for _ in range(12):
        x, y = int(rng.integers(0, width - 16)), int(rng.integers(0, height - 16))
        cv2.rectangle(image, (x, y), (x + int(rng.integers(6, 30)), y + int(rng.integers(6, 30))), rng.integers(0, 255, 3).tolist(), -1)
    return np.clip(image, 0, 255).astype(np.uint8)


def make_realblur(root: Path, kind: str, scenes: int = 2) -> None:
    rng = np.random.default_rng(1)
    lines = []
    for scene in range(1, scenes + 1):
        for frame in (1, 2):
            base = f"{REALBLUR[kind]}/scene{scene:03d}"
            sharp = detailed(rng, 72, 96)
            write(root / base / "gt" / f"gt_{frame}.png", sharp)
            write(root / base / "blur" / f"blur_{frame}.png", cv2.GaussianBlur(sharp, (0, 0), 1.2))
            lines.append(f"{base}/gt/gt_{frame}.png {base}/blur/blur_{frame}.png")
    (root / f"RealBlur_{kind}_test_list.txt").write_text("\n".join(lines) + "\n")


def test_each_benchmark_layout_is_recognised_and_paired(tmp_path):
    for kind in ("J", "R"):
        make_realblur(tmp_path / f"realblur-{kind}", kind)
        found = open_pairs(tmp_path / f"realblur-{kind}")
        assert found.describe()["benchmark"] == f"RealBlur-{kind}" and len(found) == 4 and found.protocol == "realblur"
        assert found.id(0) == f"{REALBLUR[kind]}/scene001/blur/blur_1.png"
        assert open_pairs(tmp_path / f"realblur-{kind}" / f"RealBlur_{kind}_test_list.txt").benchmark == f"RealBlur-{kind}"
    rng = np.random.default_rng(2)
    lines = []
    for frame in ("000022", "000023"):
        base = f"RSBlur/0001/{frame}"
        write(tmp_path / "rsblur" / base / "gt" / "gt_sharp.png", textured(rng, 40, 48))
        write(tmp_path / "rsblur" / base / "real_blur" / "real_blur.png", textured(rng, 40, 48))
        lines.append(f"{base}/gt/gt_sharp.png {base}/real_blur/real_blur.png")
    (tmp_path / "rsblur" / "RSBlur_real_test.txt").write_text("\n".join(lines) + "\n")
    rsblur = open_pairs(tmp_path / "rsblur")
    assert rsblur.benchmark == "RSBlur" and len(rsblur) == 2 and rsblur.protocol == "realblur"
    for part, names in (("test-close-ups", ("a.png", "b.png")), ("test-long-shot", ("c.png",))):
        for name in names:
            write(tmp_path / "HIDE_dataset" / "test" / part / name, textured(rng, 40, 48))
            write(tmp_path / "HIDE_dataset" / "GT" / name, textured(rng, 40, 48))
    hide = open_pairs(tmp_path / "HIDE_dataset")
    assert hide.benchmark == "HIDE" and len(hide) == 3 and hide.protocol == "plain" and hide.id(2) == "test-long-shot/c.png"
    make_gopro(tmp_path / "GOPRO_Large", {"GOPR0384_11_00": 2}, split="test")
    assert open_pairs(tmp_path / "GOPRO_Large").describe()["benchmark"] == "GoPro"


def test_a_missing_partner_or_an_ambiguous_root_is_named(tmp_path):
    make_realblur(tmp_path / "rb", "J", scenes=1)
    (tmp_path / "rb" / REALBLUR["J"] / "scene001" / "gt" / "gt_2.png").unlink()
    with pytest.raises(SourceError, match=r"line 2: .*gt_2\.png does not exist \(its partner is .*blur_2\.png\)"):
        open_pairs(tmp_path / "rb")
    make_realblur(tmp_path / "both", "J", scenes=1)
    make_realblur(tmp_path / "both", "R", scenes=1)
    with pytest.raises(SourceError, match="RealBlur_J_test_list.txt and RealBlur_R_test_list.txt: give one"):
        open_pairs(tmp_path / "both")
    write(tmp_path / "HIDE" / "test" / "test-close-ups" / "x.png", textured(np.random.default_rng(0), 20, 20))
    (tmp_path / "HIDE" / "GT").mkdir()
    with pytest.raises(SourceError, match=r"x\.png has no partner of the same name in .*/GT/"):
        open_pairs(tmp_path / "HIDE")


def test_the_realblur_protocol_forgives_misalignment_and_agrees_with_plain_when_aligned():
    rng = np.random.default_rng(3)
    sharp = detailed(rng, 96, 128)
    shifted = np.clip(np.roll(sharp, (2, 3), axis=(0, 1)).astype(np.float32) * 0.85, 0, 255).astype(np.uint8)
    plain = float(psnr(to_tensor(shifted, "cpu"), to_tensor(sharp, "cpu"))[0])
    aligned = realblur_scores(shifted, sharp)
    assert aligned["aligned"] and aligned["psnr"] > plain + 10 and aligned["ssim"] > 0.95
    noisy = np.clip(sharp.astype(np.float32) + rng.normal(0, 4, sharp.shape), 0, 255).astype(np.uint8)
    plain = float(psnr(to_tensor(noisy, "cpu"), to_tensor(sharp, "cpu"))[0])
    assert realblur_scores(noisy, sharp)["psnr"] == pytest.approx(plain, abs=0.15)


def test_pseudo_ground_truth_scored_against_itself_has_ap_one():
    truth = {0: [([10.0, 12.0, 30.0, 20.0], 1), ([50.0, 40.0, 16.0, 16.0], 3)], 1: [([5.0, 5.0, 40.0, 40.0], 1)]}
    detections = {image: [(box, 0.9, category) for box, category in boxes] for image, boxes in truth.items()}
    sizes = {0: (96, 128), 1: (96, 128)}
    scores = coco_scores(truth, detections, sizes)
    assert scores["ap"] == pytest.approx(1.0) and scores["ap50"] == pytest.approx(1.0) and scores["recall"] == pytest.approx(1.0)
    moved = {image: [([x + 8, y, w, h], score, category) for (x, y, w, h), score, category in boxes] for image, boxes in detections.items()}
    assert coco_scores(truth, moved, sizes)["ap"] < 0.5
    assert coco_scores(truth, {}, sizes)["ap"] == 0.0


def test_coco_boxes_land_in_the_crop_where_the_object_is():
    annotations = [{"bbox": [50, 60, 20, 10], "category_id": 3, "iscrowd": 0},
                   {"bbox": [30, 45, 20, 20], "category_id": 1, "iscrowd": 0},  # a quarter of it inside: dropped
                   {"bbox": [38, 55, 10, 40], "category_id": 2, "iscrowd": 0},  # 0.8 inside: clipped, kept
                   {"bbox": [60, 70, 5, 5], "category_id": 4, "iscrowd": 1}]
    kept = boxes_in_crop(annotations, {"x": 40, "y": 50, "width": 64, "height": 64})
    assert kept == [([10.0, 10.0, 20.0, 10.0], 3), ([0.0, 5.0, 8.0, 40.0], 2)]
    image = np.zeros((100, 120, 3), np.uint8)
    image[60:70, 50:70] = 255  # the object
    crop = image[50:114, 40:104]
    x, y, w, h = (int(v) for v in kept[0][0])
    assert crop[y : y + h, x : x + w].min() == 255 and crop.sum() == crop[y : y + h, x : x + w].sum()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, gopro) -> Path:
    out = tmp_path_factory.mktemp("run")
    train(wild_config(gopro, out, ngf=8, blocks=1, ndf=8), log=lambda _: None)
    return out / "checkpoint.pt"


def test_deblur_scores_realblur_with_its_protocol_and_says_so(checkpoint, tmp_path):
    make_realblur(tmp_path / "rb", "J")
    report = tmp_path / "report.json"
    result = cli("deblur", str(checkpoint), "--pairs", str(tmp_path / "rb"), "--report", str(report), "--device", "cpu", "--limit", "3")
    assert result.returncode == 0, result.stderr
    assert "RealBlur-J benchmark" in result.stderr and "realblur protocol" in result.stderr + result.stdout
    written = json.loads(report.read_text())
    assert written["protocol_name"] == "realblur" and "findTransformECC" in written["protocol"] and written["images"] == 3
    assert written["pairs"]["benchmark"] == "RealBlur-J"
    result = cli("deblur", str(checkpoint), "--pairs", str(tmp_path / "rb"), "--protocol", "plain", "--device", "cpu", "--limit", "1")
    assert result.returncode == 0 and "plain protocol" in result.stdout
    result = cli("deblur", str(checkpoint), "--pairs", str(tmp_path / "rb"), "--protocol", "bogus", "--device", "cpu")
    assert result.returncode == 2 and "--protocol must be one of plain, realblur" in result.stderr


def test_detection_runs_end_to_end_with_a_random_detector_and_maps_coco_boxes(checkpoint, tmp_path):
    make_coco(tmp_path / "coco")
    spec = DatasetSpec(out=tmp_path / "pairs", source=CocoSource(tmp_path / "coco"), kernels=LiveKernels(size=15),
                       camera=camera_preset("none"), crop=64, per_image=1, shard_size=8)
    build_dataset(spec, workers=1)
    report = tmp_path / "report.json"
    result = cli("deblur", str(checkpoint), "--pairs", str(tmp_path / "pairs"), "--detect", "--detector", "ssdlite", "--detector-weights", "random",
                    "--detect-threshold", "0.0", "--report", str(report), "--device", "cpu", "--limit", "3")
    assert result.returncode == 0, result.stderr
    detection = json.loads(report.read_text())["detection"]
    assert detection["detector"] == "ssdlite" and set(detection["pseudo"]) == {"sharp", "blurred", "restored", "recovered"}
    assert detection["pseudo"]["sharp"]["ap"] == pytest.approx(1.0)  # all its boxes are the truth at threshold 0
    assert "coco" in detection and "sharp" in detection["coco"]
    assert "share of the blur-induced AP loss recovered" in result.stdout


def test_pairs_made_with_views_get_no_coco_boxes_since_views_move_them(tmp_path):
    make_coco(tmp_path / "coco")
    for name, views in (("plain", Views()), ("views", Views(orientations=True, min_scale=0.6))):
        build_dataset(DatasetSpec(out=tmp_path / name, source=CocoSource(tmp_path / "coco"), kernels=LiveKernels(size=15),
                                  camera=camera_preset("none"), crop=64, shard_size=8, views=views), workers=1)
    truth, missing = coco_truth_for(open_pairs(tmp_path / "plain"))
    assert missing is None and truth
    truth, missing = coco_truth_for(open_pairs(tmp_path / "views"))
    assert truth is None and "--orientations/--min-scale" in missing


def test_missing_detector_weights_are_one_clear_line(checkpoint, tmp_path, monkeypatch):
    make_realblur(tmp_path / "rb", "J", scenes=1)
    result = cli("deblur", str(checkpoint), "--pairs", str(tmp_path / "rb"), "--detect", "--detector-weights", str(tmp_path / "none.pth"), "--device", "cpu")
    assert result.returncode == 2 and "none.pth" in result.stderr and "Traceback" not in result.stderr
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="fasterrcnn_resnet50_fpn_coco-258fb6c6.pth"):
        load_detector("fasterrcnn", "coco")
    result = cli("deblur", str(checkpoint), "--pairs", str(tmp_path / "rb"), "--detect", "--detector", "yolo", "--device", "cpu")
    assert result.returncode == 2 and "--detector must be one of fasterrcnn, retinanet, ssdlite" in result.stderr
