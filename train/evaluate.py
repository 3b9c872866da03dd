"""Restoring whole images of any size, and measuring PSNR/SSIM on (blurred, sharp) pairs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext

import numpy as np
import torch
from torch import nn

from blurgen.sources import BadImage
from train.blocks import pad_to_multiple
from train.metrics import PROTOCOL, psnr, ssim
from train.protocols import REALBLUR_PROTOCOL, check_protocol, realblur_scores

METRICS = ("psnr", "ssim", "psnr_blurred", "ssim_blurred", "psnr_gain", "ssim_gain")


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
    """Run the generator on B×3×H×W in [-1, 1] of any H, W (reflect-padded to the multiple its
    architecture needs, 4 or 32, then cropped)."""
    padded, (height, width) = pad_to_multiple(blurred, getattr(generator, "multiple", 4))
    context = torch.autocast(blurred.device.type, dtype=amp_dtype) if amp_dtype else nullcontext()
    with context:
        restored = generator(padded)
    return restored[:, :, :height, :width].float()


def restore_images(generator: nn.Module, images: Iterable[tuple[object, np.ndarray]], device: torch.device, *,
                   batch_size: int = 8, amp_dtype: torch.dtype | None = None) -> Iterator[tuple[object, np.ndarray]]:
    """Restore a stream of (key, H×W(×C) uint8/uint16 image) pairs; yields (key, restored image) in order.

    Consecutive images of the same size go through the generator together, up to ``batch_size``
    at a time; grey images come back grey and 16-bit ones 16-bit.
    """
    batch: list[tuple[object, np.ndarray]] = []

    def run() -> Iterator[tuple[object, np.ndarray]]:
        restored = restore(generator, torch.cat([to_tensor(image, device) for _, image in batch]), amp_dtype)
        for i, (key, image) in enumerate(batch):
            yield key, to_image(restored[i : i + 1], grey=image.ndim == 2, bit_depth=16 if image.dtype == np.uint16 else 8)
        batch.clear()

    for key, image in images:
        if batch and (image.shape[:2] != batch[0][1].shape[:2] or len(batch) == batch_size):
            yield from run()
        batch.append((key, image))
    if batch:
        yield from run()


def to_image(restored: torch.Tensor, grey: bool, bit_depth: int = 8) -> np.ndarray:
    """1×3×H×W in [-1, 1] → H×W×3 RGB (or H×W grey, the channels' mean) uint8/uint16."""
    top = 65535 if bit_depth == 16 else 255
    values = ((restored[0].permute(1, 2, 0).clamp(-1, 1) + 1) / 2).cpu().numpy()
    if grey:
        values = values.mean(axis=2)
    return np.rint(values * top).astype(np.uint16 if bit_depth == 16 else np.uint8)


def evaluate(generator: nn.Module, pairs: object, device: torch.device, *, limit: int | None = None,
             amp_dtype: torch.dtype | None = None, protocol: str | None = None, on_pair: Callable[[dict], None] | None = None,
             on_images: Callable[[int, np.ndarray, np.ndarray, np.ndarray], None] | None = None) -> dict:
    """PSNR and SSIM of the restored images and of the blurred inputs, on full-size pairs.

    ``pairs`` is anything with ``len``, ``[i]`` → (blurred, sharp) arrays and ``id(i)``
    (:func:`blurgen.sources.open_pairs`). ``protocol`` is ``plain`` or ``realblur``
    (:mod:`train.protocols`); by default the one the pairs' benchmark publishes. Per image and as
    means over images: ``psnr``, ``ssim`` (restored vs sharp), ``psnr_blurred``, ``ssim_blurred``
    (input vs sharp) and the gains ``psnr_gain`` (dB) and ``ssim_gain``. Unreadable pairs and
    pairs whose two images differ in size are skipped and counted. ``on_pair`` sees each row as it
    is made (progress); ``on_images`` each pair's index and its blurred, sharp and restored 8-bit
    RGB images (H×W×3 uint8).
    """
    protocol = protocol or getattr(pairs, "protocol", "plain")
    check_protocol(protocol)
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
        restored = restore(generator, blurred_tensor, amp_dtype)
        row = {"id": pairs.id(index)}
        if protocol == "plain":
            row.update(psnr=float(psnr(restored, target)[0]), ssim=float(ssim(restored, target)[0]),
                       psnr_blurred=float(psnr(blurred_tensor, target)[0]), ssim_blurred=float(ssim(blurred_tensor, target)[0]))
        images = [to_image(tensor, grey=False) for tensor in (blurred_tensor, target, restored)] if protocol != "plain" or on_images else None
        if protocol == "realblur":
            scored, scored_blurred = realblur_scores(images[2], images[1]), realblur_scores(images[0], images[1])
            unaligned += (not scored["aligned"]) + (not scored_blurred["aligned"])
            row.update(psnr=scored["psnr"], ssim=scored["ssim"], psnr_blurred=scored_blurred["psnr"], ssim_blurred=scored_blurred["ssim"])
        row["psnr_gain"] = row["psnr"] - row["psnr_blurred"]
        row["ssim_gain"] = row["ssim"] - row["ssim_blurred"]
        rows.append(row)
        if on_pair is not None:
            on_pair(row)
        if on_images is not None:
            on_images(index, *images)
    generator.train(was_training)
    mean = {key: float(np.mean([row[key] for row in rows])) if rows else float("nan") for key in METRICS}
    report = {"images": len(rows), "skipped": skipped, "mean": mean, "per_image": rows, "protocol_name": protocol,
              "protocol": PROTOCOL if protocol == "plain" else REALBLUR_PROTOCOL}
    if protocol == "realblur":
        report["alignment_failed"] = unaligned  # images scored with the identity warp because ECC did not converge
    return report


def summary_line(report: dict) -> str:
    """One line: restored vs blurred-input PSNR/SSIM means and the gains."""
    mean = report["mean"]
    return (f"{report['images']} pairs ({report.get('protocol_name', 'plain')} protocol): PSNR {mean['psnr']:.2f} dB (blurred input {mean['psnr_blurred']:.2f}, gain {mean['psnr_gain']:+.2f}), "
            f"SSIM {mean['ssim']:.4f} (blurred input {mean['ssim_blurred']:.4f}, gain {mean['ssim_gain']:+.4f})")
