"""Blur → camera: how a sensor turns averaged light into pixel values (docs/design.md §5), per image.

Real blur averages light, not sRGB values. A :class:`Camera` says how to undo the tone curve
before blurring, what to add in linear light, and how to encode the result again:

* ``none`` — blur the sRGB values as they are (what DeblurGAN did; mean intensity is kept);
* ``gamma`` — undo a 2.2 power law, blur, re-apply it (as GoPro's ``blur_gamma``);
* ``mixed`` — as ``gamma`` with each sample's exponent drawn from U(1, 2.2): from blur of the
  encoded values (exponent 1, as ``none``) to blur of linear light, for photos whose blur was
  made or processed either way;
* ``realistic`` — after RSBlur (Rim et al., ECCV 2022): sRGB curve → linear; saturation (pixels
  clipped in the sharp image get α ~ U(0.25, 1.75) more light before the blur, because the scene
  was brighter there than the sensor could record; RSBlur adds α times the blurred mask after
  the blur, which is the same by linearity); clip; Poisson–Gaussian
  noise of variance ``β1·x + β2`` (β1 = 8.89e-5, β2 = 2.94e-5, each × U(0.5, 1.5)), none where
  the sensor saturated; back to sRGB; optional JPEG with a quality drawn from a range.
* ``wide`` — a mixture of acquisitions, drawn per sample: the exponent of ``mixed`` (blur of the
  encoded values to blur of linear light), saturation, sensor noise from none to 1.5× RealBlur's
  (β factor ~ U(0, 1.5)), and JPEG at quality 75–95 for half of the samples (the qualities
  phones and cameras save at).

Every random value is a :class:`CameraDraws` drawn from the sample's counter-based stream and
stored in the sample's metadata. The noise field is :func:`blurgen.rng.normal_field` of the same
stream, so it too depends only on (seed, sample index), and the batched torch path
(:mod:`blurgen.blur.camera_torch`) makes the very same noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar, Literal

import math

import cv2
import numpy as np
from numba import njit

from blurgen.blur.convolve import Border, blur_planes
from blurgen.rng import PairCounter, noise_index, noise_word, normal_table

if TYPE_CHECKING:
    import torch

Curve = Literal["none", "gamma", "srgb"]
CURVES = ("none", "gamma", "srgb")
NORMAL_TABLE = normal_table()


@dataclass(frozen=True)
class Camera:
    """What the camera does around the blur. Fields set to ``None`` switch a stage off.

    Args:
        curve: tone curve undone before and re-applied after the blur.
        gamma: exponent of the ``gamma`` curve.
        gamma_range: with the ``gamma`` curve: each sample draws its exponent uniformly from this
            (low, high) range instead (1 blurs the encoded values as they are).
        saturation: range of α, the weight of the blurred clipped-pixel mask in linear light.
        saturation_threshold: an sRGB value (0–1) at or above which a sharp pixel counts as clipped.
        noise: range of the factor on β1 and β2 (Poisson–Gaussian noise), or ``None``.
        beta1: signal-dependent noise variance in linear light (RealBlur's).
        beta2: constant noise variance in linear light (RealBlur's).
        jpeg_quality: inclusive range of JPEG quality, or ``None`` for no JPEG.
        jpeg_share: with ``jpeg_quality``, the probability that a sample is JPEG-compressed at all.
    """

    curve: Curve = "none"
    gamma: float = 2.2
    gamma_range: tuple[float, float] | None = None
    saturation: tuple[float, float] | None = None
    saturation_threshold: float = 250 / 255
    noise: tuple[float, float] | None = None
    beta1: float = 8.89e-5
    beta2: float = 2.94e-5
    jpeg_quality: tuple[int, int] | None = None
    jpeg_share: float = 1.0

    def __post_init__(self) -> None:
        if self.curve not in CURVES:
            raise ValueError(f"curve must be one of {CURVES}, got {self.curve!r}")
        if not self.gamma > 0:
            raise ValueError(f"gamma must be > 0, got {self.gamma}")
        if self.gamma_range is not None and (self.curve != "gamma" or len(self.gamma_range) != 2
                                              or not 0 < self.gamma_range[0] <= self.gamma_range[1]):
            raise ValueError(f"gamma_range must be a (low, high) range of exponents > 0 with the gamma curve, got {self.gamma_range}")
        for name in ("saturation", "noise", "jpeg_quality"):
            value = getattr(self, name)
            if value is not None and (len(value) != 2 or value[0] > value[1] or value[0] < 0):
                raise ValueError(f"{name} must be a (low, high) range with 0 <= low <= high, got {value}")
        if self.jpeg_quality is not None and not 1 <= self.jpeg_quality[0] <= self.jpeg_quality[1] <= 100:
            raise ValueError(f"jpeg_quality must lie in 1..100, got {self.jpeg_quality}")
        if self.beta1 < 0 or self.beta2 < 0:
            raise ValueError("beta1 and beta2 are variances and must be >= 0")
        if not 0 <= self.jpeg_share <= 1:
            raise ValueError(f"jpeg_share is a probability in [0, 1], got {self.jpeg_share}")

    def to_dict(self) -> dict:
        """The fields; ``gamma_range`` and ``jpeg_share`` only when set, so that records of cameras
        without them stay as they were."""
        record = asdict(self)
        if self.gamma_range is None:
            del record["gamma_range"]
        if self.jpeg_share == 1.0:
            del record["jpeg_share"]
        return record


CAMERA_PRESETS: dict[str, Camera] = {
    "none": Camera(),
    "gamma": Camera(curve="gamma"),
    "mixed": Camera(curve="gamma", gamma_range=(1.0, 2.2)),
    "realistic": Camera(curve="srgb", saturation=(0.25, 1.75), noise=(0.5, 1.5)),
    "wide": Camera(curve="gamma", gamma_range=(1.0, 2.2), saturation=(0.25, 1.75), noise=(0.0, 1.5), jpeg_quality=(75, 95),
                   jpeg_share=0.5),
}


def camera_preset(name: str = "none", **overrides: object) -> Camera:
    """A named camera with some fields replaced, e.g. ``camera_preset("realistic", jpeg_quality=(70, 95))``."""
    if name not in CAMERA_PRESETS:
        raise ValueError(f"unknown camera preset {name!r}; choose one of {', '.join(CAMERA_PRESETS)}")
    return replace(CAMERA_PRESETS[name], **{k: v for k, v in overrides.items() if v is not None})


@dataclass(frozen=True)
class CameraDraws:
    """The random values of one sample: α, the two noise variances, the JPEG quality (0: none)
    and the gamma exponent (None: the camera's own).

    On their way to the device, a batch's draws are one float32 tensor (B, 5) whose columns are
    :attr:`COLUMNS`: :meth:`to_tensor` writes a row, :meth:`column` reads a column by name.
    """

    saturation_alpha: float = 0.0
    beta1: float = 0.0
    beta2: float = 0.0
    jpeg_quality: int = 0
    gamma: float | None = None

    COLUMNS: ClassVar[tuple[str, ...]] = ("saturation_alpha", "beta1", "beta2", "jpeg_quality", "gamma")

    def to_tensor(self) -> torch.Tensor:
        """float32 (5,) in :attr:`COLUMNS` order; no gamma draw is written as 0."""
        import torch

        return torch.tensor([float(getattr(self, name) or 0.0) for name in self.COLUMNS], dtype=torch.float32)

    @classmethod
    def from_tensor(cls, row: torch.Tensor) -> CameraDraws:
        """The draws of one row written by :meth:`to_tensor`."""
        values = dict(zip(cls.COLUMNS, row.tolist()))
        return cls(**{**values, "jpeg_quality": int(values["jpeg_quality"]), "gamma": values["gamma"] or None})

    @classmethod
    def column(cls, draws: torch.Tensor, name: str) -> torch.Tensor:
        """Column ``name`` of a batch's draws (B, 5): a (B,) tensor."""
        if draws.ndim != 2 or draws.shape[1] != len(cls.COLUMNS):
            raise ValueError(f"camera draws must be (B, {len(cls.COLUMNS)}) with columns {', '.join(cls.COLUMNS)}, got {tuple(draws.shape)}")
        return draws[:, cls.COLUMNS.index(name)]


RESPONSES = ("srgb", "gamma", "none")  # inverse camera responses video frames are averaged through


def response_camera(camera: Camera, response: str) -> Camera:
    """``camera`` for averaging video frames: its tone curve is the inverse of ``response`` (one of
    :data:`RESPONSES`); its noise and JPEG stay. The saturation boost is dropped: frames clip where
    the scene did, so their average already does."""
    if response not in RESPONSES:
        raise ValueError(f"response must be one of {', '.join(RESPONSES)}, got {response!r}")
    return replace(camera, curve=response, gamma=2.2, gamma_range=None, saturation=None)  # a response is a tone curve


def draw_camera(camera: Camera, uniform: Callable[[int], float]) -> CameraDraws:
    """Draw a sample's camera values; ``uniform(counter)`` reads the sample's stream in [0, 1)."""

    def between(bounds: tuple[float, float] | None, counter: int) -> float:
        return bounds[0] + (bounds[1] - bounds[0]) * uniform(counter) if bounds else 0.0

    quality = 0
    if camera.jpeg_quality is not None and (camera.jpeg_share == 1.0 or uniform(PairCounter.JPEG_SHARE) < camera.jpeg_share):
        low, high = camera.jpeg_quality
        quality = min(low + int(uniform(PairCounter.JPEG) * (high - low + 1)), high)
    return CameraDraws(
        saturation_alpha=between(camera.saturation, PairCounter.SATURATION),
        beta1=camera.beta1 * between(camera.noise, PairCounter.BETA1) if camera.noise else 0.0,
        beta2=camera.beta2 * between(camera.noise, PairCounter.BETA2) if camera.noise else 0.0,
        jpeg_quality=quality,
        gamma=between(camera.gamma_range, PairCounter.GAMMA) if camera.gamma_range else None,
    )


def sample_camera(camera: Camera, draws: CameraDraws) -> Camera:
    """The camera one sample was made with: its drawn gamma exponent in place of the range."""
    return camera if draws.gamma is None else replace(camera, gamma=draws.gamma, gamma_range=None)


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 sRGB decoding of float values in [0, 1] (same dtype)."""
    out = ((values + 0.055) / 1.055) ** 2.4
    dark = values <= 0.04045
    out[dark] = values[dark] / 12.92
    return out.astype(values.dtype, copy=False)


def linear_to_srgb(values: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 sRGB encoding of float values in [0, 1] (same dtype)."""
    out = np.power(np.maximum(values, 0), 1 / 2.4, dtype=values.dtype)
    out *= 1.055
    out -= 0.055
    dark = values <= 0.0031308
    out[dark] = values[dark] * 12.92
    return out


def to_linear(values: np.ndarray, camera: Camera) -> np.ndarray:
    """Undo the camera's tone curve: float [0, 1] → linear light [0, 1]."""
    if camera.curve == "srgb":
        return srgb_to_linear(values)
    if camera.curve == "gamma":
        return values ** np.asarray(camera.gamma, dtype=values.dtype)
    return values


def from_linear(values: np.ndarray, camera: Camera) -> np.ndarray:
    """Re-apply the camera's tone curve: linear [0, 1] → encoded [0, 1]."""
    if camera.curve == "srgb":
        return linear_to_srgb(values)
    if camera.curve == "gamma":
        return values ** np.asarray(1.0 / camera.gamma, dtype=values.dtype)
    return values


def jpeg_roundtrip(values: np.ndarray, quality: int) -> np.ndarray:
    """Encode float [0, 1] RGB or grey (H×W×C, C = 1 or 3) as an 8-bit JPEG and decode it back."""
    channels = values.shape[2]
    if channels not in (1, 3):
        raise ValueError(f"JPEG needs 1 or 3 channels, got {channels}")
    pixels = np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)
    if channels == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV could not encode the JPEG")
    decoded = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED if channels == 1 else cv2.IMREAD_COLOR)
    if channels == 3:
        decoded = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    return (decoded.reshape(values.shape).astype(np.float32) / 255.0).astype(values.dtype)


@lru_cache(maxsize=16)
def linear_table(camera: Camera, levels: int) -> np.ndarray:
    """float32 lookup table: integer code value (0..levels-1) → linear light, for the camera's curve."""
    return to_linear(np.arange(levels, dtype=np.float64) / (levels - 1), camera).astype(np.float32)


def linearise(sharp: np.ndarray, camera: Camera) -> np.ndarray:
    """Encoded image → float32 linear light. uint8/uint16 go through an exact lookup table."""
    if sharp.dtype == np.uint8:
        return cv2.LUT(sharp, linear_table(camera, 256)).reshape(sharp.shape)  # SIMD, 4× numpy's take
    if sharp.dtype == np.uint16:
        return linear_table(camera, np.iinfo(sharp.dtype).max + 1)[sharp]
    return to_linear(sharp.astype(np.float32), camera)


def clipped_mask(planes: list[np.ndarray], threshold: float) -> np.ndarray:
    """float32 H×W: 1 where any encoded plane is at or above ``threshold`` (a fraction of full scale)."""
    full_scale = np.iinfo(planes[0].dtype).max if np.issubdtype(planes[0].dtype, np.integer) else 1.0
    brightest = planes[0]
    for plane in planes[1:]:
        brightest = np.maximum(brightest, plane)
    return (brightest >= threshold * full_scale).astype(np.float32)


@njit(cache=True)
def finish_exposure(linear: np.ndarray, beta1: float, beta2: float, noisy: bool, key: np.uint64, table: np.ndarray) -> None:
    """In place on blurred linear light (float32 C×H×W), one pass, a table read per pixel: where
    the sensor saturated (≥ 1) write 1; elsewhere add noise of variance β1·x + β2 (noise element
    e = the C×H×W index, as :func:`blurgen.rng.normal_field`) and clip to [0, 1]."""
    flat = linear.reshape(-1)
    beta1_32, beta2_32 = np.float32(beta1), np.float32(beta2)
    zero, one = np.float32(0.0), np.float32(1.0)
    count = flat.size
    for quad in range((count + 3) // 4):
        word = noise_word(key, quad) if noisy else np.uint64(0)
        for part in range(min(4, count - 4 * quad)):
            e = 4 * quad + part
            value = flat[e]
            if value >= one:
                flat[e] = one
                continue
            value = max(value, zero)
            if noisy:
                value += np.float32(math.sqrt(beta1_32 * value + beta2_32)) * table[noise_index(word, part)]
                value = min(max(value, zero), one)
            flat[e] = value


def expose(
    sharp: np.ndarray,
    kernel: np.ndarray,
    camera: Camera,
    draws: CameraDraws,
    *,
    noise_key: int = 0,
    border: Border = "valid",
) -> np.ndarray:
    """Blur a sharp image through the camera.

    Args:
        sharp: H×W×C, uint8, uint16 or float in [0, 1], encoded with the camera's curve (sRGB
            for photos).
        kernel: the PSF, K×K.
        camera: the camera.
        draws: this sample's random values (:func:`draw_camera`).
        noise_key: the key of the noise field (the sample's stream key).
        border: as in :func:`blurgen.blur.convolve.blur`.

    Returns:
        float32 in [0, 1], (H-K+1)×(W-K+1)×C for ``"valid"`` (K+1 for even K), H×W×C for ``"reflect"``.
    """
    return expose_with(sharp, lambda planes: blur_planes(planes, kernel, border=border), camera, draws, noise_key=noise_key)


def expose_with(
    sharp: np.ndarray,
    blur: Callable[[np.ndarray], np.ndarray],
    camera: Camera,
    draws: CameraDraws,
    *,
    noise_key: int = 0,
) -> np.ndarray:
    """:func:`expose` with any blur: ``blur`` takes the sharp image's linear light (float32 C×H×W,
    saturation boost included) and returns the blurred linear light (float32 C×h×w), e.g. an
    average of warped images (:mod:`blurgen.blur.nonuniform`). Returns float32 h×w×C in [0, 1].
    """
    if sharp.ndim != 3:
        raise ValueError(f"expose takes an H×W×C image, got shape {sharp.shape}")
    camera = sample_camera(camera, draws)
    encoded_planes = cv2.split(sharp)
    planes = np.stack([linearise(plane, camera) for plane in encoded_planes])  # contiguous C×H×W
    if camera.saturation is not None and draws.saturation_alpha > 0:
        planes += np.float32(draws.saturation_alpha) * clipped_mask(encoded_planes, camera.saturation_threshold)
    linear = np.ascontiguousarray(blur(planes), dtype=np.float32)
    finish_exposure(linear, draws.beta1, draws.beta2, camera.noise is not None, np.uint64(noise_key), NORMAL_TABLE)
    encoded = from_linear(linear, camera)
    encoded = cv2.merge(list(encoded)) if len(encoded) > 1 else encoded[0][:, :, None]
    if draws.jpeg_quality:
        encoded = jpeg_roundtrip(encoded, draws.jpeg_quality)
    return np.ascontiguousarray(encoded, dtype=np.float32)
