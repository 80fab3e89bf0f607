"""Live recording when things go wrong: pushes the ingest must refuse before a byte is
recorded, rooms nobody pushes to any more (AutoStopTimeout), ``mixdown serve`` killed in the
middle of a class and started again, and an ingest that cannot run (no nginx, no
``--rtmp-port``: ``tests/api/test_live_actions.py``)."""

from __future__ import annotations

import contextlib
import subprocess
import time
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
    call,
    create_live_app,
    describe,
    flv_clip,
    kill_left_nginx,
    needs_nginx,
    passable_folder,
    served,
    start_recording,
    wait_finished,
    wait_for,
)

#: A refused push fails at once (connect, ``on_publish``, the answer); this is the bound.
REFUSED_WITHIN_S = 20.0
#: The media work a stop starts (seal, probe, one generation), on a busy machine.
FINISH_TIMEOUT_S = 180.0
#: The watchdog checks for due stops every second; the machine may be busy.
TICK_SLACK_MS = 2500


# --- helpers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


def clip(clips: Path, ffmpeg: str, seconds: int) -> Clip:
    return flv_clip(clips, f"push-{seconds}s", ffmpeg, duration_ms=seconds * 1000, tone_hz=440)


def records(data_dir: Path, stream_name: str) -> list[Path]:
    """The files nginx recorded for ``stream_name`` (``<name>-<unix seconds>.flv``)."""
    return sorted((data_dir / "ingest" / "records").glob(f"{stream_name}-*.flv"))


def signed_url(server: LiveServer, name: str, key: str, expires_s: int) -> str:
    """A push URL for any name of the right shape, signed with ``key``."""
    parsed = StreamName.parse(name)
    assert parsed is not None, name
    query = grant(key, parsed, expires_s).query()
    return f"rtmp://127.0.0.1:{server.rtmp_port}/live/{name}?{query}"


def sdk_error(client: Any, action: str, params: dict[str, Any]) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as caught:
        call(client, action, params)
    return caught.value


def stop(client: Any, app: LiveApp, task_id: str) -> None:
    call(client, "StopOnlineRecord", {"SdkAppId": app.sdk_app_id, "TaskId": task_id})


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def nginx_pid(data_dir: Path) -> int:
    return int((data_dir / "ingest" / "nginx" / "nginx.pid").read_text().strip())


def videos_of(found: dict[str, Any], stream_id: str) -> list[dict[str, Any]]:
    return [v for v in found["VideoInfos"] if v["UserId"] == stream_id]


# --- refused pushes ------------------------------------------------------------------------


@needs_nginx
def test_pushes_without_a_valid_grant_to_a_recording_room_are_refused_before_any_byte(
    tmp_path: Path, ffmpeg: str, clips: Path
) -> None:
    long_clip = clip(clips, ffmpeg, 6)
    with served(tmp_path) as live:
        server, app, data = live.server, live.app, live.server.data_dir
        client = server.client(app)
        room, stopped_room, idle_room = 3101, 3102, 3103
        start_recording(client, app, room)
        stop(client, app, start_recording(client, app, stopped_room))
        aid, now = app.sdk_app_id, int(time.time())
        bare = f"rtmp://127.0.0.1:{server.rtmp_port}/live"
        # why: (stream name, push URL)
        refused = {
            "no txTime/txSecret": (f"{aid}_{room}_bare", f"{bare}/{aid}_{room}_bare"),
            "signed with another key": (
                f"{aid}_{room}_forged",
                server.push_url(app, room, "forged", key=f"not-{app.push_key}"),
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
                f"{aid + 7919}_{room}_stranger",
                signed_url(server, f"{aid + 7919}_{room}_stranger", app.push_key, now + 600),
            ),
            "name not <SdkAppId>_<RoomId>_<StreamId>": (
                "abc",
                f"{bare}/abc?txTime={now + 600:X}&txSecret={'0' * 32}",
            ),
        }
        with contextlib.ExitStack() as stack:
            pushes = {
                why: stack.enter_context(Push(ffmpeg, long_clip, url))
                for why, (_, url) in refused.items()
            }
            for why, push in pushes.items():
                try:
                    code = push.wait(REFUSED_WITHIN_S)
                except subprocess.TimeoutExpired as exc:
                    raise AssertionError(f"push {why!r} still runs: not refused") from exc
                assert code != 0, f"push {why!r} was admitted"
        for why, (name, _) in refused.items():
            assert records(data, name) == [], f"push {why!r} recorded bytes"

        # The same ingest admits a push with a valid grant: the checks above can fail.
        name = f"{aid}_{room}_teacher"
        media = clip(clips, ffmpeg, 2)
        with Push(ffmpeg, media, server.push_url(app, room, "teacher")) as push:
            wait_for(lambda: records(data, name), 30, "the admitted push's file")
            assert push.wait(60) == 0, push.error()
        half = media.path.stat().st_size // 2
        wait_for(lambda: records(data, name)[0].stat().st_size > half, 30, "the recorded media")


# --- AutoStopTimeout -----------------------------------------------------------------------


@needs_nginx
def test_a_room_left_without_streams_stops_by_itself_after_auto_stop_timeout(
    tmp_path: Path, ffmpeg: str, clips: Path
) -> None:
    media = clip(clips, ffmpeg, 2)
    with served(tmp_path) as live:
        server, app = live.server, live.app
        client = server.client(app)
        room = 3201
        before_ms = time.time() * 1000
        task_id = start_recording(client, app, room, AutoStopTimeout=2)
        after_ms = time.time() * 1000
        with Push(ffmpeg, media, server.push_url(app, room, "teacher")) as push:
            assert push.wait(60) == 0, push.error()
            push_end_ms = time.time() * 1000

        def stopped() -> dict[str, Any] | None:
            found = describe(client, app, task_id)
            return found if found["Status"] in ("STOPPED", "FINISHED") else None

        wait_for(stopped, 2 + 30, "the recording to stop by itself")
        found = wait_finished(client, app, task_id, FINISH_TIMEOUT_S)
        assert found["FinishReason"] == "AUTO", found
        assert found["ExceptionCnt"] == 0, found
        assert videos_of(found, "teacher"), found["VideoInfos"]
        # TotalTime runs from the start to the auto stop: the push, then 2 s without a
        # stream (so it did not stop while the stream was there).
        since_start_ms = (push_end_ms - after_ms, push_end_ms - before_ms)
        low, high = since_start_ms[0] + 2000 - 1000, since_start_ms[1] + 2000 + TICK_SLACK_MS
        assert low <= found["TotalTime"] <= high, (found["TotalTime"], low, high)


@needs_nginx
def test_a_room_nobody_pushes_to_stops_by_itself_with_no_videos(tmp_path: Path) -> None:
    with served(tmp_path) as live:
        client = live.server.client(live.app)
        started = time.monotonic()
        task_id = start_recording(client, live.app, 3301, AutoStopTimeout=3)
        found = wait_finished(client, live.app, task_id, FINISH_TIMEOUT_S)
        waited = time.monotonic() - started
        assert found["FinishReason"] == "AUTO", found
        assert found["VideoInfos"] == [], found
        assert found["ExceptionCnt"] == 0, found
        assert waited >= 3, f"finished after {waited:.1f} s, before AutoStopTimeout"
        # From the start to the auto stop: 3 s, and a watchdog tick at most.
        assert 3000 <= found["TotalTime"] <= 3000 + TICK_SLACK_MS, found


# --- kill -9 and restart -------------------------------------------------------------------


@needs_nginx
def test_a_push_outlives_a_killed_server_and_is_recorded_whole_after_restart(
    tmp_path: Path, ffmpeg: str, clips: Path
) -> None:
    media = clip(clips, ffmpeg, 8)
    with passable_folder(tmp_path) as folder:
        data = folder / "data"
        app = create_live_app(data)
        first = LiveServer(data)
        servers: list[LiveServer] = [first]
        try:
            first.start()
            client = first.client(app)
            room = 3401
            task_id = start_recording(client, app, room)
            nginx = nginx_pid(data)
            with Push(ffmpeg, media, first.push_url(app, room, "teacher")) as push:
                name = f"{app.sdk_app_id}_{room}_teacher"
                wait_for(lambda: records(data, name), 30, "the push's file")
                time.sleep(max(0.0, push.started + 2 - time.time()))
                first.kill9()

                # nginx lives in a session of its own: it keeps recording the push.
                assert alive(nginx), "nginx died with the server"
                time.sleep(1)
                assert push.proc.poll() is None, f"the push ended with the server: {push.error()}"
                assert push.wait(60) == 0, push.error()
                assert alive(nginx)

            again = first.again()
            servers.append(again)
            again.start()
            assert nginx_pid(data) == nginx and alive(nginx), "the new server did not adopt nginx"
            client = again.client(app)
            stop(client, app, task_id)
            found = wait_finished(client, app, task_id, FINISH_TIMEOUT_S)
            assert found["FinishReason"] == "USER_CALL", found
            assert found["ExceptionCnt"] == 0, found
            videos = videos_of(found, "teacher")
            assert videos, found["VideoInfos"]
            assert max(v["VideoDuration"] for v in videos) >= 6000, videos
        finally:
            for server in reversed(servers):
                server.stop()
            kill_left_nginx(data)


# --- an ingest that cannot run -------------------------------------------------------------


def test_without_nginx_serve_runs_and_live_recording_says_what_to_install(
    tmp_path: Path,
) -> None:
    with served(tmp_path, env={"MIXDOWN_NGINX": "/nonexistent/nginx"}) as live:
        server, app = live.server, live.app
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        error = sdk_error(
            server.client(app),
            "StartOnlineRecord",
            {
                "SdkAppId": app.sdk_app_id,
                "RoomId": 3501,
                "RecordUserId": "tic_record_user_3501_rec",
                "RecordUserSig": "unused-here",
            },
        )
        assert error.get_code().startswith("ResourceUnavailable"), error
        assert "libnginx-mod-rtmp" in error.get_message(), error
