"""The embedded service: store, workers, callback dispatcher and HTTP app in one process.

Start order matters for crash recovery: migrate, sweep output folders no task committed
(left by a crash), then re-queue every unfinished import and generation task.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from functools import partial

from mixdown.api.action import Services
from mixdown.api.gateway import Gateway
from mixdown.api.limiter import RateLimiter, SharedLimiter
from mixdown.api.registry import all_actions
from mixdown.callbacks.dispatcher import CallbackDispatcher, HttpSender, RetryPolicy, Sender
from mixdown.jobs.engine import Engine
from mixdown.jobs.kinds import GENERATION, IMPORT
from mixdown.service.config import ServiceConfig
from mixdown.service.data_folder import lock_data_dir, open_database
from mixdown.service.job_context import job_context, url_policy
from mixdown.service.job_runtime import node_jobs
from mixdown.settings import Settings

_log = logging.getLogger("mixdown.service")


class Service:
    def __init__(
        self,
        config: ServiceConfig,
        settings: Settings,
        *,
        engine: Engine | None = None,
        sender: Sender | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._lock_fd = lock_data_dir(config.data_dir)
        self.db = open_database(config.data_dir, config.database_url)
        self.policy = url_policy(config)
        self._sender = sender or HttpSender()
        self.dispatcher = CallbackDispatcher(
            self.db,
            sender=self._sender,
            policy=RetryPolicy(
                base_s=config.callback_retry_base_s, timeout_s=config.callback_timeout_s
            ),
            url_guard=self.policy.callback_guard,
            clock=clock,
        )
        self.jobs = job_context(
            config,
            settings,
            self.db,
            self.policy,
            notify=self.dispatcher.wake,
            engine=engine,
            clock=clock,
        )
        self.outputs = self.jobs.outputs
        self.work = node_jobs(self.jobs, settings, config.workers)
        services = Services(
            policy=self.policy,
            settings=settings,
            link=self.outputs.link,
            submit_import=partial(self.work.defer, IMPORT),
            submit_generation=partial(self.work.defer, GENERATION),
            notify_callbacks=self.dispatcher.wake,
        )
        # One process counts requests itself; a cluster's API nodes count them together.
        limiter = RateLimiter() if self.db.is_sqlite else SharedLimiter()
        self.gateway = Gateway(self.db, services, all_actions(), limiter=limiter, clock=clock)
        self.ready = threading.Event()

    def start(self) -> None:
        removed = self.outputs.sweep_scratch()
        if removed:
            _log.info("removed unfinished attempts", extra={"folders": removed})
        self.dispatcher.start()
        requeued = self.work.start()
        self.ready.set()
        _log.info("service ready", extra={"requeued": requeued, "url": self.config.base_url})

    def stop(self) -> None:
        self.ready.clear()
        self.jobs.stopping.set()  # running renders stop; their tasks re-run on the next start
        self.work.stop()
        self.dispatcher.stop()
        if isinstance(self._sender, HttpSender):
            self._sender.close()
        self.db.dispose()
        os.close(self._lock_fd)  # releases the data folder
        _log.info("service stopped")
