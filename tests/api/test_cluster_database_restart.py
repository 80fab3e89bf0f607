"""PostgreSQL restarted under a running cluster: the workers lose the database mid-render,
keep running, connect again once it is back, and the task finishes once, with every output
and its callback. The server is the test's own (``tests/postgres_server.py``), so stopping
it touches nothing else on the machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from postgres_server import PostgresServer, postgres_server

from .cluster import (
    LONG_MS,
    ONE_LANE,
    SHORT_LEASE,
    create_generation,
    exactly_once,
    ffmpeg_processes,
    import_record,
    long_recording,
    rendering_worker,
    running_cluster,
    wait_generated,
    wait_imported,
)
from .conftest import wait_for

pytestmark = pytest.mark.media
UNRENEWED = "lease not renewed"
SWEEP_FAILED = "sweep failed; will retry"
DISPATCH_FAILED = "callback dispatch failed; will retry"
LOST = "queue connection lost; reconnecting"


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    yield from postgres_server()


def _health(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def test_a_database_restarted_mid_render_leaves_the_workers_running_and_the_task_done_once(
    tmp_path: Path,
    own_postgres: PostgresServer,
    long_media: Path,
) -> None:
    with running_cluster(tmp_path, own_postgres.url, long_media) as cluster:
        workers = [cluster.worker(SHORT_LEASE | ONE_LANE).start() for _ in range(2)]
        record_id = import_record(cluster, long_recording(cluster.creds.sdk_app_id))
        wait_imported(cluster, record_id)
        task_id = create_generation(cluster, record_id)
        rendering_worker(cluster)

        own_postgres.stop()
        # Down until every part of both workers has seen it: the running render's lease,
        # the sweepers, the callback dispatchers, and the queue's own workers.
        for seen in (UNRENEWED, SWEEP_FAILED, DISPATCH_FAILED, LOST):
            wait_for(
                lambda seen=seen: all(seen in w.log() for w in workers), 180, f"{seen!r} in both"
            )
        own_postgres.start()
        wait_for(
            lambda: all(_health(w.healthz_url) == 200 for w in workers),
            120,
            "both workers to take jobs again",
        )
        done = wait_generated(cluster, task_id, timeout_s=240)

        assert len(done["VideoInfoList"]) == 3
        for video in done["VideoInfoList"]:
            assert abs(video["VideoDuration"] - LONG_MS) <= 150
        exactly_once(cluster, task_id)
        assert all(w.proc is not None and w.proc.poll() is None for w in workers)
        wait_for(lambda: not ffmpeg_processes(cluster.tmp), 10, "every ffmpeg to end")
