"""DescribeVideoGenerationReport (extension) through the official SDK's ``call_json``
against a real ``mixdown serve``: the report of a real render, its warnings in the
service's log, and the same isolation and errors as DescribeVideoGenerationTask."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from mixdown.synth import ClipSpec, make_clip
from recorders import make_truncated

from .conftest import T0, Creds, ServerProcess, call, cli_create_app, sdk, wait_for

pytestmark = pytest.mark.media


@dataclass
class Done:
    server: ServerProcess
    a: Creds
    b: Creds
    task_id: str
    task: dict[str, Any]


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Iterator[Done]:
    root = tmp_path_factory.mktemp("report-media")
    make_clip(ClipSpec(3000, color="#3366CC", has_audio=False), root / "wb.mp4", ffmpeg)
    make_truncated(ClipSpec(5000, color="#CC3333", tone_hz=440), root / "cam.mp4", ffmpeg, "mp4")
    data = tmp_path_factory.mktemp("report") / "data"
    a, b = cli_create_app(data), cli_create_app(data)
    server = ServerProcess(data, "--ingest-root", str(root)).start()
    try:
        client, app = sdk(server.port, a), a.sdk_app_id
        record_id = call(
            client,
            "ImportOnlineRecord",
            {
                "SdkAppId": app,
                "RoomId": 7,
                "RecordStartTimeMs": T0,
                "RecordStopTimeMs": T0 + 3000,
                "Streams": [
                    {
                        "StreamId": "tic_record_user",
                        "Segments": [{"Url": "wb.mp4", "StartTime": T0}],
                    },
                    {"StreamId": "teacher", "Segments": [{"Url": "cam.mp4", "StartTime": T0}]},
                ],
                "Whiteboard": {"Width": 320, "Height": 240},
            },
        )["TaskId"]
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
        mix = {
            "Enabled": True,
            "Custom": {
                "Canvas": {"LayoutParams": {"Width": 640, "Height": 240}},
                "InputStreamList": [
                    {"LayoutParams": {"Width": 320, "Height": 240}, "InputStreamId": "teacher"},
                    {"LayoutParams": {"X": 320, "Width": 320, "Height": 240},
                     "InputStreamId": "student"},
                ],
            },
        }  # fmt: skip
        params = {"SdkAppId": app, "OnlineRecordTaskId": record_id, "MixStream": mix}
        task_id = call(client, "CreateVideoGenerationTask", params)["TaskId"]
        task = wait_for(
            lambda: (
                d
                if (
                    d := call(
                        client, "DescribeVideoGenerationTask", {"SdkAppId": app, "TaskId": task_id}
                    )
                )["Status"]
                == "FINISHED"
                else None
            ),
            120,
            "the task",
        )
        yield Done(server, a, b, task_id, task)
    finally:
        server.stop()


def _report(done: Done, creds: Creds | None = None, task_id: str = "") -> dict[str, Any]:
    client = sdk(done.server.port, creds or done.a)
    params = {"SdkAppId": (creds or done.a).sdk_app_id, "TaskId": task_id or done.task_id}
    response: dict[str, Any] = client.call_json("DescribeVideoGenerationReport", params)["Response"]
    return response


def test_the_report_of_a_finished_task_comes_through_the_sdks_call_json(done: Done) -> None:
    report = _report(done)
    assert report["TaskId"] == done.task_id and report["Status"] == "FINISHED"
    assert report["ReportAvailable"] is True and report["RequestId"]
    outputs = {o["FileName"].split("_")[0]: o for o in report["Outputs"]}
    assert set(outputs) == {"mix", "whiteboard", "camera"}
    mix = outputs["mix"]
    codes = [w["Code"] for w in mix["Warnings"]]
    assert "SourceTruncated" in codes and "SlotUnmatched" in codes
    unmatched = next(w for w in mix["Warnings"] if w["Code"] == "SlotUnmatched")
    assert "InputStreamList[1] (InputStreamId 'student')" in unmatched["Message"]
    truncated = next(w for w in outputs["camera"]["Warnings"] if w["Code"] == "SourceTruncated")
    assert truncated["StreamId"] == "teacher" and "header claims 5.0 s" in truncated["Message"]
    assert outputs["whiteboard"]["Warnings"] == []
    assert report["WarningCount"] == sum(len(o["Warnings"]) for o in report["Outputs"])


def test_each_output_in_the_report_links_to_the_same_file_as_the_task(done: Done) -> None:
    urls = {v["VideoUrl"] for v in done.task["VideoInfoList"]}
    report = _report(done)
    assert {o["VideoUrl"] for o in report["Outputs"]} == urls
    for output in report["Outputs"]:
        got = httpx.get(output["VideoUrl"], timeout=30)
        assert got.status_code == 200 and got.content
        info = next(v for v in done.task["VideoInfoList"] if v["VideoUrl"] == output["VideoUrl"])
        assert output["ActualDuration"] == info["VideoDuration"]


def test_the_task_answer_carries_only_tiws_fields(done: Done) -> None:
    assert "GenerationReport" not in done.task
    assert set(done.task) == {
        "GroupId", "RoomId", "TaskId", "Progress", "Status", "TotalTime", "VideoInfos",
        "VideoInfoList", "RequestId",
    }  # fmt: skip


def test_the_service_logs_each_warning_with_its_task(done: Done) -> None:
    lines = [json.loads(x) for x in done.server.log().splitlines() if x.startswith("{")]
    warned = [x for x in lines if x.get("msg") == "generation warning"]
    assert {x["code"] for x in warned} >= {"SourceTruncated", "SlotUnmatched"}
    assert all(x["task_id"] == done.task_id for x in warned)


def test_another_apps_task_and_an_unknown_task_are_not_found(done: Done) -> None:
    for creds, task_id in ((done.b, done.task_id), (done.a, "nosuchtask")):
        with pytest.raises(TencentCloudSDKException) as err:
            _report(done, creds, task_id)
        assert err.value.get_code() == "InvalidParameter.TaskNotFound"


def test_a_manifest_start_time_sent_as_a_string_is_refused_with_the_type_error(
    done: Done,
) -> None:
    client = sdk(done.server.port, done.a)
    bad = {
        "SdkAppId": done.a.sdk_app_id,
        "RoomId": 8,
        "RecordStartTimeMs": T0,
        "Streams": [{"StreamId": "t", "Segments": [{"Url": "wb.mp4", "StartTime": str(T0)}]}],
    }
    with pytest.raises(TencentCloudSDKException) as err:
        call(client, "ImportOnlineRecord", bad)
    assert err.value.get_code() == "InvalidParameter.BodyParameterTypeUnmatched"
    assert "Streams[0].Segments[0].StartTime" in err.value.get_message()


def test_the_report_names_files_without_the_servers_folders(done: Done) -> None:
    # FileName is a bare name: the report never leaks the server's folders.
    for output in _report(done)["Outputs"]:
        assert "/" not in output["FileName"]
