"""Restoring an image of any size in overlapping windows, so memory stays bounded.

The image is seen as padded to the sides its generator needs (mirrored at the bottom and right,
as :func:`train.archs.blocks.pad_to_multiple` pads a whole image) and cut into square windows of
``tile`` px at offsets that are multiples of the generator's alignment, so every window sees the
pixel grid the whole image would. Each window is restored alone and the windows are blended: a
window's weight is 0 within ``margin`` px of an edge it shares with another window, then rises
linearly to 1 over ``blend`` px. For a generator whose every operation is local, with a
receptive radius of at most ``margin``, the result equals whole-image restoration. Generators
with InstanceNorm or channel attention normalise each window by its own statistics (as they did
on their training crops), so their tiled result differs slightly from a whole-image one; the
blend keeps the windows' seams invisible.

Only one window is on the device at a time, and the image stays 8- or 16-bit on the host until
its window is cut out: memory is the window's activations plus about 16 bytes per pixel of
the image (the float accumulators), whatever its size.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

import numpy as np
import torch
from torch import nn

TILE = 1024  # window side in px: about 1 GB of activations for the paper-sized ResNet on the CPU
MARGIN = 48  # px of each window's shared edges that never count: beyond the shipped model's receptive radius
BLEND = 32  # px over which a window's weight rises from 0 to 1


def alignment(generator: nn.Module) -> int:
    """The offset multiple that keeps a window on the whole image's pixel grid (its down-sampling factor)."""
    return max(getattr(generator, "multiple", 4), getattr(generator, "padded_to", 1))


def padded_side(side: int, generator: nn.Module) -> int:
    """A side after the padding the generator needs: a multiple of its alignment, at least its smallest side."""
    align = alignment(generator)
    padded = max(side + -side % align, getattr(generator, "smallest", 1))
    return padded + -padded % align


def window_starts(length: int, tile: int, stride: int) -> list[int]:
    """Offsets of windows of ``tile`` px covering ``length`` px, ``stride`` apart, the last flush with the end."""
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, stride))
    return starts + [length - tile]


def edge_weights(tile: int, shared_before: bool, shared_after: bool, margin: int, blend: int) -> np.ndarray:
    """A window's weight along one axis (``tile`` floats in [0, 1]): 0 near an edge shared with another window."""
    position = np.arange(tile, dtype=np.float64)
    distance = np.full(tile, np.inf)
    if shared_before:
        distance = np.minimum(distance, position)
    if shared_after:
        distance = np.minimum(distance, tile - 1 - position)
    return np.clip((distance - margin + 1) / blend, 0.0, 1.0).astype(np.float32)


def mirrored(indices: np.ndarray, length: int) -> np.ndarray:
    """Indices past the end of an axis of ``length`` mirrored back into it (repeatedly; a 1-px axis repeats)."""
    if length == 1:
        return np.zeros_like(indices)
    period = 2 * (length - 1)
    folded = indices % period
    return np.where(folded < length, folded, period - folded)


def window_count(height: int, width: int, generator: nn.Module, tile: int = TILE, margin: int = MARGIN, blend: int = BLEND) -> int:
    """How many windows :func:`restore_tiled` cuts an image of ``height`` × ``width`` into."""
    tile, stride = window_geometry(generator, tile, margin, blend)
    return len(window_starts(padded_side(height, generator), tile, stride)) * len(window_starts(padded_side(width, generator), tile, stride))


def window_geometry(generator: nn.Module, tile: int, margin: int, blend: int) -> tuple[int, int]:
    """(window side, stride) in px, both multiples of the generator's alignment; raises ValueError if they cannot be."""
    align = alignment(generator)
    side = tile - tile % align
    stride = (side - 2 * margin - blend) // align * align
    if side < getattr(generator, "smallest", 1) or stride < align:
        raise ValueError(f"tile {tile} px is too small for a margin of {margin} px and a blend of {blend} px "
                         f"(needs at least {2 * margin + blend + 2 * align} px for this generator)")
    return side, stride


@torch.no_grad()
def restore_tiled(generator: nn.Module, image: np.ndarray, device: torch.device, *, amp_dtype: torch.dtype | None = None,
                  tile: int = TILE, margin: int = MARGIN, blend: int = BLEND,
                  on_window: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Restore one H×W grey or H×W×C uint8/uint16 RGB(A) image window by window (grey as three
    equal channels, alpha dropped, as :func:`train.eval.evaluate.to_tensor` does).

    Returns H×W×3 float32 in [-1, 1] (the generator's range). ``on_window(done, total)`` is called
    after each window (progress within a large image). Raises ValueError if ``tile`` cannot hold
    ``2 · margin + blend`` px and a stride.
    """
    height, width = image.shape[:2]
    side, stride = window_geometry(generator, tile, margin, blend)
    padded_h, padded_w = padded_side(height, generator), padded_side(width, generator)
    rows, columns = window_starts(padded_h, side, stride), window_starts(padded_w, side, stride)
    top = 65535.0 if image.dtype == np.uint16 else 255.0
    total = np.zeros((height, width, 3), dtype=np.float32)
    weight = np.zeros((height, width, 1), dtype=np.float32)
    context = torch.autocast(device.type, dtype=amp_dtype) if amp_dtype else nullcontext()
    done = 0
    for row_index, row in enumerate(rows):
        window_h = min(side, padded_h)
        row_weights = edge_weights(window_h, row_index > 0, row_index < len(rows) - 1, margin, blend)
        source_rows = mirrored(np.arange(row, row + window_h), height)
        for column_index, column in enumerate(columns):
            window_w = min(side, padded_w)
            column_weights = edge_weights(window_w, column_index > 0, column_index < len(columns) - 1, margin, blend)
            source_columns = mirrored(np.arange(column, column + window_w), width)
            window = image[source_rows[:, None], source_columns[None, :]].astype(np.float32) / top
            window = np.repeat(window[:, :, None], 3, axis=2) if window.ndim == 2 else window[:, :, :3]
            values = torch.from_numpy(window).permute(2, 0, 1)[None].to(device) * 2 - 1
            with context:
                restored = generator(values)
            restored = restored[0].float().permute(1, 2, 0).cpu().numpy()
            keep_h, keep_w = min(window_h, height - row), min(window_w, width - column)  # the part inside the image
            if keep_h > 0 and keep_w > 0:
                weights = (row_weights[:keep_h, None] * column_weights[None, :keep_w])[:, :, None]
                total[row : row + keep_h, column : column + keep_w] += restored[:keep_h, :keep_w] * weights
                weight[row : row + keep_h, column : column + keep_w] += weights
            done += 1
            if on_window is not None:
                on_window(done, len(rows) * len(columns))
    total /= weight  # in place: no second full-size array
    return total
