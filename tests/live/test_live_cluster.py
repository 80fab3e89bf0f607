"""Live recording in a cluster: an ingest API node (``serve --rtmp-port --workers 0``)
records the pushes of a class and hands the finished files to S3 (a real SeaweedFS); a
``mixdown worker`` on the same PostgreSQL, which cannot see the ingest node's disk, probes
and generates the class from there. The outputs are downloaded and checked for content."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import mediacheck as mc
from api import conftest as api_conftest
from api.cluster import BLUE, RED, WorkerProcess
from mixdown.domain.recording import VideoType
from mixdown.storage.connection import S3Settings
from seaweed import Seaweed

from .harness import (
    PYTHON,
    Creds,
    LiveApp,
    LiveServer,
    Push,
    call,
    flv_clip,
    kill_left_nginx,
    needs_nginx,
    passable_folder,
    start_recording,
    wait_finished,
)

pytestmark = [needs_nginx, pytest.mark.media]

#: The cluster tests' scratch PostgreSQL database (skipped without
#: ``MIXDOWN_TEST_POSTGRES_URL``), made visible to this module.
scratch_url = api_conftest.scratch_url

PUSH_MS = 3000
WHITEBOARD, CAMERA = "tic_record_user", "teacher"
#: Bounds on a busy machine: the pushes (real time), then the seal, the hand-off, the probe
#: and the generation on the worker.
PUSH_TIMEOUT_S = 120.0
FINISH_TIMEOUT_S = 400.0
#: Each output must show its stream's colour for at least this long (the pushes last
#: PUSH_MS; a stream starts a moment after the recording).
SHOWN_MS = 2000


@pytest.fixture
def live_root(tmp_path: Path) -> Iterator[Path]:
    with passable_folder(tmp_path) as folder:
        yield folder


def create_cluster_app(data_dir: Path, database_url: str) -> LiveApp:
    """``mixdown apps create`` on the cluster's database: the app's keys and PushKey."""
    argv = [PYTHON, "-m", "mixdown.cli", "apps", "create", "--data-dir", str(data_dir)]
    done = subprocess.run(
        [*argv, "--database", database_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(done.stdout)
    return LiveApp(Creds(data["SdkAppId"], data["SecretId"], data["SecretKey"]), data["PushKey"])


def download(info: dict[str, Any], path: Path) -> Path:
    got = httpx.get(info["VideoUrl"], timeout=60)
    assert got.status_code == 200, (info["VideoUrl"], got.status_code)
    assert len(got.content) == info["VideoSize"]
    path.write_bytes(got.content)
    return path


def shown(path: Path, color: str) -> list[float]:
    """The times (ms) of the frames whose picture, below the sliding mark, is ``color``."""
    times = []
    for t, frame in mc.video_frames(path):
        height, width = frame.shape[:2]
        region = mc.center_region(0, height // 8, width, height - height // 8)
        if mc.color_distance(mc.mean_color(frame, *region), color) <= 14:
            times.append(t)
    return times


def logged(log: str, msg: str, task_id: str) -> bool:
    """Whether a JSON log line says ``msg`` about ``task_id``."""
    for line in log.splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if entry.get("msg") == msg and entry.get("task_id") == task_id:
                return True
    return False


@pytest.mark.timeout(900)
def test_a_live_class_recorded_on_an_ingest_node_is_generated_by_a_worker_from_s3(
    tmp_path: Path, live_root: Path, scratch_url: str, seaweed: Seaweed, ffmpeg: str
) -> None:
    prefix = f"live/{tmp_path.name}"
    storage = f"s3://{seaweed.bucket}/{prefix}"
    env = seaweed.env()
    board = flv_clip(
        tmp_path, "whiteboard", ffmpeg, duration_ms=PUSH_MS, color=BLUE, has_audio=False
    )
    camera = flv_clip(tmp_path, "camera", ffmpeg, duration_ms=PUSH_MS, color=RED, tone_hz=440)

    data = live_root / "ingest-node"
    app = create_cluster_app(data, scratch_url)
    node = LiveServer(
        data, "--workers", "0", "--database", scratch_url, "--storage", storage, env=env
    )
    worker = WorkerProcess(tmp_path / "worker", scratch_url, "--storage", storage, env=env)
    try:
        node.start()
        worker.start()
        client = node.client(app)
        room = 4201
        task_id = start_recording(client, app, room)
        with (
            Push(ffmpeg, board, node.push_url(app, room, WHITEBOARD)) as board_push,
            Push(ffmpeg, camera, node.push_url(app, room, CAMERA)) as camera_push,
        ):
            for push in (board_push, camera_push):
                assert push.wait(PUSH_TIMEOUT_S) == 0, push.error()
        call(client, "StopOnlineRecord", {"SdkAppId": app.sdk_app_id, "TaskId": task_id})
        found = wait_finished(client, app, task_id, FINISH_TIMEOUT_S)

        # The worker, not the ingest node (--workers 0), probed the recording from S3.
        assert found["ExceptionCnt"] == 0, found
        assert logged(worker.log(), "recording probed", task_id), worker.log()

        # One video per stream, each behind a presigned URL into the bucket's prefix.
        infos = {VideoType(v["VideoType"]): v for v in found["VideoInfos"]}
        assert sorted(infos) == [VideoType.CAMERA, VideoType.WHITEBOARD], found["VideoInfos"]
        assert len(found["VideoInfos"]) == 2, found["VideoInfos"]
        assert infos[VideoType.CAMERA]["UserId"] == CAMERA
        for info in infos.values():
            url = info["VideoUrl"]
            assert url.startswith(f"{seaweed.endpoint}/{seaweed.bucket}/{prefix}/"), url
            query = parse_qs(urlsplit(url).query)
            assert "X-Amz-Signature" in query and "X-Amz-Expires" in query, url

        # The camera is red with its 440 Hz tone, the whiteboard blue: each its own push.
        camera_video = download(infos[VideoType.CAMERA], tmp_path / "camera.mp4")
        board_video = download(infos[VideoType.WHITEBOARD], tmp_path / "whiteboard.mp4")
        red = shown(camera_video, RED)
        assert red and red[-1] - red[0] >= SHOWN_MS, (red, mc.probe_durations(camera_video))
        assert shown(camera_video, BLUE) == []
        assert mc.tone_level_db(camera_video, red[0] + 100, red[-1] - 100, 440) > -30
        assert mc.tone_level_db(camera_video, red[0] + 100, red[-1] - 100, 660) < -50
        blue = shown(board_video, BLUE)
        assert blue and blue[-1] - blue[0] >= SHOWN_MS, (blue, mc.probe_durations(board_video))
        assert shown(board_video, RED) == []

        # The ingest node handed the recorded files to the store and kept no copy.
        records = data / "ingest" / "records"
        assert records.is_dir()
        assert sorted(p.name for p in records.iterdir()) == []
        s3 = S3Settings.from_env(seaweed.env()).client()
        listing = s3.list_objects_v2(Bucket=seaweed.bucket, Prefix=f"{prefix}/ingest/{task_id}/")
        handed = {o["Key"].rsplit("/", 1)[1]: o["Size"] for o in listing.get("Contents", [])}
        names = sorted(handed)
        assert len(names) == 2, handed
        for name, stream_id in zip(names, (CAMERA, WHITEBOARD), strict=True):
            assert name.startswith(f"{app.sdk_app_id}_{room}_{stream_id}-"), names
            assert name.endswith(".flv") and handed[name] > 0, handed
    finally:
        worker.stop()
        node.stop()
        kill_left_nginx(data)
