"""Pair → training batch: torch datasets over a :class:`~blurgen.pairs.synthesizer.PairSynthesizer`.

Two ways to feed an image trainer, both deterministic in (seed, i) for any ``num_workers``:

* :class:`PairDataset` — workers make whole pairs on the CPU (blur and camera included).
* :class:`SharpCropDataset` + :func:`pairs_on_device` — workers only cut sharp regions (with
  their K-1 margin) and pick kernels and camera values; blur and camera then run batched on the
  GPU. This is how a trainer keeps a GPU fed: the CPU work per sample is a crop and a copy.

And one for video trainers: :class:`SequenceDataset`, T-frame windows of blurred video sequences
(:mod:`blurgen.pairs.sequences`).
"""

from __future__ import annotations

import json

import numpy as np
import torch
from torch.utils.data import Dataset

from blurgen.blurring.camera import Camera
from blurgen.blurring.camera_torch import expose_batch, signed_key
from blurgen.files import to_uint8
from blurgen.pairs.synthesizer import ImageTooSmall, PairPlan, PairSynthesizer, to_unit_float
from blurgen.sources import BadImage


def to_chw(image: np.ndarray) -> torch.Tensor:
    """H×W×C array → C×H×W tensor (a copy, contiguous)."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))


RETRIES = 16  # source images tried in a row before a sample gives up (as train's stream does)


class PairDataset(Dataset):
    """Sample i: ``{"blurred", "sharp"}`` float32 3×S×S in [0, 1], ``"kernel"`` float32 K×K (the
    kernel that made it, centred on its centroid and summing to 1, on the kernel source's fixed
    side K; all zero for blur that varies across the image, which no one kernel made), ``"index"``,
    ``"meta"`` (JSON text).

    A source image that cannot be used (corrupt, truncated, too small for the crop) does not stop
    a data loader, as it does not stop ``train``: sample i is then the sample of the next image
    (index i + per_image, and so on), the same for any number of workers, and its ``meta`` says
    which sample it stands in for and why (``"replaces"``)."""

    def __init__(self, synthesizer: PairSynthesizer) -> None:
        self.synthesizer = synthesizer

    def __len__(self) -> int:
        return len(self.synthesizer)

    def __getitem__(self, index: int) -> dict:
        reasons = []
        for attempt in range(min(RETRIES, len(self.synthesizer.source))):
            made = (index + attempt * self.synthesizer.per_image) % len(self.synthesizer)
            try:
                pair, plan = self.synthesizer.make(self.synthesizer.source[made // self.synthesizer.per_image], made)
            except (BadImage, ImageTooSmall) as error:
                reasons.append(str(error))
                continue
            meta = pair.meta if not reasons else {**pair.meta, "replaces": {"index": index, "because": reasons}}
            side = self.synthesizer.kernels.size
            kernel = np.zeros((side, side), np.float32) if plan.kernel is None else np.ascontiguousarray(plan.kernel, dtype=np.float32)
            return {"blurred": to_chw(pair.blurred), "sharp": to_chw(pair.sharp), "kernel": torch.from_numpy(kernel), "index": index,
                    "meta": json.dumps(meta)}
        raise BadImage("unusable", f"sample {index}", f"{len(reasons)} source images in a row could not be used; the last: {reasons[-1]}")


class SequenceDataset(Dataset):
    """Sample i: sequence i of a :class:`~blurgen.pairs.sequences.StillSequencer` or
    :class:`~blurgen.pairs.sequences.ClipSequencer` as one T-frame window (T: the sequencer's
    ``timing.frames``): ``"blurred"`` float32 T×3×H×W in [0, 1], ``"sharp"`` the same (or, with
    ``centre=True``, the middle frame's, 3×H×W), ``"index"``, ``"meta"`` (JSON text). The crop is the
    same region in every frame of a window.

    A sequence that cannot be made (a cut in its first window, a photo too small), or that a scene
    cut shortened below T frames, does not stop a data loader: sample i is then the next sequence
    that can (i + 1, and so on, the same for any number of workers), and its ``meta`` says which it
    stands in for and why (``"replaces"``)."""

    def __init__(self, sequencer: object, centre: bool = False) -> None:
        self.sequencer, self.centre = sequencer, centre

    def __len__(self) -> int:
        return len(self.sequencer)

    def __getitem__(self, index: int) -> dict:
        reasons = []
        for attempt in range(min(RETRIES, len(self.sequencer))):
            made = (index + attempt) % len(self.sequencer)
            try:
                sequence = self.sequencer[made]
            except (BadImage, ImageTooSmall) as error:
                reasons.append(str(error))
                continue
            if "ended" in sequence.meta:
                reasons.append(f"sequence {made} ended after {len(sequence.blurred)} frames ({sequence.meta['ended']})")
                continue
            meta = sequence.meta if not reasons else {**sequence.meta, "replaces": {"index": index, "because": reasons}}
            sharp = torch.from_numpy(np.ascontiguousarray(sequence.sharp.transpose(0, 3, 1, 2)))
            return {"blurred": torch.from_numpy(np.ascontiguousarray(sequence.blurred.transpose(0, 3, 1, 2))),
                    "sharp": sharp[len(sharp) // 2] if self.centre else sharp, "index": index, "meta": json.dumps(meta)}
        raise BadImage("unusable", f"sequence {index}", f"{len(reasons)} sequences in a row could not be used; the last: {reasons[-1]}")


class SharpCropDataset(Dataset):
    """Sample i without pixels blurred: what :func:`pairs_on_device` needs to make pair i.

    Items: ``"region"`` 3×(S+K-1)×(S+K-1) in ``dtype`` (uint8 by default, four times less to copy
    to the GPU than float32; 16-bit sources are rounded to 8 bits, pass ``torch.float32`` to keep
    them), ``"kernel"`` float32 K×K, ``"draws"`` float32 (D,) (:meth:`~blurgen.blurring.camera.Camera.draws_tensor`),
    ``"noise_key"`` int64, ``"index"`` and ``"meta"`` (JSON text).
    """

    def __init__(self, synthesizer: PairSynthesizer, dtype: torch.dtype = torch.uint8) -> None:
        if synthesizer.crop is None:
            raise ValueError("the device path needs a crop size: whole images of different sizes cannot be batched")
        if dtype not in (torch.uint8, torch.float32):
            raise ValueError(f"dtype must be torch.uint8 or torch.float32, got {dtype}")
        self.synthesizer = synthesizer
        self.dtype = dtype

    def __len__(self) -> int:
        return len(self.synthesizer)

    def __getitem__(self, index: int) -> dict:
        region, plan = self.synthesizer.sharp_region(index)
        return {**device_item(region, plan, self.synthesizer.camera, self.dtype), "index": index, "meta": json.dumps(self.synthesizer.metadata(plan))}


def device_item(region: np.ndarray, plan: PairPlan, camera: Camera, dtype: torch.dtype = torch.uint8) -> dict:
    """What :func:`pairs_on_device` needs of one sample: ``region`` (3×H×W in ``dtype``),
    ``kernel`` (float32 K×K), ``draws`` (float32 (D,): :meth:`~blurgen.blurring.camera.Camera.draws_tensor`), ``noise_key`` (int64)."""
    return {
        "region": to_chw(to_unit_float(region) if dtype == torch.float32 else to_uint8(region)),
        "kernel": torch.from_numpy(np.ascontiguousarray(plan.kernel, dtype=np.float32)),
        "draws": camera.draws_tensor(plan.draws),
        "noise_key": torch.tensor(signed_key(plan.key), dtype=torch.int64),
    }


def pairs_on_device(batch: dict, camera: Camera, device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor]:
    """Blur a collated :class:`SharpCropDataset` batch on ``device``.

    Returns (blurred, sharp), each float32 B×3×S×S in [0, 1] on ``device``. The sharp crop is the
    centre of each region; the blurred one is its 'valid' blur through ``camera``.
    """
    region = batch["region"].to(device, non_blocking=True)
    values = region.float() / 255.0 if region.dtype == torch.uint8 else region.float()
    kernels = batch["kernel"].to(device, non_blocking=True)
    margin = (kernels.shape[-1] + 1 - kernels.shape[-1] % 2) // 2
    sharp = values[:, :, margin : values.shape[2] - margin, margin : values.shape[3] - margin]
    blurred = expose_batch(values, kernels, camera, batch["draws"], batch["noise_key"], border="valid")
    return blurred, sharp
