"""The ``train`` command. The trainer itself is tracked as its own issue and has not landed yet."""

from __future__ import annotations

import sys


def main() -> None:
    print(
        "train: the DeblurGAN trainer (train --mix wild|synth|comb) has not landed yet; "
        "see the README's roadmap. blurgen's kernel tools work now: blurgen --help",
        file=sys.stderr,
    )
    sys.exit(2)
