import hashlib
import json

import numba
import numpy as np
import pytest

from blurgen.kernels.bank import META_DTYPE, BankFormatError, KernelBank, KernelEntry, sample_kernels


def digest(bank: KernelBank) -> str:
    return hashlib.sha256(bank.kernels.tobytes() + bank.meta.tobytes()).hexdigest()


def test_same_seed_same_bytes_whatever_the_thread_count():
    threads = range(1, numba.config.NUMBA_NUM_THREADS + 1)
    digests = {digest(sample_kernels(600, seed=5, exposure="all", workers=w)) for w in threads}
    assert len(digests) == 1


def test_same_bytes_whatever_the_batch_split_or_order():
    whole = sample_kernels(1100, seed=8)  # more than one parallel chunk
    pieces = [sample_kernels(list(range(a, min(a + 300, 1100))), seed=8) for a in range(0, 1100, 300)]
    np.testing.assert_array_equal(np.concatenate([p.kernels for p in pieces]), whole.kernels)
    np.testing.assert_array_equal(np.concatenate([p.meta for p in pieces]), whole.meta)
    order = np.random.default_rng(0).permutation(1100)
    shuffled = sample_kernels(order, seed=8)
    np.testing.assert_array_equal(shuffled.kernels, whole.kernels[order])
    np.testing.assert_array_equal(shuffled.meta, whole.meta[order])


def test_different_seeds_differ():
    assert digest(sample_kernels(20, seed=1)) != digest(sample_kernels(20, seed=2))


def test_a_kernel_regenerated_alone_equals_the_batch():
    bank = sample_kernels(40, seed=123, exposure="all", preset="anxious")
    for i in (0, 1, 2, 3, 77, 159):
        np.testing.assert_array_equal(bank.regenerate(i), bank.kernels[i])


def test_metadata_records_every_draw():
    bank = sample_kernels(30, seed=2**64 - 1, exposure="all")
    meta = bank.meta
    assert meta.dtype == META_DTYPE and len(meta) == 120
    assert (meta["seed"] == 2**64 - 1).all()
    assert list(meta["index"][:8]) == [0, 0, 0, 0, 1, 1, 1, 1]
    assert set(np.unique(meta["expl"])) <= {0.003, 0.005, 0.007, 0.008, 0.009, 0.01}
    assert (meta["centripetal"] <= 0.7).all() and (meta["prob_big_shake"] <= 0.2).all()
    assert (meta["gaussian_shake"] <= 10).all() and ((0 <= meta["phi"]) & (meta["phi"] < 2 * np.pi)).all()
    assert (meta["max_len"] == 60).all() and (meta["iters"] == 2000).all()
    assert ((meta["radius_of_gyration"] > 0) | (meta["exposure"] < 1)).all()
    assert bank.info["spec"]["expl"] == "0.003,0.005,0.007,0.008,0.009,0.01"


def test_save_and_load_round_trip(tmp_path):
    bank = sample_kernels(25, seed=3, exposure=[0.5, 1.0], size=21)
    path = bank.save(tmp_path / "sub" / "bank.npz")
    loaded = KernelBank.load(path)
    np.testing.assert_array_equal(loaded.kernels, bank.kernels)
    np.testing.assert_array_equal(loaded.meta, bank.meta)
    assert loaded.info == bank.info and loaded.size == 21
    np.testing.assert_array_equal(loaded.regenerate(7), bank.kernels[7])
    assert [p.name for p in path.parent.iterdir()] == ["bank.npz"]  # no temporary left behind
    # the tag banks on disk carry, written out as every earlier release wrote it: files stay readable
    assert json.loads(str(np.load(path)["info"]))["format"] == "blurgen.kernel-bank"


def test_indexing_and_slicing():
    bank = sample_kernels(10, seed=0)
    entry = bank[3]
    assert isinstance(entry, KernelEntry)
    np.testing.assert_array_equal(entry.kernel, bank.kernels[3])
    assert entry.meta["index"] == 3 and isinstance(entry.meta["footprint"], float)
    kernel, meta = bank[-1]
    assert meta["index"] == 9
    part = bank[2:5]
    assert isinstance(part, KernelBank) and len(part) == 3 and list(part.meta["index"]) == [2, 3, 4]
    wide = bank[bank.meta["footprint"] > np.median(bank.meta["footprint"])]
    assert len(wide) == 5
    assert len(list(bank)) == 10


def test_stats():
    stats = sample_kernels(100, seed=0, exposure="all").stats()
    assert stats["count"] == 400 and stats["trajectories"] == 100 and stats["size"] == 65
    assert stats["exposures"] == [0.01, 0.1, 0.5, 1.0]
    footprint = stats["footprint_px"]
    assert footprint["p5"] <= footprint["p50"] <= footprint["p95"] <= footprint["max"]


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04garbage"])
def test_malformed_bank_files_are_clear_errors(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(BankFormatError, match="bad.npz"):
        KernelBank.load(path)


def test_npz_that_is_not_a_bank_is_rejected(tmp_path):
    np.savez(tmp_path / "other.npz", kernels=np.zeros((2, 3, 3), np.float32))
    with pytest.raises(BankFormatError, match="lacks"):
        KernelBank.load(tmp_path / "other.npz")


@pytest.mark.parametrize("kwargs,error", [
    ({"n": -1}, ValueError),
    ({"n": 3, "size": 2}, ValueError),
    ({"n": 3, "exposure": "sometimes"}, ValueError),
    ({"n": 3, "workers": 0}, ValueError),
    ({"n": 3, "wobble": 1}, TypeError),
    ({"n": [-1, 2]}, ValueError),
])
def test_bad_arguments_are_clear_errors(kwargs, error):
    with pytest.raises(error):
        sample_kernels(**kwargs)


def test_empty_request_gives_an_empty_bank():
    bank = sample_kernels(0)
    assert len(bank) == 0 and bank.kernels.shape == (0, 65, 65)


def test_a_bank_of_kernels_made_elsewhere_is_normalised_described_and_saved_like_any_other(tmp_path):
    from blurgen.kernels.bank import KernelBank

    given = np.zeros((2, 11, 11))
    given[0, 5, 2:9] = 2.0  # a 7-px line of mass 14
    given[1, 4:7, 4:7] = 1.0
    bank = KernelBank.from_kernels(given, name="recorded", seed=3, spec={"source": "a lab"})
    assert np.allclose(bank.kernels.sum(axis=(1, 2)), 1.0) and bank.kernels.dtype == np.float32
    assert list(bank.meta["footprint"]) == [7, 3] and bank.meta["radius_of_gyration"][0] == pytest.approx(2.0)
    loaded = KernelBank.load(bank.save(tmp_path / "recorded.npz"))
    assert np.array_equal(loaded.kernels, bank.kernels) and loaded.info["preset"] == "recorded" and loaded.info["spec"] == {"source": "a lab"}
    for bad, problem in ((np.zeros((1, 10, 10)), "K odd"), (-given, "non-negative"), (np.zeros((1, 5, 5)), "positive sum")):
        with pytest.raises(ValueError, match=problem):
            KernelBank.from_kernels(bad, name="bad")
