"""Where shards run: in this process, in a local process pool, or as Ray tasks on a cluster.

A distributor takes the dataset spec and the shards still to do, runs :func:`write_shard` for
each, and reports progress through two callbacks: ``on_image(k)`` when k source images are done
(the local pool reports per image) and ``on_shard(stats)`` when a shard is complete. Which
distributor ran a shard never changes its bytes.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from blurgen.dataset import DatasetSpec, Shard, is_complete, prepare_output, read_stats, write_shard
from blurgen.sources.images import NOT_AN_IMAGE

OnImage = Callable[[int], None]
OnShard = Callable[[dict], None]

_worker_spec: DatasetSpec | None = None
_worker_progress: multiprocessing.Queue | None = None


def run_inline(spec: DatasetSpec, shards: list[Shard], on_image: OnImage, on_shard: OnShard) -> None:
    """One shard after the other in this process (``--workers 1``)."""
    for shard in shards:
        on_shard(write_shard(spec, shard, on_image))


def _init_worker(spec: DatasetSpec, progress: multiprocessing.Queue) -> None:
    global _worker_spec, _worker_progress
    import cv2

    cv2.setNumThreads(1)  # one process per core already; OpenCV threads would only contend
    _worker_spec, _worker_progress = spec, progress


def _run_in_worker(shard: Shard) -> dict:
    return write_shard(_worker_spec, shard, _worker_progress.put)


def run_local(spec: DatasetSpec, shards: list[Shard], on_image: OnImage, on_shard: OnShard, workers: int) -> None:
    """A pool of ``workers`` processes (spawned: numba's threads and fork do not mix)."""
    if workers <= 1 or len(shards) <= 1:
        run_inline(spec, shards, on_image, on_shard)
        return
    context = multiprocessing.get_context("spawn")
    progress = context.Queue()
    with ProcessPoolExecutor(min(workers, len(shards)), mp_context=context, initializer=_init_worker,
                             initargs=(spec, progress)) as pool:
        pending = {pool.submit(_run_in_worker, shard) for shard in shards}
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            drain(progress, on_image)
            for future in done:
                on_shard(future.result())
        drain(progress, on_image)


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
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        for ref in done:
            stats = ray.get(ref)
            on_image(sizes[ref])
            on_shard(stats)


DISTRIBUTORS = {"local": run_local, "ray": run_ray}


def select_shards(shards: list[Shard], num_shards: int, shard_index: int) -> list[Shard]:
    """Job ``shard_index`` of ``num_shards``: a contiguous block of the dataset's shards."""
    if num_shards < 1 or not 0 <= shard_index < num_shards:
        raise ValueError(f"need 0 <= --shard-index < --num-shards, got {shard_index} of {num_shards}")
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
    ``pairs_now`` (written by this call), ``skipped`` (by reason), ``motion_fallbacks`` (pairs
    that asked for moving objects and got camera blur, by reason), ``failures`` and ``sources``
    (images covered by this job's shards). ``on_plan(k)`` is told, before any work, that k
    source images remain to do (a progress bar's total).
    """
    if distributor not in DISTRIBUTORS:
        raise ValueError(f"distributor must be one of {', '.join(DISTRIBUTORS)}, got {distributor!r}")
    prepare_output(spec)
    mine = select_shards(spec.shards(), num_shards, shard_index)
    complete = [shard for shard in mine if is_complete(spec, shard)]
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

    DISTRIBUTORS[distributor](spec, todo, on_image or (lambda _: None), shard_done, workers or os.cpu_count() or 1)
    skipped: dict[str, int] = {}
    fallbacks: dict[str, int] = {}
    for stats in finished:
        for reason, count in stats["skipped"].items():
            skipped[reason] = skipped.get(reason, 0) + count
        for reason, count in stats.get("motion_fallbacks", {}).items():
            fallbacks[reason] = fallbacks.get(reason, 0) + count
    non_images = getattr(getattr(spec.source, "source", spec.source), "non_images", 0)
    if non_images:
        skipped[NOT_AN_IMAGE] = non_images
    return {
        "shards": len(mine),
        "already_complete": len(complete),
        "written_now": len(todo),
        "sources": sum(shard.stop - shard.start for shard in mine),
        "pairs": sum(stats["pairs"] for stats in finished),
        "pairs_now": sum(stats["pairs"] for stats in now),
        "skipped": dict(sorted(skipped.items())),
        "motion_fallbacks": dict(sorted(fallbacks.items())),
        "failures": [f for stats in finished for f in stats.get("failures", [])],
    }
