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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from attempts import kept_attempts
from mixdown.store.database import Database
from mixdown.synth import ClipSpec, make_clip

from .cluster import WorkerProcess, ffmpeg_processes, metric
from .conftest import (
    T0,
    Creds,
    ServerProcess,
    call,
    cli_create_app,
    sdk,
    small_recording,
    wait_for,
)
from .wire_support import Receiver

pytestmark = pytest.mark.media
#: Long enough to catch a generation while it renders (a few seconds, its renders one after
#: another), short enough for a quick test.
LONG_MS = 24_000
ONE_LANE = {"MIXDOWN_RENDER_LANES": "1"}
#: A short lease: a killed worker's task is taken over within seconds.
SHORT_LEASE = {"MIXDOWN_LEASE_SECONDS": "3"}
#: A lease far longer than the SIGTERM test: a hand-back it sees is not the lease's doing.
LONG_LEASE = {"MIXDOWN_LEASE_SECONDS": "120"}
FINISHED = "VideoGenerationFinished"
#: Long enough to see a callback held by its receiver and kill its sender before the
#: attempt times out; short enough that its lease (5 + 5 s) lapses within the test.
CALLBACK_TIMEOUT = ("--callback-timeout", "5")
CALLBACK_KEY = "Xz4ZgayTr7rMgWQrH"
#: A job lost between the commit that accepted its work and its deferral (a crash).
DROP_JOB = "DELETE FROM procrastinate_jobs WHERE args->>'key' = :key RETURNING id"


@pytest.fixture(scope="module")
def long_media(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    root = tmp_path_factory.mktemp("cluster-media")
    make_clip(
        ClipSpec(duration_ms=LONG_MS, color="#3366CC", has_audio=False), root / "wb.mp4", ffmpeg
    )
    make_clip(ClipSpec(duration_ms=LONG_MS, color="#CC3333", tone_hz=440), root / "cam.mp4", ffmpeg)
    return root


@dataclass
class Cluster:
    tmp: Path
    url: str
    media: Path
    creds: Creds
    api: ServerProcess
    receiver: Receiver
    workers: list[WorkerProcess]

    @property
    def client(self) -> Any:
        return sdk(self.api.port, self.creds)

    def worker(self, env: dict[str, str], *args: str) -> WorkerProcess:
        """A new worker (not started) writing its outputs where the API node serves them;
        ``args`` are more of its options."""
        n = len(self.workers)
        worker = WorkerProcess(
            self.tmp / f"worker{n}",
            self.url,
            "--storage",
            str(self.tmp / "api" / "outputs"),
            "--allow-private-urls",
            "--public-url",
            self.api.url,
            "--callback-retry-base",
            "0.2",
            *args,
            env=env,
        )
        self.workers.append(worker)
        return worker

    def rows(self, sql: str, **params: Any) -> list[Any]:
        """The rows a statement returns, committed."""
        db = Database.from_url(self.url)
        try:
            with db.engine.begin() as c:
                return list(c.execute(text(sql), params).all())
        finally:
            db.dispose()


@contextmanager
def _cluster(tmp: Path, url: str, media: Path, api_workers: int = 0) -> Iterator[Cluster]:
    api_dir = tmp / "api"
    creds = cli_create_app(api_dir, "--database", url)
    receiver = Receiver()
    api = ServerProcess(
        api_dir,
        "--database",
        url,
        "--workers",
        str(api_workers),
        "--ingest-root",
        str(media),
        "--allow-private-urls",
    ).start()
    cluster = Cluster(tmp, url, media, creds, api, receiver, [])
    try:
        for kind in ("VideoGenerationTaskCallback", "OnlineRecordCallback"):
            call(
                cluster.client,
                f"Set{kind}",
                {"SdkAppId": creds.sdk_app_id, "Callback": receiver.url},
            )
        yield cluster
    finally:
        for worker in cluster.workers:
            worker.stop()
        api.stop()
        receiver.close()


@pytest.fixture
def small(tmp_path: Path, scratch_url: str, ingest_root: Path) -> Iterator[Cluster]:
    with _cluster(tmp_path, scratch_url, ingest_root) as cluster:
        yield cluster


@pytest.fixture
def long(tmp_path: Path, scratch_url: str, long_media: Path) -> Iterator[Cluster]:
    with _cluster(tmp_path, scratch_url, long_media) as cluster:
        yield cluster


def _status(cluster: Cluster, noun: str, task_id: str) -> str:
    got = call(
        cluster.client, f"Describe{noun}", {"SdkAppId": cluster.creds.sdk_app_id, "TaskId": task_id}
    )
    return str(got["Status"])


def _import(cluster: Cluster, params: dict[str, Any]) -> str:
    task_id: str = call(cluster.client, "ImportOnlineRecord", params)["TaskId"]
    return task_id


def _imported(cluster: Cluster, record_id: str) -> None:
    wait_for(lambda: _status(cluster, "OnlineRecord", record_id) == "FINISHED", 60, "the import")


def _create(cluster: Cluster, record_id: str, **params: Any) -> str:
    body = {"SdkAppId": cluster.creds.sdk_app_id, "OnlineRecordTaskId": record_id, **params}
    task_id: str = call(cluster.client, "CreateVideoGenerationTask", body)["TaskId"]
    return task_id


def _finished(cluster: Cluster, task_id: str, timeout_s: float = 90) -> dict[str, Any]:
    describe = {"SdkAppId": cluster.creds.sdk_app_id, "TaskId": task_id}
    done: dict[str, Any] = wait_for(
        lambda: (
            (d := call(cluster.client, "DescribeVideoGenerationTask", describe))["Status"]
            == "FINISHED"
            and d
        ),
        timeout_s,
        "the generation to finish",
    )
    return done


def _long_recording(app: int) -> dict[str, Any]:
    return {
        "SdkAppId": app,
        "RoomId": 7,
        "RecordStartTimeMs": T0,
        "RecordStopTimeMs": T0 + LONG_MS,
        "Streams": [
            {"StreamId": "tic_record_user", "Segments": [{"Url": "wb.mp4", "StartTime": T0}]},
            {"StreamId": "teacher", "Segments": [{"Url": "cam.mp4", "StartTime": T0}]},
        ],
        "Whiteboard": {"Width": 320, "Height": 240},
        "MixStream": {"Enabled": True, "ModelId": 1},
    }


def _rendering_worker(cluster: Cluster) -> tuple[WorkerProcess, set[int]]:
    """The worker running ffmpeg for this test now, and its ffmpeg processes."""

    def found() -> tuple[WorkerProcess, set[int]] | None:
        running = ffmpeg_processes(cluster.tmp)
        for worker in cluster.workers:
            mine = {pid for pid, parent in running.items() if parent == worker.pid}
            if mine:
                return worker, mine
        return None

    return wait_for(found, 60, "a worker to start ffmpeg", every_s=0.05)


def _kill_a_rendering_worker(cluster: Cluster) -> None:
    """``kill -9`` the worker running ffmpeg now; its ffmpeg processes die with it."""
    victim, its_ffmpeg = _rendering_worker(cluster)
    victim.kill9()
    wait_for(
        lambda: not its_ffmpeg & set(ffmpeg_processes(cluster.tmp)),
        10,
        "the killed worker's ffmpeg to die with it",
        every_s=0.05,
    )


def _exactly_once(cluster: Cluster, task_id: str) -> None:
    """One committed result, one VideoGenerationFinished event, delivered once."""
    events = cluster.rows(
        "SELECT state FROM callback_deliveries WHERE task_id = :t AND event_type = :e",
        t=task_id,
        e=FINISHED,
    )
    assert len(events) == 1
    wait_for(lambda: cluster.receiver.of(FINISHED, task_id), 30, "the callback")
    assert len(cluster.receiver.of(FINISHED, task_id)) == 1
    outputs = cluster.tmp / "api" / "outputs"
    assert len([p for p in kept_attempts(outputs) if p.parent.name == task_id]) == 1


def test_a_class_is_imported_and_generated_by_workers_while_the_api_node_runs_no_job(
    small: Cluster,
) -> None:
    workers = [small.worker(SHORT_LEASE).start() for _ in range(2)]
    app = small.creds.sdk_app_id
    record_id = _import(small, small_recording(app))
    _imported(small, record_id)
    task_id = _create(small, record_id, MixStream={"Enabled": True, "ModelId": 1})
    done = _finished(small, task_id)

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
    _exactly_once(small, task_id)

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
    record_id = _import(long, _long_recording(long.creds.sdk_app_id))
    _imported(long, record_id)
    task_id = _create(long, record_id)

    _kill_a_rendering_worker(long)
    done = _finished(long, task_id)

    assert len(done["VideoInfoList"]) == 3
    _exactly_once(long, task_id)
    [(attempts,)] = long.rows("SELECT attempts FROM generation_tasks WHERE task_id = :t", t=task_id)
    assert attempts == 1  # the task was spread once: only the killed piece ran again
    runs = long.rows("SELECT runs FROM task_pieces WHERE task_id = :t", t=task_id)
    assert sorted(r for (r,) in runs)[-1] == 2  # the killed run counts towards the crash limit
    wait_for(lambda: not ffmpeg_processes(long.tmp), 10, "every ffmpeg to end")


def test_a_worker_stopped_mid_render_hands_its_task_to_another_at_once(long: Cluster) -> None:
    for _ in range(2):
        long.worker(LONG_LEASE | ONE_LANE).start()
    record_id = _import(long, _long_recording(long.creds.sdk_app_id))
    _imported(long, record_id)
    task_id = _create(long, record_id)

    stopped, _ffmpeg = _rendering_worker(long)
    stopped_at = time.monotonic()
    stopped.terminate()
    assert stopped.proc is not None and stopped.proc.wait(timeout=15) == 0
    other, _ = _rendering_worker(long)
    assert other is not stopped
    assert time.monotonic() - stopped_at < 30  # the lease (120 s) had no part in it
    done = _finished(long, task_id)

    assert len(done["VideoInfoList"]) == 3
    _exactly_once(long, task_id)
    [(attempts,)] = long.rows("SELECT attempts FROM generation_tasks WHERE task_id = :t", t=task_id)
    assert attempts == 1  # the attempt given back on SIGTERM does not count
    assert "job handed back" in stopped.log()


def test_work_accepted_while_no_worker_runs_is_done_once_one_starts(small: Cluster) -> None:
    app = small.creds.sdk_app_id
    queued = _import(small, small_recording(app))
    orphan = _import(small, small_recording(app, RoomId=43))
    # As if the API node had died between committing the import and queueing its job.
    assert len(small.rows(DROP_JOB, key=orphan)) == 1
    assert _status(small, "OnlineRecord", queued) != "FINISHED"

    worker = small.worker(SHORT_LEASE).start()
    _imported(small, queued)
    _imported(small, orphan)
    worker.stop()
    assert worker.proc is not None and worker.proc.returncode == 0

    task_id = _create(small, orphan)
    assert len(small.rows(DROP_JOB, key=task_id)) == 1
    small.worker(SHORT_LEASE).start()
    done = _finished(small, task_id)

    assert len(done["VideoInfoList"]) == 2
    _exactly_once(small, task_id)


def test_an_api_node_with_workers_on_postgres_runs_the_jobs_itself(
    tmp_path: Path, scratch_url: str, ingest_root: Path
) -> None:
    with _cluster(tmp_path, scratch_url, ingest_root, api_workers=1) as node:
        record_id = _import(node, small_recording(node.creds.sdk_app_id))
        _imported(node, record_id)
        task_id = _create(node, record_id)
        done = _finished(node, task_id)

        assert len(done["VideoInfoList"]) == 2
        _exactly_once(node, task_id)
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
    record_id = _import(small, small_recording(app))
    _imported(small, record_id)
    importer.stop()
    task_id = _create(small, record_id)
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
    done = _finished(small, task_id)
    assert len(done["VideoInfoList"]) == 2
    [(attempts,)] = small.rows(
        "SELECT attempts FROM generation_tasks WHERE task_id = :t", t=task_id
    )
    assert attempts == 1
    outputs = small.tmp / "api" / "outputs"
    assert len([p for p in kept_attempts(outputs) if p.parent.name == task_id]) == 1
    assert len(small.receiver.of(FINISHED, task_id)) == 2  # nothing sent since
