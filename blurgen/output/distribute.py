"""Where shards run: in this process, in a local process pool, or as Ray tasks on a cluster.

A distributor takes the dataset spec and the shards still to do, runs :func:`write_shard` for
each, and reports progress through two callbacks: ``on_image(k)`` when k source images are done
(the local pool reports per image) and ``on_shard(stats)`` when a shard is complete. Which
distributor ran a shard never changes its bytes.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from blurgen.files import remove
from blurgen.output.frameworks import build_layout
from blurgen.output.dataset import (
    DatasetSpec, Shard, is_complete, is_settled, lock_shard, prepare_output, read_stats, unlock_shard, write_shard,
)
from blurgen.output.writers import WRITERS
from blurgen.sources.images import NOT_AN_IMAGE
from blurgen.stopping import die_with_parent, ignore_interrupts, interrupts_held_off

OnImage = Callable[[int], None]
OnShard = Callable[[dict], None]

NAMED_PER_REASON = 20  # skipped files named in the summary; a shard's stats name every one
IMAGES_PER_WORKER = 16  # a spawned worker takes about a second to start: the time of some 13 built-in pairs

_worker_spec: DatasetSpec | None = None
_worker_progress: multiprocessing.Queue | None = None


def run_inline(spec: DatasetSpec, shards: list[Shard], on_image: OnImage, on_shard: OnShard) -> None:
    """One shard after the other in this process (``--workers 1``)."""
    try:
        for shard in shards:
            on_shard(write_shard(spec, shard, on_image))
    except BaseException:
        clear_unfinished(spec, shards)
        raise


def keep_freed_memory() -> None:
    """Let this process reuse the memory of freed images instead of handing it back to the system.

    glibc serves each large array (an image, a DFT buffer) with a fresh memory map and unmaps it
    when freed, so every pair pays page faults for every buffer it touches; kept in the heap,
    they are reused (about 10% more pairs/s, measured). Linux with glibc only; elsewhere nothing.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, KEEP_BYTES)
        libc.mallopt(M_TRIM_THRESHOLD, KEEP_BYTES)
    except (OSError, AttributeError):
        pass


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
KEEP_BYTES = 1 << 30  # larger arrays than this (a gigapixel image) are still mapped and unmapped


def _init_worker(spec: DatasetSpec, progress: multiprocessing.Queue, parent: int) -> None:
    global _worker_spec, _worker_progress
    import cv2

    keep_freed_memory()
    ignore_interrupts()
    die_with_parent(parent)
    cv2.setNumThreads(1)  # one process per core already; OpenCV threads would only contend
    _worker_spec, _worker_progress = spec, progress


def _run_in_worker(shard: Shard) -> dict:
    return write_shard(_worker_spec, shard, _worker_progress.put)


def run_local(spec: DatasetSpec, shards: list[Shard], on_image: OnImage, on_shard: OnShard, workers: int) -> None:
    """This process and a pool of ``workers - 1`` more (spawned: numba's threads and fork do not mix).

    This process writes shards too, from the first moment: a spawned worker needs about a second
    (a fresh interpreter, imports, compiled code) before its first pair, and the shards written
    here meanwhile are that second won back. Each worker is handed at most two shards ahead, so
    the last ones are shared out evenly.

    On Ctrl-C, SIGTERM or a failed shard, the workers are stopped at once (the shards they were
    writing stay under temporary names, redone by a rerun) and the exception goes on.
    """
    if workers <= 1 or len(shards) <= 1:
        run_inline(spec, shards, on_image, on_shard)
        return
    import cv2

    context = multiprocessing.get_context("spawn")
    progress = context.Queue()
    before = set(multiprocessing.active_children())
    helpers = min(workers, len(shards)) - 1
    pool = ProcessPoolExecutor(helpers, mp_context=context, initializer=_init_worker, initargs=(spec, progress, os.getpid()))
    todo, pending = deque(shards), set()
    opencv_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # one process per core: OpenCV's own threads here would only contend with the workers
    try:
        while todo or pending:
            with interrupts_held_off():
                while todo and len(pending) < 2 * helpers:
                    pending.add(pool.submit(_run_in_worker, todo.popleft()))
            if todo:
                on_shard(write_shard(spec, todo.popleft(), on_image))
                done = {future for future in pending if future.done()}
            else:
                done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            pending -= done
            drain(progress, on_image)
            for future in done:
                on_shard(future.result())
        drain(progress, on_image)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        workers_started = [child for child in multiprocessing.active_children() if child not in before]
        for child in workers_started:
            child.terminate()
        for child in workers_started:
            child.join(timeout=5)
        # Let the pool's manager thread see its workers gone and close its wake-up pipe now: at
        # interpreter exit, concurrent.futures writes to that pipe, and if the thread closes it at
        # the same moment the user sees a traceback (EBADF) after the one-line message.
        manager = getattr(pool, "_executor_manager_thread", None)
        if manager is not None:
            manager.join(timeout=5)
        clear_unfinished(spec, shards)
        raise
    finally:
        cv2.setNumThreads(opencv_threads)
    pool.shutdown()


def clear_unfinished(spec: DatasetSpec, shards: list[Shard]) -> None:
    """After a stopped or failed run: remove the temporary files of ``shards`` that no process is
    writing any more (their workers are gone, so their locks are free), and those locks. A rerun
    redoes these shards anyway, and on a full disk their space is what the user needs back."""
    for shard in shards:
        if is_complete(spec, shard):
            continue
        descriptor = lock_shard(spec, shard)
        if descriptor is None:
            continue  # another run is writing it now: its files are its own
        remove(WRITERS[spec.shard_format].partial_path(spec.split_dir, shard.name))
        unlock_shard(spec, shard, descriptor)


def drain(progress: multiprocessing.Queue, on_image: OnImage) -> None:
    while True:
        try:
            on_image(progress.get_nowait())
        except queue.Empty:
            return


def run_ray(spec: DatasetSpec, shards: list[Shard], on_image: OnImage, on_shard: OnShard, workers: int) -> None:
    """Shards as Ray tasks, retried up to 3 times on failure (a lost node, a killed worker).

    Joins the cluster at ``RAY_ADDRESS`` when set, else starts a local Ray with ``workers`` CPUs.
    Progress is reported per shard.
    """
    try:
        import ray
    except ImportError:
        raise RuntimeError("--distributor ray needs Ray: pip install 'blurgen[ray]'") from None
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
    task = ray.remote(max_retries=3, retry_exceptions=True)(write_shard)
    spec_ref = ray.put(spec)
    sizes = {}
    pending = []
    for shard in shards:
        ref = task.remote(spec_ref, shard)
        sizes[ref] = shard.stop - shard.start
        pending.append(ref)
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                stats = ray.get(ref)
                on_image(sizes[ref])
                on_shard(stats)
    except BaseException:
        for ref in pending:  # Ctrl-C or a failed shard: stop the rest on the cluster too
            ray.cancel(ref, force=True)
        raise


DISTRIBUTORS = {"local": run_local, "ray": run_ray}


def local_workers(todo: list[Shard], items_per_worker: int = IMAGES_PER_WORKER) -> int:
    """Worker processes for the work left: one per core, but no more than there are shards or
    blocks of ``items_per_worker`` source items (a spawned worker needs about a second to import
    and load its compiled code: the time of some 13 built-in pairs, or a part of one sequence)."""
    items = sum(shard.stop - shard.start for shard in todo)
    return max(1, min(os.cpu_count() or 1, len(todo), items // items_per_worker))


def select_shards(shards: list[Shard], num_shards: int, shard_index: int) -> list[Shard]:
    """Job ``shard_index`` of ``num_shards``: a contiguous block of the dataset's shards."""
    if num_shards < 1 or not 0 <= shard_index < num_shards:
        raise ValueError(f"--job-index must be between 0 and --jobs - 1 ({num_shards - 1}), got {shard_index}")
    count = len(shards)
    return shards[shard_index * count // num_shards : (shard_index + 1) * count // num_shards]


def build_dataset(
    spec: DatasetSpec,
    *,
    workers: int | None = None,
    num_shards: int = 1,
    shard_index: int = 0,
    distributor: str = "local",
    on_image: OnImage | None = None,
    on_shard: OnShard | None = None,
    on_plan: Callable[[int], None] | None = None,
) -> dict:
    """Write this job's shards of ``spec`` (skipping complete ones) and return a summary:

    ``shards``, ``already_complete``, ``written_now``, ``pairs`` (all of this job's shards),
    ``pairs_now`` (written by this call), ``without_pairs`` (shards of this call that yielded
    no pair: not marked complete), ``skipped`` (by reason), ``skipped_files`` (the first
    :data:`NAMED_PER_REASON` names per reason; each shard's stats name all), ``motion_fallbacks`` (pairs
    that asked for moving objects and got camera blur, by reason), ``transparent`` (source images with
    an alpha channel: composited over white), ``busy`` (shards another run into the same folder was
    writing: left to it), ``failures`` and ``sources``
    (images covered by this job's shards); with a framework layout, ``layout`` (its record, once
    every shard is complete) or ``layout_pending`` (shards of other jobs still missing). ``on_plan(k)`` is told, before any work, that k
    source images remain to do (a progress bar's total).
    """
    mine, complete, finished, now = run_shards(spec, workers=workers, num_shards=num_shards, shard_index=shard_index,
                                               distributor=distributor, on_image=on_image, on_shard=on_shard, on_plan=on_plan)
    return {**summarise(spec, mine, complete, finished, now), **arrange(spec)}


def run_shards(spec: object, *, workers: int | None, num_shards: int, shard_index: int, distributor: str,
               on_image: OnImage | None, on_shard: OnShard | None, on_plan: Callable[[int], None] | None,
               items_per_worker: int = IMAGES_PER_WORKER) -> tuple[list[Shard], list[Shard], list[dict], list[dict]]:
    """Write this job's shards of ``spec`` (a dataset's or sequences', :func:`write_shard` writes
    either) that are not complete yet: (this job's shards, those complete before, the stats of
    every complete one, the stats of this call's). Without ``workers``, one local worker per core,
    per shard left and per ``items_per_worker`` items left, whichever is fewest."""
    if distributor not in DISTRIBUTORS:
        raise ValueError(f"distributor must be one of {', '.join(DISTRIBUTORS)}, got {distributor!r}")
    prepare_output(spec)
    mine = select_shards(spec.shards(), num_shards, shard_index)
    complete = [shard for shard in mine if is_complete(spec, shard)]
    clear_stale_locks(spec, complete)
    todo = [shard for shard in mine if not is_complete(spec, shard)]
    finished = [read_stats(spec, shard) for shard in complete]
    now: list[dict] = []
    if on_plan is not None:
        on_plan(sum(shard.stop - shard.start for shard in todo))

    def shard_done(stats: dict) -> None:
        finished.append(stats)
        now.append(stats)
        if on_shard is not None:
            on_shard(stats)

    DISTRIBUTORS[distributor](spec, todo, on_image or (lambda _: None), shard_done, workers or local_workers(todo, items_per_worker))
    return mine, complete, finished, now


def arrange(spec: DatasetSpec) -> dict:
    """The framework layout of ``spec`` (if it asks for one), arranged once every shard of the whole
    dataset is complete or yielded nothing: ``{"layout": record}`` (:func:`blurgen.output.frameworks.build_layout`),
    ``{"layout_pending": shards left}`` while other jobs' shards are missing, ``{}`` without a layout."""
    if spec.framework_layout is None:
        return {}
    settled, total = shards_settled(spec)
    if settled < total:
        return {"layout_pending": total - settled}
    return {"layout": build_layout(spec.split_dir, spec.framework_layout, lmdb=spec.format == "lmdb")}


def clear_stale_locks(spec: DatasetSpec, complete: list[Shard]) -> None:
    """Remove the lock files that a run killed between finishing a shard and unlocking it left
    beside complete shards (a lock another run holds is left to it)."""
    for shard in complete:
        if (spec.split_dir / f".{shard.name}.lock").exists():
            descriptor = lock_shard(spec, shard)
            if descriptor is not None:
                unlock_shard(spec, shard, descriptor)


def summarise(spec: DatasetSpec, mine: list[Shard], complete: list[Shard], finished: list[dict], now: list[dict]) -> dict:
    """The summary :func:`build_dataset` returns, from the stats of this job's shards."""
    skipped: dict[str, int] = {}
    named: dict[str, list[str]] = {}
    fallbacks: dict[str, int] = {}
    for stats in finished:
        for reason, count in stats["skipped"].items():
            skipped[reason] = skipped.get(reason, 0) + count
        for reason, names in stats.get("skipped_files", {}).items():
            named.setdefault(reason, []).extend(names)
        for reason, count in stats.get("motion_fallbacks", {}).items():
            fallbacks[reason] = fallbacks.get(reason, 0) + count
    folder = getattr(spec.source, "source", spec.source)
    if getattr(folder, "non_images", 0):
        skipped[NOT_AN_IMAGE] = folder.non_images
        named[NOT_AN_IMAGE] = list(folder.non_image_files)
    return {
        "shards": len(mine),
        "already_complete": len(complete),
        "written_now": sum(1 for stats in now if stats.get("complete", True)),
        "without_pairs": sum(1 for stats in now if not stats.get("complete", True) and not stats.get("busy")),
        "busy": sum(1 for stats in now if stats.get("busy")),
        "sources": sum(shard.stop - shard.start for shard in mine),
        "pairs": sum(stats["pairs"] for stats in finished),
        "pairs_now": sum(stats["pairs"] for stats in now),
        "skipped": dict(sorted(skipped.items())),
        "skipped_files": {reason: names[:NAMED_PER_REASON] for reason, names in sorted(named.items())},
        "too_small_below_px": max((stats.get("too_small_below_px", 0) for stats in finished), default=0),
        "motion_fallbacks": dict(sorted(fallbacks.items())),
        "transparent": sum(stats.get("transparent", 0) for stats in finished),
        "dim_16_bit": [name for stats in finished for name in stats.get("dim_16_bit", [])][:NAMED_PER_REASON],
        "failures": [f for stats in finished for f in stats.get("failures", [])],
    }


def shards_settled(spec: DatasetSpec) -> tuple[int, int]:
    """(settled, all) shards of the whole dataset: complete or yielding nothing (:func:`blurgen.output.dataset.is_settled`),
    which is when a layout can be arranged."""
    shards = spec.shards()
    return sum(is_settled(spec, shard) for shard in shards), len(shards)


def shards_done(spec: DatasetSpec, num_shards: int = 1, shard_index: int = 0) -> tuple[int, int]:
    """(complete, all) shards of this job on disk: what an interrupted run leaves for a rerun."""
    mine = select_shards(spec.shards(), num_shards, shard_index)
    return sum(is_complete(spec, shard) for shard in mine), len(mine)
