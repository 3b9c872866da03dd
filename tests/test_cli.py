import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from fixtures import cli
from blurgen.kernels.bank import KernelBank, sample_kernels


def blurgen(*args: str) -> subprocess.CompletedProcess:
    return cli("blurgen", *args)


def test_kernels_command_writes_bank_sheet_and_pngs(tmp_path):
    out = tmp_path / "bank"
    result = blurgen("kernels", "--n", "50", "--out", str(out), "--seed", "3", "--exposure", "all", "--png-dir", str(tmp_path / "png"))
    assert result.returncode == 0, result.stderr
    assert "kernel sets/s" in result.stdout and "footprint" in result.stdout  # the summary is the result: stdout
    bank = KernelBank.load(out / "kernels.npz")
    expected = sample_kernels(50, seed=3, exposure="all")
    np.testing.assert_array_equal(bank.kernels, expected.kernels)
    np.testing.assert_array_equal(bank.meta, expected.meta)
    sheet = cv2.imread(str(out / "kernels.png"))
    assert sheet is not None and sheet.shape[0] > 100 and sheet.shape[1] > 100
    pngs = sorted((tmp_path / "png").iterdir())
    assert len(pngs) == 200 and pngs[0].name == "000000_t0.010.png"
    first = cv2.imread(str(pngs[3]), cv2.IMREAD_UNCHANGED)
    assert first.dtype == np.uint16 and first.shape == (65, 65) and first.max() == 65535
    np.testing.assert_allclose(first / 65535.0, bank.kernels[3] / bank.kernels[3].max(), atol=1 / 65535)


def test_defaults_write_to_bank_folder_and_never_import_torch(tmp_path):
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "blurgen", "kernels", "--n", "20"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "numba" in imported and "torch" not in imported
    bank = KernelBank.load(tmp_path / "bank" / "kernels.npz")
    assert len(bank) == 20 and bank.size == 65 and bank.info["preset"] == "deblurgan"


def test_overrides_reach_the_bank(tmp_path):
    result = blurgen("kernels", "--n", "10", "--out", str(tmp_path), "--preset", "mild", "--expl", "0.002:0.004",
                     "--iters", "500", "--size", "33", "--exposure", "1/2", "--workers", "1")
    assert result.returncode == 0, result.stderr
    bank = KernelBank.load(tmp_path / "kernels.npz")
    assert bank.size == 33 and (bank.meta["iters"] == 500).all() and (bank.meta["exposure"] == 0.5).all()
    assert (bank.meta["max_len"] == 30).all() and ((bank.meta["expl"] >= 0.002) & (bank.meta["expl"] <= 0.004)).all()


@pytest.mark.parametrize("args,message", [
    (["--expl", "abc"], "cannot read expl"),
    (["--preset", "wobbly"], "unknown preset"),
    (["--exposure", "2"], "exposure fractions must be in (0, 1]"),
    (["--workers", "0"], "--workers must be >= 1"),
])
def test_bad_options_give_one_clear_line(tmp_path, args, message):
    result = blurgen("kernels", "--n", "5", "--out", str(tmp_path), *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_unwritable_out_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    result = blurgen("kernels", "--n", "5", "--out", str(tmp_path / "file" / "bank"))
    assert result.returncode == 2 and "cannot create --out" in result.stderr and "Traceback" not in result.stderr


def test_info_reads_a_bank_and_rejects_garbage(tmp_path):
    sample_kernels(5, seed=1).save(tmp_path / "k.npz")
    result = blurgen("info", str(tmp_path / "k.npz"))
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert report["info"]["seed"] == 1 and report["stats"]["count"] == 5
    (tmp_path / "bad.npz").write_bytes(b"junk")
    result = blurgen("info", str(tmp_path / "bad.npz"))
    assert result.returncode == 2 and "not a readable kernel bank" in result.stderr and "Traceback" not in result.stderr


def test_the_numpy_pipeline_never_imports_torch():
    code = "import sys, blurgen; blurgen.blur; blurgen.expose; blurgen.PairSynthesizer; assert 'torch' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
