"""Where a node's jobs run. On SQLite (the embedded service): worker threads in this
process, and at start every unfinished import and task queued again. On PostgreSQL (a
cluster): deferred into the shared queue, taken by ``mixdown worker`` processes and by this
process too when it has workers, each of which also runs a sweeper; nothing is re-queued at
start, the sweeper finds work whose lease lapsed, whichever node had it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from mixdown.jobs.cluster_queue import ClusterQueue
from mixdown.jobs.cluster_worker import ClusterWorker
from mixdown.jobs.context import JobContext
from mixdown.jobs.kinds import GENERATION, IMPORT, JobKind, cluster_kinds, service_kinds
from mixdown.jobs.queue import ThreadQueue
from mixdown.jobs.stats import JobStats, KindStats
from mixdown.jobs.sweeper import Sweeper
from mixdown.settings import Settings
from mixdown.store import tasks
from mixdown.store.recordings import unfinished_recordings

_log = logging.getLogger("mixdown.service")


class LocalJobs:
    """The embedded service's jobs, on threads of this process."""

    def __init__(self, ctx: JobContext, workers: int) -> None:
        self._ctx = ctx
        # The queue is made of the kinds, and an import queues a generation: late-bound.
        self.kinds = service_kinds(ctx, self.defer, generation_threads=max(1, workers))
        self.stats = JobStats()
        self._queue = ThreadQueue(self.kinds, wrap=lambda kind: self.stats.tracked(kind, ctx.db))

    def defer(self, kind: str, key: str) -> None:
        self._queue.defer(kind, key)

    def depth(self) -> dict[str, int]:
        return self._queue.depth()

    def running(self) -> bool:
        return True

    def connected(self) -> bool:
        return True

    def start(self) -> int:
        """Start the threads and queue again what a crash or a stop left; how many."""
        self._queue.start()
        requeued = 0
        for recording_id in unfinished_recordings(self._ctx.db):
            self.defer(IMPORT, recording_id)
            requeued += 1
        for task_id in tasks.unfinished_tasks(self._ctx.db):
            self.defer(GENERATION, task_id)
            requeued += 1
        return requeued

    def stop(self) -> None:
        self._queue.stop()


class ClusterJobs:
    """A cluster node's jobs: deferred to the shared queue; with ``workers`` > 0 also taken
    from it here, ``workers`` at once, with a sweeper."""

    def __init__(self, ctx: JobContext, settings: Settings, workers: int) -> None:
        self.stats = JobStats()
        self._queue = ClusterQueue(ctx.db)
        self.kinds = cluster_kinds(ctx, self._queue.defer, settings, self._queue.live_workers)
        self._worker: ClusterWorker | None = None
        self._sweeper: Sweeper | None = None
        if workers > 0:
            self._worker = ClusterWorker(
                ctx.db,
                self._queue,
                self.kinds,
                leases=settings.leases,
                stopping=ctx.stopping,
                concurrency=workers,
                wrap=self._tracked(ctx),
                clock=ctx.clock,
            )
            self._sweeper = Sweeper(ctx.db, self._queue, self.kinds, settings.leases, ctx.clock)

    def defer(self, kind: str, key: str) -> None:
        self._queue.defer(kind, key)

    def depth(self) -> dict[str, int]:
        return self._queue.depth()

    def running(self) -> bool:
        """False once an in-process worker has ended (failed, or stopped)."""
        return self._worker is None or not self._worker.ended.is_set()

    def connected(self) -> bool:
        """False while an in-process worker waits for the database to come back."""
        return self._worker is None or self._worker.connected.is_set()

    def start(self) -> int:
        self._queue.open()
        if self._worker is not None:
            self._worker.start()
        if self._sweeper is not None:
            self._sweeper.start()
        return 0  # nothing re-queued here: the sweepers find what a crash left

    def stop(self) -> None:
        """After ``stopping`` is set: the worker's interrupted jobs go back to the queue."""
        if self._sweeper is not None:
            self._sweeper.stop()
        if self._worker is not None:
            self._worker.stop()
        self._queue.close()

    def _tracked(self, ctx: JobContext) -> Callable[[JobKind], Callable[[str], None]]:
        return lambda kind: self.stats.tracked(kind, ctx.db)


Jobs = LocalJobs | ClusterJobs


def node_jobs(ctx: JobContext, settings: Settings, workers: int) -> Jobs:
    """The jobs of a node on ``ctx.db``: in-process on SQLite, the cluster's on PostgreSQL."""
    if ctx.db.is_sqlite:
        return LocalJobs(ctx, workers)
    return ClusterJobs(ctx, settings, workers)


def stats_of(jobs: Jobs) -> dict[str, KindStats]:
    """Every kind's counts, zero for a kind that has not run here."""
    found = jobs.stats.snapshot()
    return {kind.name: found.get(kind.name, KindStats()) for kind in jobs.kinds}
