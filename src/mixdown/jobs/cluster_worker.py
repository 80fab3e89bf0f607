"""A procrastinate worker in this process: takes jobs of the given kinds from the cluster's
queue and runs each under a lease, on its own thread and event loop.

Stopping (SIGTERM, via ``stop``): the jobs' stop event is set first, so running renders are
cancelled and their attempts given back; each job so interrupted is deferred again at once,
for another worker to take without waiting for its lease to lapse. The worker then takes no
new job, waits for the running ones to return, and ends.

Losing the database (PostgreSQL restarted, a network cut): procrastinate's worker stops
fetching when its heartbeat or its fetch fails, waits for the running jobs and ends; this
one then connects again, with backoff, for as long as it takes. Running renders go on
meanwhile; what they could not commit is found again through the leases.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import procrastinate

from mixdown.jobs.cluster_queue import QUEUE, ClusterQueue, pool_options
from mixdown.jobs.kinds import JobKind
from mixdown.jobs.lease import held
from mixdown.settings import Leases
from mixdown.store.database import Database

_log = logging.getLogger("mixdown.jobs")
#: Waits between tries to reach the queue again: doubling from the first to the cap.
_RECONNECT_FIRST_S = 0.5
_RECONNECT_CAP_S = 10.0
Wrap = Callable[[JobKind], Callable[[str], None]]


class ClusterWorker:
    def __init__(
        self,
        db: Database,
        queue: ClusterQueue,
        kinds: Sequence[JobKind],
        *,
        leases: Leases,
        stopping: threading.Event,
        concurrency: int = 1,
        wrap: Wrap | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db, self._queue, self._leases = db, queue, leases
        self._stopping, self._clock = stopping, clock
        self._concurrency = max(1, concurrency)
        connector = procrastinate.PsycopgConnector(
            **pool_options(db, max_size=self._concurrency + 2)
        )
        self._app = procrastinate.App(connector=connector)
        for kind in kinds:
            run = wrap(kind) if wrap else kind.run
            self._app.task(name=kind.name, queue=QUEUE, pass_context=False)(self._job(kind, run))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[None] | None = None
        self._started = threading.Event()
        #: Set when the worker has ended, whether stopped or failed.
        self.ended = threading.Event()
        #: Set while procrastinate's worker runs: cleared while the database is away.
        self.connected = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="cluster-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._started.wait(timeout=30)

    def stop(self) -> None:
        """Take no more jobs and wait for the running ones (the caller set ``stopping``)."""
        loop, main = self._loop, self._main
        if loop is not None and main is not None and not self.ended.is_set():
            # procrastinate's documented stop for a worker it does not signal: cancel its
            # task; it then stops fetching and waits for the running jobs.
            loop.call_soon_threadsafe(main.cancel)
        if self._thread.ident is not None:  # started
            self._thread.join()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:
            self.error = exc
            _log.exception("cluster worker failed")
        finally:
            self._started.set()
            self.ended.set()

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        # Sync jobs run on the loop's default executor: one thread per job at most.
        loop.set_default_executor(
            ThreadPoolExecutor(self._concurrency + 1, thread_name_prefix="job")
        )
        self._loop, self._main = loop, asyncio.current_task()
        self._started.set()
        wait_s = _RECONNECT_FIRST_S
        while True:  # until cancelled by stop()
            began = time.monotonic()
            try:
                await self._work()
                reason = "the queue's worker stopped"
            except Exception as exc:  # the database went away; the jobs already returned
                reason = f"{type(exc).__name__}: {exc}"
            finally:
                self.connected.clear()
            if time.monotonic() - began > _RECONNECT_CAP_S:
                wait_s = _RECONNECT_FIRST_S  # it had been connected: start over
            _log.warning(
                "queue connection lost; reconnecting", extra={"reason": reason, "in_s": wait_s}
            )
            await asyncio.sleep(wait_s)
            wait_s = min(wait_s * 2, _RECONNECT_CAP_S)

    async def _work(self) -> None:
        """One connection's life: procrastinate's worker, until it ends or is cancelled."""
        async with self._app.open_async():
            self.connected.set()
            await self._app.run_worker_async(
                name=f"mixdown@{socket.gethostname()}:{os.getpid()}",
                queues=[QUEUE],
                concurrency=self._concurrency,
                install_signal_handlers=False,
                delete_jobs="successful",
                listen_notify=True,
                fetch_job_polling_interval=min(5.0, self._leases.sweep_s),
            )

    def _job(self, kind: JobKind, run: Callable[[str], None]) -> Callable[[str], None]:
        def job(key: str) -> None:
            if not self._stopping.is_set():
                with held(lambda: self._renew(kind, key), self._leases.beat_s, name=kind.name):
                    run(key)
            if self._stopping.is_set():
                # Interrupted, or taken while stopping: another worker takes it now. Had it
                # finished, that worker finds nothing left to do.
                self._queue.defer(kind.name, key)
                _log.info("job handed back", extra={"job": kind.name, "task_id": key})

        return job

    def _renew(self, kind: JobKind, key: str) -> None:
        kind.renew(self._db, key, int(self._clock() * 1000))
