"""What this process's jobs did, by kind: how many run now, how long each took, how many
failed. Read by ``/metrics``; the queue's own depth comes from the queue."""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mixdown.jobs.kinds import JobKind
from mixdown.store.database import Database

_log = logging.getLogger("mixdown.jobs")
#: Upper bounds (seconds) of the duration histogram: an import takes seconds, a long
#: class's generation up to an hour.
BUCKETS_S = (0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)


@dataclass
class KindStats:
    running: int = 0
    failures: int = 0
    count: int = 0
    total_s: float = 0.0
    #: Runs per bucket of ``BUCKETS_S`` (not cumulative), the last for longer ones.
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_S) + 1))


class JobStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: dict[str, KindStats] = {}

    def tracked(self, kind: JobKind, db: Database) -> Callable[[str], None]:
        """``kind.run`` counted: running while it runs, then its duration and outcome."""

        def run(key: str) -> None:
            self._change(kind.name, running=1)
            started, failed = time.monotonic(), True
            try:
                kind.run(key)
                failed = _failed(kind, db, key)
            finally:
                self._finish(kind.name, time.monotonic() - started, failed)

        return run

    def snapshot(self) -> dict[str, KindStats]:
        with self._lock:
            return {
                name: KindStats(s.running, s.failures, s.count, s.total_s, list(s.buckets))
                for name, s in self._kinds.items()
            }

    def _change(self, kind: str, running: int) -> None:
        with self._lock:
            self._kinds.setdefault(kind, KindStats()).running += running

    def _finish(self, kind: str, took_s: float, failed: bool) -> None:
        with self._lock:
            stats = self._kinds.setdefault(kind, KindStats())
            stats.running -= 1
            stats.count += 1
            stats.total_s += took_s
            stats.failures += int(failed)
            stats.buckets[bisect.bisect_left(BUCKETS_S, took_s)] += 1


def _failed(kind: JobKind, db: Database, key: str) -> bool:
    try:
        return kind.failed(db, key)
    except Exception:  # counting must never fail a job that has already ended
        _log.warning("job outcome not read", extra={"job": kind.name, "task_id": key})
        return False
