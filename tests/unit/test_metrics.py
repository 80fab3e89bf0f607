"""``/metrics`` in Prometheus's text format: every kind listed, zeros included, and the
duration histogram cumulative up to +Inf."""

from __future__ import annotations

import socket

import pytest

from mixdown.errors import ResourceInUse
from mixdown.jobs.stats import BUCKETS_S, KindStats
from mixdown.service.metrics import render
from mixdown.service.metrics_server import MetricsServer


def _samples(text: str) -> dict[str, float]:
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def test_the_exposition_lists_every_kind_with_a_cumulative_histogram() -> None:
    ran = KindStats(running=1, failures=1, count=3, total_s=70.5)
    ran.buckets[1] = 2  # two jobs within a second
    ran.buckets[len(BUCKETS_S)] = 1  # one over the largest bound
    text = render({"generation": 4}, {"generation": ran, "import": KindStats()}, backlog=2)
    got = _samples(text)

    assert got['mixdown_queue_depth{kind="generation"}'] == 4
    assert got['mixdown_queue_depth{kind="import"}'] == 0
    assert got['mixdown_jobs_running{kind="generation"}'] == 1
    assert got['mixdown_job_failures_total{kind="generation"}'] == 1
    assert got['mixdown_job_duration_seconds_bucket{kind="generation",le="0.5"}'] == 0
    assert got['mixdown_job_duration_seconds_bucket{kind="generation",le="1.0"}'] == 2
    assert got['mixdown_job_duration_seconds_bucket{kind="generation",le="3600.0"}'] == 2
    assert got['mixdown_job_duration_seconds_bucket{kind="generation",le="+Inf"}'] == 3
    assert got['mixdown_job_duration_seconds_count{kind="generation"}'] == 3
    assert got['mixdown_job_duration_seconds_sum{kind="generation"}'] == 70.5
    assert got["mixdown_callback_backlog"] == 2
    assert "# TYPE mixdown_job_duration_seconds histogram" in text.splitlines()
    assert text.endswith("\n")


def test_a_metrics_port_in_use_stops_the_worker_with_a_clear_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        server = MetricsServer(object(), "127.0.0.1", port)  # type: ignore[arg-type]
        with pytest.raises(ResourceInUse, match=f"--metrics-port {port}: cannot listen"):
            server.start()
        server.stop()  # nothing started: nothing to stop
