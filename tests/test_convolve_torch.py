import numpy as np
import pytest
import torch

import oracle
from blurgen.kernels.bank import sample_kernels
from blurgen.blurring.camera_torch import noise_field, signed_key
from blurgen.blurring.convolve import blur
from blurgen.blurring.convolve_torch import blur_batch, fast_fft_size
from blurgen.rng import normal_field, normal_table

CUDA = torch.cuda.is_available()


def mixed_kernels() -> list[np.ndarray]:
    kernels = [sample_kernels([i], seed=2, size=size).kernels[0] for i, size in enumerate((65, 33, 64, 9))]
    return kernels + [np.ones((1, 1), np.float32)]


@pytest.mark.parametrize("border", ["valid", "reflect"])
def test_blur_batch_equals_blur_per_sample(border):
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(5, 3, 90, 110, generator=generator)
    kernels = mixed_kernels()
    out = blur_batch(images, kernels, border=border)
    largest = 65
    for b, kernel in enumerate(kernels):
        image = images[b].permute(1, 2, 0).numpy()
        if border == "valid":  # the batch reads the largest kernel's margin; crop the sample to match
            margin = (largest - (kernel.shape[0] + 1 - kernel.shape[0] % 2)) // 2
            image = image[margin : image.shape[0] - margin, margin : image.shape[1] - margin]
        expected = blur(image, kernel, border=border)
        np.testing.assert_allclose(out[b].permute(1, 2, 0).numpy(), expected, atol=1e-4)
    assert out.shape == ((5, 3, 26, 46) if border == "valid" else images.shape)


def test_a_kernel_tensor_needs_no_list():
    bank = sample_kernels(8, seed=1)
    images = torch.rand(8, 1, 80, 80)
    out = blur_batch(images, torch.from_numpy(bank.kernels))
    for b in range(8):
        np.testing.assert_allclose(out[b, 0].numpy(), blur(images[b, 0].numpy(), bank.kernels[b], border="valid"), atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
def test_dtype_is_kept(dtype):
    images = torch.rand(2, 3, 70, 70)
    kernels = torch.from_numpy(sample_kernels(2, seed=0).kernels)
    reference = blur_batch(images, kernels)
    out = blur_batch(images.to(dtype), kernels)
    assert out.dtype == dtype
    tolerance = {torch.float32: 1e-6, torch.float64: 1e-6, torch.bfloat16: 2e-2, torch.float16: 2e-3}[dtype]
    torch.testing.assert_close(out.float(), reference, atol=tolerance, rtol=0)


def test_gradients_flow_to_the_images():
    images = torch.rand(2, 1, 12, 12, dtype=torch.float64, requires_grad=True)
    kernels = torch.rand(2, 5, 5, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: blur_batch(x, kernels, border="reflect"), (images,))


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
def test_cuda_equals_cpu():
    images = torch.rand(4, 3, 128, 128)
    kernels = mixed_kernels()[:4]
    cpu = blur_batch(images, kernels)
    gpu = blur_batch(images.cuda(), kernels)
    assert gpu.is_cuda
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-5, rtol=0)
    keys = torch.tensor([signed_key(2**64 - 5), 7])
    torch.testing.assert_close(noise_field(keys.cuda(), (3, 16, 16)).cpu(), noise_field(keys, (3, 16, 16)), atol=1e-5, rtol=0)


@pytest.mark.parametrize("images,kernels,message", [
    (torch.rand(2, 3, 20, 20), torch.full((2, 3, 3), float("nan")), "NaN"),
    (torch.rand(2, 3, 20, 20), -torch.ones(2, 3, 3), "negative mass"),
    (torch.rand(2, 3, 20, 20), torch.ones(2, 21, 21), "larger than the images"),
    (torch.rand(2, 3, 20, 20), torch.ones(3, 3, 3), "2 images but 3 kernels"),
    (torch.rand(3, 20, 20), torch.ones(3, 3, 3), "B×C×H×W"),
    (torch.zeros(2, 3, 20, 20, dtype=torch.int32), torch.ones(2, 3, 3), "unsupported image dtype"),
    (torch.rand(0, 3, 20, 20), torch.ones(0, 3, 3), "empty"),
    (torch.rand(2, 3, 20, 20), torch.ones(2, 3, 4), "B×K×K"),
])
def test_bad_input_is_a_clear_error(images, kernels, message):
    with pytest.raises(ValueError, match=message):
        blur_batch(images, kernels)


def test_fast_fft_sizes():
    assert [fast_fft_size(n) for n in (1, 256, 257, 320, 331)] == [1, 256, 270, 320, 336]


def test_noise_field_follows_its_counter_definition_on_every_path():
    key = 0xDEADBEEF12345678
    table = normal_table()
    field = noise_field(torch.tensor([signed_key(key)]), (3, 5, 7))[0].flatten()
    numba_field = normal_field(np.uint64(key), 105, table)
    np.testing.assert_array_equal(field.numpy(), numba_field)
    for e in (0, 1, 2, 3, 4, 57, 104):
        z = oracle.mix64((key + (2**32 + e // 4 + 1) * oracle.GOLDEN) & oracle.MASK)
        index = (z >> (48 - 16 * (e % 4))) & 0xFFFF
        assert float(field[e]) == float(table[index])
    assert table[32768] == pytest.approx(1.912e-5, abs=1e-8) and table[-1] == pytest.approx(4.325, abs=0.001)
    np.testing.assert_allclose(table, -table[::-1], atol=1e-6)


def test_noise_field_is_standard_normal_and_keyed():
    keys = torch.tensor([signed_key(k) for k in (1, 2, 2**63 + 9)])
    field = noise_field(keys, (3, 64, 64))
    assert abs(float(field.mean())) < 0.01 and abs(float(field.std()) - 1) < 0.01
    assert not torch.equal(field[0], field[1])
    torch.testing.assert_close(noise_field(keys[2:], (3, 64, 64))[0], field[2], atol=0, rtol=0)
