"""Runs a generation's renders side by side on a few lanes.

The mix encode keeps about 1.8 of 2 cores busy; the per-stream work (splices, mp3s) is
mostly single-threaded. Running the heaviest render on one lane and the rest on another
fills the idle share instead of adding their time to the mix's. The first failure, or the
caller's cancel, stops every lane.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mixdown.errors import Cancelled
from mixdown.render.progress import Progress, WeightedProgress

#: A unit of work: reports its own 0..1 progress and stops early when the event is set.
Job = Callable[[Progress, threading.Event], None]


@dataclass(frozen=True)
class Weighted:
    job: Job
    weight: float


def run_in_lanes(
    jobs: Sequence[Weighted],
    lanes: int,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Run every job; heaviest first, each on the lane with the least work so far."""
    stop = threading.Event()
    plan = _assign(jobs, max(1, lanes))
    meter = WeightedProgress([j.weight for j in jobs], progress)
    errors: list[BaseException] = []

    def lane(indexes: list[int]) -> None:
        for i in indexes:
            if stop.is_set():
                return
            try:
                jobs[i].job(meter.part(i), stop)
            except BaseException as exc:  # re-raised in the caller's thread
                errors.append(exc)
                stop.set()
                return

    threads = [threading.Thread(target=lane, args=(ix,), daemon=True) for ix in plan if ix]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if cancel is not None and cancel.is_set():
            stop.set()
        for t in threads:
            t.join(timeout=0.2)
    if cancel is not None and cancel.is_set():
        raise Cancelled("generation was cancelled")
    if errors:
        raise _first_real(errors)


def _first_real(errors: list[BaseException]) -> BaseException:
    """The failure that stopped the others, not the cancellations it caused."""
    return next((e for e in errors if not isinstance(e, Cancelled)), errors[0])


def _assign(jobs: Sequence[Weighted], lanes: int) -> list[list[int]]:
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].weight)
    plan: list[list[int]] = [[] for _ in range(lanes)]
    load = [0.0] * lanes
    for i in order:
        k = min(range(lanes), key=lambda n: load[n])
        plan[k].append(i)
        load[k] += jobs[i].weight
    return plan
