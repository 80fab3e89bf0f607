"""The embedded service's queue: jobs by kind on threads of this process, one run for a key
deferred again while it waits, and an unknown kind refused."""

from __future__ import annotations

import threading

import pytest

from mixdown.errors import InternalError
from mixdown.jobs.kinds import JobKind
from mixdown.jobs.queue import ThreadQueue
from mixdown.store.database import Database


def _never(_db: Database, *_args: object) -> list[str]:
    raise AssertionError("the in-process queue keeps no leases")


def test_a_key_deferred_again_while_it_waits_runs_once() -> None:
    started, release, done = threading.Event(), threading.Event(), threading.Event()
    ran: list[str] = []

    def run(key: str) -> None:
        ran.append(key)
        if key == "blocker":
            started.set()
            release.wait(timeout=30)
        else:
            done.set()

    kind = JobKind("probe", run, _never, _never, _never)  # type: ignore[arg-type]
    queue = ThreadQueue([kind])
    queue.start()
    try:
        queue.defer("probe", "blocker")
        assert started.wait(timeout=30)
        queue.defer("probe", "a")
        queue.defer("probe", "a")
        assert queue.depth() == {"probe": 1}
        release.set()
        assert done.wait(timeout=30)
    finally:
        queue.stop()
    assert ran == ["blocker", "a"]


def test_a_kind_nobody_registered_is_refused() -> None:
    queue = ThreadQueue([])
    with pytest.raises(InternalError, match="no job kind 'chunk'"):
        queue.defer("chunk", "t1")
