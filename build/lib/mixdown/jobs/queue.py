"""Where jobs are deferred: a job is a kind (``jobs.kinds``) and a key, the id of the row it
works on. The row is the truth and the queue carries only ids, so deferring a job that is
already waiting does nothing, and one whose work is done runs and finds nothing to do.

Two queues run the same kinds: ``ThreadQueue`` here, worker threads in this process (the
embedded service), and ``jobs.cluster_queue`` (procrastinate on PostgreSQL) for a cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from mixdown.errors import InternalError
from mixdown.jobs.executor import ThreadExecutor
from mixdown.jobs.kinds import JobKind


class JobQueue(Protocol):
    def defer(self, kind: str, key: str) -> None:
        """Queue the job of ``kind`` for ``key``; nothing when one is already waiting."""
        ...

    def depth(self) -> dict[str, int]:
        """Jobs waiting to start, by kind."""
        ...


class ThreadQueue:
    """Each kind on its own worker threads (``JobKind.threads``) in this process."""

    def __init__(
        self,
        kinds: Iterable[JobKind],
        wrap: Callable[[JobKind], Callable[[str], None]] | None = None,
    ) -> None:
        self._executors = {
            kind.name: ThreadExecutor(kind.name, wrap(kind) if wrap else kind.run, kind.threads)
            for kind in kinds
        }

    def defer(self, kind: str, key: str) -> None:
        executor = self._executors.get(kind)
        if executor is None:
            raise InternalError(f"no job kind {kind!r}")
        executor.submit(key)

    def depth(self) -> dict[str, int]:
        return {name: executor.waiting() for name, executor in self._executors.items()}

    def start(self) -> None:
        for executor in self._executors.values():
            executor.start()

    def stop(self) -> None:
        """Let running jobs return (the caller cancels them first); queued ones stay queued
        in the store for the next start."""
        for executor in self._executors.values():
            executor.stop()
