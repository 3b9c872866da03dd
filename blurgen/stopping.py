"""Stopping a long command the way a user does: Ctrl-C (SIGINT) or ``kill``/``scancel`` (SIGTERM).

Both become :class:`KeyboardInterrupt` in the main process, so one ``except KeyboardInterrupt``
per command cleans up (worker processes stopped, half-written output left under names a rerun
never trusts) and says in one line where it stopped. Worker processes ignore SIGINT, which the
terminal sends to the whole process group: their parent alone decides and stops them.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_received: list[int] = []  # the signals that stopped this process, in order


def interrupted_exit() -> int:
    """The exit status of a command stopped by a signal: 128 + its number, as shells report it
    (130 for Ctrl-C, 143 for SIGTERM from ``kill``, ``timeout`` or Slurm)."""
    return 128 + (_received[0] if _received else signal.SIGINT)


def _interrupt(signum: int, frame: object) -> None:
    _received.append(signum)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def stop_on_sigterm() -> None:
    """Make SIGTERM stop this process as Ctrl-C does (call from the main thread, at start-up)."""
    signal.signal(signal.SIGTERM, _interrupt)


def ignore_interrupts() -> None:
    """In a worker process: leave SIGINT to the parent, which stops the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def leave_stops_to_parent() -> None:
    """In a worker whose death its parent treats as a crash (PyTorch's DataLoader raises in the
    training process when a worker dies by a signal): ignore SIGINT and SIGTERM alike.

    ``timeout``, Slurm and Kubernetes send SIGTERM to the whole process group; the parent stops
    at a step boundary, writes its checkpoint and shuts its workers down itself. A parent that
    dies without doing so takes its workers with it (:func:`die_with_parent`).
    """
    ignore_interrupts()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


PARENT_CHECK_SECONDS = 0.5


def die_with_parent(parent: int | None = None) -> None:
    """In a worker process: end it within a second of its parent's death, however the parent died.

    A parent killed with SIGKILL (the OOM killer, a scheduler's hard limit) cannot stop its
    workers, and they would live on, idle, holding memory and maybe a shard a rerun then writes
    too. When the parent dies, the worker is handed to another process; a daemon thread notices
    the change of parent and exits at once (no cleanup: the parent's rerun redoes the work).
    ``parent``: the process id the parent had when it started this worker; a worker whose parent
    died while it was still starting has another parent already, and exits now.
    """
    if parent is not None and os.getppid() != parent:
        os._exit(1)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


@contextmanager
def interrupts_held_off() -> Iterator[None]:
    """Ignore SIGINT while worker processes are started, so they begin life ignoring it too
    (an ignored signal stays ignored across exec); restored on exit."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class StopAtBoundary:
    """Context manager for work in steps: the first SIGINT or SIGTERM sets :attr:`requested` so
    the work can stop cleanly at its next step boundary (call :meth:`stopping` there); if it has
    not within ``grace`` seconds, or on a second signal, :class:`KeyboardInterrupt` is raised.
    Outside the main thread it does nothing (signals only reach the main thread)."""

    def __init__(self, grace: float = 1.5) -> None:
        self.grace = grace
        self.requested: str | None = None
        self.previous: dict[int, object] = {}

    def _signalled(self, signum: int, frame: object) -> None:
        _received.append(signum)
        if self.requested is not None:
            raise KeyboardInterrupt(signal.Signals(signum).name)
        self.requested = signal.Signals(signum).name
        signal.setitimer(signal.ITIMER_REAL, self.grace)

    def _grace_over(self, signum: int, frame: object) -> None:
        raise KeyboardInterrupt(self.requested)

    def stopping(self) -> bool:
        """At a step boundary: whether to stop now (a signal came); the grace timer stops, so
        what follows (a checkpoint) is not cut short."""
        if self.requested is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
        return self.requested is not None

    def __enter__(self) -> StopAtBoundary:
        wanted = [(signal.SIGTERM, self._signalled), (signal.SIGALRM, self._grace_over)]
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # started with Ctrl-C ignored (nohup ... &): keep it so
            wanted.append((signal.SIGINT, self._signalled))
        try:
            for signum, handler in wanted:
                self.previous[signum] = signal.signal(signum, handler)
        except ValueError:  # not the main thread
            self.previous.clear()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous:
            signal.setitimer(signal.ITIMER_REAL, 0)
            for signum, handler in self.previous.items():
                signal.signal(signum, handler)
