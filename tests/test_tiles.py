"""Restoring in overlapping windows: the same result as one piece, with memory that does not grow with the image."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from fixtures import textured, write
from train.checkpoint import load_checkpoint
from train.eval.evaluate import restore, restore_image, to_tensor
from train.config import recorded
from train.archs.registry import make_generator
from train.archs.resnet import Generator
from train.eval.tiles import edge_weights, mirrored, restore_tiled, window_count, window_starts

CPU = torch.device("cpu")


def photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    return textured(np.random.default_rng(seed), height, width)


def test_windows_cover_the_axis_and_their_weights_never_all_vanish():
    starts = window_starts(1000, 256, 160)
    assert starts[0] == 0 and starts[-1] == 1000 - 256 and all(b - a <= 160 for a, b in zip(starts, starts[1:]))
    total = np.zeros(1000)
    for index, start in enumerate(starts):
        total[start : start + 256] += edge_weights(256, index > 0, index < len(starts) - 1, 40, 16)
    assert total.min() > 0
    assert list(mirrored(np.arange(6, 10), 6)) == [4, 3, 2, 1] and list(mirrored(np.arange(3), 1)) == [0, 0, 0]


def test_a_local_generator_restores_the_same_in_windows_as_in_one_piece():
    torch.manual_seed(0)
    generator = Generator(ngf=8, blocks=2, norm="none", init="paper", dropout=0.0).eval()  # every operation local
    image = photo(203, 250)
    whole = restore(generator, to_tensor(image, CPU))[0].permute(1, 2, 0).numpy()
    tiled = restore_tiled(generator, image, CPU, tile=128, margin=40, blend=16)
    assert window_count(203, 250, generator, tile=128, margin=40, blend=16) > 4
    assert np.abs(tiled - whole).max() < 1e-4


def test_the_shipped_model_restores_in_windows_close_to_one_piece():
    state = load_checkpoint("builtin")
    generator = make_generator(recorded(state["args"])).eval()
    generator.load_state_dict(state["generator"])
    image = photo(360, 480, seed=2)
    whole = restore(generator, to_tensor(image, CPU))
    tiled = restore_image(generator, image, CPU, tile=256)
    inner = (slice(None), slice(None), slice(32, -32), slice(32, -32))  # away from the image border
    mse = float(((tiled[inner] - whole[inner]) / 2).pow(2).mean())
    assert 10 * np.log10(1 / mse) > 40  # InstanceNorm's statistics per window: close, not equal


@pytest.mark.skipif(sys.platform != "linux", reason="peak memory from /proc/self/status")
def test_a_large_photo_is_restored_within_the_memory_of_its_windows(tmp_path):
    write(tmp_path / "large.png", photo(2000, 2000))  # 4 megapixels: 1.6 GB at peak restored in one piece (measured)
    # VmHWM, the peak of this process's own memory (getrusage's maxrss would include the forked test runner's)
    report_peak = ("import atexit, sys; atexit.register(lambda: print('peak_kb', next(line for line in open('/proc/self/status') "
                   "if line.startswith('VmHWM')).split()[1], file=sys.stderr)); from train.cli import deblur_main; "
                   "sys.argv[0] = 'deblur'; deblur_main()")
    done = subprocess.run([sys.executable, "-c", report_peak, "builtin", str(tmp_path / "large.png"), "--out", str(tmp_path / "r"),
                           "--tile", "512"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    peak_gb = int(done.stderr.rsplit("peak_kb", 1)[1]) / 1e6
    assert peak_gb < 1.2, (peak_gb, done.stderr[-500:])  # measured 0.83 with 512-px windows
    assert (tmp_path / "r" / "large.png").exists()
