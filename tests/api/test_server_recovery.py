"""A task accepted before ``kill -9`` of the server finishes after a restart, with one
complete set of outputs and nothing half-written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from tencentcloud.tiw.v20190919 import models

from attempts import kept_attempts, scratch_attempts
from mixdown.synth import ClipSpec, make_clip

from .conftest import T0, ServerProcess, call, cli_create_app, sdk, wait_for

LENGTH_MS = 12_000


@pytest.fixture(scope="module")
def long_media(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    root = tmp_path_factory.mktemp("long")
    make_clip(
        ClipSpec(duration_ms=LENGTH_MS, color="#3366CC", has_audio=False), root / "wb.mp4", ffmpeg
    )
    make_clip(
        ClipSpec(duration_ms=LENGTH_MS, color="#CC3333", tone_hz=440), root / "cam.mp4", ffmpeg
    )
    return root


def _describe(client: Any, sdk_app_id: int, task_id: str) -> Any:
    req = models.DescribeVideoGenerationTaskRequest()
    req.SdkAppId, req.TaskId = sdk_app_id, task_id
    return client.DescribeVideoGenerationTask(req)


@pytest.mark.media
def test_a_task_survives_kill_9_mid_render(tmp_path: Path, long_media: Path) -> None:
    data = tmp_path / "data"
    creds = cli_create_app(data)
    first = ServerProcess(data, "--ingest-root", str(long_media)).start()
    try:
        client = sdk(first.port, creds)
        recording = {
            "SdkAppId": creds.sdk_app_id,
            "RoomId": 7,
            "RecordStartTimeMs": T0,
            "RecordStopTimeMs": T0 + LENGTH_MS,
            "Streams": [
                {"StreamId": "tic_record_user", "Segments": [{"Url": "wb.mp4", "StartTime": T0}]},
                {"StreamId": "teacher", "Segments": [{"Url": "cam.mp4", "StartTime": T0}]},
            ],
            "MixStream": {"Enabled": True, "ModelId": 1},
        }
        record_id = call(client, "ImportOnlineRecord", recording)["TaskId"]

        def imported() -> bool:
            got = call(
                client, "DescribeOnlineRecord", {"SdkAppId": creds.sdk_app_id, "TaskId": record_id}
            )
            return got["Status"] == "FINISHED"

        wait_for(imported, 60, "the import")
        task_id = call(
            client,
            "CreateVideoGenerationTask",
            {"SdkAppId": creds.sdk_app_id, "OnlineRecordTaskId": record_id},
        )["TaskId"]

        def rendering() -> bool:
            got = _describe(client, creds.sdk_app_id, task_id)
            assert got.Status != "FINISHED", "rendered before the kill; make the input longer"
            return got.Status == "PROCESSING" and got.Progress > 0

        wait_for(rendering, 60, "rendering to make progress", every_s=0.1)
    finally:
        first.kill9()
    outputs = data / "outputs"
    assert len(scratch_attempts(data / "scratch")) == 1, "the killed attempt left its folder"
    assert kept_attempts(outputs) == [], "nothing of the killed attempt is kept"

    second = ServerProcess(data, "--ingest-root", str(long_media)).start()
    try:
        client = sdk(second.port, creds)
        done = wait_for(
            lambda: (d := _describe(client, creds.sdk_app_id, task_id)).Status == "FINISHED" and d,
            180,
            "the task to finish after the restart",
            every_s=0.3,
        )
        names = sorted(v.VideoUrl.rsplit("/", 1)[1] for v in done.VideoInfoList)
        assert len(names) == len(set(names)) >= 3
        folders = kept_attempts(outputs)
        assert len(folders) == 1, "exactly one committed attempt remains"
        assert scratch_attempts(data / "scratch") == [], "the killed attempt was swept"
        assert sorted(p.name for p in folders[0].iterdir()) == names
        for info in done.VideoInfoList:
            assert f"/files/{folders[0].name}/" in info.VideoUrl
            got = httpx.get(
                info.VideoUrl.replace(f":{first.port}/", f":{second.port}/"), timeout=30
            )
            assert got.status_code == 200 and len(got.content) == info.VideoSize
    finally:
        second.stop()
