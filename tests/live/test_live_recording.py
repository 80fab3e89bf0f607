"""A whole live class, end to end: the official SDK starts, pauses, resumes and stops a
recording while ffmpeg pushes known media over RTMP in real time, and the videos the
server generates are downloaded and their content checked.

Wall clock, in seconds after StartOnlineRecord answered (the sleeps shape the scenario; every
check uses the times measured around each call and push):

* ``tic_record_user_<room>_rec`` (the whiteboard): blue, 660 Hz tone, a white frame and a
  1 kHz beep every second (A/V sync marks), pushed 0-12;
* ``alice``: red, 440 Hz, pushed 0-12;
* ``bob``: green, 880 Hz, joins at 1.5, his encoder is killed at 7 (a network drop), he
  pushes again 9.5-12 (a new segment of the same stream);
* PauseOnlineRecord at 4, ResumeOnlineRecord at 6; StopOnlineRecord a second after the
  pushes ended.

The recording asks for Concat (one file per stream, gaps black and silent, the pause cut
out) and the template-1 mix.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import mediacheck as mc
from api.wire_support import Receiver

from .harness import (
    Clip,
    Push,
    Served,
    call,
    describe,
    flv_clip,
    needs_nginx,
    served,
    start_recording,
    wait_finished,
    wait_for,
)

pytestmark = needs_nginx

ROOM = 4242
KEY = "live-class-callback-key"
FRAME_MS = 1000 / 15
#: Wall-clock tolerance: a call's answer, an ffmpeg starting and connecting on a busy machine.
WALL_MS = 500
FINISH_TIMEOUT_S = 180.0

BLUE, RED, GREEN, BLACK = "#2850C8", "#C83228", "#28A03C", "#000000"
BACKGROUND = "#34363B"  # template 1's canvas
WB_TONE, ALICE_TONE, BOB_TONE, BEEP_HZ = 660, 440, 880, 1000
SIZE = {"width": 320, "height": 240, "fps": 15}
#: Template 1: the whiteboard's rectangle and the first two small slots.
BOARD_RECT = (20, 256, 1280, 960)
SLOT_1, SLOT_2 = (8, 8, 320, 240), (336, 8, 320, 240)
#: The middle of a 320x240 picture, below the moving mark of the top eighth.
PICTURE = mc.center_region(0, 30, 320, 210)

# The scenario, in seconds after the start.
BOB_JOINS, PAUSE_AT, RESUME_AT, BOB_DROPS, BOB_BACK, CLASS_S = 1.5, 4.0, 6.0, 7.0, 9.5, 12


def now_ms() -> int:
    return int(time.time() * 1000)


@contextlib.contextmanager
def timed() -> Iterator[list[int]]:
    """[before, after] in wall-clock ms around the block."""
    span = [now_ms()]
    yield span
    span.append(now_ms())


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Served]:
    """A live server; content checks do not need a good encode."""
    with served(tmp_path, env={"MIXDOWN_PRESET": "ultrafast"}) as live:
        yield live


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def clips(folder: Path, ffmpeg: str) -> dict[str, Clip]:
    sync = {"sync_period_ms": 1000, "beep_hz": BEEP_HZ}
    return {
        "board": flv_clip(
            folder, "board", ffmpeg, duration_ms=CLASS_S * 1000, color=BLUE, tone_hz=WB_TONE,
            **sync, **SIZE,
        ),
        "alice": flv_clip(
            folder, "alice", ffmpeg, duration_ms=CLASS_S * 1000, color=RED, tone_hz=ALICE_TONE,
            **SIZE,
        ),
        "bob-1": flv_clip(
            folder, "bob-1", ffmpeg, duration_ms=CLASS_S * 1000, color=GREEN, tone_hz=BOB_TONE,
            **SIZE,
        ),
        "bob-2": flv_clip(
            folder, "bob-2", ffmpeg, duration_ms=int((CLASS_S - BOB_BACK) * 1000), color=GREEN,
            tone_hz=BOB_TONE, **SIZE,
        ),
    }  # fmt: skip


def only(infos: list[dict[str, Any]], video_type: int, user_id: str) -> dict[str, Any]:
    found = [v for v in infos if v["VideoType"] == video_type and v["UserId"] == user_id]
    assert len(found) == 1, (video_type, user_id, infos)
    return found[0]


def download(info: dict[str, Any], folder: Path) -> Path:
    reply = httpx.get(info["VideoUrl"], timeout=60, follow_redirects=True)
    assert reply.status_code == 200, (info["VideoUrl"], reply.status_code)
    path = folder / f"{info['VideoType']}-{info['UserId'] or 'board'}.mp4"
    path.write_bytes(reply.content)
    return path


def colour(path: Path, t_ms: float, region: mc.Region) -> mc.RGB:
    return mc.mean_color(mc.frame_at(path, t_ms), *region)


def test_a_class_pushed_over_rtmp_is_recorded_paused_and_generated_through_the_sdk(
    live: Served, receiver: Receiver, ffmpeg: str, tmp_path: Path
) -> None:
    server, app = live.server, live.app
    client, aid = server.client(app), app.sdk_app_id
    media = clips(tmp_path / "clips", ffmpeg)
    board_id = f"tic_record_user_{ROOM}_rec"
    call(client, "SetOnlineRecordCallback", {"SdkAppId": aid, "Callback": receiver.url})
    call(client, "SetOnlineRecordCallbackKey", {"SdkAppId": aid, "CallbackKey": KEY})

    def push(clip: str, stream_id: str) -> Push:
        return Push(ffmpeg, media[clip], server.push_url(app, ROOM, stream_id))

    with timed() as start_call:
        task_id = start_recording(
            client, app, ROOM, RecordUserId=board_id, AudioFileNeeded=False,
            Whiteboard={"Width": 320, "Height": 240}, Concat={"Enabled": True},
            MixStream={"Enabled": True, "ModelId": 1}, Extras=["MIX_STREAM"],
        )  # fmt: skip
    origin = time.monotonic()

    def at(seconds: float) -> None:
        time.sleep(max(0.0, origin + seconds - time.monotonic()))

    task = {"SdkAppId": aid, "TaskId": task_id}
    with contextlib.ExitStack() as pushes:
        board = pushes.enter_context(push("board", board_id))
        alice = pushes.enter_context(push("alice", "alice"))
        at(BOB_JOINS)
        bob_1 = pushes.enter_context(push("bob-1", "bob"))
        at(PAUSE_AT)
        with timed() as pause_call:
            call(client, "PauseOnlineRecord", task)
        assert describe(client, app, task_id)["Status"] == "PAUSED"
        at(RESUME_AT)
        with timed() as resume_call:
            call(client, "ResumeOnlineRecord", task)
        at(BOB_DROPS)
        assert bob_1.proc.poll() is None, f"bob's first push ended early: {bob_1.error()}"
        with timed() as drop:
            bob_1.kill()
        at(BOB_BACK)
        bob_2 = pushes.enter_context(push("bob-2", "bob"))
        for p in (board, alice, bob_2):
            assert p.wait(60) == 0, p.error()
        with timed() as stop_call:
            call(client, "StopOnlineRecord", task)
    found = wait_finished(client, app, task_id, FINISH_TIMEOUT_S)

    # --- the recording: its end, its interruptions, its pause, its length ---------------
    assert found["FinishReason"] == "USER_CALL"
    assert found["ExceptionCnt"] == 0
    assert found["Interrupts"] == [{"UserId": "bob", "Count": 1}]
    (omitted,) = found["OmittedDurations"]
    assert abs(omitted["PauseTime"] - sum(pause_call) / 2) <= 300, (omitted, pause_call)
    assert abs(omitted["ResumeTime"] - sum(resume_call) / 2) <= 300, (omitted, resume_call)
    paused_ms = omitted["ResumeTime"] - omitted["PauseTime"]
    # The only pause is cut where it began: the recording's own start, to the millisecond.
    start_ms = omitted["PauseTime"] - omitted["VideoTime"]
    assert start_call[0] - 50 <= start_ms <= start_call[1] + 50, (start_ms, start_call)
    assert found["RecordStartTime"] == start_ms // 1000
    wall_ms = sum(stop_call) / 2 - start_ms
    assert abs(found["TotalTime"] - (wall_ms - paused_ms)) <= 1000, (found["TotalTime"], wall_ms)
    total = found["TotalTime"]

    def timeline(wall: float) -> float:
        """Where a wall-clock time (ms) plays; times inside the pause are not on it."""
        assert not omitted["PauseTime"] < wall < omitted["ResumeTime"], wall
        return wall - start_ms - (paused_ms if wall >= omitted["ResumeTime"] else 0)

    infos = found["VideoInfos"]
    assert sorted((v["VideoType"], v["UserId"]) for v in infos) == [
        (0, "alice"), (0, "bob"), (2, ""), (3, f"tic_mixstream_{ROOM}_1")
    ], infos  # fmt: skip
    out = tmp_path / "out"
    out.mkdir()
    mix_info = only(infos, 3, f"tic_mixstream_{ROOM}_1")
    board_info, alice_info = only(infos, 2, ""), only(infos, 0, "alice")
    bob_info = only(infos, 0, "bob")
    mix, board_mp4, alice_mp4, bob_mp4 = (
        download(i, out) for i in (mix_info, board_info, alice_info, bob_info)
    )

    # --- the pause is cut: the mix spans the timeline, the others their own media --------
    assert mix_info["VideoPlayTime"] == 0
    # Whole frames: the last one may reach up to a frame past the end (and 1 ms rounding).
    assert abs(mix_info["VideoDuration"] - total) <= FRAME_MS + 1, (mix_info, total)
    probed = mc.probe_durations(mix)["video_duration_ms"]
    assert abs(probed - total) <= FRAME_MS + 1, (probed, total)  # type: ignore[operator]
    for info, p in ((board_info, board), (alice_info, alice)):
        assert abs(info["VideoPlayTime"] - timeline(p.started * 1000)) <= WALL_MS, info
        # A whole clip, less the pause: the media's own timestamps, not the wall clock.
        assert abs(info["VideoDuration"] - (CLASS_S * 1000 - paused_ms)) <= 2 * FRAME_MS, info

    # --- the whiteboard: blue, in sync, every mark after the pause moved by the pause ----
    mc.assert_color(colour(board_mp4, 1500, PICTURE), BLUE, what="whiteboard")
    flashes = all_flashes = mc.flash_times_ms(board_mp4, PICTURE)
    beeps = mc.beep_onsets_ms(board_mp4, BEEP_HZ)
    cut = omitted["VideoTime"] - board_info["VideoPlayTime"]  # the cut, in the file
    # A mark the cut may have split (its flash kept, its beep's start dropped) is left out.
    flashes = [t for t in flashes if abs(t - cut) >= 300]
    beeps = [t for t in beeps if abs(t - cut) >= 300]
    assert len(flashes) >= 7 and len(flashes) == len(beeps), (flashes, beeps, cut)
    for flash, beep in zip(flashes, beeps, strict=True):
        assert abs(flash - beep) <= FRAME_MS, ("A/V sync", flashes, beeps)
    # The marks are every 1000 ms of the clip: before the cut at clip time + a constant
    # offset (the file's own start), after it ``paused_ms`` earlier.
    offset = flashes[0] - round(flashes[0] / 1000) * 1000
    assert abs(offset) <= FRAME_MS, flashes
    for flash in flashes:
        clip_ms = flash - offset + (paused_ms if flash > cut else 0)
        assert abs(clip_ms - round(clip_ms / 1000) * 1000) <= FRAME_MS, (flash, flashes, cut)
    # Tones are measured on each side of the cut: across it their phase jumps.
    for lo, hi in ((500, cut - 300), (cut + 300, board_info["VideoDuration"] - 500)):
        assert mc.tone_level_db(board_mp4, lo, hi, WB_TONE) > -30, (lo, hi)

    # --- alice: red, her tone only ----------------------------------------------------
    alice_end = alice_info["VideoDuration"] - 500
    for t in (1000, cut + 500, alice_end):
        mc.assert_color(colour(alice_mp4, t, PICTURE), RED, what=f"alice at {t} ms")
    for lo, hi in ((500, cut - 300), (cut + 300, alice_end)):
        assert mc.tone_level_db(alice_mp4, lo, hi, ALICE_TONE) > -30, (lo, hi)
        assert mc.tone_level_db(alice_mp4, lo, hi, BOB_TONE) < -50, (lo, hi)

    # --- bob: at his join, green while he pushes, black and silent while he is away -------
    joined = timeline(bob_1.started * 1000)
    assert abs(bob_info["VideoPlayTime"] - joined) <= WALL_MS, (bob_info, joined)
    bob_t0 = bob_info["VideoPlayTime"]
    away = (timeline(drop[1]), timeline(bob_2.started * 1000))  # on the timeline
    back_end = timeline(bob_2.started * 1000) + (CLASS_S - BOB_BACK) * 1000
    assert abs(bob_t0 + bob_info["VideoDuration"] - back_end) <= WALL_MS, (bob_info, back_end)

    def in_file(t: float) -> float:
        return t - bob_t0

    present = [(joined + 500, omitted["VideoTime"] - 300), (away[1] + 500, back_end - 500)]
    absent = (away[0] + 300, away[1] - 300)
    for lo, hi in (*present, absent):
        assert hi - lo >= 500, ("the scenario ran too late to check", present, absent)
    for lo, hi in present:
        for t in (lo, hi):
            mc.assert_color(colour(bob_mp4, in_file(t), PICTURE), GREEN, what=f"bob at {t}")
        assert mc.tone_level_db(bob_mp4, in_file(lo), in_file(hi), BOB_TONE) > -30
        assert mc.tone_level_db(bob_mp4, in_file(lo), in_file(hi), ALICE_TONE) < -50
    gap = mc.frame_at(bob_mp4, in_file(sum(absent) / 2))
    mc.assert_color(mc.mean_color(gap, 0, 0, 320, 240), BLACK, what="bob's gap filler")
    assert mc.tone_level_db(bob_mp4, in_file(absent[0]), in_file(absent[1]), BOB_TONE) < -55

    # --- the mix: everyone in their template-1 slot, and everyone heard ---------------
    board_slot, slot_1, slot_2 = (mc.center_region(*r) for r in (BOARD_RECT, SLOT_1, SLOT_2))

    def unflashed(t: float) -> float:
        """``t``, or a little later: a moment the whiteboard shows no white frame."""
        while any(abs(t - board_info["VideoPlayTime"] - f) < 200 for f in all_flashes):
            t += 100
        return t

    for t in (unflashed(present[0][0] + 300), unflashed(present[1][0] + 300)):
        frame = mc.frame_at(mix, t)
        mc.assert_color(mc.mean_color(frame, *board_slot), BLUE, what=f"mix board at {t}")
        mc.assert_color(mc.mean_color(frame, *slot_1), RED, what=f"mix slot 1 at {t}")
        mc.assert_color(mc.mean_color(frame, *slot_2), GREEN, what=f"mix slot 2 at {t}")
    frame = mc.frame_at(mix, sum(absent) / 2)
    mc.assert_color(mc.mean_color(frame, *slot_2), BACKGROUND, what="mix slot 2, bob away")
    mc.assert_color(mc.mean_color(frame, *slot_1), RED, what="mix slot 1, bob away")
    for tone in (WB_TONE, ALICE_TONE, BOB_TONE):
        assert mc.tone_level_db(mix, present[0][0], present[0][1], tone) > -35, tone
    assert mc.tone_level_db(mix, absent[0], absent[1], BOB_TONE) < -50

    # --- the callbacks, signed ----------------------------------------------------------
    def events() -> dict[str, dict[str, Any]] | None:
        got = {
            kind: receiver.of(kind, task_id)
            for kind in ("OnlineRecordStarted", "OnlineRecordStopped", "OnlineRecordFinished")
        }
        return {k: v[0] for k, v in got.items()} if all(got.values()) else None

    bodies = wait_for(events, 30, "the three record events")
    for kind, body in bodies.items():
        assert body["SdkAppId"] == aid, body
        assert body["Sign"] == hashlib.md5(f"{KEY}{body['ExpireTime']}".encode()).hexdigest()
        assert body["EventData"]["TaskId"] == task_id, (kind, body)
    started = bodies["OnlineRecordStarted"]["EventData"]
    assert (started["RoomId"], started["RecordUserId"]) == (ROOM, board_id)
    finished = bodies["OnlineRecordFinished"]["EventData"]
    assert finished["VideoInfos"], finished
    assert (finished["FinishReason"], finished["ErrorCode"]) == ("USER_CALL", "")
    assert finished["TotalTime"] == total
    assert finished["OmittedDurations"] == found["OmittedDurations"]
    assert sorted((v["VideoType"], v["UserId"]) for v in finished["VideoInfos"]) == sorted(
        (v["VideoType"], v["UserId"]) for v in infos
    )
