"""Callbacks and the concurrency limit over real HTTP, with the in-memory engine injected:
a loopback receiver checks each Sign and payload, and the first deliveries fail."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from mixdown.store import deliveries

from .conftest import InProcessServer, call, sdk, wait_for
from .fakes import FakeEngine, manifest

KEY = "Xz4ZgayTr7rMgWQrH"


class Receiver:
    """A callback endpoint on loopback that answers 500 to its first ``fail_first`` posts."""

    def __init__(self, fail_first: int) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                assert self.headers["Content-Type"] == "application/json"
                status = 200
                if receiver.refused < fail_first:
                    receiver.refused += 1
                    status = 500
                else:
                    receiver.bodies.append(body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"error_code":0}')

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[str]:
        return [b["EventType"] for b in self.bodies]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def status(client: Any, noun: str, app: int, task_id: str) -> str:
    return str(call(client, f"Describe{noun}", {"SdkAppId": app, "TaskId": task_id})["Status"])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail_first=3)
    yield r
    r.close()


def test_events_of_both_kinds_arrive_signed_despite_early_failures(
    tmp_path: Path, receiver: Receiver
) -> None:
    engine = FakeEngine()
    config = {"allow_private_urls": True, "ingest_roots": (tmp_path,), "callback_retry_base_s": 0.2}
    with InProcessServer(tmp_path / "data", engine, **config) as srv:
        creds = srv.new_app()
        client, app = sdk(srv.port, creds), creds.sdk_app_id
        for noun in ("OnlineRecord", "VideoGenerationTask"):
            call(client, f"Set{noun}Callback", {"SdkAppId": app, "Callback": receiver.url})
            call(client, f"Set{noun}CallbackKey", {"SdkAppId": app, "CallbackKey": KEY})
        record_id = call(client, "ImportOnlineRecord", {"SdkAppId": app, **manifest()})["TaskId"]
        wait_for(lambda: "OnlineRecordFinished" in receiver.events(), 30, "the record events")
        task_id = call(
            client, "CreateVideoGenerationTask", {"SdkAppId": app, "OnlineRecordTaskId": record_id}
        )["TaskId"]
        wait_for(lambda: "VideoGenerationFinished" in receiver.events(), 30, "generation events")
        states = deliveries.states(srv.service.db, record_id) + deliveries.states(
            srv.service.db, task_id
        )
    assert receiver.refused == 3
    assert sorted(receiver.events()) == sorted(
        [
            "OnlineRecordStarted",
            "OnlineRecordStopped",
            "OnlineRecordFinished",
            "VideoGenerationStarted",
            "VideoGenerationFinished",
        ]
    )
    assert all(s.state == "delivered" for s in states)
    assert sum(s.attempts for s in states) == 5 + 3
    for body in receiver.bodies:
        assert set(body) == {
            "Timestamp",
            "SdkAppId",
            "ExpireTime",
            "Sign",
            "EventType",
            "EventData",
        }
        assert body["SdkAppId"] == app
        assert body["Sign"] == hashlib.md5(f"{KEY}{body['ExpireTime']}".encode()).hexdigest()
    by_type = {b["EventType"]: b["EventData"] for b in receiver.bodies}
    assert by_type["OnlineRecordStarted"] == {"TaskId": record_id, "RoomId": 42, "RecordUserId": ""}
    finished = by_type["OnlineRecordFinished"]
    assert (finished["TaskId"], finished["TotalTime"], finished["ErrorCode"]) == (
        record_id,
        2000,
        "",
    )
    started = by_type["VideoGenerationStarted"]
    assert started == {
        "TaskId": task_id,
        "OnlineRecordTaskId": record_id,
        "RoomId": 42,
        "GroupId": "42",
    }
    done = by_type["VideoGenerationFinished"]
    assert (done["Status"], done["TotalTime"], done["ErrorCode"], done["ErrorMessage"]) == (
        "FINISHED",
        2000,
        "",
        "",
    )
    assert [v["VideoType"] for v in done["VideoInfoList"]] == [2]


def test_a_failed_task_reports_its_error_in_describe_and_callback(
    tmp_path: Path, receiver: Receiver
) -> None:
    from mixdown.errors import RenderError

    engine = FakeEngine(fail=RenderError("ffmpeg failed on teacher.flv at 00:01:02"))
    config = {"allow_private_urls": True, "ingest_roots": (tmp_path,), "callback_retry_base_s": 0.1}
    with InProcessServer(tmp_path / "data", engine, **config) as srv:
        creds = srv.new_app()
        client, app = sdk(srv.port, creds), creds.sdk_app_id
        call(client, "SetVideoGenerationTaskCallback", {"SdkAppId": app, "Callback": receiver.url})
        record_id = call(client, "ImportOnlineRecord", {"SdkAppId": app, **manifest()})["TaskId"]
        wait_for(lambda: status(client, "OnlineRecord", app, record_id) == "FINISHED", 30, "import")
        task_id = call(
            client, "CreateVideoGenerationTask", {"SdkAppId": app, "OnlineRecordTaskId": record_id}
        )["TaskId"]
        wait_for(lambda: "VideoGenerationFinished" in receiver.events(), 30, "the failure event")
        with pytest.raises(TencentCloudSDKException) as err:
            call(client, "DescribeVideoGenerationTask", {"SdkAppId": app, "TaskId": task_id})
    assert err.value.code == "FailedOperation.Record" and "teacher.flv" in err.value.message
    done = next(b for b in receiver.bodies if b["EventType"] == "VideoGenerationFinished")
    assert done["EventData"]["ErrorCode"] == "FailedOperation.Record"
    assert done["EventData"]["VideoInfoList"] == []


def test_concurrent_creates_never_pass_the_concurrency_limit(tmp_path: Path) -> None:
    gate = threading.Event()
    with InProcessServer(
        tmp_path / "data", FakeEngine(gate=gate), ingest_roots=(tmp_path,), workers=2
    ) as srv:
        creds = srv.new_app(task_concurrency=2)
        client, app = sdk(srv.port, creds), creds.sdk_app_id
        record_id = call(client, "ImportOnlineRecord", {"SdkAppId": app, **manifest()})["TaskId"]
        wait_for(lambda: status(client, "OnlineRecord", app, record_id) == "FINISHED", 30, "import")

        def create(_: int) -> str:
            try:
                params = {"SdkAppId": app, "OnlineRecordTaskId": record_id}
                return str(
                    call(sdk(srv.port, creds), "CreateVideoGenerationTask", params)["TaskId"]
                )
            except TencentCloudSDKException as exc:
                return str(exc.code)

        with ThreadPoolExecutor(10) as pool:
            outcomes = list(pool.map(create, range(10)))
        accepted = [o for o in outcomes if not o.startswith("LimitExceeded")]
        assert len(accepted) == 2, outcomes
        assert outcomes.count("LimitExceeded.TaskConcurrency") == 8
        running = call(
            client, "DescribeRunningTasks", {"SdkAppID": app, "TaskType": "VideoGeneration"}
        )
        assert sorted(t["TaskID"] for t in running["Tasks"]) == sorted(accepted)
        gate.set()
        for task_id in accepted:
            finished = lambda t=task_id: status(client, "VideoGenerationTask", app, t) == "FINISHED"  # noqa: E731
            wait_for(finished, 30, "the tasks to finish")
        # Finished tasks free their slots.
        again = call(
            client, "CreateVideoGenerationTask", {"SdkAppId": app, "OnlineRecordTaskId": record_id}
        )
        assert again["TaskId"]
        done = call(client, "DescribeVideoGenerationTask", {"SdkAppId": app, "TaskId": accepted[0]})
        url = done["VideoInfoList"][0]["VideoUrl"]
        assert httpx.get(url, timeout=10).content.startswith(b"fake video")
