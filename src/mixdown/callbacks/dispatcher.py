"""Delivers stored callback events: at least once, retried with exponential backoff for up
to 24 h on a non-200 reply, a network error or a time-out. Runs on its own threads, so a
slow or dead receiver never holds up generation."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from mixdown.callbacks.envelope import callback_body
from mixdown.store import deliveries
from mixdown.store.database import Database
from mixdown.store.deliveries import DueDelivery

_log = logging.getLogger("mixdown.callbacks")


class Sender(Protocol):
    def post(self, url: str, body: bytes, timeout_s: float) -> int:
        """POST JSON; the HTTP status. Raises on network errors and time-outs."""
        ...


class HttpSender:
    def __init__(self) -> None:
        # No proxies from the environment, no redirects: the URL checked is the URL called.
        self._client = httpx.Client(trust_env=False, follow_redirects=False)

    def post(self, url: str, body: bytes, timeout_s: float) -> int:
        response = self._client.post(
            url, content=body, headers={"Content-Type": "application/json"}, timeout=timeout_s
        )
        return response.status_code

    def close(self) -> None:
        self._client.close()


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 5.0
    cap_s: float = 1800.0
    window_s: float = 24 * 3600.0
    #: One attempt's HTTP time-out (connect, send, wait for the answer).
    timeout_s: float = 10.0

    @property
    def lease_s(self) -> float:
        """How long a leased delivery stays hidden from every node while one sends it."""
        # Longer than a send, so two nodes never send one event at once. The margin covers
        # what surrounds the POST (the URL check's DNS lookup, the database writes, the
        # nodes' clock skew): at least 5 s, as long as the time-out itself, at most 30 s.
        # Short time-outs thus hand a crashed sender's event to another node in seconds.
        return self.timeout_s + min(30.0, max(5.0, self.timeout_s))

    def delay_s(self, attempts: int) -> float:
        """Wait after the ``attempts``-th failed attempt: base, 2·base, 4·base, ... capped."""
        return float(min(self.cap_s, self.base_s * 2 ** min(attempts - 1, 40)))


class CallbackDispatcher:
    def __init__(
        self,
        db: Database,
        *,
        sender: Sender,
        policy: RetryPolicy = RetryPolicy(),
        url_guard: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
        senders: int = 4,
        poll_s: float = 0.5,
    ) -> None:
        self._db, self._sender, self._policy = db, sender, policy
        self._guard, self._clock, self._poll_s = url_guard, clock, poll_s
        self._slots = threading.Semaphore(senders)
        self._senders = senders
        self._pool = ThreadPoolExecutor(senders, thread_name_prefix="callback")
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._loop, name="callback-dispatcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._dispatch_due()
            except Exception:
                _log.exception("callback dispatch failed; will retry")
            self._wake.wait(self._poll_s)

    def _dispatch_due(self) -> None:
        free = 0
        while free < self._senders and self._slots.acquire(blocking=False):
            free += 1
        lease_ms = int(self._policy.lease_s * 1000)
        due: list[DueDelivery] = []
        try:
            if free:
                due = deliveries.lease_due(
                    self._db, now_ms=self._now_ms(), limit=free, lease_ms=lease_ms
                )
            for item in due:
                self._pool.submit(self._send_and_release, item)
        finally:  # the database may be away: the slots not sent with go back either way
            for _ in range(free - len(due)):
                self._slots.release()

    def _send_and_release(self, item: DueDelivery) -> None:
        try:
            self._send(item)
        except Exception:
            _log.exception("callback delivery crashed", extra={"task_id": item.task_id})
        finally:
            self._slots.release()

    def _send(self, item: DueDelivery) -> None:
        now_s = int(self._clock())
        body = callback_body(
            sdk_app_id=item.sdk_app_id,
            event_type=item.event_type,
            event_data=item.event_data,
            event_time=item.event_time,
            now_s=now_s,
            key=item.key,
        )
        error = ""
        try:
            if self._guard is not None:
                self._guard(item.url)
            status = self._sender.post(
                item.url, json.dumps(body).encode("utf-8"), self._policy.timeout_s
            )
            error = "" if status == 200 else f"HTTP {status}"
        except ValueError as exc:  # refused by the URL policy: retrying cannot help
            self._finish(item, str(exc), give_up=True)
            return
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
        if not error:
            deliveries.mark_delivered(self._db, item.id, now_ms=self._now_ms())
            self._log("callback delivered", item, "")
            return
        self._finish(item, error, give_up=False)

    def _finish(self, item: DueDelivery, error: str, *, give_up: bool) -> None:
        retry_at = self._now_ms() + int(self._policy.delay_s(item.attempts) * 1000)
        if give_up or retry_at > item.created_ms + int(self._policy.window_s * 1000):
            deliveries.mark_failed(self._db, item.id, error=error, retry_at_ms=None)
            self._log("callback abandoned", item, error)
        else:
            deliveries.mark_failed(self._db, item.id, error=error, retry_at_ms=retry_at)
            self._log("callback failed; will retry", item, error)

    def _log(self, message: str, item: DueDelivery, error: str) -> None:
        # The host only: a callback URL may carry the customer's own tokens.
        _log.info(
            message,
            extra={
                "event_type": item.event_type,
                "task_id": item.task_id,
                "attempt": item.attempts,
                "host": urlsplit(item.url).hostname or "",
                "error": error,
            },
        )

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)
