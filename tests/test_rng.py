import numpy as np
import pytest

import oracle
from blurgen.rng import check_seed, normal_pair, stream_key, uniform


@pytest.mark.parametrize("seed,index", [(0, 0), (1, 7), (2**64 - 1, 123456), (42, 2**40)])
def test_stream_matches_plain_python(seed, index):
    key = np.uint64(stream_key(np.uint64(seed), np.uint64(index)))
    assert int(key) == oracle.stream_key(seed, index)
    for counter in (0, 1, 8, 9999, 2**40 + 3):
        assert uniform(key, np.uint64(counter)) == oracle.uniform(int(key), counter)
        assert normal_pair(key, np.uint64(counter)) == pytest.approx(oracle.normal_pair(int(key), counter), abs=1e-12)


def test_uniforms_are_uniform_and_normals_are_standard():
    key = np.uint64(stream_key(np.uint64(3), np.uint64(0)))
    u = np.array([uniform(key, np.uint64(c)) for c in range(20000)])
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01
    assert np.histogram(u, bins=10, range=(0, 1))[0].min() > 1800
    z = np.array([normal_pair(key, np.uint64(2 * c)) for c in range(10000)]).ravel()
    assert abs(z.mean()) < 0.03
    assert abs(z.std() - 1.0) < 0.03
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 0.03


def test_streams_of_neighbouring_indices_and_seeds_differ():
    keys = {int(stream_key(np.uint64(s), np.uint64(i))) for s in range(20) for i in range(200)}
    assert len(keys) == 20 * 200


@pytest.mark.parametrize("bad", [-1, 2**64, 1.5, "3", True])
def test_bad_seeds_are_rejected(bad):
    with pytest.raises((ValueError, TypeError)):
        check_seed(bad)
