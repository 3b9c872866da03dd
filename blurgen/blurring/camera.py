"""Blur → camera: how a sensor turns averaged light into pixel values (docs/design.md §5), per image.

Real blur averages light, not sRGB values. A :class:`Camera` is an ordered list of steps, in the
order the camera itself applies them to light, from the sensor outward (e.g. sensor → white
balance → tone curve → JPEG). Exposing a sharp image walks the list twice: backwards before the
blur, undoing what each step did to the photo (the tone curve decodes, white balance divides its
gains out, saturation restores the light that clipped), then forwards after the blur, doing it
again to the blurred light (the sensor clips and adds noise, the tone curve encodes, JPEG
compresses). Each step is one class: its draws, its NumPy apply here and its batched torch twin
in :mod:`blurgen.blurring.camera_torch`.

The presets (:data:`CAMERA_PRESETS`):

* ``none`` — blur the sRGB values as they are (what DeblurGAN did; mean intensity is kept);
* ``gamma`` — undo a 2.2 power law, blur, re-apply it (as GoPro's ``blur_gamma``);
* ``noisy`` — blur of the encoded values, as ``none``, then shot and read noise of
  ``realistic``'s levels on them: what averaged video frames and captures stored without a tone
  curve look like;
* ``mixed`` — as ``gamma`` with each sample's exponent drawn from U(1, 2.2): from blur of the
  encoded values (exponent 1, as ``none``) to blur of linear light;
* ``realistic`` — after RSBlur (Rim et al., ECCV 2022): sRGB curve → linear; saturation (pixels
  clipped in the sharp image get α ~ U(0.25, 1.75) more light before the blur, because the scene
  was brighter there than the sensor could record; RSBlur adds α times the blurred mask after
  the blur, which is the same by linearity); clip; Poisson–Gaussian noise of variance
  ``β1·x + β2`` (β1 = 8.89e-5, β2 = 2.94e-5, each × U(0.5, 1.5)), none where the sensor
  saturated; back to sRGB;
* ``wide`` — a mixture of acquisitions, drawn per sample: the exponent of ``mixed``, saturation,
  sensor noise from none to 1.5× RealBlur's (β factor ~ U(0, 1.5)), and JPEG at quality 75–95
  for half of the samples (the qualities phones and cameras save at);
* ``raw`` — RSBlur's raw pipeline: sRGB curve → linear, white balance divided out (red and blue
  gains drawn from U(1.9, 2.4) and U(1.5, 1.9), the range Brooks et al. 2019 measured on
  cameras) → camera raw; saturation and blur in raw; an RGGB Bayer mosaic; shot and read noise on
  the mosaic; bilinear demosaicking (OpenCV, on 16-bit values as a raw file holds them); white
  balance and the sRGB curve forward; JPEG at quality 75–95 for half of the samples.

Every random value is drawn from the sample's counter-based stream by the step that uses it,
under the step's own names (:data:`CameraDraws`), and stored in the sample's metadata. The noise
field is :func:`blurgen.rng.normal_field` of the same stream, so it too depends only on (seed,
sample index), and the batched torch path makes the very same noise.
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

from blurgen.blurring.convolve import Border, blur_planes
from blurgen.rng import PairCounter, noise_index, noise_word, normal_table

if TYPE_CHECKING:
    import torch

Curve = Literal["none", "gamma", "srgb"]
CURVES = ("none", "gamma", "srgb")
NORMAL_TABLE = normal_table()
RAW_LEVELS = 65535  # a raw mosaic is demosaicked as 16-bit values, as a raw file holds them

CameraDraws = dict[str, float]
"""One sample's camera draws by name (e.g. ``{"beta1": 8e-5, "beta2": 3e-5}``); a step whose
draw is missing applies its neutral value (no noise, no JPEG, no saturation boost, its own gamma)."""

Uniform = Callable[[int], float]  # the sample's stream: counter → U[0, 1)


def between(bounds: tuple[float, float], counter: int, uniform: Uniform) -> float:
    """A value drawn uniformly from ``bounds`` at ``counter`` of the sample's stream."""
    return bounds[0] + (bounds[1] - bounds[0]) * uniform(counter)


def check_range(name: str, bounds: tuple[float, float] | None, low: float = 0.0) -> None:
    if bounds is not None and (len(bounds) != 2 or bounds[0] > bounds[1] or bounds[0] < low):
        raise ValueError(f"{name} must be a (low, high) range with {low:g} <= low <= high, got {bounds}")


@dataclass
class Exposure:
    """One image on its way through the camera's steps.

    ``sharp``: the encoded sharp planes as given (H×W each, uint8, uint16 or float in [0, 1]);
    ``light``: float32 C×H×W, set by the tone curve (linear light, or after the last steps the
    encoded values again); a Bayer mosaic is 1×H×W with its ``pattern`` noted; ``noise_key``: the
    key of the sample's noise field.
    """

    sharp: list[np.ndarray]
    noise_key: int
    light: np.ndarray | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class Step:
    """One stage of a camera. ``draw`` reads the sample's stream; ``before`` undoes the stage on
    the sharp image before the blur, ``after`` applies it to the blurred light (both in place on
    an :class:`Exposure`). Subclasses name their draws in ``DRAWS`` (the integer ones in ``WHOLE``)."""

    KIND: ClassVar[str] = ""
    DRAWS: ClassVar[tuple[str, ...]] = ()
    WHOLE: ClassVar[tuple[str, ...]] = ()

    def draw_names(self) -> tuple[str, ...]:
        """The names this step draws with its settings (some draw nothing when switched off)."""
        return self.DRAWS

    def draw(self, uniform: Uniform) -> CameraDraws:
        return {}

    def before(self, exposure: Exposure, drawn: CameraDraws) -> None:
        pass

    def after(self, exposure: Exposure, drawn: CameraDraws) -> None:
        pass

    def to_dict(self) -> dict:
        return {"step": self.KIND, **asdict(self)}


# ---- tone curve ------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class ToneCurve(Step):
    """The curve that encoded the photo: undone before the blur, re-applied after it. Every
    camera has exactly one (``none`` keeps the values as they are).

    Args:
        curve: ``none``, ``gamma`` (a power law) or ``srgb`` (IEC 61966-2-1).
        gamma: exponent of the ``gamma`` curve.
        gamma_range: with ``gamma``: each sample draws its exponent (``gamma``) uniformly from
            this (low, high) range instead; 1 blurs the encoded values as they are.
    """

    curve: Curve = "none"
    gamma: float = 2.2
    gamma_range: tuple[float, float] | None = None

    KIND: ClassVar[str] = "tone_curve"
    DRAWS: ClassVar[tuple[str, ...]] = ("gamma",)

    def __post_init__(self) -> None:
        if self.curve not in CURVES:
            raise ValueError(f"curve must be one of {CURVES}, got {self.curve!r}")
        if not self.gamma > 0:
            raise ValueError(f"gamma must be > 0, got {self.gamma}")
        if self.gamma_range is not None and (self.curve != "gamma" or len(self.gamma_range) != 2
                                              or not 0 < self.gamma_range[0] <= self.gamma_range[1]):
            raise ValueError(f"gamma_range must be a (low, high) range of exponents > 0 with the gamma curve, got {self.gamma_range}")

    def draw_names(self) -> tuple[str, ...]:
        return self.DRAWS if self.gamma_range else ()

    def draw(self, uniform: Uniform) -> CameraDraws:
        return {"gamma": between(self.gamma_range, PairCounter.GAMMA, uniform)} if self.gamma_range else {}

    def drawn(self, drawn: CameraDraws) -> ToneCurve:
        """This curve with the sample's exponent in place of the range."""
        return replace(self, gamma=drawn["gamma"], gamma_range=None) if self.gamma_range and "gamma" in drawn else self

    def to_linear(self, values: np.ndarray) -> np.ndarray:
        """Float [0, 1] → linear light [0, 1]."""
        if self.curve == "srgb":
            return srgb_to_linear(values)
        if self.curve == "gamma":
            return values ** np.asarray(self.gamma, dtype=values.dtype)
        return values

    def from_linear(self, values: np.ndarray) -> np.ndarray:
        """Linear [0, 1] → encoded [0, 1]."""
        if self.curve == "srgb":
            return linear_to_srgb(values)
        if self.curve == "gamma":
            return values ** np.asarray(1.0 / self.gamma, dtype=values.dtype)
        return values

    def before(self, exposure: Exposure, drawn: CameraDraws) -> None:
        curve = self.drawn(drawn)
        exposure.light = np.stack([linearise(plane, curve) for plane in exposure.sharp])  # contiguous C×H×W

    def after(self, exposure: Exposure, drawn: CameraDraws) -> None:
        exposure.light = self.drawn(drawn).from_linear(exposure.light)

    def to_dict(self) -> dict:
        record = super().to_dict()
        if self.gamma_range is None:
            del record["gamma_range"]
        return record


@lru_cache(maxsize=16)
def linear_table(curve: ToneCurve, levels: int) -> np.ndarray:
    """float32 lookup table: integer code value (0..levels-1) → linear light, for ``curve``."""
    return curve.to_linear(np.arange(levels, dtype=np.float64) / (levels - 1)).astype(np.float32)


def linearise(sharp: np.ndarray, curve: ToneCurve) -> np.ndarray:
    """Encoded image → float32 linear light. uint8/uint16 go through an exact lookup table."""
    if sharp.dtype == np.uint8:
        return cv2.LUT(sharp, linear_table(curve, 256)).reshape(sharp.shape)  # SIMD, 4× numpy's take
    if sharp.dtype == np.uint16:
        return linear_table(curve, np.iinfo(sharp.dtype).max + 1)[sharp]
    return curve.to_linear(sharp.astype(np.float32))


# ---- saturation ------------------------------------------------------------------------------


def clipped_mask(planes: list[np.ndarray], threshold: float) -> np.ndarray:
    """float32 H×W: 1 where any encoded plane is at or above ``threshold`` (a fraction of full scale)."""
    full_scale = np.iinfo(planes[0].dtype).max if np.issubdtype(planes[0].dtype, np.integer) else 1.0
    brightest = planes[0]
    for plane in planes[1:]:
        brightest = np.maximum(brightest, plane)
    return (brightest >= threshold * full_scale).astype(np.float32)


@dataclass(frozen=True)
class Saturation(Step):
    """Light the photo could not record: where the sharp image clipped, the scene was brighter,
    so before the blur those pixels get ``saturation_alpha`` ~ U(``alpha``) more light (the
    sensor clips it again after the blur).

    Args:
        alpha: range of α, the light added to clipped pixels (linear, full scale 1).
        threshold: an encoded value (fraction of full scale) at or above which a pixel clipped.
    """

    alpha: tuple[float, float] = (0.25, 1.75)
    threshold: float = 250 / 255

    KIND: ClassVar[str] = "saturation"
    DRAWS: ClassVar[tuple[str, ...]] = ("saturation_alpha",)

    def __post_init__(self) -> None:
        check_range("saturation alpha", self.alpha)

    def draw(self, uniform: Uniform) -> CameraDraws:
        return {"saturation_alpha": between(self.alpha, PairCounter.SATURATION, uniform)}

    def before(self, exposure: Exposure, drawn: CameraDraws) -> None:
        alpha = drawn.get("saturation_alpha", 0.0)
        if alpha > 0:
            exposure.light += np.float32(alpha) * clipped_mask(exposure.sharp, self.threshold)


# ---- sensor ----------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Sensor(Step):
    """The sensor after the blur: light at or above full scale saturates (1), the rest gets
    Poisson–Gaussian noise of variance ``beta1·x + beta2`` and is clipped to [0, 1]. Every camera
    has exactly one. On a Bayer mosaic the noise is the mosaic's, one value per photosite.

    Args:
        noise: range of the factor on ``beta1`` and ``beta2`` drawn per sample, or ``None``: no noise.
        beta1: signal-dependent noise variance in linear light (RealBlur's).
        beta2: constant noise variance in linear light (RealBlur's).
    """

    noise: tuple[float, float] | None = None
    beta1: float = 8.89e-5
    beta2: float = 2.94e-5

    KIND: ClassVar[str] = "sensor"
    DRAWS: ClassVar[tuple[str, ...]] = ("beta1", "beta2")

    def __post_init__(self) -> None:
        check_range("noise", self.noise)
        if self.beta1 < 0 or self.beta2 < 0:
            raise ValueError("beta1 and beta2 are variances and must be >= 0")

    def draw_names(self) -> tuple[str, ...]:
        return self.DRAWS if self.noise else ()

    def draw(self, uniform: Uniform) -> CameraDraws:
        if not self.noise:
            return {}
        return {"beta1": self.beta1 * between(self.noise, PairCounter.BETA1, uniform),
                "beta2": self.beta2 * between(self.noise, PairCounter.BETA2, uniform)}

    def after(self, exposure: Exposure, drawn: CameraDraws) -> None:
        exposure.light = np.ascontiguousarray(exposure.light, dtype=np.float32)
        finish_exposure(exposure.light, drawn.get("beta1", 0.0), drawn.get("beta2", 0.0), self.noise is not None,
                        np.uint64(exposure.noise_key), NORMAL_TABLE)


# ---- white balance and the Bayer mosaic (the raw camera) ---------------------------------------


@dataclass(frozen=True)
class WhiteBalance(Step):
    """The camera's white balance: raw red and blue are multiplied by gains > 1 to make a grey
    scene grey. Before the blur the sample's gains are divided out (sRGB → camera raw); after
    it they are applied again and the result clipped at full scale, where the camera clips it.

    Args:
        red: range of the red gain (``red_gain``).
        blue: range of the blue gain (``blue_gain``).
    """

    red: tuple[float, float] = (1.9, 2.4)
    blue: tuple[float, float] = (1.5, 1.9)

    KIND: ClassVar[str] = "white_balance"
    DRAWS: ClassVar[tuple[str, ...]] = ("red_gain", "blue_gain")

    def __post_init__(self) -> None:
        check_range("red gains", self.red, low=1e-3)
        check_range("blue gains", self.blue, low=1e-3)

    def draw(self, uniform: Uniform) -> CameraDraws:
        return {"red_gain": between(self.red, PairCounter.RED_GAIN, uniform),
                "blue_gain": between(self.blue, PairCounter.BLUE_GAIN, uniform)}

    def gains(self, drawn: CameraDraws, channels: int) -> np.ndarray:
        if channels != 3:
            raise ValueError(f"white balance needs RGB images, got {channels} channel(s)")
        return np.array([drawn.get("red_gain", 1.0), 1.0, drawn.get("blue_gain", 1.0)], np.float32)[:, None, None]

    def before(self, exposure: Exposure, drawn: CameraDraws) -> None:
        exposure.light /= self.gains(drawn, exposure.light.shape[0])

    def after(self, exposure: Exposure, drawn: CameraDraws) -> None:
        light = exposure.light * self.gains(drawn, exposure.light.shape[0])
        exposure.light = np.minimum(light, np.float32(1.0), out=light)


PATTERNS = {"rggb": ((0, 1), (1, 2))}  # channel of each photosite in a 2×2 tile, by (row % 2, column % 2)
BAYER_TO_RGB = {"rggb": cv2.COLOR_BayerBG2RGB}  # OpenCV names a pattern by the 2×2 tile at (1, 1)


def mosaic(light: np.ndarray, pattern: str = "rggb") -> np.ndarray:
    """float C×H×W RGB → 1×H×W: each photosite keeps the channel its colour filter passes."""
    if light.shape[0] != 3:
        raise ValueError(f"a Bayer mosaic needs RGB light, got {light.shape[0]} channel(s)")
    out = np.empty((1, *light.shape[1:]), light.dtype)
    for row in range(2):
        for column in range(2):
            out[0, row::2, column::2] = light[PATTERNS[pattern][row][column], row::2, column::2]
    return out


def demosaic(raw: np.ndarray, pattern: str = "rggb") -> np.ndarray:
    """1×H×W float mosaic in [0, 1] → float32 3×H×W: OpenCV's bilinear demosaicking of the
    mosaic as 16-bit values (the 1-px border copies its inner neighbour, as OpenCV does)."""
    codes = np.rint(raw[0] * RAW_LEVELS).astype(np.uint16)
    rgb = cv2.cvtColor(codes, BAYER_TO_RGB[pattern])
    return np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32) * np.float32(1 / RAW_LEVELS)


@dataclass(frozen=True)
class Mosaic(Step):
    """The colour filter array: after the blur, each photosite keeps one colour (the sensor's
    noise, the next step, lands on the mosaic)."""

    pattern: str = "rggb"

    KIND: ClassVar[str] = "mosaic"

    def __post_init__(self) -> None:
        if self.pattern not in PATTERNS:
            raise ValueError(f"pattern must be one of {', '.join(PATTERNS)}, got {self.pattern!r}")

    def after(self, exposure: Exposure, drawn: CameraDraws) -> None:
        exposure.light, exposure.pattern = mosaic(exposure.light, self.pattern), self.pattern


@dataclass(frozen=True)
class Demosaic(Step):
    """The camera's demosaicking: the mosaic back to RGB (bilinear, OpenCV)."""

    KIND: ClassVar[str] = "demosaic"

    def after(self, exposure: Exposure, drawn: CameraDraws) -> None:
        exposure.light, exposure.pattern = demosaic(exposure.light, exposure.pattern), None


# ---- JPEG ------------------------------------------------------------------------------------


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


def to_hwc(planes: np.ndarray) -> np.ndarray:
    """C×H×W → H×W×C."""
    return cv2.merge(list(planes)) if len(planes) > 1 else planes[0][:, :, None]


@dataclass(frozen=True)
class Jpeg(Step):
    """JPEG compression of the encoded image, at a quality (``jpeg_quality``) drawn from an
    inclusive range, for a share of the samples (0 records an uncompressed one).

    Args:
        quality: inclusive (low, high) range of JPEG quality, 1–100.
        share: the probability that a sample is compressed at all.
    """

    quality: tuple[int, int] = (75, 95)
    share: float = 1.0

    KIND: ClassVar[str] = "jpeg"
    DRAWS: ClassVar[tuple[str, ...]] = ("jpeg_quality",)
    WHOLE: ClassVar[tuple[str, ...]] = ("jpeg_quality",)

    def __post_init__(self) -> None:
        if len(self.quality) != 2 or not 1 <= self.quality[0] <= self.quality[1] <= 100:
            raise ValueError(f"jpeg quality must be a (low, high) range in 1..100, got {self.quality}")
        if not 0 <= self.share <= 1:
            raise ValueError(f"jpeg share is a probability in [0, 1], got {self.share}")

    def draw(self, uniform: Uniform) -> CameraDraws:
        if self.share < 1.0 and not uniform(PairCounter.JPEG_SHARE) < self.share:
            return {"jpeg_quality": 0}
        low, high = self.quality
        return {"jpeg_quality": min(low + int(uniform(PairCounter.JPEG) * (high - low + 1)), high)}

    def after(self, exposure: Exposure, drawn: CameraDraws) -> None:
        quality = int(drawn.get("jpeg_quality", 0))
        if quality:
            exposure.light = np.ascontiguousarray(jpeg_roundtrip(to_hwc(exposure.light), quality).transpose(2, 0, 1))

    def to_dict(self) -> dict:
        record = super().to_dict()
        if self.share == 1.0:
            del record["share"]
        return record


# ---- the camera ------------------------------------------------------------------------------


STEPS: tuple[type[Step], ...] = (Saturation, Mosaic, Sensor, Demosaic, WhiteBalance, ToneCurve, Jpeg)
"""Every kind of step, in the one order a camera may hold them (from the sensor outward)."""


@dataclass(frozen=True)
class Camera:
    """What the camera does around the blur: its steps, from the sensor outward.

    Every camera has one :class:`Sensor` and one :class:`ToneCurve`; the other steps are
    optional, at most one of each, in the order of :data:`STEPS`; a :class:`Mosaic` comes with
    a :class:`Demosaic`. ``name`` is the preset's name, for records.
    """

    steps: tuple[Step, ...] = (Sensor(), ToneCurve())
    name: str = ""

    def __post_init__(self) -> None:
        kinds = [type(step) for step in self.steps]
        if any(kind not in STEPS for kind in kinds):
            raise ValueError(f"camera steps must be of the kinds {', '.join(k.__name__ for k in STEPS)}, got {self.steps}")
        if kinds != sorted(set(kinds), key=STEPS.index):
            raise ValueError(f"camera steps go once each, in the order {' → '.join(k.KIND for k in STEPS)}; got "
                             f"{' → '.join(k.KIND for k in kinds)}")
        if Sensor not in kinds or ToneCurve not in kinds:
            raise ValueError("a camera has a sensor and a tone curve")
        if (Mosaic in kinds) != (Demosaic in kinds):
            raise ValueError("a Bayer mosaic needs demosaicking after the sensor, and demosaicking a mosaic")

    def step(self, kind: type[Step]) -> Step | None:
        """The camera's step of ``kind``, or None."""
        return next((step for step in self.steps if type(step) is kind), None)

    @property
    def tone_curve(self) -> ToneCurve:
        return self.step(ToneCurve)

    @property
    def columns(self) -> tuple[str, ...]:
        """The names of the camera's draws, in step order: the columns of its tensor form."""
        return tuple(name for step in self.steps for name in step.draw_names())

    def to_dict(self) -> dict:
        """The preset's name and each step's settings, as pair and dataset records hold them."""
        return {"name": self.name, "steps": [step.to_dict() for step in self.steps]}

    def draws_tensor(self, drawn: CameraDraws) -> torch.Tensor:
        """float32 (D,) in :attr:`columns` order, D = len(columns): one row of a batch's draws."""
        import torch

        return torch.tensor([float(drawn[name]) for name in self.columns], dtype=torch.float32)

    def draws_from_tensor(self, row: torch.Tensor) -> CameraDraws:
        """The draws of a row written by :meth:`draws_tensor`."""
        whole = {name for step in self.steps for name in step.WHOLE}
        return {name: int(value) if name in whole else value for name, value in zip(self.columns, row.tolist())}

    def check_draws(self, draws: torch.Tensor) -> None:
        """Refuse a batch's draws that are not (B, D) with this camera's D columns."""
        if draws.ndim != 2 or draws.shape[1] != len(self.columns):
            raise ValueError(f"camera {self.name or '(unnamed)'}'s draws must be (B, {len(self.columns)}) with columns "
                             f"{', '.join(self.columns) or '(none)'}, got {tuple(draws.shape)}")

    def column(self, draws: torch.Tensor, name: str) -> torch.Tensor:
        """Column ``name`` of a batch's draws (B, D): a (B,) tensor."""
        self.check_draws(draws)
        return draws[:, self.columns.index(name)]


CAMERA_PRESETS: dict[str, Camera] = {
    "none": Camera((Sensor(), ToneCurve()), "none"),
    "gamma": Camera((Sensor(), ToneCurve("gamma")), "gamma"),
    "noisy": Camera((Sensor(noise=(0.5, 1.5)), ToneCurve()), "noisy"),
    "mixed": Camera((Sensor(), ToneCurve("gamma", gamma_range=(1.0, 2.2))), "mixed"),
    "realistic": Camera((Saturation(), Sensor(noise=(0.5, 1.5)), ToneCurve("srgb")), "realistic"),
    "wide": Camera((Saturation(), Sensor(noise=(0.0, 1.5)), ToneCurve("gamma", gamma_range=(1.0, 2.2)), Jpeg((75, 95), share=0.5)),
                   "wide"),
    "raw": Camera((Saturation(), Mosaic(), Sensor(noise=(0.5, 1.5)), Demosaic(), WhiteBalance(), ToneCurve("srgb"),
                   Jpeg((75, 95), share=0.5)), "raw"),
}


def camera_preset(name: str = "none") -> Camera:
    """The camera called ``name`` in :data:`CAMERA_PRESETS`."""
    if name not in CAMERA_PRESETS:
        raise ValueError(f"unknown camera preset {name!r}; choose one of {', '.join(CAMERA_PRESETS)}")
    return CAMERA_PRESETS[name]


RESPONSES = ("srgb", "gamma", "none")  # inverse camera responses video frames are averaged through
FRAME_STEPS = (Saturation, Sensor, ToneCurve, Jpeg)  # what a camera may do to averaged video frames


def response_camera(camera: Camera, response: str) -> Camera:
    """``camera`` for averaging video frames: its tone curve is the inverse of ``response`` (one of
    :data:`RESPONSES`); its noise and JPEG stay. The saturation boost is dropped: frames clip where
    the scene did, so their average already does. Frames are averaged in the light their
    response gives back, so a camera that works in raw (white balance, a mosaic) cannot be used."""
    if response not in RESPONSES:
        raise ValueError(f"response must be one of {', '.join(RESPONSES)}, got {response!r}")
    if any(type(step) not in FRAME_STEPS for step in camera.steps):
        raise ValueError(f"video frames are averaged through their response, not in camera raw: camera {camera.name or 'raw'} "
                         f"cannot be used with averaging; choose one of {', '.join(n for n, c in CAMERA_PRESETS.items() if c.step(Mosaic) is None)}")
    steps = tuple(ToneCurve(response) if isinstance(step, ToneCurve) else step for step in camera.steps if not isinstance(step, Saturation))
    return Camera(steps, camera.name)


def draw_camera(camera: Camera, uniform: Uniform) -> CameraDraws:
    """Draw a sample's camera values, step by step; ``uniform(counter)`` reads the sample's stream in [0, 1)."""
    return {name: value for step in camera.steps for name, value in step.draw(uniform).items()}


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
            for photos); C = 3 for cameras with white balance or a mosaic.
        kernel: the PSF, K×K.
        camera: the camera.
        draws: this sample's random values (:func:`draw_camera`).
        noise_key: the key of the noise field (the sample's stream key).
        border: as in :func:`blurgen.blurring.convolve.blur`.

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
    """:func:`expose` with any blur: ``blur`` takes the sharp image's light as the camera's steps
    leave it before the blur (float32 C×H×W, saturation boost included) and returns the blurred
    light (float32 C×h×w), e.g. an average of warped images (:mod:`blurgen.blurring.nonuniform`).
    Returns float32 h×w×C in [0, 1].
    """
    if sharp.ndim != 3:
        raise ValueError(f"expose takes an H×W×C image, got shape {sharp.shape}")
    exposure = Exposure(cv2.split(sharp), noise_key)
    for step in reversed(camera.steps):
        step.before(exposure, draws)
    exposure.light = np.ascontiguousarray(blur(exposure.light), dtype=np.float32)
    return finish_light(exposure, camera, draws)


def expose_light(light: np.ndarray, camera: Camera, draws: CameraDraws, *, noise_key: int = 0) -> np.ndarray:
    """The camera's steps after the blur, on light already blurred some other way: ``light`` float32
    C×H×W, linear through the camera's curve, e.g. the mean light of video frames
    (:func:`blurgen.pairs.video.mean_light`), which no sharp image's light went into. Returns
    float32 H×W×C in [0, 1]."""
    return finish_light(Exposure([], noise_key, np.ascontiguousarray(light, dtype=np.float32)), camera, draws)


def finish_light(exposure: Exposure, camera: Camera, draws: CameraDraws) -> np.ndarray:
    """The steps after the blur (curve back, noise, JPEG, ...) on ``exposure.light``: float32 H×W×C."""
    for step in camera.steps:
        step.after(exposure, draws)
    return np.ascontiguousarray(to_hwc(exposure.light), dtype=np.float32)
