"""Two API nodes on one database: limits that hold for the whole cluster, not per node (an
app's unfinished tasks, ``LimitExceeded.TaskConcurrency``; its requests per second and
action, ``RequestLimitExceeded``), and a node killed right after accepting a task."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from mixdown.store.database import Database

from .cluster import WorkerProcess
from .conftest import ServerProcess, call, cli_create_app, sdk, small_recording, wait_for

pytestmark = pytest.mark.media


@dataclass
class Nodes:
    processes: list[ServerProcess]
    clients: list[Any]
    creds: Any
    url: str


@pytest.fixture
def two_nodes(tmp_path: Path, scratch_url: str, ingest_root: Path) -> Iterator[Nodes]:
    creds = cli_create_app(tmp_path / "api0", "--database", scratch_url, "--task-concurrency", "2")
    apis = [
        ServerProcess(
            tmp_path / f"api{n}",
            "--database",
            scratch_url,
            "--workers",
            "0",
            "--ingest-root",
            str(ingest_root),
        ).start()
        for n in range(2)
    ]
    try:
        yield Nodes(apis, [sdk(api.port, creds) for api in apis], creds, scratch_url)
    finally:
        for api in apis:
            api.stop()


def _outcome(client: Any, action: str, params: dict[str, Any]) -> str:
    try:
        call(client, action, params)
    except TencentCloudSDKException as err:
        return str(err.code)
    return "ok"


def test_concurrent_creates_on_two_nodes_never_exceed_the_apps_task_limit(
    two_nodes: Nodes, tmp_path: Path
) -> None:
    clients, creds, url = two_nodes.clients, two_nodes.creds, two_nodes.url
    app = creds.sdk_app_id
    # A worker probes the import, then stops: the tasks created stay unfinished.
    worker = WorkerProcess(tmp_path / "worker", url).start()
    record_id = call(clients[0], "ImportOnlineRecord", small_recording(app))["TaskId"]
    wait_for(
        lambda: (
            call(clients[1], "DescribeOnlineRecord", {"SdkAppId": app, "TaskId": record_id})[
                "Status"
            ]
            == "FINISHED"
        ),
        60,
        "the import",
    )
    worker.stop()
    create = {"SdkAppId": app, "OnlineRecordTaskId": record_id}
    with ThreadPoolExecutor(12) as pool:
        outcomes = list(
            pool.map(
                lambda n: _outcome(clients[n % 2], "CreateVideoGenerationTask", create), range(12)
            )
        )
    assert outcomes.count("ok") == 2, outcomes
    assert outcomes.count("LimitExceeded.TaskConcurrency") == 10


def test_the_request_rate_limit_counts_the_requests_of_every_node(
    two_nodes: Nodes,
) -> None:
    clients, creds, url = two_nodes.clients, two_nodes.creds, two_nodes.url
    app = creds.sdk_app_id
    params = {"SdkAppId": app}
    action = "DescribeVideoGenerationTaskCallback"
    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(lambda n: _outcome(clients[n % 2], action, params), range(80)))
    assert set(outcomes) <= {"ok", "RequestLimitExceeded"}, outcomes
    assert outcomes.count("RequestLimitExceeded") > 0

    db = Database.from_url(url)
    try:
        with db.engine.connect() as c:
            rows = c.execute(
                text(
                    "SELECT at_ms FROM allowed_requests WHERE sdk_app_id = :a AND action = :n "
                    "ORDER BY at_ms"
                ),
                {"a": app, "n": action},
            ).all()
    finally:
        db.dispose()
    allowed = [at for (at,) in rows]
    # Every request let through, whichever node took it, is in the one log ...
    assert len(allowed) == outcomes.count("ok")
    # ... and no second of it, anywhere, holds more than the limit.
    for i, at in enumerate(allowed):
        assert sum(1 for later in allowed[i:] if later < at + 1000) <= 20


def test_an_api_node_killed_after_accepting_a_task_loses_nothing(
    two_nodes: Nodes, tmp_path: Path
) -> None:
    """The node that accepted the work is gone at once; the workers and the other node
    carry it through: the task finishes and is described there."""
    clients, creds, url = two_nodes.clients, two_nodes.creds, two_nodes.url
    app = creds.sdk_app_id
    worker = WorkerProcess(tmp_path / "worker", url, env={"MIXDOWN_LEASE_SECONDS": "3"}).start()
    try:
        record_id = call(clients[0], "ImportOnlineRecord", small_recording(app))["TaskId"]
        wait_for(
            lambda: (
                call(clients[1], "DescribeOnlineRecord", {"SdkAppId": app, "TaskId": record_id})[
                    "Status"
                ]
                == "FINISHED"
            ),
            60,
            "the import",
        )
        create = {"SdkAppId": app, "OnlineRecordTaskId": record_id}
        task_id = call(clients[0], "CreateVideoGenerationTask", create)["TaskId"]
        two_nodes.processes[0].kill9()
        describe = {"SdkAppId": app, "TaskId": task_id}
        done = wait_for(
            lambda: (
                (d := call(clients[1], "DescribeVideoGenerationTask", describe))["Status"]
                == "FINISHED"
                and d
            ),
            90,
            "the task accepted by the killed node",
        )
    finally:
        worker.stop()
    assert "Error" not in done and done["Progress"] == 100
    assert sorted(v["VideoType"] for v in done["VideoInfoList"]) == [0, 2]
    db = Database.from_url(url)
    try:
        with db.engine.connect() as c:
            rows = c.execute(text("SELECT count(*) FROM generation_tasks")).scalar()
    finally:
        db.dispose()
    assert rows == 1
