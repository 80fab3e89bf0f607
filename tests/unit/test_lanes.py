"""Renders side by side: assignment, failure and cancellation (fake jobs, real threads)."""

from __future__ import annotations

import threading
import time

import pytest

from mixdown.errors import Cancelled, RenderError
from mixdown.render.lanes import Weighted, _assign, run_in_lanes


def test_the_heaviest_job_gets_a_lane_and_the_rest_share_the_other() -> None:
    jobs = [Weighted(lambda r, s: None, w) for w in (1.0, 10.0, 2.0, 3.0)]
    assert _assign(jobs, 2) == [[1], [3, 2, 0]]
    assert _assign(jobs, 1) == [[1, 3, 2, 0]]


def test_every_job_runs_and_progress_only_grows_to_one() -> None:
    ran: list[int] = []
    seen: list[float] = []

    def job(n: int) -> Weighted:
        def run(report: object, stop: threading.Event) -> None:
            assert callable(report)
            report(0.5)
            report(1.0)
            ran.append(n)

        return Weighted(run, float(n + 1))

    run_in_lanes([job(n) for n in range(5)], 2, seen.append)
    assert sorted(ran) == [0, 1, 2, 3, 4]
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)


def test_a_failure_stops_the_other_lane_and_is_raised() -> None:
    stopped = threading.Event()

    def slow(report: object, stop: threading.Event) -> None:
        if stop.wait(5):
            stopped.set()
            raise Cancelled("stopped")

    def broken(report: object, stop: threading.Event) -> None:
        time.sleep(0.05)
        raise RenderError("ffmpeg failed")

    with pytest.raises(RenderError, match="ffmpeg failed"):
        run_in_lanes([Weighted(slow, 5), Weighted(broken, 1)], 2)
    assert stopped.is_set()


def test_the_callers_cancel_stops_every_lane() -> None:
    cancel = threading.Event()
    started = threading.Event()

    def waits(report: object, stop: threading.Event) -> None:
        started.set()
        stop.wait(5)

    threading.Timer(0.1, cancel.set).start()
    began = time.monotonic()
    with pytest.raises(Cancelled):
        run_in_lanes([Weighted(waits, 2), Weighted(waits, 1)], 2, cancel=cancel)
    assert started.is_set() and time.monotonic() - began < 3
