"""Frame interpolation by optical flow: more frames between the frames a clip has.

Averaging 30–60 fps frames makes ghosted copies wherever something moves more than a pixel or
two between frames; averaging frames interpolated in between makes the smooth streak a camera
would have recorded. Intermediate frame ``t`` (0 < t < 1) between frames A and B is the blend
``(1-t)·A(x - t·F_AB(x)) + t·B(x - (1-t)·F_BA(x))`` of both frames warped along the flows
between them (OpenCV's DIS or Farneback): the linear-motion estimate that learned
interpolators start from. Occlusions are blended, not reasoned about.
"""

from __future__ import annotations

import cv2
import numpy as np

from blurgen.files import to_uint8

FLOWS = ("dis", "farneback")


def to_grey8(frame: np.ndarray) -> np.ndarray:
    """uint8 grey H×W of an RGB frame (uint8, uint16 or float in [0, 1])."""
    return cv2.cvtColor(to_uint8(frame), cv2.COLOR_RGB2GRAY)


def thumbnail(frame: np.ndarray, max_side: int) -> np.ndarray:
    """uint8 grey of ``frame`` shrunk to at most ``max_side`` px: every k-th pixel down to twice
    that, then area averaging (a full-size area resize of each 720p frame cost more than its decoding)."""
    step = max(1, max(frame.shape[:2]) // (2 * max_side))
    grey = to_grey8(np.ascontiguousarray(frame[::step, ::step]))
    height, width = grey.shape
    scale = min(1.0, max_side / max(height, width))
    if scale < 1:
        grey = cv2.resize(grey, (max(8, round(width * scale)), max(8, round(height * scale))), interpolation=cv2.INTER_AREA)
    return grey


def optical_flow(first: np.ndarray, second: np.ndarray, method: str = "dis") -> np.ndarray:
    """Flow from ``first`` to ``second`` (uint8 grey H×W each): float32 H×W×2, (dx, dy) in px:
    the point at x in ``first`` is at x + flow(x) in ``second``."""
    if method == "dis":
        return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(first, second, None)
    if method == "farneback":
        return cv2.calcOpticalFlowFarneback(first, second, None, 0.5, 5, 21, 5, 7, 1.5, 0)
    raise ValueError(f"flow must be one of {', '.join(FLOWS)}, got {method!r}")


def warp(frame: np.ndarray, displacement: np.ndarray) -> np.ndarray:
    """``frame`` sampled at x + displacement(x) (bilinear, edges repeated): H×W×C float32."""
    height, width = displacement.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return cv2.remap(frame, grid_x + displacement[..., 0], grid_y + displacement[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def interpolate_frames(frames: np.ndarray, steps: int, method: str = "dis") -> np.ndarray:
    """``steps - 1`` frames inserted between each pair of neighbours of ``frames``.

    Args:
        frames: N×H×W×C, uint8, uint16 or float32 in [0, 1].
        steps: frame intervals per original interval (1 returns the frames as float32).
        method: ``"dis"`` or ``"farneback"``.

    Returns:
        float32 ((N-1)·steps + 1)×H×W×C in [0, 1]; frame ``k·steps`` is original frame k, exactly.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if frames.ndim != 4 or len(frames) < 1:
        raise ValueError(f"frames must be N×H×W×C, got shape {frames.shape}")
    top = float(np.iinfo(frames.dtype).max) if np.issubdtype(frames.dtype, np.integer) else 1.0
    values = frames.astype(np.float32) / np.float32(top)
    if steps == 1 or len(frames) == 1:
        return values
    grey = [to_grey8(frame) for frame in frames]
    out = [values[0]]
    for k in range(len(frames) - 1):
        forward, backward = optical_flow(grey[k], grey[k + 1], method), optical_flow(grey[k + 1], grey[k], method)
        for step in range(1, steps):
            t = step / steps
            from_first = warp(values[k], -t * forward)
            from_second = warp(values[k + 1], -(1 - t) * backward)
            out.append(((1 - t) * from_first + t * from_second).reshape(values[k].shape))
        out.append(values[k + 1])
    return np.clip(np.stack(out), 0.0, 1.0)


def mean_motion(frames: np.ndarray, max_side: int = 256, samples: int = 4) -> float:
    """How far the content of ``frames`` (N×H×W×C) moves across them, in px of the frames: the
    mean over pixels of the flow magnitude between up to ``samples + 1`` frames spread over the
    window, summed (DIS at most ``max_side`` px on the long side, scaled back)."""
    if len(frames) < 2:
        return 0.0
    picks = sorted(set(np.linspace(0, len(frames) - 1, min(samples, len(frames) - 1) + 1).round().astype(int)))
    grey = [thumbnail(frames[k], max_side) for k in picks]
    scale = grey[0].shape[1] / frames.shape[2]
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    travelled = sum(float(np.linalg.norm(flow.calc(a, b, None), axis=2).mean()) for a, b in zip(grey, grey[1:]))
    return travelled / scale
