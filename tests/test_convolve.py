import cv2
import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from blurgen.kernels.bank import sample_kernels
from blurgen.blurring.convolve import blur


def random_kernel(rng: np.random.Generator, size: int) -> np.ndarray:
    kernel = rng.random((size, size)) * (rng.random((size, size)) < 0.3)
    kernel[size // 2, size // 2] += 0.1
    return kernel / kernel.sum()


def point_centroid(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.mgrid[: image.shape[0], : image.shape[1]]
    total = image.sum()
    return float((image * rows).sum() / total), float((image * cols).sum() / total)


@pytest.mark.parametrize("size", [1, 3, 8, 17, 31])
@pytest.mark.parametrize("channels", [1, 3])
def test_fft_blur_equals_direct_convolution(size, channels):
    rng = np.random.default_rng(size * 10 + channels)
    image = rng.random((70, 90, channels))
    kernel = random_kernel(rng, size)
    ours = blur(image, kernel, border="valid")
    odd = size + 1 - size % 2
    assert ours.shape == (70 - odd + 1, 90 - odd + 1, channels) and ours.dtype == np.float64
    if size % 2:  # odd kernels: plain direct convolution is the reference
        direct = np.stack([scipy.signal.convolve2d(image[:, :, c], kernel, mode="valid") for c in range(channels)], axis=2)
        np.testing.assert_allclose(ours, direct, atol=1e-5)
    reflect = blur(image.astype(np.float32), kernel, border="reflect")
    assert reflect.shape == image.shape and reflect.dtype == np.float32
    if size % 2:
        flipped = cv2.flip(kernel.astype(np.float32), -1)  # filter2D correlates
        opencv = cv2.filter2D(image.astype(np.float32), -1, flipped, borderType=cv2.BORDER_REFLECT_101)
        np.testing.assert_allclose(reflect, opencv.reshape(image.shape), atol=1e-5)


def test_valid_and_reflect_agree_in_the_interior():
    rng = np.random.default_rng(1)
    image = rng.random((120, 100, 3)).astype(np.float32)
    kernel = random_kernel(rng, 21)
    np.testing.assert_allclose(blur(image, kernel, border="reflect")[10:-10, 10:-10], blur(image, kernel, border="valid"), atol=1e-5)


def test_a_delta_kernel_returns_the_image():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    delta = np.zeros((9, 9))
    delta[4, 4] = 1
    np.testing.assert_array_equal(blur(image, delta), image)
    np.testing.assert_array_equal(blur(image, delta, border="valid"), image[4:-4, 4:-4])


@pytest.mark.parametrize("size", [65, 64, 31])
def test_blurring_a_point_never_moves_it(size):
    bank = sample_kernels(60, seed=4, size=size, exposure="all")
    point = np.zeros((151, 161), np.float64)
    point[70, 83] = 1.0
    for kernel in bank.kernels:
        y, x = point_centroid(blur(point, kernel))
        assert abs(y - 70) < 0.05 and abs(x - 83) < 0.05


def test_even_kernels_in_valid_mode_need_one_more_pixel():
    kernel = sample_kernels(1, size=64).kernels[0]
    assert blur(np.ones((64 + 100, 64 + 100)), kernel, border="valid").shape == (100, 100)


def test_blur_keeps_mean_intensity():
    rng = np.random.default_rng(5)
    image = cv2.GaussianBlur(rng.random((256, 256, 3)).astype(np.float32), (0, 0), 4)
    image = (image - image.min()) / (image.max() - image.min())
    for kernel in sample_kernels(20, seed=6).kernels:
        blurred = blur(image, kernel)
        assert abs(blurred.mean() / image.mean() - 1) < 0.005
        assert blurred.min() >= image.min() - 1e-5 and blurred.max() <= image.max() + 1e-5


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(30, 40), (30, 40, 1), (30, 40, 3), (30, 40, 4)])
def test_dtype_and_shape_are_kept(dtype, shape):
    rng = np.random.default_rng(0)
    top = np.iinfo(dtype).max if np.issubdtype(dtype, np.integer) else 1.0
    image = (rng.random(shape) * top).astype(dtype)
    kernel = sample_kernels(1, size=9).kernels[0]
    out = blur(image, kernel)
    assert out.dtype == dtype and out.shape == shape and out.flags.c_contiguous
    assert blur(image, kernel, border="valid").shape == (22, 32) + shape[2:]


def test_uint8_rounds_instead_of_truncating():
    image = np.full((20, 20), 100, np.uint8)
    assert (blur(image, np.ones((5, 5))) == 100).all()


def test_alpha_is_premultiplied_so_transparent_pixels_do_not_darken_colour():
    image = np.zeros((40, 40, 4), np.float32)
    image[:, :, 0] = 1.0  # red everywhere ...
    image[:, 20:, 3] = 1.0  # ... but only the right half is opaque
    out = blur(image, np.ones((7, 7)))
    visible = out[:, :, 3] > 1e-3
    np.testing.assert_allclose(out[:, :, 0][visible], 1.0, atol=1e-5)
    assert 0 < out[20, 19, 3] < 1  # the edge of the alpha channel is blurred


@pytest.mark.parametrize("image,kernel,message", [
    (np.zeros((0, 10)), np.ones((3, 3)), "empty"),
    (np.zeros((10, 10)), np.full((3, 3), np.nan), "NaN"),
    (np.zeros((10, 10)), -np.ones((3, 3)), "negative mass"),
    (np.zeros((10, 10)), np.array([[1.0, -0.5, 1.0]] * 3), "negative mass"),
    (np.zeros((10, 10)), np.zeros((3, 3)), "positive mass"),
    (np.zeros((10, 10)), np.ones((11, 11)), "larger than the image"),
    (np.zeros((10, 10)), np.ones((3, 4)), "square"),
    (np.zeros((10, 10), np.int32), np.ones((3, 3)), "unsupported image dtype"),
    (np.zeros((10, 10), bool), np.ones((3, 3)), "unsupported image dtype"),
    (np.zeros((10, 10, 5)), np.ones((3, 3)), "1, 3 or 4 channels"),
])
def test_bad_input_is_a_clear_error(image, kernel, message):
    with pytest.raises(ValueError, match=message):
        blur(image, kernel)


def test_unknown_border_is_rejected():
    with pytest.raises(ValueError, match="border"):
        blur(np.zeros((10, 10)), np.ones((3, 3)), border="wrap")


@settings(max_examples=30, deadline=None)
@given(
    height=st.integers(9, 40), width=st.integers(9, 40), size=st.integers(1, 9),
    channels=st.sampled_from([1, 3, 4]), seed=st.integers(0, 2**32 - 1),
)
def test_any_shape_blurs_like_direct_convolution(height, width, size, channels, seed):
    rng = np.random.default_rng(seed)
    image = rng.random((height, width, channels))
    image[:, :, 3:] = 1.0  # an opaque alpha channel is blurred like any other
    kernel = random_kernel(rng, size)
    ours = blur(image, kernel, border="valid")
    odd = size + 1 - size % 2
    if size % 2 == 0:  # an even kernel is its half-pixel-averaged odd version
        padded = np.pad(kernel, 1)
        kernel = (padded[:-1, :-1] + padded[1:, :-1] + padded[:-1, 1:] + padded[1:, 1:]) / 4
    direct = np.stack([scipy.signal.convolve2d(image[:, :, c], kernel, mode="valid") for c in range(channels)], axis=2)
    assert ours.shape == (height - odd + 1, width - odd + 1, channels)
    np.testing.assert_allclose(ours, direct, atol=1e-6)
