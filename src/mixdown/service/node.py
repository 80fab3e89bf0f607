"""The embedded service: store, workers, callback dispatcher and HTTP app in one process.

Start order matters for crash recovery: migrate, sweep output folders no task committed
(left by a crash), then re-queue every unfinished import and generation task.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

from mixdown.api.action import Services
from mixdown.api.gateway import Gateway
from mixdown.api.limiter import RateLimiter, SharedLimiter
from mixdown.api.registry import all_actions
from mixdown.callbacks.dispatcher import CallbackDispatcher, HttpSender, RetryPolicy, Sender
from mixdown.jobs.engine import Engine
from mixdown.jobs.kinds import GENERATION, IMPORT
from mixdown.service.config import ServiceConfig
from mixdown.service.data_folder import lock_data_dir, open_database
from mixdown.service.ingest_node import IngestNode
from mixdown.service.ingest_setup import ingest_config
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
        self._settings = settings
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
            auto_stop_min_s=config.auto_stop_min_s,
        )
        # One process counts requests itself; a cluster's API nodes count them together.
        limiter = RateLimiter() if self.db.is_sqlite else SharedLimiter()
        self.gateway = Gateway(self.db, services, all_actions(), limiter=limiter, clock=clock)
        self.ready = threading.Event()
        self.ingest = (
            IngestNode(
                ingest_config(config),
                self.db,
                probe=partial(self.work.defer, IMPORT),
                notify=self.dispatcher.wake,
                # A cluster's workers read the files from the store, not from this node.
                store=None if self.db.is_sqlite else self.outputs.store,
                clock=clock,
            )
            if config.rtmp_port is not None
            else None
        )

    def wake_callbacks(self) -> None:
        self.dispatcher.wake()

    @property
    def sheets_dir(self) -> Path:
        return self.config.data_dir / "console" / "sheets"

    @property
    def ffmpeg(self) -> str:
        return self._settings.ffmpeg

    def ingest_hook(self, event: str, token: str, form: Mapping[str, str]) -> str:
        """nginx's hook: "" when admitted or acknowledged, else why not."""
        # Answered while nginx starts and stops too: its publishes' ends are reported then.
        if self.ingest is None:
            return "no RTMP ingest here"
        return self.ingest.hook(event, token, form)

    def start(self) -> None:
        removed = self.outputs.sweep_scratch()
        if removed:
            _log.info("removed unfinished attempts", extra={"folders": removed})
        self.dispatcher.start()
        requeued = self.work.start()
        self.ready.set()
        if self.ingest is not None:  # after the jobs: sealing a recording queues its probe
            self.ingest.start()
        _log.info("service ready", extra={"requeued": requeued, "url": self.config.base_url})

    def stop(self) -> None:
        self.ready.clear()
        if self.ingest is not None:
            self.ingest.stop()
        self.jobs.stopping.set()  # running renders stop; their tasks re-run on the next start
        self.work.stop()
        self.dispatcher.stop()
        if isinstance(self._sender, HttpSender):
            self._sender.close()
        self.db.dispose()
        os.close(self._lock_fd)  # releases the data folder
        _log.info("service stopped")
