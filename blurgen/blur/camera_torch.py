"""Blur → camera for batches in torch (CPU or GPU): the :mod:`blurgen.blur.camera` pipeline, batched.

Per-sample random values arrive as tensors (one row of :class:`~blurgen.blur.camera.CameraDraws`
per sample, drawn on the host from each sample's stream). The noise field is made on the device
by the counter-based hash of :func:`blurgen.rng.normal_field` (SplitMix64 in wrapping int64
arithmetic and a normal quantile table), keyed by each sample's stream key: the same numbers on the CPU, on a
GPU and in the per-image path, depending only on (seed, i).
"""

from __future__ import annotations

import warnings

import torch

from blurgen.blur.camera import Camera, CameraDraws
from blurgen.blur.convolve import Border
from blurgen.blur.convolve_torch import blur_batch
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


def to_linear(values: torch.Tensor, camera: Camera, gamma: float | torch.Tensor | None = None) -> torch.Tensor:
    """Undo the camera's curve; ``gamma``: the exponent (a float, or B×1×1×1 per sample) if not the camera's."""
    if camera.curve == "srgb":
        return srgb_to_linear(values)
    if camera.curve == "gamma":
        return values.clamp(min=0) ** (camera.gamma if gamma is None else gamma)
    return values


def from_linear(values: torch.Tensor, camera: Camera, gamma: float | torch.Tensor | None = None) -> torch.Tensor:
    """Re-apply the camera's curve, as :func:`to_linear` undoes it."""
    if camera.curve == "srgb":
        return linear_to_srgb(values)
    if camera.curve == "gamma":
        return values.clamp(min=0) ** (1.0 / (camera.gamma if gamma is None else gamma))
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
        kernels: B×K×K (or a list, as :func:`blurgen.blur.convolve_torch.blur_batch` takes).
        camera: the camera (one for the batch).
        draws: float (B, 5): each sample's :class:`~blurgen.blur.camera.CameraDraws` as
            :meth:`~blurgen.blur.camera.CameraDraws.to_tensor` writes them.
        noise_keys: int64 (B,) sample stream keys (:func:`signed_key`).

    Returns:
        B×C×H'×W' float32 in [0, 1] (H' = H-K+1 for ``"valid"``).
    """
    values = sharp.float()
    draws = draws.to(device=values.device, dtype=torch.float32)

    def drawn(name: str) -> torch.Tensor:  # B×1×1×1, to scale B×C×H×W
        return CameraDraws.column(draws, name)[:, None, None, None]

    gamma = drawn("gamma") if camera.gamma_range is not None else None
    linear = to_linear(values, camera, gamma)
    if camera.saturation is not None:  # more light where the sharp image clipped (see blurgen.blur.camera)
        clipped = (values.amax(dim=1, keepdim=True) >= camera.saturation_threshold).float()
        linear = linear + drawn("saturation_alpha") * clipped
    linear = blur_batch(linear, kernels, border=border)
    saturated = linear >= 1.0
    linear = linear.clamp(0.0, 1.0)
    if camera.noise is not None:
        sigma = torch.sqrt(drawn("beta1") * linear + drawn("beta2"))
        noise = noise_field(noise_keys.to(values.device), tuple(linear.shape[1:]))
        linear = torch.where(saturated, 1.0, linear + sigma * noise).clamp(0.0, 1.0)
    encoded = from_linear(linear, camera, gamma)
    if camera.jpeg_quality is not None:
        encoded = jpeg_roundtrip_batch(encoded, CameraDraws.column(draws, "jpeg_quality"))
    return encoded
