"""An in-process executor: N worker threads taking job ids from a queue.

The queue carries only ids; the store says what each job is and whether it still needs
doing, so submitting an id twice, or after it finished, is harmless.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

_log = logging.getLogger("mixdown.jobs")
_STOP = object()


class ThreadExecutor:
    def __init__(self, name: str, run: Callable[[str], None], workers: int = 1) -> None:
        self._name, self._run, self._workers = name, run, max(1, workers)
        self._queue: queue.Queue[object] = queue.Queue()
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._closing = threading.Event()

    def start(self) -> None:
        for i in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"{self._name}-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._pending:
                return
            self._pending.add(job_id)
        self._queue.put(job_id)

    def waiting(self) -> int:
        """Ids submitted and not yet started."""
        return self._queue.qsize()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Let running jobs return (callers cancel them first) and end the workers.

        Ids still queued are not started: their rows stay QUEUED for the next start, and a
        graceful stop spends none of their attempts.
        """
        self._closing.set()
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join(timeout=timeout_s)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            job_id = str(item)
            if self._closing.is_set():
                with self._lock:
                    self._pending.discard(job_id)
                continue
            try:
                self._run(job_id)
            except Exception:
                # The job records its own failure; reaching here is a bug, never fatal.
                _log.exception("job crashed", extra={"job": self._name, "task_id": job_id})
            finally:
                # Kept pending while it runs, so a second submit cannot start a rival attempt.
                with self._lock:
                    self._pending.discard(job_id)
