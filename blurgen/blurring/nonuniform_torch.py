"""Poses → blur on the GPU: the camera-motion average of :mod:`blurgen.blurring.nonuniform`, batched in torch.

:func:`render_batch` warps a batch of regions by every pose with ``grid_sample`` (bilinear, the
same sampling as the CPU path) and averages, one pose at a time for the whole batch, so memory
stays at one batch of frames. Samples may have different pose counts: pad their inverse
homographies to the batch's largest count and give the padding weight 0. On the CPU it equals
:func:`blurgen.blurring.nonuniform.render` (camera motion) to float32 rounding (tested to 1e-5).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def render_batch(regions: torch.Tensor, pose_inverse: torch.Tensor, pose_weights: torch.Tensor, margin: int, size: int) -> torch.Tensor:
    """Average each region over its camera poses.

    Args:
        regions: B×C×R×R float (linear light), on any device.
        pose_inverse: B×N×3×3: per pose, crop pixel (region coordinates) → source point.
        pose_weights: B×N, 1 for a pose, 0 for padding.
        margin: offset of the S×S crop inside each region.
        size: S.

    Returns:
        B×C×S×S float32.
    """
    if regions.ndim != 4 or regions.shape[-1] != regions.shape[-2]:
        raise ValueError(f"regions must be B×C×R×R, got {tuple(regions.shape)}")
    batch, _, region, _ = regions.shape
    if pose_inverse.shape[:2] != pose_weights.shape or pose_inverse.shape[0] != batch or pose_inverse.shape[2:] != (3, 3):
        raise ValueError(f"pose_inverse must be B×N×3×3 and pose_weights B×N, got {tuple(pose_inverse.shape)} and {tuple(pose_weights.shape)}")
    if margin < 1 or size + 2 * margin > region:
        raise ValueError(f"a {size}-px crop with margin {margin} does not fit a {region}-px region")
    device = regions.device
    values = regions.float()
    inverse = pose_inverse.to(device=device, dtype=torch.float64)
    weights = pose_weights.to(device=device, dtype=torch.float32)
    coords = torch.arange(size, device=device, dtype=torch.float64) + margin
    qy, qx = torch.meshgrid(coords, coords, indexing="ij")
    points = torch.stack([qx, qy, torch.ones_like(qx)], dim=-1).reshape(-1, 3)  # S²×3
    total = torch.zeros(batch, values.shape[1], size, size, device=device)
    for t in range(inverse.shape[1]):
        mapped = points @ inverse[:, t].transpose(1, 2)  # B×S²×3
        source = mapped[..., :2] / mapped[..., 2:]
        grid = (source * (2.0 / (region - 1)) - 1.0).reshape(batch, size, size, 2).float()
        frame = F.grid_sample(values, grid, mode="bilinear", padding_mode="border", align_corners=True)
        total += weights[:, t, None, None, None] * frame
    return total / weights.sum(dim=1)[:, None, None, None]
