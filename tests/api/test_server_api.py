"""The official SDK against a real ``mixdown serve`` process: the happy path with real
rendering, every signing style, and every error code the API promises."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from tencentcloud.common import abstract_client
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.tiw.v20190919 import models

from .conftest import Creds, ServerProcess, call, cli_create_app, sdk, small_recording, wait_for


class Env:
    def __init__(self, server: ServerProcess, a: Creds, b: Creds, recording_id: str) -> None:
        self.server, self.a, self.b, self.recording_id = server, a, b, recording_id

    def client(self, creds: Creds | None = None, **kw: Any) -> Any:
        return sdk(self.server.port, creds or self.a, **kw)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, ingest_root: Path) -> Iterator[Env]:
    data = tmp_path_factory.mktemp("serve") / "data"
    a = cli_create_app(data)
    b = cli_create_app(data, "--task-concurrency", "1")
    server = ServerProcess(data, "--ingest-root", str(ingest_root)).start()
    try:
        client = sdk(server.port, a)
        recording_id = call(client, "ImportOnlineRecord", small_recording(a.sdk_app_id))["TaskId"]
        wait_for(lambda: _record_status(client, a, recording_id) == "FINISHED", 60, "the import")
        yield Env(server, a, b, recording_id)
    finally:
        server.stop()


def _record_status(client: Any, creds: Creds, task_id: str) -> str:
    req = models.DescribeOnlineRecordRequest()
    req.SdkAppId, req.TaskId = creds.sdk_app_id, task_id
    status: str = client.DescribeOnlineRecord(req).Status
    return status


def error_of(fn: Any, *args: Any) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as err:
        fn(*args)
    assert err.value.requestId, "every error carries a RequestId"
    return err.value


@pytest.mark.media
def test_import_create_poll_and_download_the_outputs(env: Env) -> None:
    client = env.client()
    req = models.DescribeOnlineRecordRequest()
    req.SdkAppId, req.TaskId = env.a.sdk_app_id, env.recording_id
    record = client.DescribeOnlineRecord(req)
    assert (record.Status, record.RoomId, record.GroupId, record.TotalTime) == (
        "FINISHED",
        42,
        "42",
        4000,
    )
    create = models.CreateVideoGenerationTaskRequest()
    create.SdkAppId, create.OnlineRecordTaskId = env.a.sdk_app_id, env.recording_id
    mix = models.MixStream()
    mix.Enabled, mix.Custom = True, models.CustomLayout()
    mix.Custom.Canvas = models.Canvas()
    mix.Custom.Canvas.LayoutParams = models.LayoutParams()
    mix.Custom.Canvas.LayoutParams.Width, mix.Custom.Canvas.LayoutParams.Height = 320, 240
    slot = models.StreamLayout()
    slot.LayoutParams = models.LayoutParams()
    slot.LayoutParams.Width, slot.LayoutParams.Height = 320, 240
    mix.Custom.InputStreamList = [slot]
    create.MixStream = mix
    task_id = client.CreateVideoGenerationTask(create).TaskId
    describe = models.DescribeVideoGenerationTaskRequest()
    describe.SdkAppId, describe.TaskId = env.a.sdk_app_id, task_id
    seen: list[tuple[str, int]] = []

    def finished() -> Any:
        d = client.DescribeVideoGenerationTask(describe)
        seen.append((d.Status, d.Progress))
        return d if d.Status == "FINISHED" else None

    done = wait_for(finished, 120, "the generation task", every_s=0.2)
    assert all(0 <= p <= 100 for _, p in seen)
    assert done.Progress == 100 and done.TotalTime == 4000
    assert (done.RoomId, done.GroupId, done.TaskId) == (42, "42", task_id)
    kinds = sorted(v.VideoType for v in done.VideoInfoList)
    assert kinds == [0, 2, 3]
    assert done.VideoInfos.VideoUrl == done.VideoInfoList[0].VideoUrl
    for info in done.VideoInfoList:
        assert info.VideoUrl.startswith(env.server.url + "/files/")
        body = httpx.get(info.VideoUrl, timeout=30)
        assert body.status_code == 200 and len(body.content) == info.VideoSize > 0
        assert body.content[4:8] == b"ftyp"
    files, token, _ = done.VideoInfoList[0].VideoUrl.rsplit("/", 2)
    guessed = f"{files}/{'x' * len(token)}/whiteboard_0.mp4"  # a guessed token is not served
    assert httpx.get(guessed, timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("method", "sign"),
    [
        ("GET", "TC3-HMAC-SHA256"),
        ("POST", "HmacSHA1"),
        ("GET", "HmacSHA1"),
        ("POST", "HmacSHA256"),
        ("GET", "HmacSHA256"),
    ],
)
def test_get_and_v1_signed_calls_are_answered(env: Env, method: str, sign: str) -> None:
    client = env.client(method=method, sign=sign)
    assert _record_status(client, env.a, env.recording_id) == "FINISHED"
    # Nested parameters travel flattened in these styles; a bad one is named.
    create = models.CreateVideoGenerationTaskRequest()
    create.SdkAppId, create.OnlineRecordTaskId = env.a.sdk_app_id, env.recording_id
    create.MixStream = models.MixStream()
    create.MixStream.Enabled, create.MixStream.ModelId = True, 7
    err = error_of(client.CreateVideoGenerationTask, create)
    assert err.code == "InvalidParameter.RecordParameter" and "MixStream.ModelId" in err.message


def test_a_wrong_secret_key_is_signature_failure(env: Env) -> None:
    for sign in ("TC3-HMAC-SHA256", "HmacSHA256"):
        client = env.client(sign=sign, secret_key="wrong")
        assert error_of(_record_status, client, env.a, env.recording_id).code == (
            "AuthFailure.SignatureFailure"
        )


def test_an_old_timestamp_is_signature_expire(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    import time as real_time

    old = real_time.time() - 600
    monkeypatch.setattr(abstract_client, "time", SimpleNamespace(time=lambda: old))
    err = error_of(_record_status, env.client(), env.a, env.recording_id)
    assert err.code == "AuthFailure.SignatureExpire"


def test_an_unknown_secret_id_is_secret_id_not_found(env: Env) -> None:
    stranger = Creds(env.a.sdk_app_id, "AKIDnobody", "whatever")
    err = error_of(_record_status, env.client(stranger), stranger, env.recording_id)
    assert err.code == "AuthFailure.SecretIdNotFound"


def test_a_malformed_authorization_is_invalid_authorization(env: Env) -> None:
    reply = httpx.post(
        env.server.url + "/",
        content=b"{}",
        headers={"Authorization": "TC3-HMAC-SHA256 nonsense", "Content-Type": "application/json"},
    )
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    body = reply.json()["Response"]
    assert body["Error"]["Code"] == "AuthFailure.InvalidAuthorization" and body["RequestId"]


def test_other_methods_get_a_json_error_with_http_200(env: Env) -> None:
    reply = httpx.put(env.server.url + "/", content=b"x")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    assert reply.json()["Response"]["Error"]["Code"] == "UnsupportedProtocol"


def test_an_unknown_action_is_invalid_action(env: Env) -> None:
    err = error_of(call, env.client(), "DescribeEverything", {"SdkAppId": env.a.sdk_app_id})
    assert err.code == "InvalidAction"


def test_parameter_errors_name_the_parameter(env: Env) -> None:
    client, app = env.client(), env.a.sdk_app_id
    err = error_of(call, client, "DescribeOnlineRecord", {"SdkAppId": app})
    assert err.code == "MissingParameter" and "TaskId" in err.message
    err = error_of(call, client, "DescribeOnlineRecord", {"SdkAppId": app, "TaskId": "x", "Foo": 1})
    assert err.code == "UnknownParameter" and "Foo" in err.message
    err = error_of(call, client, "DescribeOnlineRecord", {"SdkAppId": app, "TaskId": 5})
    assert err.code == "InvalidParameter.BodyParameterTypeUnmatched" and "TaskId" in err.message
    running = {"SdkAppID": app, "TaskType": "VideoGeneration", "Limit": 1000}
    err = error_of(call, client, "DescribeRunningTasks", running)
    assert err.code == "InvalidParameterValue" and "Limit" in err.message
    outside = small_recording(app)
    outside["Streams"][1]["Segments"][0]["Url"] = "../../etc/passwd"
    err = error_of(call, client, "ImportOnlineRecord", outside)
    assert err.code == "InvalidParameterValue" and "Streams[1].Segments[0].Url" in err.message
    private = small_recording(app)
    private["Streams"][1]["Segments"][0]["Url"] = "http://127.0.0.1:9/cam.mp4"
    err = error_of(call, client, "ImportOnlineRecord", private)
    assert err.code == "InvalidParameterValue" and "private" in err.message


def test_apps_are_isolated(env: Env) -> None:
    client = env.client()
    err = error_of(_record_status, client, Creds(999, "", ""), env.recording_id)
    assert err.code == "InvalidParameter.SdkAppIdNotFound"
    err = error_of(_record_status, client, env.b, env.recording_id)
    assert err.code == "UnauthorizedOperation.SdkAppId"
    # B's own credentials cannot see A's recording either.
    err = error_of(_record_status, env.client(env.b), env.b, env.recording_id)
    assert err.code == "InvalidParameter.TaskNotFound"


def test_unknown_tasks_are_task_not_found(env: Env) -> None:
    client = env.client()
    req = models.DescribeVideoGenerationTaskRequest()
    req.SdkAppId, req.TaskId = env.a.sdk_app_id, "nosuchtask"
    assert error_of(client.DescribeVideoGenerationTask, req).code == "InvalidParameter.TaskNotFound"
    create = models.CreateVideoGenerationTaskRequest()
    create.SdkAppId, create.OnlineRecordTaskId = env.a.sdk_app_id, "nosuchrecording"
    assert error_of(client.CreateVideoGenerationTask, create).code == (
        "InvalidParameter.TaskNotFound"
    )


def test_more_than_twenty_calls_a_second_are_request_limit_exceeded(env: Env) -> None:
    client = env.client()
    req = models.DescribeOnlineRecordCallbackRequest()
    req.SdkAppId = env.a.sdk_app_id

    def one(_: int) -> str:
        try:
            client.DescribeOnlineRecordCallback(req)
            return "ok"
        except TencentCloudSDKException as exc:
            return str(exc.code)

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(one, range(48)))
    assert "RequestLimitExceeded" in codes and "ok" in codes
    assert set(codes) == {"ok", "RequestLimitExceeded"}
    time.sleep(1.1)  # leave the budget whole for the other tests


def test_an_imported_recording_has_stopped_for_the_live_lifecycle(env: Env) -> None:
    client = env.client()
    for name in ("PauseOnlineRecord", "ResumeOnlineRecord", "StopOnlineRecord"):
        params = {"SdkAppId": env.a.sdk_app_id, "TaskId": env.recording_id}
        err = error_of(call, client, name, params)
        assert err.code == "UnsupportedOperation.TaskHasAlreadyStopped", name


def test_a_bad_media_file_fails_the_import_naming_it(env: Env) -> None:
    client = env.client()
    params = small_recording(env.a.sdk_app_id)
    params["Streams"][1]["Segments"][0]["Url"] = "broken.mp4"
    task_id = call(client, "ImportOnlineRecord", params)["TaskId"]

    def failure() -> TencentCloudSDKException | None:
        try:
            _record_status(client, env.a, task_id)
        except TencentCloudSDKException as exc:
            return exc
        return None

    err = wait_for(failure, 60, "the import to fail")
    assert err.code.startswith("FailedOperation") and "broken.mp4" in err.message
    create = models.CreateVideoGenerationTaskRequest()
    create.SdkAppId, create.OnlineRecordTaskId = env.a.sdk_app_id, task_id
    err = error_of(client.CreateVideoGenerationTask, create)
    assert err.code == "UnsupportedOperation.InvalidTaskStatus"


def test_callback_settings_round_trip_and_bad_urls_are_refused(env: Env) -> None:
    client, app = env.client(), env.a.sdk_app_id
    for noun in ("OnlineRecord", "VideoGenerationTask"):
        err = error_of(call, client, f"Set{noun}Callback", {"SdkAppId": app, "Callback": "ftp://x"})
        assert err.code == "InvalidParameter.CallbackAddressFormatError"
        local = {"SdkAppId": app, "Callback": "http://127.0.0.1:9/cb"}
        assert error_of(call, client, f"Set{noun}Callback", local).code == "InvalidParameterValue"
        long_key = {"SdkAppId": app, "CallbackKey": "k" * 65}
        assert error_of(call, client, f"Set{noun}CallbackKey", long_key).code == "InvalidParameter"
        call(client, f"Set{noun}CallbackKey", {"SdkAppId": app, "CallbackKey": "6vg9G7Fd"})
        got = call(client, f"Describe{noun}Callback", {"SdkAppId": app})
        assert (got["Callback"], got["CallbackKey"]) == ("", "6vg9G7Fd")
        call(client, f"Set{noun}CallbackKey", {"SdkAppId": app, "CallbackKey": ""})


def test_running_tasks_are_listed_per_kind(env: Env) -> None:
    client, app = env.client(), env.a.sdk_app_id
    for kind in ("OnlineRecord", "VideoGeneration", "WhiteboardPush"):
        req = models.DescribeRunningTasksRequest()
        req.SdkAppID, req.TaskType = app, kind
        got = client.DescribeRunningTasks(req)
        assert got.Total == len(got.Tasks)
        for item in got.Tasks:
            assert item.TaskType == kind and item.SdkAppID == app
            assert item.Status in ("QUEUED", "PROCESSING")
    req = models.DescribeRunningTasksRequest()
    req.SdkAppID, req.TaskType = app, "Nonsense"
    assert error_of(client.DescribeRunningTasks, req).code == "InvalidParameterValue"


def test_internal_errors_never_show_internals(env: Env) -> None:
    client = env.client()
    task_id = call(client, "ImportOnlineRecord", small_recording(env.a.sdk_app_id))["TaskId"]
    with sqlite3.connect(env.server.data_dir / "mixdown.db", timeout=30) as db:  # corrupt it
        db.execute("UPDATE recordings SET manifest = '{}' WHERE task_id = ?", (task_id,))
    err = error_of(_record_status, client, env.a, task_id)
    assert err.code == "InternalError"
    assert err.requestId in err.message
    assert "RecordStartTimeMs" not in err.message and "Traceback" not in err.message


def test_logs_are_structured_and_hold_no_secrets(env: Env) -> None:
    log = env.server.log()
    assert '"msg": "api call"' in log
    for secret in (env.a.secret_key, env.b.secret_key, "6vg9G7Fd", "Signature="):
        assert secret not in log
