"""The side-by-side benchmark of blur generators (``benchmarks/peers.py``): every peer adapter is
measured as what it is, a convolution with the kernel it answers a bright point with, and the
benchmark runs end to end with the peers that are installed, naming the ones that are not."""

import importlib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import peers  # noqa: E402

from blurgen.blurring.convolve import blur  # noqa: E402
from fixtures import textured, write  # noqa: E402


@pytest.mark.parametrize("name", list(peers.PEER_BLURS))
def test_each_peer_blurs_by_convolving_with_a_kernel_that_sums_to_one(name):
    if importlib.util.find_spec(peers.GENERATORS[name].package) is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[peers]')")
    peer = peers.PEER_BLURS[name]()
    image = np.random.default_rng(0).random((80, 96, 3)).astype(np.float32)
    for key in (1, 2, 3):
        kernel = peers.response(peer, key)
        assert kernel.min() >= -1e-7 and kernel.sum() == pytest.approx(1.0, abs=1e-5) and np.count_nonzero(kernel > 1e-4) > 1
        inner = (slice(peers.PEER_SIZE, -peers.PEER_SIZE), slice(peers.PEER_SIZE, -peers.PEER_SIZE))  # away from padding
        assert np.abs(peer(image, key)[inner] - blur(image, kernel)[inner]).max() < 1e-5
        assert np.array_equal(peer(image, key), peer(image, key))  # the same key, the same blur


def test_a_bank_of_a_peers_kernels_trains_like_any_bank(tmp_path):
    bank = peers.peer_bank("albumentations", 6) if importlib.util.find_spec("albumentations") else None
    if bank is None:
        pytest.skip("albumentations is not installed")
    assert len(bank) == 6 and bank.size == peers.PEER_SIZE and set(bank.meta["family"]) == {"albumentations"}
    assert np.allclose(bank.kernels.sum(axis=(1, 2)), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="no recipe"):
        bank.regenerate(0)


def test_the_benchmark_runs_end_to_end_and_names_a_peer_that_is_not_installed(tmp_path, monkeypatch):
    absent = "deepinv"
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(peers.importlib.util, "find_spec", lambda name, *a: None if name == absent else real_find_spec(name, *a))
    rows = [name for name in peers.GENERATORS if name in (absent, "blurgen-mixture") or name in peers.PEER_BLURS]
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png"):  # a user's own photos, the same for every generator
        write(tmp_path / "photos" / name, textured(rng, 200, 224))
    results = peers.main(["--quick", "--runs", str(tmp_path / "runs"), "--results", str(tmp_path / "peers.json"), "--seeds", "1",
                          "--steps", "1", "--kernels", "3", "--rows", ",".join(rows), "--src", str(tmp_path / "photos")])
    assert results["not_installed"] == [absent] and absent not in results["quality"]
    measured = [name for name in rows if name != absent and peers.installed(peers.GENERATORS[name])]
    assert sorted(results["quality"]) == sorted(measured) and "blurgen-mixture" in measured
    for row in results["quality"].values():
        assert np.isfinite(row["summary"]["independent_mean"]["mean"]) and row["runs"][0]["sharp"]["images"] > 0
        assert f"--src {tmp_path / 'photos'}" in row["runs"][0]["options"] and "--builtin" not in row["runs"][0]["options"]
    assert json.loads((tmp_path / "peers.json").read_text())["not_installed"] == [absent]
    assert "Not installed here: deepinv" in (tmp_path / "peers.md").read_text()


def test_every_cell_of_the_feature_table_rests_on_a_test_or_an_api_that_exists():
    for feature, cells in peers.FEATURES.items():
        assert set(cells) == set(peers.PEER_COLUMNS), feature
        for column, (_, evidence) in cells.items():
            if not evidence:
                continue
            if column == "blurgen":
                path, test = evidence.split("::")
                assert f"def {test}(" in (ROOT / path).read_text(), evidence
            elif importlib.util.find_spec(peers.GENERATORS[column].package) is not None:
                module, attribute = evidence.split(":")
                assert hasattr(importlib.import_module(module), attribute), evidence
