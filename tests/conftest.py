import sys
from pathlib import Path

# The oracle lives beside the tests; make it importable as ``oracle``.
sys.path.insert(0, str(Path(__file__).parent))


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def gopro(tmp_path_factory) -> Path:
    """A GoPro_Large-style train split of two 144×176 pairs (read only)."""
    from fixtures import make_gopro

    root = tmp_path_factory.mktemp("gopro")
    make_gopro(root, {"GOPR0372_07_00": 2}, size=(144, 176))
    return root
