"""The sweeper: every worker runs one, every few seconds. It defers again the work nobody
holds a lease on: rows whose worker died (``kill -9``: no heartbeat for a whole lease) and
rows accepted whose job never reached the queue (a crash between the commit and the
deferral). Work whose job waits in the queue is left alone.

The new run claims a new attempt; only the current attempt may commit, so should the old
worker still be alive after all (frozen for a lease), its late result is thrown away.

procrastinate's periodic tasks fire once a minute at most; a lease is seconds in tests and
a minute in production, hence a plain timer thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from mixdown.jobs.kinds import JobKind
from mixdown.settings import Leases
from mixdown.store.database import Database

_log = logging.getLogger("mixdown.jobs")
#: A worker silent this many leases is dead; its jobs' records in the queue are closed.
_STALLED_LEASES = 4


class Requeue(Protocol):
    """What the sweeper needs of the queue (``jobs.cluster_queue.ClusterQueue``)."""

    def defer(self, kind: str, key: str) -> None: ...
    def waiting(self, kind: str, keys: Sequence[str]) -> set[str]: ...
    def close_stalled(self, seconds: float) -> int: ...


class Sweeper:
    def __init__(
        self,
        db: Database,
        queue: Requeue,
        kinds: Sequence[JobKind],
        leases: Leases,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db, self._queue, self._kinds = db, queue, kinds
        self._leases, self._clock = leases, clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def sweep(self) -> int:
        """Defer every lapsed job not waiting in the queue; how many were deferred."""
        before_ms = int((self._clock() - self._leases.lease_s) * 1000)
        deferred = 0
        for kind in self._kinds:
            lapsed = kind.lapsed(self._db, before_ms)
            waiting = self._queue.waiting(kind.name, lapsed)
            for key in lapsed:
                if key not in waiting:
                    self._queue.defer(kind.name, key)
                    deferred += 1
                    _log.info("lapsed job deferred again", extra={"job": kind.name, "task_id": key})
        self._queue.close_stalled(max(60.0, _STALLED_LEASES * self._leases.lease_s))
        return deferred

    def _loop(self) -> None:
        while True:
            try:
                self.sweep()
            except Exception as exc:  # the database may be away for a while: sweep again later
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                _log.warning("sweep failed; will retry", extra={"reason": reason})
            if self._stop.wait(self._leases.sweep_s):
                return
