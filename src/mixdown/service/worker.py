"""``mixdown worker``: a process that takes jobs from the cluster's queue on PostgreSQL, any
number of them on any machines. Each runs its jobs under leases, a sweeper, and a callback
dispatcher; it binds no port unless asked for ``/metrics``.

SIGTERM or SIGINT: the running jobs are interrupted and handed back to the queue at once
(another worker takes them), then the process exits with 0. A database that goes away does
not end it: it reconnects when the database is back (``jobs.cluster_worker``).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from mixdown.callbacks.dispatcher import CallbackDispatcher, HttpSender, RetryPolicy, Sender
from mixdown.errors import InvalidParameterValue
from mixdown.service.config import ServiceConfig
from mixdown.service.data_folder import lock_data_dir, open_database
from mixdown.service.job_context import job_context, url_policy
from mixdown.service.job_runtime import ClusterJobs
from mixdown.service.logs import setup_logging
from mixdown.service.metrics_server import MetricsServer
from mixdown.settings import Settings
from mixdown.store.database_url import SQLITE, driver_url

_log = logging.getLogger("mixdown.service")


@dataclass(frozen=True)
class WorkerConfig:
    #: What a worker shares with ``serve``: the database, the storage, its data folder
    #: (scratch space), the URL policy, the public URL of downloads; ``workers`` is the
    #: number of jobs run at once (``--concurrency``).
    node: ServiceConfig
    metrics_host: str = "127.0.0.1"
    #: ``/metrics`` and ``/healthz`` on this port; None binds nothing.
    metrics_port: int | None = None


class Worker:
    def __init__(
        self,
        config: WorkerConfig,
        settings: Settings,
        *,
        sender: Sender | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        node = config.node
        _require_postgres(node.database_url)
        self.config = config
        self._lock_fd = lock_data_dir(node.data_dir)  # its scratch folder is this process's
        self.db = open_database(node.data_dir, node.database_url)
        self.policy = url_policy(node)
        self._sender = sender or HttpSender()
        self.dispatcher = CallbackDispatcher(
            self.db,
            sender=self._sender,
            policy=RetryPolicy(
                base_s=node.callback_retry_base_s, timeout_s=node.callback_timeout_s
            ),
            url_guard=self.policy.callback_guard,
            clock=clock,
        )
        self.jobs = job_context(
            node, settings, self.db, self.policy, notify=self.dispatcher.wake, clock=clock
        )
        self.work = ClusterJobs(self.jobs, settings, workers=max(1, node.workers))
        self.ready = threading.Event()

    def start(self) -> None:
        self.jobs.outputs.sweep_scratch()
        self.dispatcher.start()
        self.work.start()
        self.ready.set()
        _log.info("worker ready", extra={"concurrency": max(1, self.config.node.workers)})

    def stop(self) -> None:
        self.ready.clear()
        self.jobs.stopping.set()  # running renders stop; their jobs go back to the queue
        self.work.stop()
        self.dispatcher.stop()
        if isinstance(self._sender, HttpSender):
            self._sender.close()
        self.db.dispose()
        os.close(self._lock_fd)
        _log.info("worker stopped")


def run_worker(config: WorkerConfig, settings: Settings) -> int:
    """Run until SIGTERM or SIGINT (0), or until the queue's worker fails for good (1)."""
    setup_logging()
    os.umask(0o077)
    stop = threading.Event()

    def on_signal(_number: int, _frame: FrameType | None) -> None:
        stop.set()

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, on_signal)
    worker = Worker(config, settings)
    metrics = _metrics_server(config, worker)
    code = 0
    try:
        worker.start()
        while not stop.wait(0.5):
            if not worker.work.running():
                _log.error("the worker's queue ended; stopping")
                code = 1
                break
    finally:
        worker.stop()
        if metrics is not None:
            metrics.stop()
    return code


def _metrics_server(config: WorkerConfig, worker: Worker) -> MetricsServer | None:
    if config.metrics_port is None:
        return None
    server = MetricsServer(worker, config.metrics_host, config.metrics_port)
    server.start()
    return server


def _require_postgres(url: str) -> None:
    if not url or driver_url(url).drivername == SQLITE:
        raise InvalidParameterValue(
            "mixdown worker needs the cluster's PostgreSQL database: --database "
            "postgresql://USER[:PASSWORD]@HOST[:PORT]/DB or MIXDOWN_DATABASE_URL "
            "(SQLite runs its jobs inside mixdown serve)"
        )
