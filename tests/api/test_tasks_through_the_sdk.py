"""Tasks through the official SDK against a real ``mixdown serve``: nested parameters in every
request style make the same task, Describe* answers carry exactly the reference's fields
and parse as the SDK's typed models, and other apps' or made-up task ids reveal nothing."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.tiw.v20190919 import models

from .conftest import T0, Creds, ServerProcess, call, cli_create_app, sdk, small_recording, wait_for
from .wire_support import error_code, post_json

PAUSE = {"PauseTime": T0 + 1000, "ResumeTime": T0 + 2000}
STYLES = [
    ("POST", "TC3-HMAC-SHA256"),
    ("GET", "TC3-HMAC-SHA256"),
    ("POST", "HmacSHA1"),
    ("GET", "HmacSHA1"),
    ("POST", "HmacSHA256"),
    ("GET", "HmacSHA256"),
]
#: DescribeVideoGenerationTask's output (reference §2.10) and VideoInfo's fields (§3.10).
GENERATION_FIELDS = {
    "GroupId",
    "RoomId",
    "TaskId",
    "Progress",
    "Status",
    "TotalTime",
    "VideoInfos",
    "VideoInfoList",
    "RequestId",
}
VIDEO_INFO_FIELDS = {
    "VideoPlayTime",
    "VideoSize",
    "VideoFormat",
    "VideoDuration",
    "VideoUrl",
    "VideoId",
    "VideoType",
    "UserId",
    "Width",
    "Height",
}
#: DescribeOnlineRecord's output (reference §2.5).
RECORD_FIELDS = {
    "FinishReason",
    "TaskId",
    "Status",
    "RoomId",
    "GroupId",
    "RecordUserId",
    "RecordStartTime",
    "RecordStopTime",
    "TotalTime",
    "ExceptionCnt",
    "OmittedDurations",
    "VideoInfos",
    "ReplayUrl",
    "Interrupts",
    "RequestId",
}


@dataclass(frozen=True)
class Env:
    server: ServerProcess
    a: Creds
    b: Creds
    recording_id: str

    def client(self, creds: Creds | None = None, **kw: Any) -> Any:
        return sdk(self.server.port, creds or self.a, **kw)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, ingest_root: Path) -> Iterator[Env]:
    data = tmp_path_factory.mktemp("tasks") / "data"
    a, b = cli_create_app(data), cli_create_app(data)
    server = ServerProcess(data, "--ingest-root", str(ingest_root)).start()
    try:
        client = sdk(server.port, a)
        params = small_recording(a.sdk_app_id, Pauses=[PAUSE], Concat={"Enabled": True})
        recording_id = call(client, "ImportOnlineRecord", params)["TaskId"]
        wait_for(lambda: _record(client, a, recording_id).Status == "FINISHED", 60, "the import")
        yield Env(server, a, b, recording_id)
    finally:
        server.stop()


def _record(client: Any, creds: Creds, task_id: str) -> Any:
    req = models.DescribeOnlineRecordRequest()
    req.SdkAppId, req.TaskId = creds.sdk_app_id, task_id
    return client.DescribeOnlineRecord(req)


def _describe(client: Any, creds: Creds, task_id: str) -> Any:
    req = models.DescribeVideoGenerationTaskRequest()
    req.SdkAppId, req.TaskId = creds.sdk_app_id, task_id
    return client.DescribeVideoGenerationTask(req)


def _finished(client: Any, creds: Creds, task_id: str) -> Any:
    return wait_for(
        lambda: (d := _describe(client, creds, task_id)).Status == "FINISHED" and d,
        120,
        f"task {task_id} to finish",
        every_s=0.2,
    )


def _sdk_error(fn: Any, *args: Any) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as err:
        fn(*args)
    assert err.value.requestId
    return err.value


def _rich_params(app: int, recording_id: str) -> dict[str, Any]:
    """Every nesting level GET/form must flatten: objects, arrays of objects, booleans
    (True and False), an empty string (a spare tile), unicode and JSON in a string."""
    tile = {"Width": 160, "Height": 120}
    return {
        "SdkAppId": app,
        "OnlineRecordTaskId": recording_id,
        "Whiteboard": {"Width": 320, "Height": 240, "InitParam": '{"ratio":"4:3"} é & = +'},
        "Concat": {"Enabled": False},
        "MixStream": {
            "Enabled": True,
            "DisableAudio": False,
            "TeacherId": "teacher",
            "Custom": {
                "Canvas": {
                    "LayoutParams": {"Width": 480, "Height": 240},
                    "BackgroundColor": "#102030",
                },
                "InputStreamList": [
                    {
                        "LayoutParams": {"Width": 320, "Height": 240, "X": 0, "Y": 0, "ZOrder": 1},
                        "InputStreamId": "tic_record_user",
                    },
                    {
                        "LayoutParams": {**tile, "X": 320, "Y": 0, "ZOrder": 2},
                        "InputStreamId": "teacher",
                        "FillMode": 1,
                        "BackgroundColor": "#000000",
                    },
                    {
                        "LayoutParams": {**tile, "X": 320, "Y": 120, "ZOrder": 3},
                        "InputStreamId": "",
                        "BackgroundColor": "#FF0000",
                    },
                ],
            },
        },
        "RecordControl": {
            "Enabled": True,
            "DisableRecord": False,
            "DisableAudio": False,
            "PullSmallVideo": False,
            "StreamControls": [{"StreamId": "teacher", "DisableAudio": True}],
        },
    }


def _outputs(done: Any) -> list[tuple[Any, ...]]:
    return sorted(
        (v.VideoType, v.UserId, v.Width, v.Height, v.VideoDuration, v.VideoPlayTime, v.VideoFormat)
        for v in done.VideoInfoList
    )


def test_nested_parameters_make_the_same_task_in_every_request_style(env: Env) -> None:
    params = _rich_params(env.a.sdk_app_id, env.recording_id)
    made: dict[tuple[str, str], tuple[str, Any]] = {}
    for method, sign in STYLES:
        client = env.client(method=method, sign=sign)
        req = models.CreateVideoGenerationTaskRequest()
        req.from_json_string(json.dumps(params))
        task_id = client.CreateVideoGenerationTask(req).TaskId
        made[(method, sign)] = (task_id, _finished(client, env.a, task_id))
    with sqlite3.connect(env.server.data_dir / "mixdown.db", timeout=30) as db:
        stored = {
            style: json.loads(
                db.execute(
                    "SELECT params FROM generation_tasks WHERE task_id = ?", (task_id,)
                ).fetchone()[0]
            )
            for style, (task_id, _) in made.items()
        }
    reference = stored[("POST", "TC3-HMAC-SHA256")]
    assert reference["Whiteboard"]["InitParam"] == '{"ratio":"4:3"} é & = +'
    assert [s["InputStreamId"] for s in reference["MixStream"]["Custom"]["InputStreamList"]] == [
        "tic_record_user",
        "teacher",
        "",
    ]
    for style, value in stored.items():
        assert value == reference, style
    outputs = {style: _outputs(done) for style, (_, done) in made.items()}
    assert len(set(map(tuple, outputs.values()))) == 1, outputs
    assert any(o[0] == 3 and o[1].endswith("_custom") for o in outputs[("GET", "HmacSHA1")])


def test_describe_video_generation_task_has_exactly_the_reference_fields(env: Env) -> None:
    client = env.client()
    create = models.CreateVideoGenerationTaskRequest()
    create.from_json_string(
        json.dumps(
            {
                "SdkAppId": env.a.sdk_app_id,
                "OnlineRecordTaskId": env.recording_id,
                "MixStream": {"Enabled": True, "ModelId": 2},
            }
        )
    )
    task_id = client.CreateVideoGenerationTask(create).TaskId
    raws: list[dict[str, Any]] = []
    typed: list[Any] = []

    def poll() -> bool:
        raws.append(
            call(
                client,
                "DescribeVideoGenerationTask",
                {"SdkAppId": env.a.sdk_app_id, "TaskId": task_id},
            )
        )
        typed.append(_describe(client, env.a, task_id))
        return bool(raws[-1]["Status"] == "FINISHED" and typed[-1].Status == "FINISHED")

    wait_for(poll, 120, "the task to finish", every_s=0.15)
    order = {"QUEUED": 0, "PROCESSING": 1, "FINISHED": 2}
    statuses = [r["Status"] for r in raws]
    assert all(s in order for s in statuses), statuses
    assert [order[s] for s in statuses] == sorted(order[s] for s in statuses), statuses
    progress = [r["Progress"] for r in raws]
    assert progress == sorted(progress) and all(0 <= p <= 100 for p in progress), progress
    for raw in raws:
        assert set(raw) == GENERATION_FIELDS, sorted(raw)
        assert (raw["TaskId"], raw["RoomId"], raw["GroupId"]) == (task_id, 42, "42")
        assert isinstance(raw["Progress"], int) and isinstance(raw["TotalTime"], int)
        assert isinstance(raw["VideoInfoList"], list)
        assert raw["VideoInfos"] is None or isinstance(raw["VideoInfos"], dict)
        if raw["Status"] != "FINISHED":
            assert raw["VideoInfoList"] == []
    done_raw, done = raws[-1], typed[-1]
    assert done_raw["Progress"] == 100 and done.Progress == 100
    assert done_raw["TotalTime"] == _record(client, env.a, env.recording_id).TotalTime == 3000
    assert isinstance(done_raw["VideoInfos"], dict), "VideoInfos (deprecated) is one object"
    for info in [done_raw["VideoInfos"], *done_raw["VideoInfoList"]]:
        assert set(info) == VIDEO_INFO_FIELDS, sorted(info)
        for name in VIDEO_INFO_FIELDS:
            kind = str if name in ("VideoFormat", "VideoUrl", "VideoId", "UserId") else int
            assert isinstance(info[name], kind), (name, info[name])
    assert isinstance(done.VideoInfos, models.VideoInfo)
    assert all(isinstance(v, models.VideoInfo) for v in done.VideoInfoList)
    assert done.VideoInfos.VideoUrl == done.VideoInfoList[0].VideoUrl
    mixed = [v for v in done.VideoInfoList if v.VideoType == 3]
    assert [(m.UserId, m.Width, m.Height) for m in mixed] == [("tic_mixstream_42_2", 1624, 1000)]
    whiteboard = [v for v in done.VideoInfoList if v.VideoType == 2]
    assert whiteboard and all(v.UserId == "" for v in whiteboard)


def test_describe_online_record_of_an_import_has_the_reference_fields(env: Env) -> None:
    client = env.client()
    raw = call(
        client, "DescribeOnlineRecord", {"SdkAppId": env.a.sdk_app_id, "TaskId": env.recording_id}
    )
    assert set(raw) == RECORD_FIELDS, sorted(raw)
    record = _record(client, env.a, env.recording_id)
    assert (record.TaskId, record.Status, record.RoomId, record.GroupId) == (
        env.recording_id,
        "FINISHED",
        42,
        "42",
    )
    assert record.FinishReason in ("AUTO", "USER_CALL", "EXCEPTION", "FORCE_STOP")
    assert (record.RecordStartTime, record.RecordStopTime) == (T0 // 1000, (T0 + 4000) // 1000)
    assert record.TotalTime == 3000, "4 s minus the 1 s pause, in ms"
    assert record.ExceptionCnt == 0
    assert len(record.OmittedDurations) == 1
    omitted = record.OmittedDurations[0]
    assert isinstance(omitted, models.OmittedDuration)
    assert (omitted.VideoTime, omitted.PauseTime, omitted.ResumeTime) == (
        1000,
        PAUSE["PauseTime"],
        PAUSE["ResumeTime"],
    )
    assert isinstance(raw["VideoInfos"], list) and isinstance(raw["Interrupts"], list)
    assert isinstance(raw["RecordUserId"], str) and isinstance(raw["ReplayUrl"], str)


def test_another_apps_tasks_are_indistinguishable_from_missing_ones(env: Env) -> None:
    a_client, b_client = env.client(), env.client(env.b)
    create = models.CreateVideoGenerationTaskRequest()
    create.SdkAppId, create.OnlineRecordTaskId = env.a.sdk_app_id, env.recording_id
    task_id = a_client.CreateVideoGenerationTask(create).TaskId
    made_up = "z" * len(task_id)

    def seen_by_b(kind: str, task: str) -> tuple[str, str]:
        if kind == "generation":
            err = _sdk_error(_describe, b_client, env.b, task)
        elif kind == "record":
            err = _sdk_error(_record, b_client, env.b, task)
        else:
            req = models.CreateVideoGenerationTaskRequest()
            req.SdkAppId, req.OnlineRecordTaskId = env.b.sdk_app_id, task
            err = _sdk_error(b_client.CreateVideoGenerationTask, req)
        return err.code, err.message.replace(task, "<id>")

    for kind, real in (
        ("generation", task_id),
        ("record", env.recording_id),
        ("create", env.recording_id),
    ):
        assert seen_by_b(kind, real) == seen_by_b(kind, made_up[: len(real)])
        assert seen_by_b(kind, real)[0] == "InvalidParameter.TaskNotFound"
    # A's own SecretId naming B's app is refused before any lookup.
    err = _sdk_error(_describe, a_client, env.b, task_id)
    assert err.code == "UnauthorizedOperation.SdkAppId"
    _finished(a_client, env.a, task_id)


@pytest.mark.parametrize(
    "task_id",
    [
        "' OR '1'='1",
        '" OR ""="',
        "%",
        "_",
        "*",
        "../../etc/passwd",
        "a\x00b",
        "\r\nX-Injected: 1",
        "x" * 100_000,
        "",
    ],
    ids=[
        "sql-single",
        "sql-double",
        "percent",
        "underscore",
        "star",
        "traversal",
        "nul",
        "crlf",
        "100k",
        "empty",
    ],
)
def test_hostile_task_ids_are_task_not_found_and_the_server_keeps_serving(
    env: Env, task_id: str
) -> None:
    for action in ("DescribeVideoGenerationTask", "DescribeOnlineRecord"):
        body = {"SdkAppId": env.a.sdk_app_id, "TaskId": task_id}
        reply = post_json(env.server.url, env.a, body, action=action)
        assert error_code(reply) == "InvalidParameter.TaskNotFound"
    assert _record(env.client(), env.a, env.recording_id).Status == "FINISHED"


def test_a_real_task_id_only_matches_exactly(env: Env) -> None:
    for near in (env.recording_id.upper(), f" {env.recording_id}", f"{env.recording_id}\n"):
        body = {"SdkAppId": env.a.sdk_app_id, "TaskId": near}
        reply = post_json(env.server.url, env.a, body, action="DescribeOnlineRecord")
        assert error_code(reply) == "InvalidParameter.TaskNotFound"


def test_a_slow_create_does_not_stall_another_apps_calls(env: Env) -> None:
    client, app = env.client(), env.a.sdk_app_id
    pauses = [{"PauseTime": T0 + 1000 + 2 * i, "ResumeTime": T0 + 1001 + 2 * i} for i in range(800)]
    params = small_recording(app, Pauses=pauses, Concat={"Enabled": True})
    recording_id = call(client, "ImportOnlineRecord", params)["TaskId"]
    wait_for(lambda: _record(client, env.a, recording_id).Status == "FINISHED", 60, "the import")
    took: list[float] = []

    def create() -> None:
        t0 = time.monotonic()
        # Only how long it holds the store matters here, not how it ends.
        with contextlib.suppress(TencentCloudSDKException):
            call(
                client,
                "CreateVideoGenerationTask",
                {"SdkAppId": app, "OnlineRecordTaskId": recording_id},
            )
        took.append(time.monotonic() - t0)

    slow = threading.Thread(target=create, daemon=True)
    slow.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    got = call(env.client(env.b), "DescribeOnlineRecordCallback", {"SdkAppId": env.b.sdk_app_id})
    waited = time.monotonic() - t0
    slow.join(timeout=120)
    assert got["RequestId"]
    assert waited < 0.5, f"another app's call waited {waited:.1f} s (the create took {took})"
