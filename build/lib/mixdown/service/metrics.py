"""``/metrics`` in Prometheus's text format, on API nodes and workers alike: the queue's depth
per job kind (the cluster's, read from the queue), the jobs this process runs and how long
they took, their failures, and the callback backlog (pending deliveries in the database).

Written by hand: a few gauges and one histogram do not need a client library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mixdown.jobs.stats import BUCKETS_S, KindStats
from mixdown.service.job_runtime import Jobs, stats_of
from mixdown.store import deliveries
from mixdown.store.database import Database

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Source(Protocol):
    """What the metrics are read from (``node.Service``, ``worker.Worker``)."""

    @property
    def db(self) -> Database: ...
    @property
    def work(self) -> Jobs: ...


def exposition(source: Source) -> str:
    """The metrics now (queries the database: run it off the event loop)."""
    return render(source.work.depth(), stats_of(source.work), deliveries.backlog(source.db))


def render(depth: dict[str, int], stats: dict[str, KindStats], backlog: int) -> str:
    lines: list[str] = []
    kinds = sorted(stats)
    _family(lines, "mixdown_queue_depth", "gauge", "Jobs waiting in the queue, by kind.")
    lines += [f'mixdown_queue_depth{{kind="{k}"}} {depth.get(k, 0)}' for k in kinds]
    _family(lines, "mixdown_jobs_running", "gauge", "Jobs this process runs now.")
    lines += [f'mixdown_jobs_running{{kind="{k}"}} {stats[k].running}' for k in kinds]
    _family(
        lines, "mixdown_job_duration_seconds", "histogram", "Jobs this process ran, by duration."
    )
    for k in kinds:
        lines += _histogram(k, stats[k])
    _family(
        lines,
        "mixdown_job_failures_total",
        "counter",
        "Jobs this process ran that crashed or ended their task in failure.",
    )
    lines += [f'mixdown_job_failures_total{{kind="{k}"}} {stats[k].failures}' for k in kinds]
    _family(lines, "mixdown_callback_backlog", "gauge", "Callback deliveries not yet sent.")
    lines.append(f"mixdown_callback_backlog {backlog}")
    return "\n".join(lines) + "\n"


def _family(lines: list[str], name: str, kind: str, text: str) -> None:
    lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]


def _histogram(kind: str, stats: KindStats) -> list[str]:
    name, out, seen = "mixdown_job_duration_seconds", [], 0
    for bound, count in zip((*BUCKETS_S, float("inf")), stats.buckets, strict=True):
        seen += count
        le = "+Inf" if bound == float("inf") else repr(bound)
        out.append(f'{name}_bucket{{kind="{kind}",le="{le}"}} {seen}')
    out.append(f'{name}_sum{{kind="{kind}"}} {stats.total_s:.3f}')
    out.append(f'{name}_count{{kind="{kind}"}} {stats.count}')
    return out


async def metrics_response(text: Callable[[], str]) -> Response:
    return Response(await run_in_threadpool(text), media_type=CONTENT_TYPE)


def with_metrics(app: ASGIApp, text: Callable[[], str]) -> ASGIApp:
    """``app`` with ``GET /metrics`` answered first; every other request, and the lifespan,
    go to ``app`` as they are."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/metrics":
            await (await metrics_response(text))(scope, receive, send)
            return
        await app(scope, receive, send)

    return asgi
