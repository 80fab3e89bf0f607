"""DescribeRunningTasks through the official SDK over real HTTP, with tasks held unfinished
by the in-memory engine: paging by Limit/Offset visits every task once, TaskType filters,
bounds are refused, and finished tasks leave the list."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.tiw.v20190919 import models

from mixdown.domain.media import MediaInfo
from mixdown.domain.recording import Recording

from .conftest import Creds, InProcessServer, call, sdk, wait_for
from .fakes import FakeEngine, manifest
from .wire_support import pace

TASKS = 7
RECORDINGS = 3


class HeldEngine(FakeEngine):
    """Generation waits for ``gate``; probing waits for ``probe_gate``."""

    def __init__(self) -> None:
        super().__init__(gate=threading.Event())
        self.probe_gate = threading.Event()

    def probe(self, recording: Recording) -> dict[str, MediaInfo]:
        if recording.room_id != 42:  # the held imports; room 42 is the one generated from
            wait_for(lambda: self.probe_gate.is_set(), 60, "the probe gate", every_s=0.05)
        return super().probe(recording)


class Env:
    def __init__(self, srv: InProcessServer, engine: HeldEngine, a: Creds, b: Creds) -> None:
        self.srv, self.engine, self.a, self.b = srv, engine, a, b
        self.tasks: list[str] = []
        self.recordings: list[str] = []

    def client(self, creds: Creds | None = None) -> Any:
        return sdk(self.srv.port, creds or self.a)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("running")
    engine = HeldEngine()
    with InProcessServer(root / "data", engine, ingest_roots=(root,), workers=1) as srv:
        e = Env(srv, engine, srv.new_app(task_concurrency=TASKS + 1), srv.new_app())
        client, app = e.client(), e.a.sdk_app_id
        source = call(client, "ImportOnlineRecord", {"SdkAppId": app, **manifest()})["TaskId"]
        wait_for(
            lambda: (
                call(client, "DescribeOnlineRecord", {"SdkAppId": app, "TaskId": source})["Status"]
                == "FINISHED"
            ),
            30,
            "the import",
        )
        for _ in range(TASKS):
            params = {"SdkAppId": app, "OnlineRecordTaskId": source}
            e.tasks.append(call(client, "CreateVideoGenerationTask", params)["TaskId"])
        for room in range(RECORDINGS):
            held = {"SdkAppId": app, **manifest(), "RoomId": 100 + room}
            e.recordings.append(call(client, "ImportOnlineRecord", held)["TaskId"])
        try:
            yield e
        finally:
            engine.gate.set()
            engine.probe_gate.set()


def _running(client: Any, app: int, kind: str, **paging: int) -> Any:
    pace()
    req = models.DescribeRunningTasksRequest()
    req.SdkAppID, req.TaskType = app, kind
    req.Offset, req.Limit = paging.get("Offset"), paging.get("Limit")
    return client.DescribeRunningTasks(req)


def _all_pages(client: Any, app: int, kind: str, limit: int) -> list[Any]:
    items: list[Any] = []
    offset = 0
    for _ in range(100):  # bounded
        page = _running(client, app, kind, Offset=offset, Limit=limit)
        assert page.Total == (TASKS if kind == "VideoGeneration" else RECORDINGS)
        assert len(page.Tasks) == min(limit, max(0, page.Total - offset))
        items += page.Tasks
        offset += limit
        if offset >= page.Total:
            return items
    raise AssertionError("paging never ended")


@pytest.mark.parametrize("limit", [1, 2, 3, 500])
def test_paging_visits_every_unfinished_generation_task_exactly_once(env: Env, limit: int) -> None:
    items = _all_pages(env.client(), env.a.sdk_app_id, "VideoGeneration", limit)
    assert [i.TaskID for i in items] == env.tasks, "every task once, in creation order"
    for item in items:
        assert isinstance(item, models.RunningTaskItem)
        assert (item.SdkAppID, item.TaskType, item.RoomID) == (
            env.a.sdk_app_id,
            "VideoGeneration",
            42,
        )
        assert item.Status in ("QUEUED", "PROCESSING") and 0 <= item.Progress <= 100
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", item.CreateTime)
        assert (item.CancelTime, item.FileURL) == ("", "")
    assert sum(i.Status == "PROCESSING" for i in items) <= 1, "one worker"


@pytest.mark.parametrize("limit", [1, 2, 500])
def test_paging_visits_every_unfinished_recording_exactly_once(env: Env, limit: int) -> None:
    items = _all_pages(env.client(), env.a.sdk_app_id, "OnlineRecord", limit)
    assert [i.TaskID for i in items] == env.recordings
    assert [i.RoomID for i in items] == [100 + r for r in range(RECORDINGS)]
    assert all(i.TaskType == "OnlineRecord" and i.Status in ("QUEUED", "PROCESSING") for i in items)


def test_an_offset_past_the_end_is_an_empty_page_with_the_total(env: Env) -> None:
    page = _running(env.client(), env.a.sdk_app_id, "VideoGeneration", Offset=TASKS, Limit=5)
    assert (page.Total, page.Tasks) == (TASKS, [])
    page = _running(env.client(), env.a.sdk_app_id, "VideoGeneration", Offset=10**9)
    assert (page.Total, page.Tasks) == (TASKS, [])


@pytest.mark.parametrize(
    "paging",
    [{"Limit": 0}, {"Limit": 501}, {"Limit": -1}, {"Offset": -1}],
    ids=["limit-0", "limit-501", "limit-negative", "offset-negative"],
)
def test_paging_out_of_bounds_is_invalid_parameter_value(env: Env, paging: dict[str, int]) -> None:
    with pytest.raises(TencentCloudSDKException) as err:
        _running(env.client(), env.a.sdk_app_id, "VideoGeneration", **paging)
    assert err.value.code == "InvalidParameterValue" and next(iter(paging)) in err.value.message


def test_other_task_types_and_other_apps_see_none_of_these_tasks(env: Env) -> None:
    for kind in ("TranscodeH5", "TranscodeJPG", "WhiteboardPush"):
        page = _running(env.client(), env.a.sdk_app_id, kind)
        assert (page.Total, page.Tasks) == (0, [])
    for kind in ("VideoGeneration", "OnlineRecord"):
        page = _running(env.client(env.b), env.b.sdk_app_id, kind)
        assert (page.Total, page.Tasks) == (0, [])
    with pytest.raises(TencentCloudSDKException) as err:
        _running(env.client(env.b), env.a.sdk_app_id, "VideoGeneration")
    assert err.value.code == "UnauthorizedOperation.SdkAppId"


def test_finished_tasks_leave_the_list(env: Env) -> None:
    env.engine.gate.set()
    env.engine.probe_gate.set()
    client, app = env.client(), env.a.sdk_app_id
    wait_for(
        lambda: (
            _running(client, app, "VideoGeneration").Total == 0
            and _running(client, app, "OnlineRecord").Total == 0
        ),
        30,
        "every task to finish",
        every_s=0.2,
    )
