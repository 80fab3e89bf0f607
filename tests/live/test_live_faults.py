"""Live recording when things go wrong: pushes the ingest must refuse (before a byte is
recorded), rooms nobody pushes to any more (AutoStopTimeout), ``mixdown serve`` killed in the
middle of a class and started again, and an ingest that cannot run (no nginx, no
``--rtmp-port``)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from mixdown.ingest.push_signature import grant
from mixdown.ingest.stream_name import StreamName

from .harness import (
    Clip,
    LiveApp,
    LiveServer,
    Push,
    ServerProcess,
    call,
    create_live_app,
    describe,
    flv_clip,
    kill_left_nginx,
    needs_nginx,
    sdk,
    served,
    start_recording,
    wait_finished,
    wait_for,
)

#: How long a refused push may take to fail: connect, ``on_publish``, the answer.
REFUSED_WITHIN_S = 30.0
#: Bounds on the media work the stop starts (seal, probe, one generation) on a busy machine.
FINISH_TIMEOUT_S = 180.0


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


def clip(clips: Path, ffmpeg: str, seconds: int) -> Clip:
    return flv_clip(clips, f"push-{seconds}s", ffmpeg, duration_ms=seconds * 1000, tone_hz=440)


def records(data_dir: Path, stream_name: str) -> list[Path]:
    """The files nginx recorded for ``stream_name`` (``<name>-<unix seconds>.flv``)."""
    return sorted((data_dir / "ingest" / "records").glob(f"{stream_name}-*.flv"))


def signed_url(server: LiveServer, name: str, key: str, expires_s: int) -> str:
    parsed = StreamName.parse(name)
    assert parsed is not None, name
    query = grant(key, parsed, expires_s).query()
    return f"rtmp://127.0.0.1:{server.rtmp_port}/live/{name}?{query}"


def sdk_error(client: Any, action: str, params: dict[str, Any]) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as caught:
        call(client, action, params)
    return caught.value


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def nginx_pid(data_dir: Path) -> int:
    return int((data_dir / "ingest" / "nginx" / "nginx.pid").read_text().strip())


def stream_infos(found: dict[str, Any], stream_id: str) -> list[dict[str, Any]]:
    return [v for v in found["VideoInfos"] if v["UserId"] == stream_id]


# --- refused pushes ----------------------------------------------------------------------


@needs_nginx
def test_pushes_without_a_valid_grant_to_a_recording_room_are_refused_before_any_byte(
    tmp_path: Path, ffmpeg: str, clips: Path
) -> None:
    long_clip = clip(clips, ffmpeg, 6)
    with contextlib.contextmanager(served)(tmp_path) as live:
        server, app, data = live.server, live.app, live.server.data_dir
        client = server.client(app)
        room, stopped_room, idle_room = 3101, 3102, 3103
        start_recording(client, app, room)
        stopped = start_recording(client, app, stopped_room)
        call(client, "StopOnlineRecord", {"SdkAppId": app.sdk_app_id, "TaskId": stopped})
        now = int(time.time())
        aid = app.sdk_app_id
        other_app = aid + 7919  # no such app

        def bare(name: str) -> str:
            return f"rtmp://127.0.0.1:{server.rtmp_port}/live/{name}"

        refused = {
            "no txTime/txSecret": (f"{aid}_{room}_nogrant", bare(f"{aid}_{room}_nogrant")),
            "signed with another key": (
                f"{aid}_{room}_otherkey",
                server.push_url(app, room, "otherkey", key="not-" + app.push_key),
            ),
            "expired": (
                f"{aid}_{room}_expired",
                signed_url(server, f"{aid}_{room}_expired", app.push_key, now - 60),
            ),
            "room not recording": (
                f"{aid}_{idle_room}_idle",
                server.push_url(app, idle_room, "idle"),
            ),
            "recording stopped": (
                f"{aid}_{stopped_room}_late",
                server.push_url(app, stopped_room, "late"),
            ),
            "unknown SdkAppId": (
                f"{other_app}_{room}_stranger",
                signed_url(server, f"{other_app}_{room}_stranger", app.push_key, now + 600),
            ),
            "name not <SdkAppId>_<RoomId>_<StreamId>": ("abc", bare("abc") + "?txTime=1&txSecret=2"),
        }
        pushes = {why: Push(ffmpeg, long_clip, url) for why, (_, url) in refused.items()}
        try:
            for why, push in pushes.items():
                try:
                    code = push.wait(REFUSED_WITHIN_S)
                except Exception as exc:
                    raise AssertionError(f"push {why!r} was not refused in time") from exc
                took = time.time() - push.started
                print(why, code, round(took, 2), push.error()[-300:])
                assert code != 0, f"push {why!r} was admitted"
        finally:
            for push in pushes.values():
                push.kill()
        for why, (name, _) in refused.items():
            assert records(data, name) == [], f"push {why!r} recorded bytes"

        # The same ingest does admit a push with a valid grant: the checks above can fail.
        name = f"{aid}_{room}_teacher"
        push = Push(ffmpeg, clip(clips, ffmpeg, 2), server.push_url(app, room, "teacher"))
        try:
            wait_for(lambda: records(data, name), 30, "the admitted push's file")
            assert push.wait(60) == 0, push.error()
        finally:
            push.kill()
