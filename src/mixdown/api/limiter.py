"""Requests per second per (action, SdkAppId) → RequestLimitExceeded (DESIGN §4.3)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from mixdown.api import faults
from mixdown.api.faults import ApiError

DEFAULT_RATE = 20


class RateLimiter:
    """A sliding one-second window; in-memory, so per API process."""

    def __init__(
        self, rate: int = DEFAULT_RATE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, int], deque[float]] = {}

    def check(self, action: str, sdk_app_id: int) -> None:
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault((action, sdk_app_id), deque())
            while hits and hits[0] <= now - 1.0:
                hits.popleft()
            if len(hits) >= self._rate:
                raise ApiError(
                    faults.REQUEST_LIMIT,
                    f"more than {self._rate} {action} requests per second for SdkAppId "
                    f"{sdk_app_id}",
                )
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle keys so memory stays bounded
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - 1.0}
