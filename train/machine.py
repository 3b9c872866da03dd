"""The machine a run trains on: its device, its ranks under ``torchrun``, mixed precision, and
how the cores are shared between the training process and its data workers.

Threads: on 2 cores, two processes doing torch work made each ~17× slower, and torch's OpenMP
threads competing with the data workers' own threads (numba, OpenCV) cost more than a thread
gains. So every data worker runs single-threaded (torch, OpenCV; its numba code is serial), and on the CPU the
training process takes the cores the workers leave (:func:`plan_threads`).
"""

from __future__ import annotations

import os
import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
import torch.distributed as dist

from blurgen.cores import cores_here
from blurgen.settings import SettingError


@dataclass
class Distributed:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def here(self) -> int:
        """Ranks on this machine."""
        return int(os.environ.get("LOCAL_WORLD_SIZE", self.world))


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA when there is a GPU, else the CPU), ``cpu``, ``cuda`` or ``cuda:N``; anything
    else, or a GPU that is not there, is a :class:`SettingError` naming ``device``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SettingError(f"{{device}} {name}: not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise SettingError(f"{{device}} {name}: only cpu and cuda are supported")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise SettingError(f"{{device}} {name}: no CUDA GPU is visible here; use {{device}} cpu (or auto)")
        if device.index is not None and device.index >= count:
            raise SettingError(f"{{device}} {name}: there are only {count} CUDA device(s)")
    return device


def setup_distributed(device_name: str) -> tuple[Distributed, torch.device]:
    """Join the ``torchrun`` process group when its variables are set; pick this rank's device."""
    run = Distributed(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0)))
    device = resolve_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", run.local_rank if device.index is None else device.index)
        torch.cuda.set_device(device)
    if run.world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return run, device


@lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """Whether this CPU has bf16 arithmetic (AVX512-BF16 or AMX), read from /proc/cpuinfo (Linux)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return re.search(r"\b(avx512_bf16|amx_bf16)\b", flags) is not None


def amp_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of ``amp`` on ``device`` (None: fp32). bf16 on CUDA and on CPUs with bf16
    instructions, fp32 on other CPUs; fp16 on a CPU is a :class:`SettingError`."""
    if amp == "off":
        return None
    if device.type == "cpu":
        if amp == "fp16":
            raise SettingError("{amp} fp16 is for CUDA GPUs; on the CPU use bf16 (where the CPU has it) or off")
        return torch.bfloat16 if cpu_has_bf16() else None
    return torch.bfloat16 if amp == "bf16" else torch.float16


def describe_amp(amp: str, dtype: torch.dtype | None, device: torch.device) -> str:
    if dtype is not None:
        return {torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype] + " autocast"
    if amp != "off":
        return "fp32 (this CPU has no bf16 instructions)"
    return "fp32"


def autocast(device: torch.device, dtype: torch.dtype | None) -> AbstractContextManager:
    return torch.autocast(device.type, dtype=dtype) if dtype else nullcontext()


@dataclass(frozen=True)
class ThreadPlan:
    """How a training process shares its cores: its torch threads and its data workers (each single-threaded)."""

    threads: int
    workers: int

    def describe(self) -> str:
        return f"{self.threads} torch thread(s), {self.workers} data worker(s) of 1 thread each"


def plan_threads(device: torch.device, ranks_here: int = 1, *, heavy_data: bool = False, workers: int | None = None,
                 threads: int | None = None) -> ThreadPlan:
    """This process's share of the machine's cores, split between torch threads and data workers.

    On a GPU the workers make the data and the device computes: as many workers as cores (at most
    8), torch's threads as they are. On the CPU the training step is the work: with light data
    work (uniform blur: the workers read, crop and draw kernels; the blur is made in the training
    process) torch takes every core and one worker per four cores (at least one) prefetches, mostly
    asleep (measured on 2 cores: 24 img/s against 15 with one torch thread beside the worker);
    with heavy data work (``--motion``: the workers render the blur) the workers get half the cores
    and torch the rest. A worker count given alone keeps torch on the cores the workers leave when
    the data is heavy; threads given alone leave the other cores to workers.
    """
    cores = max(1, cores_here() // max(1, ranks_here))
    if device.type == "cuda":
        return ThreadPlan(threads or torch.get_num_threads(), min(8, cores) if workers is None else workers)
    if workers is None:
        workers = max(1, cores - threads if heavy_data and threads else (cores // 2 if heavy_data else cores // 4))
    if threads is None:
        threads = max(1, cores - workers) if heavy_data else cores
    return ThreadPlan(threads, workers)


def apply_threads(plan: ThreadPlan) -> None:
    """Set this process's torch threads. OpenCV's threads are set here too, before the data
    workers are forked, which inherit them: one each (setting them inside a forked worker hangs)."""
    import cv2

    torch.set_num_threads(plan.threads)
    cv2.setNumThreads(1 if plan.workers else plan.threads)
