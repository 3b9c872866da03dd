"""Blur → camera for batches in torch (CPU or GPU): the :mod:`blurgen.blurring.camera` steps, batched.

Each camera step's NumPy ``before``/``after`` has its twin here (:data:`BATCHED`); they live in
this module so that the NumPy path never loads torch. Per-sample random values arrive as one
float row per sample (:meth:`~blurgen.blurring.camera.Camera.draws_tensor`, drawn on the host from
each sample's stream). The noise field is made on the device
by the counter-based hash of :func:`blurgen.rng.normal_field` (SplitMix64 in wrapping int64
arithmetic and a normal quantile table), keyed by each sample's stream key: the same numbers on the CPU, on a
GPU and in the per-image path, depending only on (seed, i).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from blurgen.blurring.camera import (
    PATTERNS, RAW_LEVELS, Camera, Demosaic, Jpeg, Mosaic, Saturation, Sensor, Step, ToneCurve, WhiteBalance,
)
from blurgen.blurring.convolve import Border
from blurgen.blurring.convolve_torch import blur_batch
from blurgen.rng import NOISE_COUNTER_OFFSET, normal_table

_GOLDEN = 0x9E3779B97F4A7C15 - 2**64  # the SplitMix64 constants as signed int64 bit patterns
_MIX1 = 0xBF58476D1CE4E5B9 - 2**64
_MIX2 = 0x94D049BB133111EB - 2**64


def _shift_right(z: torch.Tensor, bits: int) -> torch.Tensor:
    """Logical right shift of int64 bit patterns (torch's >> sign-extends)."""
    return (z >> bits) & ((1 << (64 - bits)) - 1)


def mix64(z: torch.Tensor) -> torch.Tensor:
    """SplitMix64's finaliser on int64 tensors holding uint64 bit patterns (wrapping multiply)."""
    z = (z ^ _shift_right(z, 30)) * _MIX1
    z = (z ^ _shift_right(z, 27)) * _MIX2
    return z ^ _shift_right(z, 31)


def signed_key(key: int) -> int:
    """A uint64 stream key as the int64 with the same bits, for tensors."""
    return key - 2**64 if key >= 2**63 else key


_TABLES: dict[torch.device, torch.Tensor] = {}


def noise_field(keys: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """Standard normal float32 noise, B×C×H×W: :func:`blurgen.rng.normal_field` of each key.

    ``keys``: int64 (B,) stream keys (see :func:`signed_key`). Elements are numbered in C×H×W
    order, so the per-image path's noise (the same field, transposed to H×W×C) is identical.
    """
    device = keys.device
    if device not in _TABLES:
        _TABLES[device] = torch.from_numpy(normal_table()).to(device)
    channels, height, width = shape
    count = channels * height * width
    counters = torch.arange((count + 3) // 4, device=device, dtype=torch.int64)
    z = mix64(keys[:, None] + (counters + (NOISE_COUNTER_OFFSET + 1)) * _GOLDEN)
    fields = torch.stack([_shift_right(z, 48 - 16 * part) & 0xFFFF for part in range(4)], dim=-1).flatten(1)
    return _TABLES[device][fields[:, :count]].reshape(keys.shape[0], channels, height, width)


def srgb_to_linear(values: torch.Tensor) -> torch.Tensor:
    return torch.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(values: torch.Tensor) -> torch.Tensor:
    return torch.where(values <= 0.0031308, values * 12.92, 1.055 * values.clamp(min=0.0031308) ** (1 / 2.4) - 0.055)


def curve_to_linear(values: torch.Tensor, curve: ToneCurve, gamma: torch.Tensor | None = None) -> torch.Tensor:
    """Undo ``curve``; ``gamma``: B×1×1×1 per-sample exponents when the curve draws them."""
    if curve.curve == "srgb":
        return srgb_to_linear(values)
    if curve.curve == "gamma":
        return values.clamp(min=0) ** (curve.gamma if gamma is None else gamma)
    return values


def curve_from_linear(values: torch.Tensor, curve: ToneCurve, gamma: torch.Tensor | None = None) -> torch.Tensor:
    """Re-apply ``curve``, as :func:`curve_to_linear` undoes it."""
    if curve.curve == "srgb":
        return linear_to_srgb(values)
    if curve.curve == "gamma":
        return values.clamp(min=0) ** (1.0 / (curve.gamma if gamma is None else gamma))
    return values


def jpeg_roundtrip_batch(values: torch.Tensor, qualities: torch.Tensor) -> torch.Tensor:
    """JPEG-encode and decode the samples whose quality is > 0 (torchvision; nvJPEG on CUDA).

    ``values``: B×C×H×W float in [0, 1] with C = 1 or 3; ``qualities``: (B,). Samples of equal
    quality are encoded together, as torchvision takes one quality per call.
    """
    with warnings.catch_warnings():  # torchvision 0.29 deprecates its codecs in favour of TorchCodec
        warnings.simplefilter("ignore", DeprecationWarning)
        from torchvision.io import decode_jpeg, encode_jpeg

    out = values.clone()
    pixels = (values.clamp(0, 1) * 255.0).round().to(torch.uint8)
    for quality in qualities.unique().tolist():
        if quality <= 0:
            continue
        chosen = (qualities == quality).nonzero().flatten().tolist()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            encoded = encode_jpeg([pixels[b] for b in chosen], quality=int(quality))
            decoded = decode_jpeg(encoded, device=values.device)
        out[chosen] = torch.stack(decoded).to(values.dtype) / 255.0
    return out


def mosaic_batch(light: torch.Tensor, pattern: str = "rggb") -> torch.Tensor:
    """B×3×H×W → B×1×H×W: each photosite keeps its filter's channel (:func:`~blurgen.blurring.camera.mosaic`)."""
    if light.shape[1] != 3:
        raise ValueError(f"a Bayer mosaic needs RGB light, got {light.shape[1]} channel(s)")
    out = light.new_empty((light.shape[0], 1, *light.shape[2:]))
    for row in range(2):
        for column in range(2):
            channel = PATTERNS[pattern][row][column]
            out[:, 0, row::2, column::2] = light[:, channel, row::2, column::2]
    return out


_CROSS = torch.tensor([[0.0, 1.0, 0.0], [1.0, 4.0, 1.0], [0.0, 1.0, 0.0]]) / 4  # green at red and blue sites
_BOX = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 4  # red and blue everywhere


def demosaic_batch(raw: torch.Tensor, pattern: str = "rggb") -> torch.Tensor:
    """B×1×H×W mosaic in [0, 1] → B×3×H×W: bilinear, on 16-bit values, with OpenCV's border
    (each edge pixel copies its inner neighbour), so it matches :func:`~blurgen.blurring.camera.demosaic`."""
    codes = (raw.float() * RAW_LEVELS).round()
    height, width = raw.shape[2:]
    planes = []
    for channel in range(3):
        sites = torch.zeros((height, width), device=raw.device)
        for row in range(2):
            for column in range(2):
                if PATTERNS[pattern][row][column] == channel:
                    sites[row::2, column::2] = 1.0
        weights = (_CROSS if channel == 1 else _BOX).to(raw.device)[None, None]
        planes.append(F.conv2d(codes * sites, weights))  # interior only: (H-2)×(W-2)
    interior = torch.floor(torch.cat(planes, dim=1) + 0.5)  # OpenCV rounds halves up
    return F.pad(interior, (1, 1, 1, 1), mode="replicate") / RAW_LEVELS


@dataclass
class BatchExposure:
    """A batch on its way through the camera's steps (see :class:`~blurgen.blurring.camera.Exposure`).

    ``sharp``: B×C×H×W float encoded values; ``light``: B×C×H×W float32 (B×1×H×W as a mosaic);
    ``drawn(name)``: the column ``name`` of the batch's draws as B×1×1×1 (None: not drawn);
    ``noise_keys``: int64 (B,).
    """

    sharp: torch.Tensor
    draws: torch.Tensor
    camera: Camera
    noise_keys: torch.Tensor
    light: torch.Tensor | None = None
    pattern: str | None = None

    def drawn(self, name: str) -> torch.Tensor | None:
        if name not in self.camera.columns:
            return None
        return self.camera.column(self.draws, name)[:, None, None, None]


def tone_curve_before(step: ToneCurve, batch: BatchExposure) -> None:
    batch.light = curve_to_linear(batch.sharp, step, batch.drawn("gamma"))


def tone_curve_after(step: ToneCurve, batch: BatchExposure) -> None:
    batch.light = curve_from_linear(batch.light, step, batch.drawn("gamma"))


def saturation_before(step: Saturation, batch: BatchExposure) -> None:
    clipped = (batch.sharp.amax(dim=1, keepdim=True) >= step.threshold).float()
    batch.light = batch.light + batch.drawn("saturation_alpha") * clipped


def sensor_after(step: Sensor, batch: BatchExposure) -> None:
    saturated = batch.light >= 1.0
    light = batch.light.clamp(0.0, 1.0)
    if step.noise is not None:
        sigma = torch.sqrt(batch.drawn("beta1") * light + batch.drawn("beta2"))
        noise = noise_field(batch.noise_keys.to(light.device), tuple(light.shape[1:]))
        light = torch.where(saturated, 1.0, light + sigma * noise).clamp(0.0, 1.0)
    batch.light = light


def white_balance_gains(batch: BatchExposure) -> torch.Tensor:
    if batch.light.shape[1] != 3:
        raise ValueError(f"white balance needs RGB images, got {batch.light.shape[1]} channel(s)")
    red, blue = batch.drawn("red_gain"), batch.drawn("blue_gain")
    return torch.cat([red, torch.ones_like(red), blue], dim=1)


def white_balance_before(step: WhiteBalance, batch: BatchExposure) -> None:
    batch.light = batch.light / white_balance_gains(batch)


def white_balance_after(step: WhiteBalance, batch: BatchExposure) -> None:
    batch.light = (batch.light * white_balance_gains(batch)).clamp(max=1.0)


def mosaic_after(step: Mosaic, batch: BatchExposure) -> None:
    batch.light, batch.pattern = mosaic_batch(batch.light, step.pattern), step.pattern


def demosaic_after(step: Demosaic, batch: BatchExposure) -> None:
    batch.light, batch.pattern = demosaic_batch(batch.light, batch.pattern), None


def jpeg_after(step: Jpeg, batch: BatchExposure) -> None:
    batch.light = jpeg_roundtrip_batch(batch.light, batch.camera.column(batch.draws, "jpeg_quality"))


def unchanged(step: Step, batch: BatchExposure) -> None:
    pass


BATCHED: dict[type[Step], tuple[Callable[[Step, BatchExposure], None], Callable[[Step, BatchExposure], None]]] = {
    ToneCurve: (tone_curve_before, tone_curve_after),
    Saturation: (saturation_before, unchanged),
    Sensor: (unchanged, sensor_after),
    WhiteBalance: (white_balance_before, white_balance_after),
    Mosaic: (unchanged, mosaic_after),
    Demosaic: (unchanged, demosaic_after),
    Jpeg: (unchanged, jpeg_after),
}
"""Each step's batched twin: (before the blur, after it), as the step's NumPy ``before`` and ``after``."""


def expose_batch(
    sharp: torch.Tensor,
    kernels: torch.Tensor,
    camera: Camera,
    draws: torch.Tensor,
    noise_keys: torch.Tensor,
    *,
    border: Border = "valid",
) -> torch.Tensor:
    """Blur a batch of sharp images through the camera, on their device.

    Args:
        sharp: B×C×H×W float in [0, 1], encoded with the camera's curve.
        kernels: B×K×K (or a list, as :func:`blurgen.blurring.convolve_torch.blur_batch` takes).
        camera: the camera (one for the batch).
        draws: float (B, D): each sample's draws as :meth:`~blurgen.blurring.camera.Camera.draws_tensor`
            writes them (D = ``len(camera.columns)``).
        noise_keys: int64 (B,) sample stream keys (:func:`signed_key`).

    Returns:
        B×C×H'×W' float32 in [0, 1] (H' = H-K+1 for ``"valid"``).
    """
    values = sharp.float()
    draws = draws.to(device=values.device, dtype=torch.float32)
    camera.check_draws(draws)
    batch = BatchExposure(values, draws, camera, noise_keys)
    for step in reversed(camera.steps):
        BATCHED[type(step)][0](step, batch)
    batch.light = blur_batch(batch.light, kernels, border=border)
    for step in camera.steps:
        BATCHED[type(step)][1](step, batch)
    return batch.light
