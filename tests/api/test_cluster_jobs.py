"""Jobs across a cluster, with real processes on a real PostgreSQL: one ``mixdown serve
--workers 0`` API node (it only defers) and ``mixdown worker`` processes, driven through the
official SDK. No accepted task is lost or done twice: when a worker is killed (its lease
lapses and another takes the task), when it is stopped (it hands the task back at once), or
when no worker runs at all for a while. No callback is lost either: one killed while it
sends an event leaves the event to another worker.

Runs when ``MIXDOWN_TEST_POSTGRES_URL`` names a PostgreSQL server; each test has its own
scratch database (``scratch_url``). Outputs go to the API node's folder (``--storage``), so
it serves them as it would its own.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from attempts import kept_attempts

from .cluster import (
    FINISHED,
    ONE_LANE,
    SHORT_LEASE,
    Cluster,
    WorkerProcess,
    create_generation,
    exactly_once,
    ffmpeg_processes,
    import_record,
    kill_a_rendering_worker,
    long_recording,
    metric,
    rendering_worker,
    running_cluster,
    task_status,
    wait_generated,
    wait_imported,
)
from .conftest import call, small_recording, wait_for

pytestmark = pytest.mark.media
#: A lease far longer than the SIGTERM test: a hand-back it sees is not the lease's doing.
LONG_LEASE = {"MIXDOWN_LEASE_SECONDS": "120"}
#: Long enough to see a callback held by its receiver and kill its sender before the
#: attempt times out; short enough that its lease (5 + 5 s) lapses within the test.
CALLBACK_TIMEOUT = ("--callback-timeout", "5")
CALLBACK_KEY = "Xz4ZgayTr7rMgWQrH"
#: A job lost between the commit that accepted its work and its deferral (a crash).
DROP_JOB = "DELETE FROM procrastinate_jobs WHERE args->>'key' = :key RETURNING id"


@pytest.fixture
def small(tmp_path: Path, scratch_url: str, ingest_root: Path) -> Iterator[Cluster]:
    with running_cluster(tmp_path, scratch_url, ingest_root) as cluster:
        yield cluster


@pytest.fixture
def long(tmp_path: Path, scratch_url: str, long_media: Path) -> Iterator[Cluster]:
    with running_cluster(tmp_path, scratch_url, long_media) as cluster:
        yield cluster


def test_a_class_is_imported_and_generated_by_workers_while_the_api_node_runs_no_job(
    small: Cluster,
) -> None:
    workers = [small.worker(SHORT_LEASE).start() for _ in range(2)]
    app = small.creds.sdk_app_id
    record_id = import_record(small, small_recording(app))
    wait_imported(small, record_id)
    task_id = create_generation(small, record_id, MixStream={"Enabled": True, "ModelId": 1})
    done = wait_generated(small, task_id)

    assert done["Progress"] == 100
    videos = sorted(done["VideoInfoList"], key=lambda v: v["VideoType"])
    assert [(v["VideoType"], v["UserId"]) for v in videos] == [
        (0, "teacher"),
        (2, ""),  # the whiteboard names no user
        (3, "tic_mixstream_42_1"),
    ]
    for video in videos:
        assert abs(video["VideoDuration"] - 4000) <= 150
        assert video["VideoUrl"].startswith(f"{small.api.url}/files/")
        got = httpx.get(video["VideoUrl"], timeout=30)
        assert got.status_code == 200 and len(got.content) == video["VideoSize"]
    exactly_once(small, task_id)

    api_metrics = httpx.get(f"{small.api.url}/metrics", timeout=10).text
    assert metric(api_metrics, "mixdown_job_duration_seconds_count", kind="generation") == 0
    assert metric(api_metrics, "mixdown_queue_depth", kind="generation") == 0
    ran = [httpx.get(w.metrics_url, timeout=10).text for w in workers]
    for kind in ("import", "generation"):
        counts = [metric(t, "mixdown_job_duration_seconds_count", kind=kind) for t in ran]
        assert sum(counts) == 1
        assert sum(metric(t, "mixdown_job_failures_total", kind=kind) for t in ran) == 0
    wait_for(
        lambda: metric(httpx.get(workers[0].metrics_url).text, "mixdown_callback_backlog") == 0,
        30,
        "the callbacks to be sent",
    )


def test_a_worker_killed_mid_render_leaves_no_ffmpeg_and_its_task_finishes_once(
    long: Cluster,
) -> None:
    for _ in range(2):
        long.worker(SHORT_LEASE | ONE_LANE).start()
    record_id = import_record(long, long_recording(long.creds.sdk_app_id))
    wait_imported(long, record_id)
    task_id = create_generation(long, record_id)

    kill_a_rendering_worker(long)
    done = wait_generated(long, task_id)

    assert len(done["VideoInfoList"]) == 3
    exactly_once(long, task_id)
    [(attempts,)] = long.rows("SELECT attempts FROM generation_tasks WHERE task_id = :t", t=task_id)
    assert attempts == 1  # the task was spread once: only the killed piece ran again
    runs = long.rows("SELECT runs FROM task_pieces WHERE task_id = :t", t=task_id)
    assert sorted(r for (r,) in runs)[-1] == 2  # the killed run counts towards the crash limit
    wait_for(lambda: not ffmpeg_processes(long.tmp), 10, "every ffmpeg to end")


def test_a_worker_stopped_mid_render_hands_its_task_to_another_at_once(long: Cluster) -> None:
    for _ in range(2):
        long.worker(LONG_LEASE | ONE_LANE).start()
    record_id = import_record(long, long_recording(long.creds.sdk_app_id))
    wait_imported(long, record_id)
    task_id = create_generation(long, record_id)

    stopped, _ffmpeg = rendering_worker(long)
    stopped_at = time.monotonic()
    stopped.terminate()
    assert stopped.proc is not None and stopped.proc.wait(timeout=15) == 0
    other, _ = rendering_worker(long)
    assert other is not stopped
    assert time.monotonic() - stopped_at < 30  # the lease (120 s) had no part in it
    done = wait_generated(long, task_id)

    assert len(done["VideoInfoList"]) == 3
    exactly_once(long, task_id)
    [(attempts,)] = long.rows("SELECT attempts FROM generation_tasks WHERE task_id = :t", t=task_id)
    assert attempts == 1  # the attempt given back on SIGTERM does not count
    assert "job handed back" in stopped.log()


def test_work_accepted_while_no_worker_runs_is_done_once_one_starts(small: Cluster) -> None:
    app = small.creds.sdk_app_id
    queued = import_record(small, small_recording(app))
    orphan = import_record(small, small_recording(app, RoomId=43))
    # As if the API node had died between committing the import and queueing its job.
    assert len(small.rows(DROP_JOB, key=orphan)) == 1
    assert task_status(small, "OnlineRecord", queued) != "FINISHED"

    worker = small.worker(SHORT_LEASE).start()
    wait_imported(small, queued)
    wait_imported(small, orphan)
    worker.stop()
    assert worker.proc is not None and worker.proc.returncode == 0

    task_id = create_generation(small, orphan)
    assert len(small.rows(DROP_JOB, key=task_id)) == 1
    small.worker(SHORT_LEASE).start()
    done = wait_generated(small, task_id)

    assert len(done["VideoInfoList"]) == 2
    exactly_once(small, task_id)


def test_an_api_node_with_workers_on_postgres_runs_the_jobs_itself(
    tmp_path: Path, scratch_url: str, ingest_root: Path
) -> None:
    with running_cluster(tmp_path, scratch_url, ingest_root, api_workers=1) as node:
        record_id = import_record(node, small_recording(node.creds.sdk_app_id))
        wait_imported(node, record_id)
        task_id = create_generation(node, record_id)
        done = wait_generated(node, task_id)

        assert len(done["VideoInfoList"]) == 2
        exactly_once(node, task_id)
        ran = httpx.get(f"{node.api.url}/metrics", timeout=10).text
        assert metric(ran, "mixdown_job_duration_seconds_count", kind="generation") == 1


def _finished_events(cluster: Cluster, task_id: str) -> list[Any]:
    """The task's VideoGenerationFinished deliveries: (state, attempts, last_error) each."""
    return cluster.rows(
        "SELECT state, attempts, last_error FROM callback_deliveries"
        " WHERE task_id = :t AND event_type = :e",
        t=task_id,
        e=FINISHED,
    )


def _logged(worker: WorkerProcess, msg: str, task_id: str) -> list[dict[str, Any]]:
    """The worker's log lines saying ``msg`` about ``task_id``'s VideoGenerationFinished."""
    lines = (json.loads(line) for line in worker.log().splitlines() if line.startswith("{"))
    return [
        e
        for e in lines
        if (e.get("msg"), e.get("task_id"), e.get("event_type")) == (msg, task_id, FINISHED)
    ]


def test_a_worker_killed_while_sending_a_callback_leaves_the_event_to_another_worker(
    small: Cluster,
) -> None:
    app = small.creds.sdk_app_id
    set_key = {"SdkAppId": app, "CallbackKey": CALLBACK_KEY}
    call(small.client, "SetVideoGenerationTaskCallbackKey", set_key)
    held = small.receiver.hold_first(FINISHED)
    # Job leases far longer than the test: no job runs twice, so the only work left to the
    # successor is the callback.
    importer = small.worker(LONG_LEASE).start()
    record_id = import_record(small, small_recording(app))
    wait_imported(small, record_id)
    importer.stop()
    task_id = create_generation(small, record_id)
    # The API node delivers callbacks too: stopped before any worker can finish the task,
    # it cannot race the workers for the event.
    small.api.stop()
    sender = small.worker(LONG_LEASE, *CALLBACK_TIMEOUT).start()

    assert held.arrived.wait(120), "the VideoGenerationFinished callback never arrived"
    sender.kill9()
    # With its sender dead the row is as the kill left it: leased for a first attempt that
    # neither succeeded nor failed, so the kill came mid-send.
    assert _finished_events(small, task_id) == [("pending", 1, None)]
    # Hidden for the lease the worker's --callback-timeout gave it (5 + 5 s), taken just
    # before the request arrived.
    [(hidden_until,)] = small.rows(
        "SELECT next_attempt_ms FROM callback_deliveries WHERE task_id = :t AND event_type = :e",
        t=task_id,
        e=FINISHED,
    )
    [arrived_s] = [p["at"] for p in small.receiver.posts if p["body"]["EventType"] == FINISHED]
    assert 5_000 < hidden_until - arrived_s * 1000 <= 10_000
    held.release()  # its answer goes to a dead socket
    successor = small.worker(LONG_LEASE, *CALLBACK_TIMEOUT).start()
    wait_for(lambda: _finished_events(small, task_id)[0][0] == "delivered", 90, "the redelivery")

    assert _finished_events(small, task_id) == [("delivered", 2, None)]
    assert [e["attempt"] for e in _logged(successor, "callback delivered", task_id)] == [2]
    first, again = (p for p in small.receiver.posts if p["body"]["EventType"] == FINISHED)
    assert again["at"] - first["at"] > 5  # hidden by the lease longer than a whole attempt
    for name in ("Timestamp", "SdkAppId", "EventType", "EventData"):
        assert again["body"][name] == first["body"][name], name
    assert again["body"]["ExpireTime"] > first["body"]["ExpireTime"]  # signed when sent
    for post in (first, again):
        expire = post["body"]["ExpireTime"]
        assert post["body"]["Sign"] == hashlib.md5(f"{CALLBACK_KEY}{expire}".encode()).hexdigest()
    assert first["body"]["EventData"]["TaskId"] == task_id

    small.api.start()  # the task, as the API describes it: finished once
    done = wait_generated(small, task_id)
    assert len(done["VideoInfoList"]) == 2
    [(attempts,)] = small.rows(
        "SELECT attempts FROM generation_tasks WHERE task_id = :t", t=task_id
    )
    assert attempts == 1
    outputs = small.tmp / "api" / "outputs"
    assert len([p for p in kept_attempts(outputs) if p.parent.name == task_id]) == 1
    assert len(small.receiver.of(FINISHED, task_id)) == 2  # nothing sent since
