"""Poses → blur that varies across the image: the average of the sharp image seen at every pose.

Given a region of linear light (C×R×R) around a crop, the N camera poses as homographies, and
optionally objects (a mask each, with their own poses), :func:`render` returns the blurred crop
(C×S×S) and its blur map:

* each pose's frame is the background seen through the camera pose, with every object's pixels
  (taken from the sharp image under its mask) composited over it at the object's own pose, the
  largest object at the back; the blurred image is the mean of the N frames, accumulated in
  float64. So an object smears over the background and the background shows through the smear,
  and pixels that nothing moves over keep their exact value;
* what an object uncovers when it moves was hidden in the sharp photo: the background there is
  filled in by OpenCV's inpainting (Telea) of the objects' masks, per plane of linear light;
* the blur map is, per output pixel, the length in pixels of the path its visible content
  travels during the exposure: between consecutive poses, the displacement of each layer's
  source point weighted by how much of that layer is visible there.

Sampling is bilinear. A pose maps a crop pixel q (region coordinates) to the source point
H⁻¹·q; :func:`render` takes those inverse homographies. The crop must be at least ``margin``
pixels inside the region on every side, and the margin must cover the largest camera
displacement (:func:`blurgen.blurring.motion.project`); object layers that reach outside the region are
simply not there.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numba import njit

from blurgen.blurring.motion import project


@njit(cache=True, inline="always")
def _point(inverse: np.ndarray, x: float, y: float) -> tuple[float, float]:
    w = inverse[2, 0] * x + inverse[2, 1] * y + inverse[2, 2]
    return (inverse[0, 0] * x + inverse[0, 1] * y + inverse[0, 2]) / w, (inverse[1, 0] * x + inverse[1, 1] * y + inverse[1, 2]) / w


@njit(cache=True, inline="always")
def _taps(x: float, y: float, size: int) -> tuple[int, int, float, float, bool]:
    """Bilinear taps of (x, y) in a size×size plane: top-left corner, fractions, and whether inside."""
    if x < 0.0 or y < 0.0 or x > size - 1 or y > size - 1:
        return 0, 0, 0.0, 0.0, False
    x0, y0 = min(int(x), size - 2), min(int(y), size - 2)
    return x0, y0, x - x0, y - y0, True


@njit(cache=True, nogil=True)
def _render(background: np.ndarray, colours: np.ndarray, masks: np.ndarray, pose_inverse: np.ndarray,
            object_inverse: np.ndarray, margin: int, box: np.ndarray, out: np.ndarray, blur_map: np.ndarray) -> None:
    """Every layer at every pose, for the crop pixels in ``box`` (row0, row1, col0, col1)."""
    channels, region = background.shape[0], background.shape[1]
    poses, objects = pose_inverse.shape[0], masks.shape[0]
    frame = np.empty(channels)
    total = np.empty(channels)
    previous = np.empty((objects + 1, 2))
    current = np.empty((objects + 1, 2))
    weight = np.empty(objects + 1)
    for row in range(box[0], box[1]):
        for col in range(box[2], box[3]):
            qx, qy = float(col + margin), float(row + margin)
            total[:] = 0.0
            length = 0.0
            for t in range(poses):
                sx, sy = _point(pose_inverse[t], qx, qy)
                x0, y0, fx, fy, inside = _taps(sx, sy, region)
                for c in range(channels):  # the margin keeps the background inside: clamp defensively
                    if inside:
                        frame[c] = ((1 - fy) * ((1 - fx) * background[c, y0, x0] + fx * background[c, y0, x0 + 1])
                                    + fy * ((1 - fx) * background[c, y0 + 1, x0] + fx * background[c, y0 + 1, x0 + 1]))
                    else:
                        frame[c] = background[c, min(max(int(sy + 0.5), 0), region - 1), min(max(int(sx + 0.5), 0), region - 1)]
                current[0, 0], current[0, 1] = sx, sy
                weight[0] = 1.0
                for k in range(objects):
                    ox, oy = _point(object_inverse[k, t], qx, qy)
                    current[k + 1, 0], current[k + 1, 1] = ox, oy
                    weight[k + 1] = 0.0
                    x0, y0, fx, fy, inside = _taps(ox, oy, region)
                    if not inside:
                        continue
                    cover = ((1 - fy) * ((1 - fx) * masks[k, y0, x0] + fx * masks[k, y0, x0 + 1])
                             + fy * ((1 - fx) * masks[k, y0 + 1, x0] + fx * masks[k, y0 + 1, x0 + 1]))
                    if cover <= 0.0:
                        continue
                    for c in range(channels):
                        value = ((1 - fy) * ((1 - fx) * colours[c, y0, x0] + fx * colours[c, y0, x0 + 1])
                                 + fy * ((1 - fx) * colours[c, y0 + 1, x0] + fx * colours[c, y0 + 1, x0 + 1]))
                        frame[c] = cover * value + (1.0 - cover) * frame[c]
                    for j in range(k + 1):  # what lies below is covered by this object's share
                        weight[j] *= 1.0 - cover
                    weight[k + 1] = cover
                for c in range(channels):
                    total[c] += frame[c]
                if t > 0:
                    for j in range(objects + 1):
                        if weight[j] > 0.0:
                            length += weight[j] * math.hypot(current[j, 0] - previous[j, 0], current[j, 1] - previous[j, 1])
                for j in range(objects + 1):
                    previous[j, 0], previous[j, 1] = current[j, 0], current[j, 1]
            for c in range(channels):
                out[c, row, col] = total[c] / poses
            blur_map[row, col] = length


@njit(cache=True, nogil=True)
def _render_poses(image: np.ndarray, pose_inverse: np.ndarray, margin: int, size: int, total: np.ndarray,
                   blur_map: np.ndarray) -> None:
    """Camera motion alone, pose by pose (the source is read almost in order): ``total`` (S×S×C
    float64) += each pose's bilinear warp of ``image`` (R×R×C float32), and ``blur_map`` (S×S)
    += the distance each pixel's source point moved since the previous pose. Along a row the
    homography's numerator and denominator change by constants, so a pixel costs additions."""
    region, channels = image.shape[0], image.shape[2]
    previous = np.empty((size, size, 2))
    for t in range(pose_inverse.shape[0]):
        h = pose_inverse[t]
        for row in range(size):
            qy = float(row + margin)
            qx = float(margin)
            nx = h[0, 0] * qx + h[0, 1] * qy + h[0, 2]
            ny = h[1, 0] * qx + h[1, 1] * qy + h[1, 2]
            nw = h[2, 0] * qx + h[2, 1] * qy + h[2, 2]
            for col in range(size):
                sx, sy = nx / nw, ny / nw
                if t > 0:
                    blur_map[row, col] += math.hypot(sx - previous[row, col, 0], sy - previous[row, col, 1])
                previous[row, col, 0], previous[row, col, 1] = sx, sy
                x0, y0, fx, fy, inside = _taps(sx, sy, region)
                if inside:
                    w00, w01, w10, w11 = (1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx
                    for c in range(channels):
                        total[row, col, c] += (w00 * image[y0, x0, c] + w01 * image[y0, x0 + 1, c]
                                               + w10 * image[y0 + 1, x0, c] + w11 * image[y0 + 1, x0 + 1, c])
                else:  # the margin keeps every pose inside: clamp defensively
                    yy, xx = min(max(int(sy + 0.5), 0), region - 1), min(max(int(sx + 0.5), 0), region - 1)
                    for c in range(channels):
                        total[row, col, c] += image[yy, xx, c]
                nx += h[0, 0]
                ny += h[1, 0]
                nw += h[2, 0]


@njit(cache=True, nogil=True)
def _render_poses_rgb(image: np.ndarray, pose_inverse: np.ndarray, margin: int, size: int, out: np.ndarray,
                       blur_map: np.ndarray) -> None:
    """:func:`_render_poses` for three planes, pixel by pixel with every sum in registers
    (measured twice as fast as going pose by pose); ``out`` is S×S×3 float32."""
    region, poses = image.shape[0], pose_inverse.shape[0]
    for row in range(size):
        qy = float(row + margin)
        for col in range(size):
            qx = float(col + margin)
            red = green = blue = length = 0.0
            last_x = last_y = 0.0
            for t in range(poses):
                h = pose_inverse[t]
                w = h[2, 0] * qx + h[2, 1] * qy + h[2, 2]
                sx = (h[0, 0] * qx + h[0, 1] * qy + h[0, 2]) / w
                sy = (h[1, 0] * qx + h[1, 1] * qy + h[1, 2]) / w
                if t > 0:
                    length += math.sqrt((sx - last_x) ** 2 + (sy - last_y) ** 2)
                last_x, last_y = sx, sy
                x0, y0 = min(max(int(sx), 0), region - 2), min(max(int(sy), 0), region - 2)  # inside by the margin
                fx, fy = sx - x0, sy - y0
                w00, w01, w10, w11 = (1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx
                red += w00 * image[y0, x0, 0] + w01 * image[y0, x0 + 1, 0] + w10 * image[y0 + 1, x0, 0] + w11 * image[y0 + 1, x0 + 1, 0]
                green += w00 * image[y0, x0, 1] + w01 * image[y0, x0 + 1, 1] + w10 * image[y0 + 1, x0, 1] + w11 * image[y0 + 1, x0 + 1, 1]
                blue += w00 * image[y0, x0, 2] + w01 * image[y0, x0 + 1, 2] + w10 * image[y0 + 1, x0, 2] + w11 * image[y0 + 1, x0 + 1, 2]
            out[row, col, 0], out[row, col, 1], out[row, col, 2] = red / poses, green / poses, blue / poses
            blur_map[row, col] = length


def render(planes: np.ndarray, pose_inverse: np.ndarray, margin: int, size: int, *,
           masks: np.ndarray | None = None, object_inverse: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Average the region over the poses (see the module docstring).

    Args:
        planes: float32 C×R×R, linear light of the sharp region.
        pose_inverse: N×3×3, for each pose the map from a crop pixel (region coordinates) to
            the background point it sees (H⁻¹ of the camera homography).
        margin: offset of the S×S crop inside the region.
        size: S.
        masks: float32 K×R×R coverage (0–1) of K objects in the sharp region, back to front.
        object_inverse: K×N×3×3, the same maps for each object's pixels (camera and object motion).

    Returns:
        (float32 C×S×S blurred linear light, float32 S×S blur map in pixels of path length).
    """
    planes = np.ascontiguousarray(planes, dtype=np.float32)
    channels, region = planes.shape[0], planes.shape[1]
    if planes.ndim != 3 or planes.shape[2] != region:
        raise ValueError(f"planes must be C×R×R, got {planes.shape}")
    if margin < 1 or size + 2 * margin > region:
        raise ValueError(f"a {size}-px crop with margin {margin} does not fit a {region}-px region")
    pose_inverse = np.ascontiguousarray(pose_inverse, dtype=np.float64)
    if masks is None or len(masks) == 0:
        image = np.ascontiguousarray(planes.transpose(1, 2, 0))
        if channels == 3:
            out, blur_map = np.empty((size, size, 3), np.float32), np.empty((size, size), np.float32)
            _render_poses_rgb(image, pose_inverse, margin, size, out, blur_map)
            return np.ascontiguousarray(out.transpose(2, 0, 1)), blur_map
        total, blur_map = np.zeros((size, size, channels)), np.zeros((size, size))
        _render_poses(image, pose_inverse, margin, size, total, blur_map)
        return np.ascontiguousarray((total / len(pose_inverse)).astype(np.float32).transpose(2, 0, 1)), blur_map.astype(np.float32)
    masks = np.ascontiguousarray(masks, dtype=np.float32)
    object_inverse = np.ascontiguousarray(object_inverse, dtype=np.float64)
    background = inpaint_under(planes, masks)
    # Outside the box where objects (or what they hid) can appear, only the camera moves anything.
    if np.allclose(pose_inverse, np.eye(3), atol=0, rtol=0):
        out = np.ascontiguousarray(background[:, margin : margin + size, margin : margin + size])
        blur_map = np.zeros((size, size), np.float32)
    else:
        out, blur_map = render(background, pose_inverse, margin, size)
    box = np.asarray(object_box(masks, pose_inverse, object_inverse, margin, size), dtype=np.int64)
    _render(background, planes, masks, pose_inverse, object_inverse, margin, box, out, blur_map)
    return out, blur_map


def object_box(masks: np.ndarray, pose_inverse: np.ndarray, object_inverse: np.ndarray, margin: int, size: int) -> tuple[int, int, int, int]:
    """Crop rows and columns (row0, row1, col0, col1) that can see an object, or what objects hid, at some pose."""
    rows, cols = np.nonzero(masks.max(axis=0) > 0)
    corners = np.array([[cols.min(), rows.min()], [cols.max() + 1, rows.min()], [cols.min(), rows.max() + 1], [cols.max() + 1, rows.max() + 1]], float)
    seen = [project(np.linalg.inv(pose_inverse), corners)] + [project(np.linalg.inv(inverse), corners) for inverse in object_inverse]
    where = np.concatenate([points.reshape(-1, 2) for points in seen]) - margin
    low, high = np.floor(where.min(axis=0)) - 2, np.ceil(where.max(axis=0)) + 2
    col0, row0 = (int(v) for v in np.clip(low, 0, size))
    col1, row1 = (int(v) for v in np.clip(high, 0, size))
    return row0, row1, col0, col1


def inpaint_under(planes: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """The planes (float32 C×H×W in [0, 1]) with what the objects cover filled in from around them
    (Telea), per plane. OpenCV's Telea inpainting of float32 planes returns values far outside the
    image's range (a ring of black and white dots around every moved object); on 16-bit planes it
    is sound, so the planes go through 16 bits (steps of 1.5e-5)."""
    hidden = (masks.max(axis=0) > 0).astype(np.uint8)
    hidden = cv2.dilate(hidden, np.ones((3, 3), np.uint8))  # their anti-aliased edges too
    filled = [cv2.inpaint(np.rint(np.clip(plane, 0, 1) * 65535).astype(np.uint16), hidden, 5, cv2.INPAINT_TELEA) for plane in planes]
    inside = hidden.astype(bool)
    out = planes.copy()
    for plane, fill in zip(out, filled):
        plane[inside] = fill[inside].astype(np.float32) / np.float32(65535)  # pixels outside the masks keep their exact value
    return out


def blur_map_png(blur_map: np.ndarray) -> np.ndarray:
    """uint16 picture of a blur map in hundredths of a pixel (0–655.35 px of path)."""
    return np.clip(np.rint(blur_map * 100.0), 0, 65535).astype(np.uint16)
