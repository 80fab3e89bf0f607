"""Holding a lease while a job runs: the row's heartbeat is renewed at once, then every few
seconds from a small timer thread, until the job returns.

The timer is its own thread so that a job blocked in ffmpeg or a download still renews; a
worker killed outright (``kill -9``) stops renewing, and the sweeper hands its work on once
the lease has lapsed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_log = logging.getLogger("mixdown.jobs")


@contextmanager
def held(renew: Callable[[], None], every_s: float, *, name: str = "lease") -> Iterator[None]:
    """Renew now (so the job starts with a fresh lease), then every ``every_s`` until exit."""
    _renew(renew, name)
    done = threading.Event()

    def beat() -> None:
        while not done.wait(every_s):
            _renew(renew, name)

    timer = threading.Thread(target=beat, name=f"{name}-heartbeat", daemon=True)
    timer.start()
    try:
        yield
    finally:
        done.set()
        timer.join(timeout=every_s + 30)


def _renew(renew: Callable[[], None], name: str) -> None:
    try:
        renew()
    except Exception:  # a missed beat only shortens the lease; the job goes on
        _log.warning("lease not renewed", extra={"lease": name}, exc_info=True)
