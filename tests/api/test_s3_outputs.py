"""A server whose outputs live in S3 (a real SeaweedFS): media read from ``s3://`` URLs,
outputs kept under ``<prefix>/<SdkAppId>/<TaskId>/<token>/``, VideoUrls presigned."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mediacheck import assert_color, center_region, frame_at, mean_color, tone_level_db
from mixdown.storage.connection import S3Settings
from seaweed import Seaweed

from .conftest import T0, ServerProcess, call, cli_create_app, sdk, wait_for

PREFIX = "classes"


@pytest.fixture
def s3_server(tmp_path: Path, seaweed: Seaweed, ingest_root: Path) -> Any:
    client = S3Settings.from_env(seaweed.env()).client()
    for name in ("wb.mp4", "cam.mp4"):
        client.upload_file(str(ingest_root / name), seaweed.bucket, f"media/{tmp_path.name}/{name}")
    data = tmp_path / "data"
    creds = cli_create_app(data)
    storage = f"s3://{seaweed.bucket}/{PREFIX}/{tmp_path.name}"
    server = ServerProcess(data, "--storage", storage, env=seaweed.env()).start()
    try:
        yield server, creds, client
    finally:
        server.stop()


def _stream(stream_id: str, url: str) -> dict[str, Any]:
    return {"StreamId": stream_id, "Segments": [{"Url": url, "StartTime": T0}]}


def test_outputs_are_kept_in_s3_and_downloaded_by_presigned_urls(
    s3_server: Any, seaweed: Seaweed, tmp_path: Path
) -> None:
    server, creds, client = s3_server
    api = sdk(server.port, creds)
    media = f"s3://{seaweed.bucket}/media/{tmp_path.name}"
    record = {
        "SdkAppId": creds.sdk_app_id,
        "RoomId": 42,
        "RecordStartTimeMs": T0,
        "RecordStopTimeMs": T0 + 4000,
        "Streams": [
            _stream("tic_record_user", f"{media}/wb.mp4"),
            _stream("teacher", f"{media}/cam.mp4"),
        ],
        "Whiteboard": {"Width": 320, "Height": 240},
    }
    record_id = call(api, "ImportOnlineRecord", record)["TaskId"]
    app_task = {"SdkAppId": creds.sdk_app_id, "TaskId": record_id}
    wait_for(
        lambda: call(api, "DescribeOnlineRecord", app_task)["Status"] == "FINISHED",
        60,
        "the import",
    )
    create = {"SdkAppId": creds.sdk_app_id, "OnlineRecordTaskId": record_id}
    task_id = call(api, "CreateVideoGenerationTask", create)["TaskId"]
    describe = {"SdkAppId": creds.sdk_app_id, "TaskId": task_id}
    done = wait_for(
        lambda: (
            (d := call(api, "DescribeVideoGenerationTask", describe))["Status"] == "FINISHED" and d
        ),
        120,
        "the generation",
    )
    assert "ErrorCode" not in done and done["TotalTime"] == 4000
    infos = {v["VideoType"]: v for v in done["VideoInfoList"]}
    assert sorted(infos) == [0, 2]

    token = ""
    for info in infos.values():
        url = urlsplit(info["VideoUrl"])
        # A presigned GET on the bucket, under the app's and the task's own prefix.
        assert url.path.startswith(f"/{seaweed.bucket}/{PREFIX}/{tmp_path.name}/")
        assert url.path.split("/")[-4:-2] == [str(creds.sdk_app_id), task_id]
        assert "X-Amz-Expires" in parse_qs(url.query)
        token = url.path.split("/")[-2]
    local = {}
    for kind, info in infos.items():
        got = httpx.get(info["VideoUrl"], timeout=30)
        assert got.status_code == 200 and len(got.content) == info["VideoSize"] > 0
        local[kind] = tmp_path / f"{kind}.mp4"
        local[kind].write_bytes(got.content)
    whole = center_region(0, 0, 320, 240)
    assert_color(mean_color(frame_at(local[2], 2000), *whole), "#3366CC", what="whiteboard")
    assert_color(mean_color(frame_at(local[0], 2000), *whole), "#CC3333", what="camera")
    assert tone_level_db(local[0], 1000, 3000, 440) > -30

    # Only the committed attempt's files are in the bucket; nothing is served by the node.
    listing = client.list_objects_v2(Bucket=seaweed.bucket, Prefix=f"{PREFIX}/{tmp_path.name}/")
    keys = sorted(o["Key"] for o in listing.get("Contents", []))
    names = sorted(urlsplit(v["VideoUrl"]).path.rsplit("/", 1)[1] for v in infos.values())
    base = f"{PREFIX}/{tmp_path.name}/{creds.sdk_app_id}/{task_id}/{token}"
    assert keys == [f"{base}/{name}" for name in names]
    assert httpx.get(f"{server.url}/files/{token}/{names[0]}", timeout=30).status_code == 404
    assert list((server.data_dir / "scratch").iterdir()) == []
