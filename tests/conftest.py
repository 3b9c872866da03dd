import sys
from pathlib import Path

# The oracle lives beside the tests; make it importable as ``oracle``.
sys.path.insert(0, str(Path(__file__).parent))
