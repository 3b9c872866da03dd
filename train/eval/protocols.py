"""Scoring protocols: how a restored image is compared with its ground truth.

* ``plain`` (:mod:`train.eval.metrics`): PSNR and Gaussian SSIM over the whole 8-bit image, as
  GoPro, HIDE and most synthetic benchmarks are scored.
* ``realblur``: the protocol of the RealBlur and RSBlur authors' evaluation code, for captures
  that are not pixel-aligned with their ground truth. The image (8-bit, as saved, in [0, 1]) is
  scaled by the least-squares factor Σx·z / Σz·z onto the ground truth x; an ECC homography
  (OpenCV ``findTransformECC``, ``MOTION_HOMOGRAPHY``, 100 iterations, ε 0, Gaussian filter 5,
  on the grey images) maps it onto the ground truth, where it is resampled (cubic, reflected
  borders). PSNR is computed over the valid region only (the pixels the warp covers); SSIM
  (scikit-image, Gaussian 11, σ 1.5, population covariance, data range 1) is averaged over the
  valid region of its map, 5-px borders excluded, per channel, then over the channels. The
  blurred input is scored the same way (the RealBlur script does not align it; we do, so that
  the gain compares like with like).
* ``levin``: the protocol of Levin et al. (CVPR 2009) for their real camera-shake captures, which
  sit a few pixels off their sharp image: a border of 15 px of the ground truth is ignored, and
  the image is scored at the integer shift of up to ±5 px, each way, that gives the smallest
  squared error (their ``comp_upto_shift`` searches the same window in quarter pixels); PSNR and
  SSIM are those of that shift. The blurred input is scored the same way.
* ``kohler``: the protocol of Köhler et al. (ECCV 2012), whose ground truth is the sequence of
  sharp frames recorded along each shake's path. Against each frame x (8-bit levels): the image z
  is scaled by the least-squares factor Σx·z / Σz·z, registered to x by the peak of the
  cross-correlation of the two grey (channel-mean) images (whole pixels, as their
  ``dftregistration`` with upsampling 1), shifted there with zeros filling in, and the frame is
  zeroed where the shifted image has no pixels; PSNR (peak 255) over the whole image. The score is
  the best over the frames (their evaluation takes the maximum PSNR); SSIM is computed at the
  frame and shift of that best PSNR. The blurred input is scored the same way.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from blurgen.settings import check_choice

PROTOCOLS = ("plain", "realblur", "levin", "kohler")
ECC_ITERATIONS = 100
ECC_FILTER = 5
SSIM_BORDER = int(3.5 * 1.5 + 0.5)  # the Gaussian window's radius, as scikit-image and the RealBlur code use
REALBLUR_PROTOCOL = (
    "RealBlur/RSBlur authors' protocol: 8-bit image in [0, 1] scaled by the least-squares factor onto the ground truth, "
    f"aligned by an ECC homography (OpenCV findTransformECC, MOTION_HOMOGRAPHY, {ECC_ITERATIONS} iterations, eps 0, "
    f"Gaussian filter {ECC_FILTER}, grey images), resampled with cubic interpolation; PSNR over the valid (warped) region; "
    f"SSIM (Gaussian 11, sigma 1.5, population covariance, data range 1) averaged over the valid region of its map, "
    f"{SSIM_BORDER}-px borders excluded, per channel then over channels; blurred inputs aligned the same way"
)


LEVIN_SHIFT = 5
LEVIN_BORDER = 15
LEVIN_PROTOCOL = (
    f"Levin et al. 2009's protocol: the ground truth without a {LEVIN_BORDER}-px border, the image at the integer shift "
    f"within +-{LEVIN_SHIFT} px that gives the smallest squared error; PSNR (8-bit, data range 1) and SSIM (Gaussian 11, "
    "sigma 1.5, population covariance) at that shift; blurred inputs scored the same way"
)


KOHLER_PROTOCOL = (
    "Köhler et al. 2012's protocol: against each recorded sharp frame, the image scaled by the least-squares factor, "
    "registered by the cross-correlation peak of the grey images (whole pixels), shifted with zero fill and the frame masked "
    "alike; PSNR (peak 255) over the image; the best frame's PSNR, SSIM (Gaussian 11, sigma 1.5) at that frame and shift; "
    "blurred inputs scored the same way"
)


def check_protocol(protocol: str) -> None:
    check_choice("protocol", protocol, PROTOCOLS)


def to_unit_rgb(image: np.ndarray) -> np.ndarray:
    """H×W or H×W×3 uint8 → H×W×3 float32 in [0, 1]."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return image[:, :, :3].astype(np.float32) / 255.0


def align(image: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """``image`` (H×W×3 float32 in [0, 1]) intensity-matched and warped onto ``truth``: returns the
    aligned image and the valid-region mask (both zero outside it, H×W×3) and whether ECC converged
    (if not, the identity warp is used)."""
    scaled = (np.sum(truth * image) / max(float(np.sum(image * image)), 1e-12)) * image
    warp = np.eye(3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, ECC_ITERATIONS, 0)
    try:
        _, warp = cv2.findTransformECC(cv2.cvtColor(truth, cv2.COLOR_RGB2GRAY), cv2.cvtColor(scaled, cv2.COLOR_RGB2GRAY),
                                       warp, cv2.MOTION_HOMOGRAPHY, criteria, None, ECC_FILTER)
        converged = True
    except cv2.error:
        converged = False
    size = (truth.shape[1], truth.shape[0])
    flags = cv2.WARP_INVERSE_MAP
    aligned = cv2.warpPerspective(scaled, warp, size, flags=cv2.INTER_CUBIC + flags, borderMode=cv2.BORDER_REFLECT)
    mask = cv2.warpPerspective(np.ones_like(scaled), warp, size, flags=cv2.INTER_NEAREST + flags,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return aligned * mask, mask, converged


def masked_psnr(truth: np.ndarray, image: np.ndarray, mask: np.ndarray) -> float:
    error = np.sum((truth - image) ** 2, dtype=np.float64) / max(float(np.sum(mask)), 1.0)
    return float(10 * np.log10(1.0 / max(error, 1e-20)))


def masked_ssim(truth: np.ndarray, image: np.ndarray, mask: np.ndarray) -> float:
    _, full = structural_similarity(truth, image, channel_axis=-1, gaussian_weights=True, use_sample_covariance=False,
                                    data_range=1.0, full=True)
    border = SSIM_BORDER
    valid = mask[border:-border, border:-border]
    per_channel = (full * mask)[border:-border, border:-border].sum(axis=(0, 1)) / np.maximum(valid.sum(axis=(0, 1)), 1.0)
    return float(np.mean(per_channel))


def realblur_scores(image: np.ndarray, truth: np.ndarray) -> dict:
    """PSNR (dB) and SSIM of an 8-bit image against its 8-bit ground truth under the ``realblur``
    protocol, with ``aligned`` (whether ECC converged)."""
    image, truth = to_unit_rgb(image), to_unit_rgb(truth)
    aligned, mask, converged = align(image, truth)
    aligned, reference = np.clip(aligned, 0, 1), truth * mask
    return {"psnr": masked_psnr(reference, aligned, mask), "ssim": masked_ssim(reference, aligned, mask), "aligned": converged}


def shift_scores(image: np.ndarray, truth: np.ndarray, max_shift: int = LEVIN_SHIFT, border: int = LEVIN_BORDER) -> dict:
    """PSNR (dB) and SSIM of an 8-bit image against its 8-bit ground truth (H×W or H×W×3, the same
    size) under the ``levin`` protocol, with ``shift``: the (rows, columns) the image was moved by.

    ``border`` must be at least ``max_shift``, and the image larger than twice the border."""
    if border < max_shift:
        raise ValueError(f"the border ({border} px) must be at least the largest shift ({max_shift} px)")
    image, truth = to_unit_rgb(image), to_unit_rgb(truth)
    height, width = truth.shape[:2]
    if min(height, width) <= 2 * border:
        raise ValueError(f"a {width}x{height} image has nothing left inside a {border}-px border")
    reference = truth[border:height - border, border:width - border]
    best = None
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            window = image[border + dy:height - border + dy, border + dx:width - border + dx]
            error = float(np.mean((window - reference) ** 2, dtype=np.float64))
            if best is None or error < best[0]:
                best = (error, dy, dx)
    error, dy, dx = best
    window = image[border + dy:height - border + dy, border + dx:width - border + dx]
    similarity = structural_similarity(reference, window, channel_axis=-1, gaussian_weights=True, use_sample_covariance=False,
                                       data_range=1.0)
    return {"psnr": float(10 * np.log10(1.0 / max(error, 1e-20))), "ssim": float(similarity), "shift": [dy, dx]}


def shift_filled(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``image`` (H×W×C) moved down by ``dy`` and right by ``dx`` px, zeros where nothing moved in."""
    height, width = image.shape[:2]
    moved = np.zeros_like(image)
    if abs(dy) < height and abs(dx) < width:
        moved[max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)] = \
            image[max(-dy, 0):height - max(dy, 0), max(-dx, 0):width - max(dx, 0)]
    return moved


def registration_shift(truth_spectrum: np.ndarray, image_spectrum: np.ndarray, shape: tuple[int, int]) -> tuple[int, int]:
    """The whole-pixel (rows, columns) that moves an image onto a ground truth, from the real FFTs
    (``np.fft.rfft2``) of their H×W grey images: the peak of the circular cross-correlation, taken
    as the shift of smallest magnitude. A gain on either image leaves it unchanged."""
    correlation = np.fft.irfft2(truth_spectrum * np.conj(image_spectrum), s=shape)
    dy, dx = np.unravel_index(int(np.argmax(correlation)), shape)
    height, width = shape
    return int(dy - height if dy > height // 2 else dy), int(dx - width if dx > width // 2 else dx)


def kohler_scores(image: np.ndarray, frames: np.ndarray) -> dict:
    """PSNR (dB) and SSIM of an 8-bit image (H×W×3) against Köhler-style ground truth ``frames``
    (N×H×W×3 uint8, the sharp frames recorded along the shake) under the ``kohler`` protocol, with
    ``frame`` (the index of the best frame) and ``shift`` (rows, columns) at that frame."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[1:3] != np.asarray(image).shape[:2]:
        raise ValueError(f"the frames must be N×H×W×3 of the image's size {np.asarray(image).shape[:2]}, got {frames.shape}")
    z = to_unit_rgb(image).astype(np.float64) * 255.0
    shape = z.shape[:2]
    z_spectrum, z_energy = np.fft.rfft2(z.mean(axis=2)), float(np.sum(z * z))
    best = None
    for number, frame in enumerate(frames):
        x = to_unit_rgb(frame).astype(np.float64) * 255.0
        dy, dx = registration_shift(np.fft.rfft2(x.mean(axis=2)), z_spectrum, shape)
        gain = np.sum(x * z) / max(z_energy, 1e-12)  # fitted before the registration, as the authors' code does
        moved = shift_filled(gain * z, dy, dx)
        reference = x * shift_filled(np.ones_like(z[:, :, :1]), dy, dx)
        error = float(np.mean((reference - moved) ** 2))
        if best is None or error < best[0]:
            best = (error, number, dy, dx, reference, moved)
    error, number, dy, dx, reference, moved = best
    similarity = structural_similarity(reference / 255.0, np.clip(moved, 0, 255) / 255.0, channel_axis=-1, gaussian_weights=True,
                                       use_sample_covariance=False, data_range=1.0)
    return {"psnr": float(10 * np.log10(255.0 ** 2 / max(error, 1e-20))), "ssim": float(similarity), "frame": number, "shift": [dy, dx]}
