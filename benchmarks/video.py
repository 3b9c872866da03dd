"""Pairs and sequences from video: pairs/s and frames/s of ``blurgen dataset --average`` and of
``blurgen sequences --from clips`` on a generated 1280×720 clip, beside decoding the same frames
alone (the floor: every frame decoded once, nothing else).

Two floors, timed in the same run: decoding every frame of the clip alone ("decode floor"), and
decoding every frame and encoding and writing the two PNG files of each pair the run wrote
("pairs floor", the work any such pipeline must do; ``of_floor`` is against it).

The clip: a photo-like texture panned along a smooth random path with a slow roll (camera shake
at 240 fps), written losslessly (FFV1 in .mkv) and as mp4 (OpenCV's mp4v). The pipeline runs as
the command does (one worker, whole frames, PNG output); ``--interpolate 8`` is timed with both
optical flows. Frames/s counts every frame of the clip, as the pipeline reads through it all.

Sequences (``sequence_rows``): ``blurgen sequences --from clips --fps 24 --duty 0.8`` on the same
clips (sequences of 8 output frames, each averaging 9 of the 10 frames of its interval, whole
frames, a GoPro layout arranged at the end), against the same-run sequence floor: decoding the
frames the windows span and encoding and writing the two PNG files of every output frame. Also the
REDS recipe (``--clip-fps 120 --interpolate 16``, 65 frames averaged per output frame) on 256-px
crops, where optical-flow interpolation is the work, and sequences from stills (256-px views)
against their floor (reading the photo, writing the PNGs).

Usage: python benchmarks/video.py [--frames N] [--plain]. Writes benchmarks/results/video.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # run from the repository root without installing: import this checkout

from blurgen.output.dataset import DatasetConfig, dataset_spec  # noqa: E402
from blurgen.output.distribute import build_dataset, keep_freed_memory  # noqa: E402
from blurgen.output.sequences import SequencesConfig, build_sequences, sequence_spec  # noqa: E402

WIDTH, HEIGHT = 1280, 720


def render_clip(frames: int, seed: int = 0) -> np.ndarray:
    """A textured scene seen by a shaking camera: frames×720×1280×3 uint8."""
    rng = np.random.default_rng(seed)
    texture = np.zeros((HEIGHT + 400, WIDTH + 400, 3), np.float32)
    for scale in (4, 16, 64):  # detail at several scales, as photographs have
        coarse = rng.random(((HEIGHT + 400) // scale + 2, (WIDTH + 400) // scale + 2, 3)).astype(np.float32)
        texture += cv2.resize(coarse, (WIDTH + 400, HEIGHT + 400), interpolation=cv2.INTER_CUBIC) / 3
    texture = np.clip(texture * 255, 0, 255).astype(np.uint8)
    velocity = np.cumsum(rng.normal(0, 0.15, (frames, 2)), axis=0) + (1.2, 0.5)  # px per frame, drifting
    path = np.cumsum(velocity, axis=0)
    path -= path.mean(axis=0)
    out = np.empty((frames, HEIGHT, WIDTH, 3), np.uint8)
    for k, (dx, dy) in enumerate(path):
        roll = 0.5 * np.sin(k / 40)
        matrix = cv2.getRotationMatrix2D(((WIDTH + 400) / 2, (HEIGHT + 400) / 2), roll, 1.0)
        matrix[:, 2] += (-200 - dx, -200 - dy)
        out[k] = cv2.warpAffine(texture, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out


def write_clip(path: Path, frames: np.ndarray, fourcc: str) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 240.0, (WIDTH, HEIGHT))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def decode_floor(path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    capture, count = cv2.VideoCapture(str(path)), 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count, time.perf_counter() - started


def pairs_floor(path: Path, pairs: int, out: Path) -> float:
    """Seconds to decode every frame of the clip and encode and write two PNG files for each of
    ``pairs`` of its frames: what any pipeline writing that many pairs from it must do."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    capture, frames = cv2.VideoCapture(str(path)), []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    for number in range(pairs):
        frame = frames[number * len(frames) // pairs]
        for side in ("blur", "sharp"):
            ok, encoded = cv2.imencode(".png", frame)
            (out / f"{number:08d}.{side}.png").write_bytes(encoded.tobytes())
    return time.perf_counter() - started


def pipeline(src: Path, out: Path, **settings: object) -> tuple[int, float]:
    spec = dataset_spec(DatasetConfig(src=str(src), out=str(out), workers=1, **settings))
    started = time.perf_counter()
    report = build_dataset(spec, workers=1)
    return report["pairs"], time.perf_counter() - started


def sequences_run(out: Path, **settings: object) -> tuple[dict, float, object]:
    """``blurgen sequences`` with ``settings``, one worker: (report, seconds, spec)."""
    spec = sequence_spec(SequencesConfig(out=str(out), workers=1, **settings))
    started = time.perf_counter()
    report = build_sequences(spec, workers=1)
    return report, time.perf_counter() - started, spec


def sequence_floor(path: Path, spec: object, out: Path) -> float:
    """Seconds to decode the clip up to the last frame any window touches and to encode and write
    two PNG files for every output frame (its sharp frame twice, cropped as the sequence is):
    what any pipeline writing these sequences from this clip must do."""
    out.mkdir(parents=True, exist_ok=True)
    planned = spec.sequencer.sequences
    centres = [centre for plan in planned.plans for centre in plan.centres]
    last = max(centres) + planned.reach(0)
    side = spec.sequencer.crop
    started = time.perf_counter()
    capture, kept = cv2.VideoCapture(str(path)), {}
    for number in range(last + 1):
        ok, frame = capture.read()
        if not ok:
            break
        if number in centres:
            kept[number] = frame[:side, :side] if side else frame
    capture.release()
    for number, centre in enumerate(centres):
        for name in ("blur", "sharp"):
            ok, encoded = cv2.imencode(".png", kept[centre])
            (out / f"{number:08d}.{name}.png").write_bytes(encoded.tobytes())
    return time.perf_counter() - started


def stills_floor(spec: object, out: Path) -> float:
    """Seconds to read each photo and encode and write two PNG files per output frame (a view-sized part of it)."""
    out.mkdir(parents=True, exist_ok=True)
    view, frames = spec.sequencer.view, spec.sequencer.timing.frames
    started = time.perf_counter()
    for index in range(len(spec.sequencer.source)):
        photo = np.ascontiguousarray(spec.sequencer.source[index][:view, :view])
        for number in range(frames):
            for name in ("blur", "sharp"):
                ok, encoded = cv2.imencode(".png", photo)
                (out / f"{index:04d}-{number:04d}.{name}.png").write_bytes(encoded.tobytes())
    return time.perf_counter() - started


def sequence_rows(tmp: Path, folder: Path, clip: Path, codec: str, plain: bool) -> list[dict]:
    runs = [("sequences --fps 24 --duty 0.8, whole frames", {"frames": 8}),
            ("sequences REDS recipe (--clip-fps 120 --interpolate 16), 256-px crops", {"frames": 4, "clip_fps": 120.0,
                                                                                       "interpolate": 16, "crop": 256})]
    rows = []
    for label, extra in runs[: 1 if plain else None]:
        out = tmp / f"sequences-{clip.name}-{len(rows)}"
        report, seconds, spec = sequences_run(out, origin="clips", src=str(folder), fps=24.0, duty=0.8, layout="gopro", **extra)
        floor_seconds = sequence_floor(clip, spec, tmp / f"sequence-floor-{clip.name}-{len(rows)}")
        frames = report["frames"]
        rows.append({"codec": codec, "run": label, "sequences": report["sequences"], "output_frames": frames,
                     "averaged_per_frame": spec.sequencer.sequences.averaged(0), "seconds": round(seconds, 2),
                     "output_frames_per_s": round(frames / seconds, 2), "floor_output_frames_per_s": round(frames / floor_seconds, 2),
                     "of_floor": round(floor_seconds / seconds, 2)})
        print(f"{codec:16} {label:70} {frames:3d} output frames  {frames / seconds:6.2f}/s  floor {frames / floor_seconds:6.2f}/s  "
              f"of floor {floor_seconds / seconds:.2f}", flush=True)
    return rows


def stills_row(tmp: Path) -> dict:
    report, seconds, spec = sequences_run(tmp / "stills", builtin="photos", limit=6, frames=24, layout="gopro")
    floor_seconds = stills_floor(spec, tmp / "stills-floor")
    frames = report["frames"]
    print(f"{'stills':16} {'sequences from the built-in photos, 256-px views':70} {frames:3d} output frames  {frames / seconds:6.2f}/s  "
          f"floor {frames / floor_seconds:6.2f}/s  of floor {floor_seconds / seconds:.2f}", flush=True)
    return {"codec": "stills (PNG photos)", "run": "sequences from the built-in photos, 256-px views, 24 frames each",
            "sequences": report["sequences"], "output_frames": frames, "seconds": round(seconds, 2),
            "output_frames_per_s": round(frames / seconds, 2), "floor_output_frames_per_s": round(frames / floor_seconds, 2),
            "of_floor": round(floor_seconds / seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--plain", action="store_true", help="only the runs without interpolation (minutes shorter)")
    args = parser.parse_args()
    cv2.setNumThreads(1)  # as the dataset's workers run
    keep_freed_memory()  # as the command's processes do
    rows, sequences = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frames = render_clip(args.frames)
        for codec, fourcc, name in (("lossless (FFV1)", "FFV1", "clip.mkv"), ("mp4 (mp4v)", "mp4v", "clip.mp4")):
            folder = tmp / name.replace(".", "-")
            folder.mkdir()
            clip = write_clip(folder / name, frames, fourcc)
            decoded, floor_seconds = decode_floor(clip)
            floor = decoded / floor_seconds
            runs = [("--average 7-23", {}), ("--average 7-23 --interpolate 8 (dis)", {"interpolate": 8}),
                    ("--average 7-23 --interpolate 8 (farneback)", {"interpolate": 8, "flow": "farneback"})]
            for label, extra in runs[: 1 if args.plain else None]:
                pairs, seconds = pipeline(folder, tmp / f"out-{name}-{len(rows)}", average="7-23", **extra)
                floor_pairs = pairs / pairs_floor(clip, pairs, tmp / f"floor-{name}-{len(rows)}")
                rows.append({"codec": codec, "run": label, "frames": decoded, "pairs": pairs, "seconds": round(seconds, 2),
                             "pairs_per_s": round(pairs / seconds, 2), "frames_per_s": round(decoded / seconds, 1),
                             "decode_floor_frames_per_s": round(floor, 1), "of_decode_floor": round(decoded / seconds / floor, 2),
                             "pairs_floor_pairs_per_s": round(floor_pairs, 2), "of_floor": round(pairs / seconds / floor_pairs, 2),
                             "seconds_per_pair": round(seconds / pairs, 3)})
                print(f"{codec:16} {label:44} {pairs:3d} pairs  {pairs / seconds:6.2f} pairs/s  {decoded / seconds:6.1f} frames/s  "
                      f"decode floor {floor:6.1f} frames/s ({decoded / seconds / floor:.2f})  pairs floor {floor_pairs:5.2f} "
                      f"pairs/s  of floor {pairs / seconds / floor_pairs:.2f}", flush=True)
            sequences += sequence_rows(tmp, folder, clip, codec, args.plain)
        sequences.append(stills_row(tmp))
    result = {"machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version(),
                          "opencv": cv2.__version__}, "clip": {"size": [WIDTH, HEIGHT], "frames": args.frames, "fps": 240},
              "rows": rows, "sequence_rows": sequences}
    if args.plain:
        return  # a partial table: printed, not written over the whole one
    out = ROOT / "benchmarks" / "results" / "video.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
