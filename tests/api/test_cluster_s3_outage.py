"""S3 away for a while under a running cluster, on real parts: one API node and two workers
on one PostgreSQL, media and outputs in a real SeaweedFS that they reach through a relay the
test cuts (connections refused, open ones reset) and restores on the same port.

S3 back within the workers' retry window: the task finishes once, with the right content
and nothing left of its pieces in the bucket. S3 away longer: the task fails once, its
reason naming the object, and nothing is left in the bucket either. The leases are in
PostgreSQL, which stays up: a worker waiting for S3 keeps its job, nobody takes it over.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import text
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

import mediacheck as mc
from mixdown.storage.connection import S3Settings
from mixdown.store.database import Database
from relay import Relay
from seaweed import Seaweed

from .cluster import BLUE, RED, WorkerProcess, ffmpeg_processes, upload_cameras
from .conftest import T0, Creds, ServerProcess, call, cli_create_app, sdk, small_recording, wait_for
from .wire_support import Receiver

pytestmark = pytest.mark.media

#: Long enough to be cut into several chunks, so the outage meets a render under way.
LENGTH_MS = 12_000
#: One flash and beep in each third of the class: in different chunks.
SYNC_MS = (1400, 5400, 9400)
FINISHED = "VideoGenerationFinished"
RETRYING = "S3 unreachable; retrying"
#: Workers: short leases and chunks (several pieces), one render at a time (two cores).
WORKER_ENV = {
    "MIXDOWN_LEASE_SECONDS": "3",
    "MIXDOWN_CHUNK_SECONDS": "3",
    "MIXDOWN_RENDER_LANES": "1",
}
#: Jobs of a task still queued or running: its generation, its pieces, its publishing.
LIVE_JOBS = (
    "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') "
    "AND (args->>'key' = :t OR args->>'key' LIKE :t || ':%')"
)


@dataclass
class Cluster:
    tmp: Path
    url: str
    seaweed: Seaweed
    relay: Relay
    creds: Creds
    api: ServerProcess
    receiver: Receiver
    workers: list[WorkerProcess]

    @property
    def client(self) -> Any:
        return sdk(self.api.port, self.creds)

    @property
    def app(self) -> int:
        return self.creds.sdk_app_id

    @property
    def storage(self) -> str:
        return f"s3://{self.seaweed.bucket}/cluster/{self.tmp.name}"

    def task_keys(self, task_id: str) -> list[str]:
        """What the bucket holds of a task, read past the relay."""
        client = S3Settings.from_env(self.seaweed.env()).client()
        prefix = f"cluster/{self.tmp.name}/{self.app}/{task_id}/"
        listing = client.list_objects_v2(Bucket=self.seaweed.bucket, Prefix=prefix)
        return sorted(o["Key"][len(prefix) :] for o in listing.get("Contents", []))

    def rows(self, sql: str, **params: Any) -> list[Any]:
        db = Database.from_url(self.url)
        try:
            with db.engine.begin() as c:
                return list(c.execute(text(sql), params).all())
        finally:
            db.dispose()


@pytest.fixture
def relay(seaweed: Seaweed) -> Iterator[Relay]:
    port = urlsplit(seaweed.endpoint).port
    assert port is not None
    with Relay(port) as relay:
        yield relay


@pytest.fixture
def cluster(
    tmp_path: Path, scratch_url: str, seaweed: Seaweed, relay: Relay, ingest_root: Path
) -> Iterator[Cluster]:
    """The API node, its callbacks set to a receiver; no worker yet (each test adds its own,
    with the retry window it needs)."""
    creds = cli_create_app(tmp_path / "api", "--database", scratch_url)
    api = ServerProcess(
        tmp_path / "api",
        "--database",
        scratch_url,
        "--workers",
        "0",
        "--storage",
        f"s3://{seaweed.bucket}/cluster/{tmp_path.name}",
        "--ingest-root",
        str(ingest_root),
        "--allow-private-urls",
        env=seaweed.env(AWS_ENDPOINT_URL=relay.endpoint),
    ).start()
    receiver = Receiver()
    cluster = Cluster(tmp_path, scratch_url, seaweed, relay, creds, api, receiver, [])
    try:
        call(
            cluster.client,
            "SetVideoGenerationTaskCallback",
            {"SdkAppId": creds.sdk_app_id, "Callback": receiver.url},
        )
        yield cluster
    finally:
        relay.restore()  # a failed test must not leave the workers waiting on their way out
        for worker in cluster.workers:
            worker.stop()
        api.stop()
        receiver.close()


def _start_workers(cluster: Cluster, retry_s: int) -> None:
    env = cluster.seaweed.env(
        AWS_ENDPOINT_URL=cluster.relay.endpoint,
        MIXDOWN_S3_RETRY_SECONDS=str(retry_s),
        **WORKER_ENV,
    )
    for n in range(2):
        worker = WorkerProcess(
            cluster.tmp / f"worker{n}",
            cluster.url,
            "--storage",
            cluster.storage,
            "--allow-private-urls",
            "--callback-retry-base",
            "0.2",
            env=env,
        )
        cluster.workers.append(worker.start())


@pytest.fixture
def s3_media(tmp_path: Path, seaweed: Seaweed, ffmpeg: str) -> str:
    """The class's two cameras, uploaded: the ``s3://`` folder that holds them."""
    return upload_cameras(tmp_path, seaweed, ffmpeg, LENGTH_MS, SYNC_MS)


def _imported(cluster: Cluster, record: dict[str, Any]) -> str:
    record_id: str = call(cluster.client, "ImportOnlineRecord", record)["TaskId"]
    describe = {"SdkAppId": cluster.app, "TaskId": record_id}
    wait_for(
        lambda: call(cluster.client, "DescribeOnlineRecord", describe)["Status"] == "FINISHED",
        60,
        "the import",
    )
    return record_id


def _describe(cluster: Cluster, task_id: str) -> dict[str, Any] | TencentCloudSDKException:
    """The task's description, or the error Describe answers for a failed task."""
    describe = {"SdkAppId": cluster.app, "TaskId": task_id}
    try:
        return call(cluster.client, "DescribeVideoGenerationTask", describe)
    except TencentCloudSDKException as exc:
        if exc.get_code() == "RequestLimitExceeded":
            raise  # wait_for pauses and asks again
        return exc


def _finished(cluster: Cluster, task_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        got = _describe(cluster, task_id)
        if isinstance(got, TencentCloudSDKException):
            raise got  # failed: it will not finish
        return got if got["Status"] == "FINISHED" else None

    return wait_for(probe, 180, "the generation to finish")


def _rendering_worker(cluster: Cluster) -> WorkerProcess:
    """The first worker seen running ffmpeg for this test."""

    def found() -> WorkerProcess | None:
        parents = set(ffmpeg_processes(cluster.tmp).values())
        return next((w for w in cluster.workers if w.pid in parents), None)

    return wait_for(found, 60, "a worker to start ffmpeg", every_s=0.05)


def _retry_warnings(cluster: Cluster) -> list[dict[str, Any]]:
    """Each worker's "S3 unreachable; retrying" log lines (whole ones: a worker may be
    writing the last line as it is read)."""
    found = []
    for line in (line for w in cluster.workers for line in w.log().splitlines()):
        if RETRYING in line:
            with suppress(ValueError):
                found.append(json.loads(line))
    return found


def _mix_checks(path: Path) -> None:
    """Both cameras side by side all through the class, their flashes and beeps in time."""
    left, right = mc.center_region(0, 15, 160, 105), mc.center_region(160, 15, 160, 105)
    for t in (500, 3500, 6500, 9500, 11_500):
        frame = mc.frame_at(path, t)
        mc.assert_color(mc.mean_color(frame, *left), BLUE, what=f"bob at {t}")
        mc.assert_color(mc.mean_color(frame, *right), RED, what=f"teacher at {t}")
    flashes, beeps = mc.flash_times_ms(path, right), mc.beep_onsets_ms(path, 1000)
    assert len(flashes) == len(beeps) == len(SYNC_MS), (flashes, beeps)
    for flash, beep, want in zip(flashes, beeps, SYNC_MS, strict=True):
        assert abs(flash - want) <= 1000 / 15 and abs(beep - want) <= 1000 / 15
    for start in (1000, 7000):  # both voices, in the first chunk's time and a later one's
        for tone in (440, 660):
            assert mc.tone_level_db(path, start, start + 800, tone) > -40, (start, tone)


def test_s3_away_for_a_while_mid_render_delays_the_task_which_then_finishes_once_and_whole(
    cluster: Cluster, s3_media: str
) -> None:
    _start_workers(cluster, retry_s=120)
    record = {
        "SdkAppId": cluster.app,
        "RoomId": 12,
        "RecordStartTimeMs": T0,
        "RecordStopTimeMs": T0 + LENGTH_MS,
        "Streams": [
            {"StreamId": sid, "Segments": [{"Url": f"{s3_media}/{sid}.mp4", "StartTime": T0}]}
            for sid in ("bob", "teacher")
        ],
    }
    record_id = _imported(cluster, record)
    custom = {
        "Canvas": {"LayoutParams": {"Width": 320, "Height": 120}},
        "InputStreamList": [
            {"LayoutParams": {"X": x, "Y": 0, "Width": 160, "Height": 120}, "InputStreamId": sid}
            for sid, x in (("bob", 0), ("teacher", 160))
        ],
    }
    create = {
        "SdkAppId": cluster.app,
        "OnlineRecordTaskId": record_id,
        "MixStream": {"Enabled": True, "Custom": custom},
    }
    task_id: str = call(cluster.client, "CreateVideoGenerationTask", create)["TaskId"]

    _rendering_worker(cluster)
    cluster.relay.cut()
    # Every piece and the publishing still need S3: the task cannot finish during the cut.
    during = _describe(cluster, task_id)
    assert isinstance(during, dict) and during["Status"] != "FINISHED", during
    wait_for(lambda: _retry_warnings(cluster), 60, "a worker to wait for S3")
    time.sleep(2)  # the outage goes on a while longer, the workers retrying
    cluster.relay.restore()

    done = _finished(cluster, task_id)
    assert done["Progress"] == 100 and done["TotalTime"] == LENGTH_MS
    assert sorted(v["VideoType"] for v in done["VideoInfoList"]) == [0, 0, 3]
    for video in done["VideoInfoList"]:  # every output whole, through its presigned URL
        got = httpx.get(video["VideoUrl"], timeout=30)
        assert got.status_code == 200 and len(got.content) == video["VideoSize"]
        path = cluster.tmp / f"type{video['VideoType']}-{video['UserId']}.mp4"
        path.write_bytes(got.content)
        if video["VideoType"] == 3:
            _mix_checks(path)
        else:
            color = BLUE if video["UserId"] == "bob" else RED
            frame = mc.frame_at(path, 10_000)
            mc.assert_color(mc.mean_color(frame, *mc.center_region(0, 15, 160, 105)), color)

    # Done once: one attempt, each piece run once (the waiting workers kept their leases),
    # one committed event, delivered once.
    [(attempts,)] = cluster.rows(
        "SELECT attempts FROM generation_tasks WHERE task_id = :t", t=task_id
    )
    assert attempts == 1
    runs = cluster.rows("SELECT runs FROM task_pieces WHERE task_id = :t", t=task_id)
    assert len(runs) == 7 and {r for (r,) in runs} == {1}  # 4 chunks, the sound, 2 cameras
    events = cluster.rows(
        "SELECT id FROM callback_deliveries WHERE task_id = :t AND event_type = :e",
        t=task_id,
        e=FINISHED,
    )
    assert len(events) == 1
    wait_for(lambda: cluster.receiver.of(FINISHED, task_id), 30, "the callback")
    assert len(cluster.receiver.of(FINISHED, task_id)) == 1

    # The pieces' files go once the task is committed: the bucket keeps the outputs alone.
    token = urlsplit(done["VideoInfoList"][0]["VideoUrl"]).path.rsplit("/", 2)[1]
    names = sorted(urlsplit(v["VideoUrl"]).path.rsplit("/", 1)[1] for v in done["VideoInfoList"])
    wait_for(
        lambda: cluster.task_keys(task_id) == [f"{token}/{name}" for name in names],
        30,
        "the pieces' files to be removed",
    )
    # The warnings named what was waited for: the task's pieces, perhaps its media too.
    media = {f"{s3_media}/{sid}.mp4" for sid in ("bob", "teacher")}
    waited = {w["key"] for w in _retry_warnings(cluster)}
    assert all(k.startswith(f"{cluster.storage}/{cluster.app}/{task_id}/") for k in waited - media)
    assert all(cluster.seaweed.secret_key not in w.log() for w in cluster.workers)


def test_s3_away_longer_than_the_window_fails_the_task_once_naming_the_object(
    cluster: Cluster,
) -> None:
    _start_workers(cluster, retry_s=2)
    record_id = _imported(cluster, small_recording(cluster.app))
    cluster.relay.cut()
    create = {"SdkAppId": cluster.app, "OnlineRecordTaskId": record_id}
    task_id: str = call(cluster.client, "CreateVideoGenerationTask", create)["TaskId"]

    failed = wait_for(
        lambda: isinstance(d := _describe(cluster, task_id), TencentCloudSDKException) and d,
        120,
        "the generation to fail",
    )
    assert failed.get_code() == "FailedOperation.Storage"
    task_prefix = f"{cluster.storage}/{cluster.app}/{task_id}/"
    assert task_prefix in failed.get_message()
    assert "still failing after retrying for 2 s" in failed.get_message()
    # Every piece has given up while S3 is still away: none can write after the restore.
    wait_for(lambda: cluster.rows(LIVE_JOBS, t=task_id)[0][0] == 0, 60, "every job to end")
    cluster.relay.restore()

    [(attempts, code)] = cluster.rows(
        "SELECT attempts, error_code FROM generation_tasks WHERE task_id = :t", t=task_id
    )
    assert (attempts, code) == (1, "FailedOperation.Storage")
    events = cluster.rows(
        "SELECT id FROM callback_deliveries WHERE task_id = :t AND event_type = :e",
        t=task_id,
        e=FINISHED,
    )
    assert len(events) == 1
    wait_for(lambda: cluster.receiver.of(FINISHED, task_id), 30, "the callback")
    [event] = cluster.receiver.of(FINISHED, task_id)
    assert event["EventData"]["ErrorCode"] == "FailedOperation.Storage"
    assert cluster.task_keys(task_id) == []
