"""The whole cluster on real parts: two API nodes and three workers on one PostgreSQL, media
and outputs in S3 (a real SeaweedFS), driven through the official SDK. A class imported on
one node from ``s3://`` media, created and described on the other, its mix spread over the
workers in chunks; the outputs downloaded by their presigned URLs and checked for content.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import mediacheck as mc
from mixdown.storage.connection import S3Settings
from seaweed import Seaweed

from .cluster import BLUE, RED, WorkerProcess, upload_cameras
from .conftest import T0, ServerProcess, call, cli_create_app, sdk, wait_for

pytestmark = pytest.mark.media

LENGTH_MS = 6000
SYNC_MS = (1400, 3000, 4600)


@pytest.fixture
def s3_media(tmp_path: Path, seaweed: Seaweed, ffmpeg: str) -> str:
    """The class's two cameras, uploaded: the ``s3://`` folder that holds them."""
    return upload_cameras(tmp_path, seaweed, ffmpeg, LENGTH_MS, SYNC_MS)


@pytest.fixture
def nodes(
    tmp_path: Path, scratch_url: str, seaweed: Seaweed
) -> Iterator[tuple[list[ServerProcess], list[WorkerProcess], Any]]:
    storage = f"s3://{seaweed.bucket}/cluster/{tmp_path.name}"
    env = seaweed.env(MIXDOWN_LEASE_SECONDS="3", MIXDOWN_CHUNK_SECONDS="2")
    creds = cli_create_app(tmp_path / "api0", "--database", scratch_url)
    apis = [
        ServerProcess(
            tmp_path / f"api{n}",
            "--database",
            scratch_url,
            "--workers",
            "0",
            "--storage",
            storage,
            env=env,
        )
        for n in range(2)
    ]
    workers = [
        WorkerProcess(tmp_path / f"worker{n}", scratch_url, "--storage", storage, env=env)
        for n in range(3)
    ]
    try:
        for api in apis:
            api.start()
        for worker in workers:
            worker.start()
        yield apis, workers, creds
    finally:
        for worker in workers:
            worker.stop()
        for api in apis:
            api.stop()


def test_a_class_goes_through_two_api_nodes_and_three_workers_with_media_in_s3(
    nodes: tuple[list[ServerProcess], list[WorkerProcess], Any],
    s3_media: str,
    seaweed: Seaweed,
    tmp_path: Path,
) -> None:
    apis, _workers, creds = nodes
    first, second = (sdk(api.port, creds) for api in apis)
    app = creds.sdk_app_id
    record = {
        "SdkAppId": app,
        "RoomId": 11,
        "RecordStartTimeMs": T0,
        "RecordStopTimeMs": T0 + LENGTH_MS,
        "Streams": [
            {"StreamId": sid, "Segments": [{"Url": f"{s3_media}/{sid}.mp4", "StartTime": T0}]}
            for sid in ("bob", "teacher")
        ],
    }
    record_id = call(first, "ImportOnlineRecord", record)["TaskId"]
    wait_for(
        lambda: (
            call(second, "DescribeOnlineRecord", {"SdkAppId": app, "TaskId": record_id})["Status"]
            == "FINISHED"
        ),
        60,
        "the import",
    )
    custom = {
        "Canvas": {"LayoutParams": {"Width": 320, "Height": 120}},
        "InputStreamList": [
            {"LayoutParams": {"X": x, "Y": 0, "Width": 160, "Height": 120}, "InputStreamId": sid}
            for sid, x in (("bob", 0), ("teacher", 160))
        ],
    }
    create = {"SdkAppId": app, "OnlineRecordTaskId": record_id}
    task_id = call(
        second,
        "CreateVideoGenerationTask",
        {**create, "MixStream": {"Enabled": True, "Custom": custom}},
    )["TaskId"]
    describe = {"SdkAppId": app, "TaskId": task_id}
    done = wait_for(
        lambda: (
            (d := call(first, "DescribeVideoGenerationTask", describe))["Status"] == "FINISHED"
            and d
        ),
        120,
        "the generation",
    )
    assert done["Progress"] == 100 and done["TotalTime"] == LENGTH_MS
    assert sorted(v["VideoType"] for v in done["VideoInfoList"]) == [0, 0, 3]

    mix = next(v for v in done["VideoInfoList"] if v["VideoType"] == 3)
    url = urlsplit(mix["VideoUrl"])
    assert "X-Amz-Expires" in parse_qs(url.query)
    got = httpx.get(mix["VideoUrl"], timeout=30)
    assert got.status_code == 200 and len(got.content) == mix["VideoSize"]
    path = tmp_path / "mix.mp4"
    path.write_bytes(got.content)
    left, right = mc.center_region(0, 15, 160, 105), mc.center_region(160, 15, 160, 105)
    for t in (500, 2500, 4500):
        frame = mc.frame_at(path, t)
        mc.assert_color(mc.mean_color(frame, *left), BLUE, what=f"bob at {t}")
        mc.assert_color(mc.mean_color(frame, *right), RED, what=f"teacher at {t}")
    flashes, beeps = mc.flash_times_ms(path, right), mc.beep_onsets_ms(path, 1000)
    assert len(flashes) == len(beeps) == len(SYNC_MS), (flashes, beeps)
    for flash, beep, want in zip(flashes, beeps, SYNC_MS, strict=True):
        assert abs(flash - want) <= 1000 / 15 and abs(beep - want) <= 1000 / 15

    # The bucket holds the final files only, under the app's and the task's prefix.
    client = S3Settings.from_env(seaweed.env()).client()
    listing = client.list_objects_v2(Bucket=seaweed.bucket, Prefix=f"cluster/{tmp_path.name}/")
    keys = sorted(o["Key"] for o in listing.get("Contents", []))
    names = sorted(urlsplit(v["VideoUrl"]).path.rsplit("/", 1)[1] for v in done["VideoInfoList"])
    assert [k.rsplit("/", 1)[1] for k in keys] == names
    assert all(k.split("/")[2:4] == [str(app), task_id] for k in keys)
