"""How many workers help: never more than the cores this process may run on.

``blurgen kernels`` (threads), ``blurgen dataset`` (processes) and ``train`` (data workers) share
one rule: a request above the cores is capped to them, and the command says so. More would only
take turns on the same cores, with each worker's memory and start-up paid for nothing.
"""

from __future__ import annotations

import os


def cores_here() -> int:
    """The cores this process may run on (its CPU affinity, as taskset, cgroups and Slurm set it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def capped_workers(requested: int | None, what: str, cores: int | None = None) -> tuple[int | None, str | None]:
    """``requested`` workers capped at ``cores`` (default: :func:`cores_here`), and the note that
    says so (None when nothing was capped); ``None`` (the command's own choice) passes through."""
    cores = cores or cores_here()
    if requested is None or requested <= cores:
        return requested, None
    return cores, f"--workers {requested}: capped at {cores}, the cores this process may use ({what} beyond them only take turns)"
