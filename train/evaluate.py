"""Restoring whole images of any size, and measuring PSNR/SSIM on (blurred, sharp) pairs."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import torch
from torch import nn

from blurgen.sources import BadImage, GoProPairs
from train.metrics import PROTOCOL, psnr, ssim
from train.models import pad_to_multiple


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
    """Run the generator on B×3×H×W in [-1, 1] of any H, W (reflect-padded to multiples of 4, then cropped)."""
    padded, (height, width) = pad_to_multiple(blurred)
    context = torch.autocast(blurred.device.type, dtype=amp_dtype) if amp_dtype else nullcontext()
    with context:
        restored = generator(padded)
    return restored[:, :, :height, :width].float()


def to_image(restored: torch.Tensor, grey: bool, bit_depth: int = 8) -> np.ndarray:
    """1×3×H×W in [-1, 1] → H×W×3 RGB (or H×W grey, the channels' mean) uint8/uint16."""
    top = 65535 if bit_depth == 16 else 255
    values = ((restored[0].permute(1, 2, 0).clamp(-1, 1) + 1) / 2).cpu().numpy()
    if grey:
        values = values.mean(axis=2)
    return np.rint(values * top).astype(np.uint16 if bit_depth == 16 else np.uint8)


def evaluate(generator: nn.Module, pairs: GoProPairs, device: torch.device, *, limit: int | None = None,
             amp_dtype: torch.dtype | None = None) -> dict:
    """PSNR and SSIM of the generator on full-size pairs: per image, mean, and the protocol."""
    was_training = generator.training
    generator.eval()
    rows, skipped = [], 0
    for index in range(len(pairs) if limit is None else min(limit, len(pairs))):
        try:
            blurred, sharp = pairs[index]
        except BadImage:
            skipped += 1
            continue
        restored = restore(generator, to_tensor(blurred, device), amp_dtype)
        target = to_tensor(sharp, device)
        rows.append({"id": pairs.id(index), "psnr": float(psnr(restored, target)[0]), "ssim": float(ssim(restored, target)[0]),
                     "psnr_blurred": float(psnr(to_tensor(blurred, device), target)[0])})
    generator.train(was_training)
    mean = {key: float(np.mean([row[key] for row in rows])) if rows else float("nan") for key in ("psnr", "ssim", "psnr_blurred")}
    return {"images": len(rows), "skipped": skipped, "mean": mean, "per_image": rows, "protocol": PROTOCOL}
