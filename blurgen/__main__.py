"""``python -m blurgen`` is the ``blurgen`` command."""

from blurgen.cli import main

main()
