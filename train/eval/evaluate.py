"""Restoring whole images of any size, and measuring PSNR/SSIM on (blurred, sharp) pairs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext

import numpy as np
import torch
from torch import nn

from blurgen.output.contact_sheet import image_sheet
from blurgen.sources import BadImage
from train.archs.blocks import pad_to_multiple
from train.eval.metrics import PROTOCOL, psnr, ssim, to_uint8_levels
from train.eval.protocols import KOHLER_PROTOCOL, LEVIN_PROTOCOL, REALBLUR_PROTOCOL, check_protocol, kohler_scores, realblur_scores, shift_scores
from train.eval.tiles import TILE, restore_tiled

METRICS = ("psnr", "ssim", "psnr_blurred", "ssim_blurred", "psnr_gain", "ssim_gain", "brightness_shift")


def to_tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """H×W (grey) or H×W×C uint8/uint16 RGB(A) → 1×3×H×W in [-1, 1] (grey repeated, alpha dropped)."""
    image = np.asarray(image)
    top = 65535.0 if image.dtype == np.uint16 else 255.0
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    values = torch.from_numpy(np.ascontiguousarray(image[:, :, :3]).astype(np.float32) / top)
    return (values.permute(2, 0, 1)[None] * 2 - 1).to(device)


@torch.no_grad()
def restore(generator: nn.Module, blurred: torch.Tensor, amp_dtype: torch.dtype | None = None) -> torch.Tensor:
    """Run the generator on B×3×H×W in [-1, 1] of any H, W ≥ 1 (mirror-padded to the sides its
    architecture needs, then cropped) as one piece; :func:`restore_image` bounds the memory."""
    padded, (height, width) = pad_to_multiple(blurred, getattr(generator, "multiple", 4), getattr(generator, "smallest", 1))
    context = torch.autocast(blurred.device.type, dtype=amp_dtype) if amp_dtype else nullcontext()
    with context:
        restored = generator(padded)
    return restored[:, :, :height, :width].float()


def needs_windows(image: np.ndarray, tile: int) -> bool:
    """Whether an image is restored window by window (more pixels than one ``tile``² window)."""
    return tile > 0 and image.shape[0] * image.shape[1] > tile * tile


def restore_image(generator: nn.Module, image: np.ndarray, device: torch.device, *, amp_dtype: torch.dtype | None = None,
                  tile: int = TILE, on_window: Callable[[int, int], None] | None = None) -> torch.Tensor:
    """One H×W(×C) uint8/uint16 image → restored 1×3×H×W in [-1, 1]: whole, or in overlapping
    windows (:mod:`train.eval.tiles`) when it has more than ``tile``² pixels (0: always whole)."""
    if not needs_windows(image, tile):
        return restore(generator, to_tensor(image, device), amp_dtype)
    restored = restore_tiled(generator, image, device, amp_dtype=amp_dtype, tile=tile, on_window=on_window)
    return torch.from_numpy(restored).permute(2, 0, 1)[None]


def restore_images(generator: nn.Module, images: Iterable[tuple[object, np.ndarray]], device: torch.device, *,
                   batch_size: int = 8, amp_dtype: torch.dtype | None = None, tile: int = TILE,
                   on_window: Callable[[object, int, int], None] | None = None,
                   on_error: Callable[[object, Exception], None] | None = None) -> Iterator[tuple[object, np.ndarray]]:
    """Restore a stream of (key, H×W(×C) uint8/uint16 image) pairs; yields (key, restored image) in order.

    Consecutive images of the same size go through the generator together, up to ``batch_size``
    at a time; an image of more than ``tile``² pixels goes alone, window by window
    (``on_window(key, done, total)`` after each). Grey images come back grey and 16-bit ones
    16-bit. With ``on_error``, an image the generator fails on (a RuntimeError, such as running
    out of memory) is reported there and left out, and the stream goes on.
    """
    batch: list[tuple[object, np.ndarray]] = []

    def restored_batch() -> list[tuple[object, np.ndarray]]:
        if len(batch) == 1 and needs_windows(batch[0][1], tile):
            key, image = batch[0]
            progress = (lambda done, total: on_window(key, done, total)) if on_window else None
            restored = restore_tiled(generator, image, device, amp_dtype=amp_dtype, tile=tile, on_window=progress)
            return [(key, to_pixels(restored, grey=image.ndim == 2, bit_depth=bit_depth(image)))]
        restored = restore(generator, torch.cat([to_tensor(image, device) for _, image in batch]), amp_dtype)
        return [(key, to_image(restored[i : i + 1], grey=image.ndim == 2, bit_depth=bit_depth(image))) for i, (key, image) in enumerate(batch)]

    def run() -> Iterator[tuple[object, np.ndarray]]:
        try:
            done = restored_batch()
        except RuntimeError as error:
            if on_error is None:
                raise
            done = []
            for key, _ in batch:
                on_error(key, error)
        batch.clear()
        yield from done

    for key, image in images:
        if batch and (image.shape[:2] != batch[0][1].shape[:2] or len(batch) == batch_size or needs_windows(image, tile)
                      or needs_windows(batch[0][1], tile)):
            yield from run()
        batch.append((key, image))
    if batch:
        yield from run()


def bit_depth(image: np.ndarray) -> int:
    return 16 if image.dtype == np.uint16 else 8


def to_image(restored: torch.Tensor, grey: bool, bit_depth: int = 8) -> np.ndarray:
    """1×3×H×W in [-1, 1] → H×W×3 RGB (or H×W grey, the channels' mean) uint8/uint16."""
    return to_pixels(restored[0].permute(1, 2, 0).float().cpu().numpy().copy(), grey, bit_depth)


def to_pixels(values: np.ndarray, grey: bool, bit_depth: int = 8) -> np.ndarray:
    """H×W×3 float32 in [-1, 1] → H×W×3 RGB (or H×W grey) uint8/uint16, scaling ``values`` in
    place (no full-size temporary: a large photo's restoration is hundreds of MB)."""
    top = 65535 if bit_depth == 16 else 255
    np.clip(values, -1.0, 1.0, out=values)
    values += 1.0
    values *= top / 2
    if grey:
        values = values.mean(axis=2)
    np.rint(values, out=values)
    return values.astype(np.uint16 if bit_depth == 16 else np.uint8)


def evaluate(generator: nn.Module, pairs: object, device: torch.device, *, limit: int | None = None,
             amp_dtype: torch.dtype | None = None, protocol: str | None = None, on_pair: Callable[[dict], None] | None = None,
             on_images: Callable[[int, np.ndarray, np.ndarray, np.ndarray], None] | None = None, tile: int = 0) -> dict:
    """PSNR and SSIM of the restored images and of the blurred inputs, on full-size pairs.

    ``pairs`` is anything with ``len``, ``[i]`` → (blurred, sharp) arrays and ``id(i)``
    (:func:`blurgen.sources.open_pairs`). ``protocol`` is ``plain``, ``realblur`` or ``levin``
    (:mod:`train.eval.protocols`); by default the one the pairs' benchmark publishes. Per image and as
    means over images: ``psnr``, ``ssim`` (restored vs sharp), ``psnr_blurred``, ``ssim_blurred``
    (input vs sharp), the gains ``psnr_gain`` (dB) and ``ssim_gain``, and ``brightness_shift``: the
    restored image's mean minus the input's, in 8-bit levels (a model that darkens has a negative
    one). Unreadable pairs and
    pairs whose two images differ in size are skipped and counted. ``on_pair`` sees each row as it
    is made (progress); ``on_images`` each pair's index and its blurred, sharp and restored 8-bit
    RGB images (H×W×3 uint8). Images are restored whole, as benchmarks score them, unless
    ``tile`` > 0: then those of more than ``tile``² pixels are restored in windows (:func:`restore_image`).
    """
    protocol = protocol or getattr(pairs, "protocol", "plain")
    check_protocol(protocol)
    if protocol == "kohler" and not hasattr(pairs, "frames"):
        raise ValueError("the kohler protocol scores against the sharp frames recorded along each shake: give pairs with frames(i) "
                         "(blurgen.sources.KohlerPairs)")
    was_training = generator.training
    generator.eval()
    rows, skipped, unaligned = [], {}, 0
    for index in range(len(pairs) if limit is None else min(limit, len(pairs))):
        try:
            blurred, sharp = pairs[index]
        except BadImage as error:
            skipped[error.reason] = skipped.get(error.reason, 0) + 1
            continue
        if blurred.shape[:2] != sharp.shape[:2]:
            skipped["size_mismatch"] = skipped.get("size_mismatch", 0) + 1
            continue
        blurred_tensor, target = to_tensor(blurred, device), to_tensor(sharp, device)
        restored = restore_image(generator, blurred, device, amp_dtype=amp_dtype, tile=tile).to(device)
        row = {"id": pairs.id(index), "index": index}
        if protocol == "plain":
            row.update(psnr=float(psnr(restored, target)[0]), ssim=float(ssim(restored, target)[0]),
                       psnr_blurred=float(psnr(blurred_tensor, target)[0]), ssim_blurred=float(ssim(blurred_tensor, target)[0]))
        images = [to_image(tensor, grey=False) for tensor in (blurred_tensor, target, restored)] if protocol != "plain" or on_images else None
        if protocol == "realblur":
            scored, scored_blurred = realblur_scores(images[2], images[1]), realblur_scores(images[0], images[1])
            unaligned += (not scored["aligned"]) + (not scored_blurred["aligned"])
            row.update(psnr=scored["psnr"], ssim=scored["ssim"], psnr_blurred=scored_blurred["psnr"], ssim_blurred=scored_blurred["ssim"])
        if protocol == "levin":
            scored, scored_blurred = shift_scores(images[2], images[1]), shift_scores(images[0], images[1])
            row.update(psnr=scored["psnr"], ssim=scored["ssim"], psnr_blurred=scored_blurred["psnr"], ssim_blurred=scored_blurred["ssim"],
                       shift=scored["shift"])
        if protocol == "kohler":
            frames = pairs.frames(index)
            scored, scored_blurred = kohler_scores(images[2], frames), kohler_scores(images[0], frames)
            row.update(psnr=scored["psnr"], ssim=scored["ssim"], psnr_blurred=scored_blurred["psnr"], ssim_blurred=scored_blurred["ssim"],
                       shift=scored["shift"], frame=scored["frame"])
        row["psnr_gain"] = row["psnr"] - row["psnr_blurred"]
        row["ssim_gain"] = row["ssim"] - row["ssim_blurred"]
        row["brightness_shift"] = float(to_uint8_levels(restored).mean() - to_uint8_levels(blurred_tensor).mean())
        rows.append(row)
        if on_pair is not None:
            on_pair(row)
        if on_images is not None:
            on_images(index, *images)
    generator.train(was_training)
    mean = {key: float(np.mean([row[key] for row in rows])) if rows else float("nan") for key in METRICS}
    report = {"images": len(rows), "skipped": skipped, "mean": mean, "per_image": rows, "protocol_name": protocol,
              "protocol": {"plain": PROTOCOL, "realblur": REALBLUR_PROTOCOL, "levin": LEVIN_PROTOCOL,
                                                                      "kohler": KOHLER_PROTOCOL}[protocol]}
    if protocol == "realblur":
        report["alignment_failed"] = unaligned  # images scored with the identity warp because ECC did not converge
    return report


class Picked:
    """The pairs of ``pairs`` at ``indices``, as a paired source of their own."""

    def __init__(self, pairs: object, indices: list[int]) -> None:
        self.pairs, self.indices = pairs, indices
        self.protocol = getattr(pairs, "protocol", "plain")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple:
        return self.pairs[self.indices[index]]

    def id(self, index: int) -> str:
        return self.pairs.id(self.indices[index])

    def frames(self, index: int) -> np.ndarray:
        return self.pairs.frames(self.indices[index])


def extremes_sheet(generator: nn.Module, pairs: object, report: dict, device: torch.device, *, count: int = 3,
                   amp_dtype: torch.dtype | None = None, tile: int = 0, title: str = "") -> np.ndarray:
    """A BGR uint8 picture of the ``count`` worst and ``count`` best pairs of an :func:`evaluate`
    report by PSNR gain: blurred | restored | sharp per row, with their PSNR (restored again)."""
    ranked = sorted(report["per_image"], key=lambda row: row["psnr_gain"])
    chosen = ranked if len(ranked) <= 2 * count else ranked[:count] + ranked[-count:]
    images = {}
    evaluate(generator, Picked(pairs, [row["index"] for row in chosen]), device, amp_dtype=amp_dtype, protocol=report["protocol_name"],
             on_images=lambda k, blurred, sharp, restored: images.__setitem__(k, [blurred, restored, sharp]), tile=tile)
    rows = [(images[k], f"{'worst' if k < min(count, len(chosen) - count) else 'best'}: {row['id']}: PSNR {row['psnr_blurred']:.2f} -> "
                        f"{row['psnr']:.2f} dB ({row['psnr_gain']:+.2f})") for k, row in enumerate(chosen)]
    return image_sheet(rows, title=title or "deblur: worst and best pairs by PSNR gain", subtitle="blurred | restored | sharp")


def summary_line(report: dict) -> str:
    """One line: restored vs blurred-input PSNR/SSIM means and the gains."""
    mean = report["mean"]
    return (f"{report['images']} pairs ({report.get('protocol_name', 'plain')} protocol): PSNR {mean['psnr']:.2f} dB (blurred input {mean['psnr_blurred']:.2f}, gain {mean['psnr_gain']:+.2f}), "
            f"SSIM {mean['ssim']:.4f} (blurred input {mean['ssim_blurred']:.4f}, gain {mean['ssim_gain']:+.4f}), "
            f"brightness {mean['brightness_shift']:+.2f} levels")
