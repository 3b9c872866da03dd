import json

import numpy as np
import pytest

from fixtures import COCO_SPLIT, make_coco, make_gopro, textured, write
from blurgen.sources import (
    BadImage, CocoSource, DeadLeaves, FolderSource, GoProPairs, GoProSharp, SourceError, TrainingPhotos, open_source, read_image,
)


def test_folder_is_recursive_sorted_and_reads_every_format(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("b/two.png", "a/one.jpg", "c/three.WEBP", "d/four.bmp", "e/five.tif", "zz.TIFF"):
        write(tmp_path / name, textured(rng, 32, 48))
    (tmp_path / "notes.txt").write_text("not an image")
    source = FolderSource(tmp_path)
    assert [source.id(i) for i in range(len(source))] == ["a/one.jpg", "b/two.png", "c/three.WEBP", "d/four.bmp", "e/five.tif", "zz.TIFF"]
    assert source.non_images == 1
    for i in range(len(source)):
        image = source[i]
        assert image.shape == (32, 48, 3) and image.dtype == np.uint8


def test_bit_depths_and_channels_are_kept(tmp_path):
    rng = np.random.default_rng(1)
    write(tmp_path / "deep.png", textured(rng, 20, 30).astype(np.uint16) * 257)
    write(tmp_path / "grey.png", textured(rng, 20, 30, 1)[:, :, 0])
    write(tmp_path / "alpha.png", np.dstack([textured(rng, 20, 30), np.full((20, 30), 7, np.uint8)]))
    rgb = textured(rng, 20, 30)
    write(tmp_path / "rgb.png", rgb)
    assert read_image(tmp_path / "deep.png").dtype == np.uint16
    assert read_image(tmp_path / "grey.png").shape == (20, 30)
    alpha = read_image(tmp_path / "alpha.png")
    assert alpha.shape == (20, 30, 4) and (alpha[:, :, 3] == 7).all()
    np.testing.assert_array_equal(read_image(tmp_path / "rgb.png"), rgb)  # RGB order, not BGR


@pytest.mark.parametrize("name,content,reason", [
    ("empty.png", b"", "empty"),
    ("text.jpg", b"hello, I am not a JPEG at all\xff\xd9", "corrupt"),
    ("junk.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt"),
])
def test_bad_files_have_reasons(tmp_path, name, content, reason):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(BadImage) as caught:
        read_image(tmp_path / name)
    assert caught.value.reason == reason


def test_truncated_and_missing_files(tmp_path):
    write(tmp_path / "full.jpg", textured(np.random.default_rng(2), 64, 64))
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) * 2 // 3])
    assert read_image(tmp_path / "full.jpg").shape == (64, 64, 3)
    with pytest.raises(BadImage, match="truncated"):
        read_image(tmp_path / "cut.jpg")
    with pytest.raises(BadImage, match="missing"):
        read_image(tmp_path / "nope.png")


def test_coco_lists_images_by_id_and_keeps_masks(tmp_path):
    fates = make_coco(tmp_path)
    source = CocoSource(tmp_path)
    assert source.split == COCO_SPLIT and len(source) == len(fates)
    assert [source.id(i) for i in range(len(source))] == [str(i) for i in range(1, len(fates) + 1)]
    assert source[0].shape == (160, 200, 3)
    masks = source.masks(0)
    assert len(masks) == 1 and masks[0]["category_id"] == 1
    assert masks[0]["mask"].shape == (160, 200) and masks[0]["mask"][20, 20] == 1 and masks[0]["mask"][100, 100] == 0
    with pytest.raises(BadImage, match="missing"):
        source[list(fates).index("gone.jpg")]


def test_coco_errors_are_clear(tmp_path):
    make_coco(tmp_path)
    with pytest.raises(SourceError, match="no annotations/instances_train2017.json"):
        CocoSource(tmp_path, "train2017")
    (tmp_path / "annotations" / "instances_test2017.json").write_text("{ not json")
    with pytest.raises(SourceError, match="several COCO splits"):
        CocoSource(tmp_path)
    with pytest.raises(SourceError, match="cannot read"):
        CocoSource(tmp_path, "test2017")


def test_gopro_ids_are_scene_qualified(tmp_path):
    make_gopro(tmp_path, {"GOPR0372_07_00": 2, "GOPR0374_11_00": 3})
    pairs = GoProPairs(tmp_path, "train")
    assert len(pairs) == 5
    assert pairs.id(0) == "GOPR0372_07_00/000001.png" and pairs.id(2) == "GOPR0374_11_00/000001.png"
    blurred, sharp = pairs[3]
    assert blurred.shape == sharp.shape == (72, 96, 3)
    assert len(GoProPairs(tmp_path / "train", None, blur="blur_gamma")) == 5  # a split folder works too
    sharp_only = GoProSharp(tmp_path)
    np.testing.assert_array_equal(sharp_only[3], sharp)
    with pytest.raises(ValueError, match="blur must be"):
        GoProPairs(tmp_path, blur="motion")


def test_dead_leaves_are_deterministic_natural_looking_images():
    corpus = DeadLeaves(n=3, height=96, width=128, seed=5)
    first = corpus[1]
    assert first.shape == (96, 128, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, DeadLeaves(n=3, height=96, width=128, seed=5)[1])
    assert not np.array_equal(first, corpus[2]) and not np.array_equal(first, DeadLeaves(n=3, height=96, width=128, seed=6)[1])
    big = DeadLeaves(n=1, height=256, width=256)[0].mean(axis=2)
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(big - big.mean()))) ** 2
    radius = np.hypot(*np.meshgrid(np.arange(-128, 128), np.arange(-128, 128)))
    low, high = spectrum[(radius > 4) & (radius < 8)].mean(), spectrum[(radius > 32) & (radius < 64)].mean()
    slope = np.log(high / low) / np.log(48 / 6)
    assert -3.2 < slope < -1.5  # natural images: power falls as about 1/f^2
    assert 30 < big.mean() < 220 and big.std() > 20


def test_open_source_detects_the_kind(tmp_path):
    make_coco(tmp_path / "coco")
    make_gopro(tmp_path / "gopro", {"s1": 2})
    write(tmp_path / "photos" / "x.png", textured(np.random.default_rng(0), 10, 10))
    assert isinstance(open_source(tmp_path / "coco"), CocoSource)
    assert isinstance(open_source(tmp_path / "gopro"), GoProSharp)
    assert isinstance(open_source(tmp_path / "photos"), FolderSource)
    assert len(open_source(None, n=7)) == 7
    assert len(open_source(tmp_path / "coco", n=3)) == 3
    with pytest.raises(SourceError, match="does not exist"):
        open_source(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no image files"):
        open_source(tmp_path / "empty")


# sha256 over the arrays of the 18 built-in training photos, in order: the images the shipped model trained on.
TRAINING_PHOTOS_SHA256 = "30badb05fc470620a1c06e2b1faca660a3fe776bf04bcd1f13e6db673783d76e"


def test_the_built_in_photos_are_the_same_images_every_time_and_as_written_files(tmp_path):
    import hashlib

    from blurgen.sources.packaged import write_training_photos

    photos = open_source(None, builtin="photos")
    assert isinstance(photos, TrainingPhotos) and len(photos) == 18
    digest = hashlib.sha256()
    for index in range(len(photos)):
        image = photos[index]
        assert image.dtype == np.uint8 and image.ndim in (2, 3) and min(image.shape[:2]) >= 300
        digest.update(image.tobytes())
    assert digest.hexdigest() == TRAINING_PHOTOS_SHA256
    write_training_photos(tmp_path)
    folder = FolderSource(tmp_path)  # what --src reads: the same ids in the same order, the same pixels
    assert [folder.id(i) for i in range(len(folder))] == [photos.id(i) for i in range(len(photos))]
    assert all(np.array_equal(folder[i], photos[i]) for i in range(len(photos)))
    tinted = photos[photos.ids.index("camera-tint0.png")].astype(np.float32)
    grey = photos[photos.ids.index("camera.png")].astype(np.float32)[..., None]
    gains = tinted.reshape(-1, 3).sum(0) / grey.sum()
    assert ((gains > 0.54) & (gains < 1.0)).all() and np.ptp(gains) > 0.01  # a colour tint, not grey


def test_no_built_in_training_photo_is_an_evaluation_photo():
    from blurgen.sources.packaged import PHOTOS, TRAINING_PHOTOS, PackagedPhotos

    assert not {name for name, *_ in TRAINING_PHOTOS} & {name for name, *_ in PHOTOS}
    evaluation = PackagedPhotos()
    shapes = {evaluation[i].shape[:2] for i in range(len(evaluation))}
    photos = TrainingPhotos()
    for index in range(len(photos)):
        if photos[index].shape[:2] in shapes:  # same size: must still differ
            grey = photos[index] if photos[index].ndim == 2 else photos[index][..., 1]
            assert all(not np.array_equal(grey, evaluation[i][..., 1]) for i in range(len(evaluation)))


def test_an_unknown_built_in_corpus_is_named():
    with pytest.raises(SourceError, match="dead-leaves, photos"):
        open_source(None, builtin="leaves")
    assert isinstance(open_source(None), DeadLeaves)
    assert len(open_source(None, builtin="photos", n=3)) == 3


def exif_file(path, image: np.ndarray, orientation: int, fmt: str) -> None:
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=fmt, exif=exif.tobytes(), **({"quality": 95} if fmt == "JPEG" else {}))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


@pytest.mark.parametrize("orientation", range(1, 9))
def test_images_are_read_upright_whatever_their_exif_orientation(tmp_path, orientation):
    from PIL import Image, ImageOps

    stored = textured(np.random.default_rng(orientation), 24, 40)
    exif_file(tmp_path / "photo.png", stored, orientation, "PNG")
    expected = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "photo.png")))  # as a viewer shows it
    assert np.array_equal(read_image(tmp_path / "photo.png"), expected)
    assert read_image(tmp_path / "photo.png").shape[:2] == ((40, 24) if orientation >= 5 else (24, 40))


def test_a_phone_photo_stored_sideways_becomes_upright_pairs_and_says_so(tmp_path):
    from blurgen.blurring.camera import camera_preset
    from blurgen.output.dataset import DatasetSpec
    from blurgen.output.distribute import build_dataset
    from blurgen.pairs.synthesizer import LiveKernels

    exif_file(tmp_path / "photos" / "phone.jpg", textured(np.random.default_rng(0), 48, 80), 6, "JPEG")
    assert read_image(tmp_path / "photos" / "phone.jpg").shape == (80, 48, 3)
    spec = DatasetSpec(out=tmp_path / "out", source=FolderSource(tmp_path / "photos"), kernels=LiveKernels(seed=1, size=15),
                       camera=camera_preset("none"), crop=None, seed=1)
    build_dataset(spec, workers=1)
    record = json.loads((tmp_path / "out" / "train" / "shard-00000" / "meta.jsonl").read_text())
    assert record["exif_orientation"] == 6
    assert read_image(tmp_path / "out" / "train" / "shard-00000" / "sharp" / "00000000.png").shape == (80, 48, 3)


def test_each_file_is_read_once_however_many_links_lead_to_it_and_a_link_loop_ends(tmp_path):
    from typer.testing import CliRunner

    from blurgen.cli import app

    rng = np.random.default_rng(0)
    photos = tmp_path / "root" / "photos"
    for name in ("a.png", "b.png", "sub/c.png"):
        write(photos / name, textured(rng, 48, 48))
    (photos / "loop").symlink_to("..")  # photos/loop/photos/loop/... without end if followed blindly
    (photos / "again.png").symlink_to("a.png")
    (photos / "notes.txt").write_text("not an image")
    source = FolderSource(photos)
    assert [source.id(i) for i in range(len(source))] == ["a.png", "b.png", "sub/c.png"]
    assert source.repeated == ["again.png", "loop/photos"] and source.non_image_files == ["notes.txt"]
    result = CliRunner().invoke(app, ["dataset", "--src", str(photos), "--kernel-size", "9", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "3 images" in result.output and "loop/photos" in result.output and "again.png" in result.output
    assert "skipped (not_an_image): notes.txt" in " ".join(result.output.split())
    assert len(list((tmp_path / "out" / "train").rglob("blur/*.png"))) == 3


def test_too_small_is_the_region_a_pair_needs_and_the_console_says_the_size(tmp_path):
    from typer.testing import CliRunner

    from blurgen.cli import app

    rng = np.random.default_rng(1)
    write(tmp_path / "photos" / "big.png", textured(rng, 48, 64))
    write(tmp_path / "photos" / "narrow.png", textured(rng, 36, 64))  # larger than the crop, smaller than crop + margin
    write(tmp_path / "photos" / "speck.png", textured(rng, 6, 6))
    runner = CliRunner()
    cropped = runner.invoke(app, ["dataset", "--src", str(tmp_path / "photos"), "--crop", "32", "--kernel-size", "9",
                                  "--out", str(tmp_path / "crops")])
    assert cropped.exit_code == 0, cropped.output
    assert "skipped (too_small, smaller than 40 px a side): narrow.png, speck.png" in " ".join(cropped.output.split())
    whole = runner.invoke(app, ["dataset", "--src", str(tmp_path / "photos"), "--kernel-size", "9", "--out", str(tmp_path / "whole")])
    assert whole.exit_code == 0, whole.output
    flat = " ".join(whole.output.split())
    assert "skipped (too_small, smaller than 9 px a side): speck.png" in flat and "failed" not in flat


def test_python_pairs_record_the_source_facts_the_command_records(tmp_path):
    import blurgen

    exif_file(tmp_path / "photos" / "phone.jpg", textured(np.random.default_rng(0), 48, 80), 6, "JPEG")
    write(tmp_path / "photos" / "deep.png", (textured(np.random.default_rng(1), 48, 48).astype(np.uint16) * 257))
    settings = blurgen.PairSettings(src=str(tmp_path / "photos"), kernel_size=9)
    pairs = blurgen.make_synthesizer(settings, blurgen.open_pair_source(settings))
    deep, phone = pairs[0][2], pairs[1][2]
    assert (deep["source_id"], deep["bit_depth"]) == ("deep.png", 16) and "exif_orientation" not in deep
    assert (phone["source_id"], phone["bit_depth"], phone["exif_orientation"]) == ("phone.jpg", 8, 6)


def test_16_bit_images_that_use_a_sixteenth_of_their_range_are_warned_about(tmp_path):
    from typer.testing import CliRunner

    from blurgen.cli import app

    twelve_bit = (textured(np.random.default_rng(2), 48, 48).astype(np.uint16) * 16)  # values < 4096
    write(tmp_path / "photos" / "raw12.png", twelve_bit)
    write(tmp_path / "photos" / "full.png", twelve_bit * 16)
    result = CliRunner().invoke(app, ["dataset", "--src", str(tmp_path / "photos"), "--kernel-size", "9", "--camera", "realistic",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "warning: 16-bit images whose values all stay below 4096" in flat and flat.endswith("raw12.png")


def test_photos_and_leaves_are_the_photos_then_colour_dead_leaves_cut_from_them():
    from blurgen.sources import builtin_corpus
    from blurgen.sources.dead_leaves import Textures, photo_leaves_image

    corpus, photos = builtin_corpus("photos+leaves"), TrainingPhotos()
    assert len(corpus) == 2 * len(photos) and len({corpus.id(i) for i in range(len(corpus))}) == len(corpus)
    assert all(np.array_equal(corpus[i], photos[i]) for i in range(len(photos)))
    leaves = corpus[len(photos)]
    assert leaves.shape == (480, 640, 3) and leaves.dtype == np.uint8
    assert np.array_equal(leaves, builtin_corpus("photos+leaves")[len(photos)])  # image i from (seed, i) alone
    assert not np.array_equal(leaves, builtin_corpus("photos+leaves", seed=1)[len(photos)])
    # colour edges: the channels' ratio varies across the image (a tinted grey photo's does not)
    ratio = (leaves[..., 0].astype(float) + 1) / (leaves[..., 1].astype(float) + 1)
    assert ratio.std() > 0.2
    # texture: the same discs in a flat "photo" have far less fine detail than with the photos' textures
    flat = photo_leaves_image(0, 0, Textures.of([np.full((8, 8), 100, np.uint8)]))
    photo = photo_leaves_image(0, 0, Textures.of([photos[i] for i in range(len(photos)) if photos[i].ndim == 2]))

    def detail(image: np.ndarray) -> float:
        grey = image.astype(np.float32).mean(axis=2)
        return float(np.abs(np.diff(grey, axis=1)).mean())

    assert detail(photo) > 1.5 * detail(flat)
