"""Requests per second per (action, SdkAppId) → RequestLimitExceeded (DESIGN §4.3).

One API process counts in memory (``RateLimiter``); the API nodes of a cluster count in
their shared database (``SharedLimiter``), so the limit holds for the whole cluster."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from sqlalchemy.orm import Session

from mixdown.api import faults
from mixdown.api.faults import ApiError
from mixdown.store.request_log import admit

DEFAULT_RATE = 20


class Limiter(Protocol):
    def check(self, session: Session, action: str, sdk_app_id: int) -> None:
        """Raise RequestLimitExceeded when the app used its budget of this action."""
        ...


def _refusal(rate: int, action: str, sdk_app_id: int) -> ApiError:
    return ApiError(
        faults.REQUEST_LIMIT,
        f"more than {rate} {action} requests per second for SdkAppId {sdk_app_id}",
    )


class SharedLimiter:
    """A sliding one-second window in the database (PostgreSQL), shared by the API nodes."""

    def __init__(self, rate: int = DEFAULT_RATE) -> None:
        self._rate = rate

    def check(self, session: Session, action: str, sdk_app_id: int) -> None:
        if not admit(session, sdk_app_id, action, self._rate):
            raise _refusal(self._rate, action, sdk_app_id)


class RateLimiter:
    """A sliding one-second window; in-memory, so per API process."""

    def __init__(
        self, rate: int = DEFAULT_RATE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, int], deque[float]] = {}

    def check(self, _session: Session | None, action: str, sdk_app_id: int) -> None:
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault((action, sdk_app_id), deque())
            while hits and hits[0] <= now - 1.0:
                hits.popleft()
            if len(hits) >= self._rate:
                raise _refusal(self._rate, action, sdk_app_id)
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle keys so memory stays bounded
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - 1.0}
