"""StartOnlineRecord, PauseOnlineRecord, ResumeOnlineRecord and StopOnlineRecord through the
official SDK: the states a recording goes through, and every TIW error of the four actions
that applies here, each provoked. The RTMP side is left out (an ingest node that runs no
nginx); ``tests/live`` pushes real media."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.tiw.v20190919 import models

from mixdown.ingest.push_signature import grant
from mixdown.ingest.stream_name import StreamName
from mixdown.store.apps import find_app

from .conftest import Creds, InProcessServer, call, free_port, sdk, wait_for
from .fakes import FakeEngine
from .wire_support import pace

ROOM = 1203


@dataclass
class Env:
    srv: InProcessServer
    a: Creds
    b: Creds

    def call(self, action: str, params: dict[str, Any], creds: Creds | None = None) -> Any:
        pace()
        return call(sdk(self.srv.port, creds or self.a), action, params)

    def error(self, action: str, params: dict[str, Any], creds: Creds | None = None) -> Any:
        with pytest.raises(TencentCloudSDKException) as caught:
            self.call(action, params, creds)
        return caught.value

    def start(self, room: int = ROOM, **extra: Any) -> str:
        return str(self.call("StartOnlineRecord", start_params(self.a, room, **extra))["TaskId"])

    def status(self, task_id: str) -> str:
        found = self.call(
            "DescribeOnlineRecord", {"SdkAppId": self.a.sdk_app_id, "TaskId": task_id}
        )
        return str(found["Status"])


def start_params(creds: Creds, room: int = ROOM, **extra: Any) -> dict[str, Any]:
    return {
        "SdkAppId": creds.sdk_app_id,
        "RoomId": room,
        "RecordUserId": f"tic_record_user_{room}_r1",
        "RecordUserSig": "sig",
        **extra,
    }


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    data = tmp_path_factory.mktemp("live-actions") / "data"
    config = {"rtmp_port": free_port(), "manage_nginx": False, "auto_stop_min_s": 1}
    with InProcessServer(data, FakeEngine(), **config) as srv:
        yield Env(srv, srv.new_app(), srv.new_app())


def test_a_recording_goes_from_recording_to_paused_and_back_then_stops_and_finishes(
    env: Env,
) -> None:
    task_id = env.start(room=7001)
    task = {"SdkAppId": env.a.sdk_app_id, "TaskId": task_id}
    assert env.status(task_id) == "RECORDING"
    env.call("PauseOnlineRecord", task)
    assert env.status(task_id) == "PAUSED"
    env.call("ResumeOnlineRecord", task)
    assert env.status(task_id) == "RECORDING"
    running = env.call(
        "DescribeRunningTasks", {"SdkAppID": env.a.sdk_app_id, "TaskType": "OnlineRecord"}
    )
    assert task_id in [t["TaskID"] for t in running["Tasks"]]
    env.call("StopOnlineRecord", task)
    # Nothing was pushed: it finishes with no videos, its pause kept.
    wait_for(lambda: env.status(task_id) == "FINISHED", 60, "the recording to finish")
    found = env.call("DescribeOnlineRecord", task)
    assert found["FinishReason"] == "USER_CALL"
    assert found["VideoInfos"] == [] and found["ExceptionCnt"] == 0
    assert len(found["OmittedDurations"]) == 1
    assert found["RecordStopTime"] >= found["RecordStartTime"] > 0


def test_a_stopped_recording_frees_its_room_and_record_user(env: Env) -> None:
    first = env.start(room=7002)
    env.call("StopOnlineRecord", {"SdkAppId": env.a.sdk_app_id, "TaskId": first})
    assert env.start(room=7002) != first


def test_start_refuses_what_tiw_refuses(env: Env) -> None:
    a = env.a
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            start_params(a, RecordUserId="teacher"),
            "InvalidParameter.RecordParameter",
            "RecordUserId",
        ),
        (
            start_params(a, RecordUserId="tic_record_user_999_x"),
            "InvalidParameter.RecordParameter",
            "RecordUserId",
        ),
        (
            start_params(a, RecordUserId=f"tic_record_user_{ROOM}_" + "x" * 60),
            "InvalidParameter.RecordParameter",
            "RecordUserId",
        ),
        (start_params(a, RecordUserSig=""), "InvalidParameter.RecordParameter", "RecordUserSig"),
        (start_params(a, 1), "InvalidParameter.RecordParameter", "RoomId"),
        (start_params(a, AutoStopTimeout=0), "InvalidParameter.RecordParameter", "AutoStopTimeout"),
        (
            start_params(a, AutoStopTimeout=86401),
            "InvalidParameter.RecordParameter",
            "AutoStopTimeout",
        ),
        (start_params(a, RecordMode="LIVE"), "InvalidParameter.RecordParameter", "RecordMode"),
        (
            start_params(a, RecordMode="VIDEO_GENERATION_MODE"),
            "ResourceUnavailable.InterfaceUnAuthorized",
            "RecordMode",
        ),
        (
            start_params(a, Whiteboard={"Width": -5}),
            "InvalidParameter.RecordParameter",
            "Whiteboard.Width",
        ),
        (start_params(a, Extras=["MixStream"]), "InvalidParameter.InvalidExtra", "Extras.0"),
        (
            start_params(a, MixStream={"Enabled": True, "ModelId": 1}),
            "InvalidParameter.InvalidExtra",
            "MIX_STREAM",
        ),
        (start_params(a, RoomId="room"), "InvalidParameter.BodyParameterTypeUnmatched", "RoomId"),
        ({**start_params(a), "SdkAppId": 99}, "InvalidParameter.SdkAppIdNotFound", "99"),
        (start_params(env.b), "UnauthorizedOperation.SdkAppId", "SdkAppId"),
    ]
    for params, code, named in cases:
        err = env.error("StartOnlineRecord", params)
        assert (err.code, named in err.message) == (code, True), (params, err)
    wrong_key = Creds(a.sdk_app_id, a.secret_id, "0" * 32)
    err = env.error("StartOnlineRecord", start_params(a), creds=wrong_key)
    assert err.code == "AuthFailure.SignatureFailure"


def test_one_recording_per_room_and_per_record_user(env: Env) -> None:
    env.start(room=7003)
    other_user = start_params(env.a, 7003, RecordUserId="tic_record_user_7003_other")
    err = env.error("StartOnlineRecord", other_user)
    assert err.code == "LimitExceeded.TaskConcurrency" and "7003" in err.message
    # The same recorder again: its id is in use (TIW's shape ties an id to its room).
    err = env.error("StartOnlineRecord", start_params(env.a, 7003))
    assert err.code == "ResourceInUse.RecordUserId" and "tic_record_user_7003_r1" in err.message


def test_pause_resume_and_stop_refuse_the_wrong_state(env: Env) -> None:
    task_id = env.start(room=7006)
    task = {"SdkAppId": env.a.sdk_app_id, "TaskId": task_id}
    assert env.error("ResumeOnlineRecord", task).code == "UnsupportedOperation.InvalidTaskStatus"
    env.call("PauseOnlineRecord", task)
    assert env.error("PauseOnlineRecord", task).code == "UnsupportedOperation.InvalidTaskStatus"
    env.call("StopOnlineRecord", task)
    for action in ("PauseOnlineRecord", "ResumeOnlineRecord", "StopOnlineRecord"):
        err = env.error(action, task)
        assert err.code == "UnsupportedOperation.TaskHasAlreadyStopped", action


def test_lifecycle_calls_name_unknown_and_foreign_tasks(env: Env) -> None:
    task_id = env.start(room=7007)
    for action in ("PauseOnlineRecord", "ResumeOnlineRecord", "StopOnlineRecord"):
        missing = {"SdkAppId": env.a.sdk_app_id, "TaskId": "nosuchtask0000000000"}
        assert env.error(action, missing).code == "InvalidParameter.TaskNotFound"
        # Another app's task is as absent as a missing one.
        foreign = {"SdkAppId": env.b.sdk_app_id, "TaskId": task_id}
        assert env.error(action, foreign, creds=env.b).code == "InvalidParameter.TaskNotFound"
        theirs = {"SdkAppId": env.a.sdk_app_id, "TaskId": task_id}
        assert env.error(action, theirs, creds=env.b).code == "UnauthorizedOperation.SdkAppId"
        typed = {"SdkAppId": "app", "TaskId": task_id}
        assert env.error(action, typed).code == "InvalidParameter.BodyParameterTypeUnmatched"


def test_an_automatic_stop_comes_after_auto_stop_timeout_without_streams(env: Env) -> None:
    task_id = env.start(room=7008, AutoStopTimeout=1)
    wait_for(lambda: env.status(task_id) == "FINISHED", 60, "the automatic stop")
    found = env.call("DescribeOnlineRecord", {"SdkAppId": env.a.sdk_app_id, "TaskId": task_id})
    assert found["FinishReason"] == "AUTO"
    assert found["RecordStopTime"] - found["RecordStartTime"] >= 1


def test_without_an_rtmp_ingest_start_says_how_to_get_one(tmp_path: Path) -> None:
    with InProcessServer(tmp_path / "data", FakeEngine()) as srv:
        creds = srv.new_app()
        pace()
        with pytest.raises(TencentCloudSDKException) as caught:
            call(sdk(srv.port, creds), "StartOnlineRecord", start_params(creds))
    assert caught.value.code == "ResourceUnavailable"
    assert "--rtmp-port" in caught.value.message


def test_the_sdks_own_models_run_the_lifecycle_and_read_every_answer(env: Env) -> None:
    client = sdk(env.srv.port, env.a)
    start = models.StartOnlineRecordRequest()
    start.from_json_string(json.dumps(start_params(env.a, 7009, AutoStopTimeout=300)))
    pace()
    task_id = client.StartOnlineRecord(start).TaskId
    task = json.dumps({"SdkAppId": env.a.sdk_app_id, "TaskId": task_id})
    for request, method in (
        (models.PauseOnlineRecordRequest(), client.PauseOnlineRecord),
        (models.ResumeOnlineRecordRequest(), client.ResumeOnlineRecord),
        (models.StopOnlineRecordRequest(), client.StopOnlineRecord),
    ):
        request.from_json_string(task)
        pace()
        assert method(request).RequestId
    describe = models.DescribeOnlineRecordRequest()
    describe.from_json_string(task)

    def finished() -> Any:
        pace()
        found = client.DescribeOnlineRecord(describe)
        return found if found.Status == "FINISHED" else None

    found = wait_for(finished, 60, "the recording to finish")
    assert (found.TaskId, found.RoomId, found.FinishReason) == (task_id, 7009, "USER_CALL")
    assert found.RecordUserId == "tic_record_user_7009_r1" and found.GroupId == "7009"
    assert len(found.OmittedDurations) == 1 and found.VideoInfos == []


def test_hooks_need_the_nodes_token_and_trust_only_its_record_files(env: Env) -> None:
    data = env.srv.service.config.data_dir
    token = (data / "ingest" / "hook-token").read_text().strip()
    base = f"http://127.0.0.1:{env.srv.port}/ingest/rtmp"
    env.start(room=7010)
    name = StreamName(env.a.sdk_app_id, 7010, "teacher")
    with env.srv.service.db.transaction() as s:
        app = find_app(s, env.a.sdk_app_id)
        assert app is not None
        signed = grant(app.push_key, name, int(time.time()) + 60)
    form = {"app": "live", "name": str(name), "clientid": "7", "call": "publish"}
    granted = {**form, "txTime": signed.tx_time, "txSecret": signed.tx_secret}

    def hook(token: str, event: str, fields: dict[str, str]) -> int:
        return httpx.post(f"{base}/{token}/{event}", data=fields, timeout=10).status_code

    # A stranger who knows the path but not the token is refused, whatever it sends.
    assert hook("0" * 32, "publish", granted) == 403
    assert hook(token, "publish", form) == 403  # nginx's call, but the push is unsigned
    assert hook(token, "publish", granted) == 200
    assert hook(token, "publish", granted) == 403  # the stream is publishing already
    # Only a file of this stream's name in the record folder is taken for its recording.
    records = data / "ingest" / "records"
    for path in ("/etc/passwd", str(records / "1400000009_7010_teacher-1800000000.flv")):
        assert hook(token, "record_done", {**form, "path": path}) == 403, path
    own = str(records / f"{name}-{int(time.time())}.flv")
    assert hook(token, "record_done", {**form, "path": own}) == 200
    assert hook(token, "publish_done", form) == 200
    assert hook(token, "unknown", form) == 403
