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

from mixdown.api.action import Services
from mixdown.api.gateway import Gateway
from mixdown.api.registry import all_actions
from mixdown.callbacks.dispatcher import CallbackDispatcher, HttpSender, RetryPolicy, Sender
from mixdown.jobs.context import JobContext
from mixdown.jobs.engine import Engine, LocalEngine
from mixdown.jobs.executor import ThreadExecutor
from mixdown.jobs.importer import ImportJob
from mixdown.jobs.pipeline import GenerationJob
from mixdown.service.config import ServiceConfig
from mixdown.service.data_folder import lock_data_dir, open_database
from mixdown.service.url_policy import UrlPolicy
from mixdown.settings import Settings
from mixdown.storage.local import LocalStorage
from mixdown.store import tasks
from mixdown.store.recordings import unfinished_recordings

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
        self.storage = LocalStorage(config.outputs_dir)
        self.policy = UrlPolicy(config.ingest_roots, allow_private=config.allow_private_urls)
        self._sender = sender or HttpSender()
        self.dispatcher = CallbackDispatcher(
            self.db,
            sender=self._sender,
            policy=RetryPolicy(base_s=config.callback_retry_base_s),
            url_guard=self.policy.callback_guard,
            clock=clock,
        )
        self.jobs = JobContext(
            db=self.db,
            storage=self.storage,
            engine=engine or LocalEngine(settings, url_guard=self.policy.fetch_guard),
            base_url=config.base_url,
            notify=self.dispatcher.wake,
            clock=clock,
        )
        self.imports = ThreadExecutor("import", ImportJob(self.jobs), workers=1)
        self.generations = ThreadExecutor(
            "generate", GenerationJob(self.jobs), workers=config.workers
        )
        services = Services(
            policy=self.policy,
            settings=settings,
            base_url=config.base_url,
            submit_import=self.imports.submit,
            submit_generation=self.generations.submit,
            notify_callbacks=self.dispatcher.wake,
        )
        self.gateway = Gateway(self.db, services, all_actions(), clock=clock)
        self.ready = threading.Event()

    def start(self) -> None:
        removed = self.storage.sweep(tasks.committed_tokens(self.db))
        if removed:
            _log.info("removed uncommitted outputs", extra={"folders": len(removed)})
        self.dispatcher.start()
        self.imports.start()
        self.generations.start()
        requeued = 0
        for recording_id in unfinished_recordings(self.db):
            self.imports.submit(recording_id)
            requeued += 1
        for task_id in tasks.unfinished_tasks(self.db):
            self.generations.submit(task_id)
            requeued += 1
        self.ready.set()
        _log.info("service ready", extra={"requeued": requeued, "url": self.config.base_url})

    def stop(self) -> None:
        self.ready.clear()
        self.jobs.stopping.set()  # running renders stop; their tasks re-run on the next start
        self.imports.stop()
        self.generations.stop()
        self.dispatcher.stop()
        if isinstance(self._sender, HttpSender):
            self._sender.close()
        self.db.dispose()
        os.close(self._lock_fd)  # releases the data folder
        _log.info("service stopped")
