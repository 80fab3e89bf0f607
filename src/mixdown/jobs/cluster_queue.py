"""The cluster's queue: procrastinate's jobs on the shared PostgreSQL database.

A job is deferred with a queueing lock of its kind and key, so deferring it again while one
waits does nothing (procrastinate refuses a second waiting job with the same lock). The
lock does not cover a job already running: a job handed back by a stopping worker can wait
in the queue while the old one returns. Jobs carry no procrastinate retries; a job whose
worker died is found by the sweeper (``jobs.sweeper``) from the rows' leases instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException
from sqlalchemy import make_url

from mixdown.store.database import CONNECT_TIMEOUT_S, Database

#: Seconds a query waits for a free or new connection of the pool.
_POOL_WAIT_S = 10.0
#: procrastinate's queue for every kind (several queues would let workers specialise).
QUEUE = "mixdown"

_WAITING = """
SELECT queueing_lock FROM procrastinate_jobs
 WHERE status = 'todo' AND queueing_lock = ANY(%(locks)s)
"""
_DEPTH = """
SELECT task_name, count(*) AS waiting FROM procrastinate_jobs
 WHERE status = 'todo' AND queue_name = %(queue)s GROUP BY task_name
"""
#: Jobs still "doing" on a worker that stopped beating (killed): their work went back to
#: the queue through the leases already, so they are only closed in the books.
_STALLED = """
SELECT job.id FROM procrastinate_jobs job
  LEFT JOIN procrastinate_workers w ON w.id = job.worker_id
 WHERE job.status = 'doing' AND job.queue_name = %(queue)s
   AND (w.id IS NULL
        OR w.last_heartbeat < now() - make_interval(secs => %(seconds)s))
"""
_FINISH = "SELECT procrastinate_finish_job_v1(%(job_id)s, 'failed', false)"
#: Workers heard from within a minute: the ones taking jobs now.
_LIVE = """
SELECT count(*) AS live FROM procrastinate_workers
 WHERE last_heartbeat > now() - interval '1 minute'
"""


def lock_of(kind: str, key: str) -> str:
    return f"{kind}:{key}"


def conninfo(db: Database) -> str:
    """The libpq URL of the database a SQLAlchemy URL names (procrastinate talks psycopg)."""
    return make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)


def pool_options(db: Database, max_size: int) -> dict[str, Any]:
    """psycopg pool settings: small, with the store's connect timeout unless the URL sets one,
    and a bounded wait for a connection."""
    timeout = (
        {}
        if "connect_timeout" in make_url(db.url).query
        else {"connect_timeout": CONNECT_TIMEOUT_S}
    )
    return {
        "conninfo": conninfo(db),
        "min_size": 1,
        "max_size": max_size,
        "kwargs": timeout,
        # A query waits this long for a connection when none can be made (the database is
        # away): a worker then notices and reconnects, instead of hanging 30 s a query.
        "timeout": _POOL_WAIT_S,
    }


class ClusterQueue:
    """Defers jobs and reads the queue; used from plain threads (API requests, jobs, the
    sweeper), over its own small connection pool."""

    def __init__(self, db: Database) -> None:
        connector = procrastinate.SyncPsycopgConnector(**pool_options(db, max_size=4))
        self.app = procrastinate.App(connector=connector)

    def open(self) -> ClusterQueue:
        self.app.open()
        return self

    def close(self) -> None:
        self.app.close()

    def defer(self, kind: str, key: str) -> None:
        deferrer = self.app.configure_task(kind, queue=QUEUE, queueing_lock=lock_of(kind, key))
        try:
            deferrer.defer(key=key)
        except AlreadyEnqueued:
            return

    def waiting(self, kind: str, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` whose job of ``kind`` waits in the queue."""
        if not keys:
            return set()
        locks = [lock_of(kind, key) for key in keys]
        rows = self.app.connector.execute_query_all(_WAITING, locks=locks)
        prefix = len(kind) + 1
        return {str(row["queueing_lock"])[prefix:] for row in rows}

    def depth(self) -> dict[str, int]:
        rows = self.app.connector.execute_query_all(_DEPTH, queue=QUEUE)
        return {str(row["task_name"]): int(row["waiting"]) for row in rows}

    def live_workers(self) -> int:
        """Workers taking jobs now, cluster-wide (each heartbeats in the queue's tables)."""
        rows = self.app.connector.execute_query_all(_LIVE)
        return int(rows[0]["live"]) if rows else 0

    def close_stalled(self, seconds: float) -> int:
        """Mark failed the running jobs of workers silent for ``seconds``; how many."""
        rows = self.app.connector.execute_query_all(_STALLED, queue=QUEUE, seconds=seconds)
        closed = 0
        for row in rows:
            try:
                self.app.connector.execute_query(_FINISH, job_id=row["id"])
                closed += 1
            except ConnectorException:  # it ended meanwhile: nothing to close
                continue
        return closed
