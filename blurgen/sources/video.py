"""Clips → windows of consecutive frames: the source of pairs made by averaging video frames.

A clip is a video file (anything OpenCV's FFmpeg reads: mp4, mov, mkv, avi, ...), or a folder of
frames named in order (PNG, JPEG, ...), or a GoPro_Large scene (its ``sharp/`` frames, at 240 fps).
:func:`find_clips` finds them under ``--src``; :class:`VideoWindows` cuts them into windows, one
per future pair, and reads a window's frames.

Windows are decided before any pixel is read, from the clips' frame counts and the settings, so
window ``i`` is the same in every process: window centres sit on original frames, ``stride``
frames apart (default: the longest window, so windows do not overlap), far enough from either end
for the longest window; window ``i`` averages an odd number of frames drawn from ``lengths``
(counted after interpolation, :mod:`blurgen.pairs.video`) from stream (seed, i). The frames a
window returns are the original frames its span touches, RGB, uint8 or uint16.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from blurgen.rng import derive_seed, stream_key, uniform
from blurgen.sources.gopro import is_gopro, split_folder
from blurgen.sources.images import CORRUPT, IMAGE_EXTENSIONS, TRUNCATED, BadImage, SourceError, read_image, to_rgb, walk_once

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
GOPRO_FPS = 240.0  # GoPro_Large's frames were filmed at 240 fps
WINDOW_PURPOSE = 0x57494E44  # "WIND": window lengths, apart from every pair draw
SEEK_GAP = 64  # frames: a window further ahead than this is reached by a seek, not by decoding every frame between


@dataclass(frozen=True)
class Clip:
    """One clip: a video file or a folder of frames; ``frames`` as its container or folder says."""

    path: Path
    id: str  # the path under --src, as pair metadata records it
    frames: int
    fps: float | None  # None: a folder of frames whose rate nobody said
    kind: str  # "video" or "frames"


@dataclass(frozen=True)
class Window:
    """Window ``index``: ``length`` frames (after interpolation) centred on original frame ``centre`` of clip ``clip``."""

    index: int
    clip: int
    centre: int
    length: int

    def span(self, interpolate: int) -> tuple[int, int]:
        """The original frames [first, stop) the window's interpolated frames lie between."""
        half = self.length // 2
        return self.centre - math.ceil(half / interpolate), self.centre + math.ceil(half / interpolate) + 1


def frame_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def probe_video(path: Path) -> tuple[int, float | None]:
    """(frame count, fps) from the container; (0, None) when OpenCV cannot open it."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            return 0, None
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = capture.get(cv2.CAP_PROP_FPS)
        if count > 0 and not capture.read()[0]:  # a header without a decodable first frame
            count = 0
        return max(count, 0), (float(fps) if fps and fps > 0 else None)
    finally:
        capture.release()


def find_clips(src: str | os.PathLike, *, gopro_split: str = "train",
               exclude: tuple[str | os.PathLike, ...] = ()) -> tuple[list[Clip], list[str]]:
    """The clips under ``src`` in sorted order, and the video files that could not be opened.

    ``src`` is a video file; a GoPro_Large root or split (each scene's ``sharp/`` frames, 240 fps);
    or a folder, searched at any depth for video files and for folders holding two or more frames
    (of a folder holding ``sharp/`` beside ``blur/``, only ``sharp/``). Folders of blurgen output
    and those in ``exclude`` are not searched.
    """
    root = Path(src)
    if not root.exists():
        raise SourceError(f"--src {root} does not exist")
    if root.is_file():
        if root.suffix.lower() not in VIDEO_EXTENSIONS:
            raise SourceError(f"--src {root} is not a video file ({', '.join(VIDEO_EXTENSIONS)}) nor a folder")
        candidates, base = [root], root.parent
    elif is_gopro(root):
        folder = split_folder(root, gopro_split)
        scenes = sorted(scene / "sharp" for scene in folder.iterdir() if (scene / "sharp").is_dir())
        clips = [Clip(path, str(path.parent.relative_to(root)), len(frame_files(path)), GOPRO_FPS, "frames") for path in scenes]
        return [clip for clip in clips if clip.frames >= 2], []
    else:
        candidates, base = walk_clips(root, {Path(path).resolve() for path in exclude}), root
    clips, unreadable = [], []
    for path in candidates:
        name = str(path.relative_to(base))
        if name == ".":  # --src is the clip's own folder of frames: name it by that folder
            name = path.resolve().name
        if path.is_dir():
            clips.append(Clip(path, name, len(frame_files(path)), None, "frames"))
            continue
        count, fps = probe_video(path)
        if count < 1:
            unreadable.append(name)
        else:
            clips.append(Clip(path, name, count, fps, "video"))
    return clips, unreadable


def walk_clips(root: Path, excluded: set[Path]) -> list[Path]:
    """Video files and folders of two or more frames under ``root``, each real file and folder once."""
    def skip(folder: Path) -> bool:
        return folder.resolve() in excluded or (folder / "dataset.json").is_file() or (folder / "evalset.json").is_file()

    if skip(root):
        return []
    found = []
    for here, folders, files in walk_once(root, [], prune=skip):
        if "sharp" in folders and any(name in folders for name in ("blur", "blur_gamma")):
            folders[:] = ["sharp"]
        found += [here / name for name in files if Path(name).suffix.lower() in VIDEO_EXTENSIONS]
        if sum(Path(name).suffix.lower() in IMAGE_EXTENSIONS for name in files) >= 2:
            found.append(here)
    return sorted(found)


def parse_lengths(text: str) -> tuple[int, int]:
    """``"7-23"`` or ``"9"`` → the (low, high) odd window lengths; a :class:`ValueError` otherwise."""
    parts = str(text).split("-")
    try:
        low, high = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (0, 0)
    except ValueError:
        low = high = 0
    if low < 1 or high < low or low % 2 == 0 or high % 2 == 0:
        raise ValueError(f"must be an odd number of frames or a range of odd numbers such as 7-23, got {text!r}")
    return low, high


class VideoWindows:
    """Windows of clips as a source: ``len`` windows, item ``i`` the original frames of window i
    (N×H×W×3, uint8 or uint16, RGB).

    Args:
        clips: from :func:`find_clips`.
        lengths: (low, high) odd numbers of frames a window averages, counted after interpolation.
        interpolate: frames per original frame interval after interpolation (1: none).
        stride: original frames between window centres (default: the longest window's span).
        per_clip: at most this many windows of each clip, spread evenly over it (default: all).
        seed: the run's seed (window lengths).
        limit: the first ``limit`` windows only.
        unreadable: the video files :func:`find_clips` could not open (named by ``describe``).

    Clips too short for any window are named in ``too_short`` (and by ``describe``); when no clip
    has a window, a :class:`SourceError` says so.
    """

    def __init__(self, clips: list[Clip], lengths: tuple[int, int], *, interpolate: int = 1, stride: int | None = None,
                 per_clip: int | None = None, seed: int = 0, unreadable: list[str] | tuple = (), root: str = "",
                 limit: int | None = None) -> None:
        if not clips:
            raise SourceError(f"no video clips under --src {root}" + (f" that OpenCV can read ({', '.join(unreadable)} could not be opened)" if unreadable else
                                                                     f" (video files: {', '.join(VIDEO_EXTENSIONS)}; or folders of 2 or more frames)"))
        self.clips, self.lengths, self.interpolate = clips, lengths, interpolate
        self.reach = math.ceil((lengths[1] // 2) / interpolate)  # original frames on each side of the longest window's centre
        self.stride = stride or 2 * self.reach + 1
        self.per_clip, self.seed, self.unreadable, self.root = per_clip, seed, list(unreadable), root
        planned = self.plan()
        used = {window.clip for window in planned}
        self.too_short = [clip.id for number, clip in enumerate(self.clips) if number not in used]
        if not planned:
            shortest = 2 * self.reach + 1
            named = ", ".join(f"{clip.id} ({clip.frames} frame{'s' * (clip.frames != 1)})" for clip in clips[:5])
            raise SourceError(f"no clip under --src {root} is long enough for a window of {lengths[1]} frames, which needs "
                              f"{shortest} original frames{f' with --interpolate {interpolate}' if interpolate > 1 else ''}: "
                              f"{named}{' and more' if len(clips) > 5 else ''}; give a shorter --average range or longer clips")
        self.windows = planned[:limit]
        self._reader: ClipReader | None = None

    def plan(self) -> list[Window]:
        windows = []
        key_seed = np.uint64(derive_seed(self.seed, WINDOW_PURPOSE))
        low, high = self.lengths
        for number, clip in enumerate(self.clips):
            centres = list(range(self.reach, clip.frames - self.reach, self.stride))
            if self.per_clip is not None and len(centres) > self.per_clip:
                centres = [centres[round(k * (len(centres) - 1) / max(self.per_clip - 1, 1))] for k in range(self.per_clip)]
            for centre in centres:
                choices = (high - low) // 2 + 1
                draw = uniform(np.uint64(stream_key(key_seed, np.uint64(len(windows)))), np.uint64(0))
                windows.append(Window(len(windows), number, centre, low + 2 * min(int(draw * choices), choices - 1)))
        return windows

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> np.ndarray:
        window = self.windows[index]
        first, stop = window.span(self.interpolate)
        clip = self.clips[window.clip]
        if self._reader is None or self._reader.clip != clip:
            if self._reader is not None:
                self._reader.close()
            self._reader = ClipReader(clip)
        return self._reader.read(first, stop)

    def id(self, index: int) -> str:
        window = self.windows[index]
        return f"{self.clips[window.clip].id}@{window.span(self.interpolate)[0]}"

    def describe(self) -> dict:
        frames = sum(clip.frames for clip in self.clips)
        return {"kind": "video clips", "root": self.root, "images": len(self), "clips": len(self.clips), "frames": frames,
                **({"unreadable": self.unreadable} if self.unreadable else {}),
                **({"too_short": self.too_short} if self.too_short else {})}

    def __getstate__(self) -> dict:  # an open video cannot travel to a worker; it reopens there
        return {**self.__dict__, "_reader": None}


class ClipReader:
    """Frames of one clip, read forward: a window just after the last one read continues where it
    stopped (a video is decoded once per shard, not once per window); one far ahead is reached by
    seeking (FFmpeg decodes from the keyframe before it: frame-accurate for constant-frame-rate
    files, and checked), an earlier one by reopening."""

    def __init__(self, clip: Clip) -> None:
        self.clip = clip
        self.capture: cv2.VideoCapture | None = None
        self.position = 0
        self.files = frame_files(clip.path) if clip.kind == "frames" else None

    def read(self, first: int, stop: int) -> np.ndarray:
        """Frames [first, stop) as N×H×W×3 RGB; :class:`BadImage` when the clip ends early or a frame is bad."""
        if self.files is None:
            return self.decode(first, stop)
        frames = self.read_files(first, stop)
        shapes = {frame.shape for frame in frames} | {frame.dtype for frame in frames}
        if len(shapes) != 2:
            raise BadImage(CORRUPT, self.clip.path, f"frames {first}-{stop - 1} differ in size or depth")
        return np.stack(frames)

    def read_files(self, first: int, stop: int) -> list[np.ndarray]:
        if stop > len(self.files):
            raise BadImage(TRUNCATED, self.clip.path, f"{len(self.files)} frames, a window needs frame {stop - 1}")
        return [to_rgb(read_image(path)) for path in self.files[first:stop]]

    def decode(self, first: int, stop: int) -> np.ndarray:
        if self.capture is None or first < self.position:
            self.close()
            self.capture, self.position = cv2.VideoCapture(str(self.clip.path)), 0
        if first - self.position > SEEK_GAP and self.capture.set(cv2.CAP_PROP_POS_FRAMES, first) \
                and int(self.capture.get(cv2.CAP_PROP_POS_FRAMES)) == first:
            self.position = first
        elif self.position > 0 and int(self.capture.get(cv2.CAP_PROP_POS_FRAMES)) != self.position:
            self.close()  # a seek that missed: decode from the start instead
            self.capture, self.position = cv2.VideoCapture(str(self.clip.path)), 0
        while self.position < first:
            if not self.capture.grab():
                raise BadImage(TRUNCATED, self.clip.path, f"it ends before frame {first} (its header says {self.clip.frames})")
            self.position += 1
        frames = None  # decoded straight into one N×H×W×3 array: no copy of the window to stack it
        for number in range(first, stop):
            ok, frame = self.capture.read(image=None if frames is None or frames.dtype != np.uint8 else frames[number - first])
            if not ok:
                self.close()
                raise BadImage(TRUNCATED, self.clip.path, f"it ends before frame {number} (its header says {self.clip.frames})")
            self.position += 1
            if frames is None:
                frames = np.empty((stop - first, *frame.shape[:2], 3), frame.dtype)
            if frame.shape[:2] != frames.shape[1:3] or frame.dtype != frames.dtype:
                raise BadImage(CORRUPT, self.clip.path, f"frames {first}-{stop - 1} differ in size or depth")
            slot = frames[number - first]
            if frame.ndim == 3:
                cv2.cvtColor(frame, cv2.COLOR_BGR2RGB, dst=slot)  # in place when the frame was decoded into its slot
            else:
                slot[...] = frame[:, :, None]
        return frames

    def close(self) -> None:
        if self.capture is not None:
            self.capture.release()
        self.capture, self.position = None, 0
