"""Stopping ``mixdown serve`` gracefully (SIGTERM) while one task renders and another waits,
then starting it again: both finish, each with one committed set of outputs; a task that
never ran stays QUEUED and keeps its attempts; a second server on the folder is refused."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tencentcloud.tiw.v20190919 import models

from attempts import kept_attempts
from mixdown.synth import ClipSpec, make_clip

from .conftest import PYTHON, T0, Creds, ServerProcess, call, cli_create_app, sdk, wait_for

LENGTH_MS = 12_000


@pytest.fixture(scope="module")
def long_media(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    root = tmp_path_factory.mktemp("restart-media")
    make_clip(
        ClipSpec(duration_ms=LENGTH_MS, color="#3366CC", has_audio=False), root / "wb.mp4", ffmpeg
    )
    make_clip(
        ClipSpec(duration_ms=LENGTH_MS, color="#CC3333", tone_hz=440), root / "cam.mp4", ffmpeg
    )
    return root


def _recording(app: int) -> dict[str, Any]:
    return {
        "SdkAppId": app,
        "RoomId": 9,
        "RecordStartTimeMs": T0,
        "RecordStopTimeMs": T0 + LENGTH_MS,
        "Streams": [
            {"StreamId": "tic_record_user", "Segments": [{"Url": "wb.mp4", "StartTime": T0}]},
            {"StreamId": "teacher", "Segments": [{"Url": "cam.mp4", "StartTime": T0}]},
        ],
        "MixStream": {"Enabled": True, "ModelId": 1},
    }


def _describe(client: Any, app: int, task_id: str) -> Any:
    req = models.DescribeVideoGenerationTaskRequest()
    req.SdkAppId, req.TaskId = app, task_id
    return client.DescribeVideoGenerationTask(req)


def _row(data: Path, task_id: str) -> tuple[str, int]:
    with sqlite3.connect(data / "mixdown.db", timeout=30) as db:
        status, attempts = db.execute(
            "SELECT status, attempts FROM generation_tasks WHERE task_id = ?", (task_id,)
        ).fetchone()
    return str(status), int(attempts)


@dataclass
class Stopped:
    data: Path
    media: Path
    creds: Creds
    rendering: str
    queued: str
    stop_s: float
    log: str


def _rendering_and_queued(client: Any, app: int, rendering: str, queued: str) -> bool:
    a, b = _describe(client, app, rendering), _describe(client, app, queued)
    assert a.Status != "FINISHED", "rendered before the stop; make the input longer"
    return bool(a.Status == "PROCESSING" and a.Progress > 0 and b.Status == "QUEUED")


def _stop_timed(server: ServerProcess) -> float:
    t0 = time.monotonic()
    server.stop()
    return time.monotonic() - t0


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory, long_media: Path) -> Stopped:
    """One task rendering and one queued behind it (one worker) when SIGTERM arrives."""
    data = tmp_path_factory.mktemp("restart") / "data"
    creds = cli_create_app(data)
    server = ServerProcess(data, "--ingest-root", str(long_media)).start()
    try:
        client, app = sdk(server.port, creds), creds.sdk_app_id
        record_id = call(client, "ImportOnlineRecord", _recording(app))["TaskId"]
        wait_for(
            lambda: (
                call(client, "DescribeOnlineRecord", {"SdkAppId": app, "TaskId": record_id})[
                    "Status"
                ]
                == "FINISHED"
            ),
            60,
            "the import",
        )
        params = {"SdkAppId": app, "OnlineRecordTaskId": record_id}
        rendering = call(client, "CreateVideoGenerationTask", params)["TaskId"]
        queued = call(client, "CreateVideoGenerationTask", params)["TaskId"]
        wait_for(
            lambda: _rendering_and_queued(client, app, rendering, queued),
            60,
            "one task rendering, one queued",
            every_s=0.2,
        )
    finally:
        stop_s = _stop_timed(server)
    return Stopped(data, long_media, creds, rendering, queued, stop_s, server.log())


def test_sigterm_stops_the_server_promptly_mid_render(stopped: Stopped) -> None:
    assert stopped.stop_s < 20
    assert "service stopped" in stopped.log
    assert "Traceback" not in stopped.log


def test_a_graceful_stop_leaves_a_queued_task_queued_with_no_attempt_spent(
    stopped: Stopped,
) -> None:
    assert _row(stopped.data, stopped.queued) == ("QUEUED", 0)


@pytest.mark.media
def test_tasks_stopped_while_queued_and_processing_finish_after_a_restart(
    stopped: Stopped,
) -> None:
    server = ServerProcess(stopped.data, "--ingest-root", str(stopped.media)).start()
    try:
        client, app = sdk(server.port, stopped.creds), stopped.creds.sdk_app_id
        done = {
            task_id: wait_for(
                lambda t=task_id: (d := _describe(client, app, t)).Status == "FINISHED" and d,
                180,
                f"{task_id} to finish after the restart",
                every_s=0.3,
            )
            for task_id in (stopped.rendering, stopped.queued)
        }
        folders = sorted(p.name for p in kept_attempts(stopped.data / "outputs"))
        tokens = sorted(
            {
                v.VideoUrl.split("/files/", 1)[1].split("/")[0]
                for d in done.values()
                for v in d.VideoInfoList
            }
        )
        assert folders == tokens and len(tokens) == 2, "one committed folder per task"
        for d in done.values():
            assert d.Progress == 100 and d.TotalTime == LENGTH_MS
            assert sorted(v.VideoType for v in d.VideoInfoList) == [0, 2, 3]
            for info in d.VideoInfoList:
                got = httpx.get(info.VideoUrl, timeout=30)
                assert got.status_code == 200 and len(got.content) == info.VideoSize > 0
    finally:
        server.stop()


@pytest.mark.media
def test_three_graceful_restarts_do_not_fail_a_task_that_never_crashed(
    tmp_path: Path, long_media: Path
) -> None:
    data = tmp_path / "data"
    creds = cli_create_app(data)
    app = creds.sdk_app_id
    rendering = queued = ""
    for cycle in range(4):
        server = ServerProcess(data, "--ingest-root", str(long_media)).start()
        try:
            client = sdk(server.port, creds)
            if cycle == 0:
                record_id = call(client, "ImportOnlineRecord", _recording(app))["TaskId"]
                wait_for(
                    lambda c=client, r=record_id: (
                        call(c, "DescribeOnlineRecord", {"SdkAppId": app, "TaskId": r})["Status"]
                        == "FINISHED"
                    ),
                    60,
                    "the import",
                )
                params = {"SdkAppId": app, "OnlineRecordTaskId": record_id}
                rendering = call(client, "CreateVideoGenerationTask", params)["TaskId"]
                queued = call(client, "CreateVideoGenerationTask", params)["TaskId"]
            if cycle < 3:  # a routine restart while one task renders and one waits
                wait_for(
                    lambda c=client, r=rendering, q=queued, again=cycle > 0: (
                        _rendering_and_queued(c, app, r, q)
                        or (again and _describe(c, app, r).Progress > 0)
                    ),
                    60,
                    "the render to progress",
                    every_s=0.2,
                )
                continue
            for task_id in (rendering, queued):
                done = wait_for(
                    lambda c=client, t=task_id: (
                        (d := _describe(c, app, t)).Status == "FINISHED" and d
                    ),
                    180,
                    "the task to finish",
                    every_s=0.3,
                )
                assert done.VideoInfoList, task_id
        finally:
            server.stop()


def test_a_second_server_on_the_same_data_folder_is_refused_clearly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    creds = cli_create_app(data)
    first = ServerProcess(data).start()
    try:
        second_port = ServerProcess(data).port
        done = subprocess.run(
            [
                PYTHON,
                "-m",
                "mixdown.cli",
                "serve",
                "--port",
                str(second_port),
                "--data-dir",
                str(data),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "another mixdown process" in lines[0], done.stderr
        assert str(data) in lines[0] and "Traceback" not in done.stderr
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{second_port}/healthz", timeout=5)
        got = call(
            sdk(first.port, creds), "DescribeOnlineRecordCallback", {"SdkAppId": creds.sdk_app_id}
        )
        assert got["RequestId"]
    finally:
        first.stop()
    # Once the first is gone, the folder is free again.
    again = ServerProcess(data).start()
    again.stop()
