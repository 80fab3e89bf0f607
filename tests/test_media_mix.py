"""Template 1 mix, per-stream videos and audio files of a small class (DESIGN §2, §3).

The class (8 s, no pause), wall time = playback time:

* ``tic_record_user``: pale board, whole class, no audio;
* ``teacher``: red, 440 Hz tone, 1 kHz beeps + flashes at 1000 and 6000 (MP4, 30 fps);
* ``bob``: blue, 660 Hz, 2 kHz beeps + flashes; present 0-2500 (MP4, flash at 1600) and
  5000-8000 (MPEG-TS, 16:9 instead of 4:3, audio starting 400 ms after its video inside
  the file; flash at 6600);
* ``aaa``: audio only (880 Hz), whole class: heard, takes no slot although it sorts first;
* ``alice``: green, 550 Hz, 1.5 kHz beep + flash at 4000; joins at 2000 (FLV). She sorts
  before bob and teacher but appears later, so she must take the third slot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import mediacheck as mc
from mediacheck import Generated, Piece
from mixdown.synth import ClipSpec

pytestmark = pytest.mark.media

FRAME_MS = 1000 / 15
#: Priming of an AAC track in FLV/MPEG-TS puts the picture 21 ms after the file's start.
PRIMING_MS = 22
BACKGROUND = "#34363B"
BOARD = "#EEEEE6"
TEACHER, BOB, ALICE = "#C0392B", "#2E86C1", "#27AE60"
#: Template 1 (DESIGN §3): whiteboard rect and the four small slots, in order.
BOARD_RECT = (20, 256, 1280, 960)
SLOTS = [(x, 8, 320, 240) for x in (8, 336, 664, 992)]


def _cam(
    color: str, tone: int, beep: int, length: int, sync: tuple[int, ...], **kw: Any
) -> ClipSpec:
    size = {"width": 160, "height": 120, **kw}
    return ClipSpec(
        duration_ms=length, color=color, tone_hz=tone, beep_hz=beep, flashes_ms=sync,
        beeps_ms=sync, **size,
    )  # fmt: skip


@pytest.fixture(scope="module")
def cls(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    tmp = tmp_path_factory.mktemp("mix")
    board = ClipSpec(duration_ms=8000, width=320, height=240, color=BOARD, has_audio=False)
    pieces = [
        Piece("tic_record_user", "board.mp4", 0, board),
        Piece("aaa", "aaa.mp4", 0, ClipSpec(duration_ms=8000, has_video=False, tone_hz=880)),
        Piece("teacher", "teacher.mp4", 0, _cam(TEACHER, 440, 1000, 8000, (1000, 6000), fps=30)),
        Piece("bob", "bob-1.mp4", 0, _cam(BOB, 660, 2000, 2500, (1600,))),
        Piece(
            "bob",
            "bob-2.ts",
            5000,
            _cam(
                BOB,
                660,
                2000,
                3000,
                (1600,),
                container="ts",
                audio_offset_ms=400,
                width=320,
                height=180,
            ),
        ),
        Piece("alice", "alice.flv", 2000, _cam(ALICE, 550, 1500, 6000, (2000,), container="flv")),
    ]
    manifest = mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=8000,
        Whiteboard={"Width": 320, "Height": 240}, Concat={"Enabled": True},
        MixStream={"Enabled": True, "ModelId": 1}, AudioFileNeeded=True,
    )  # fmt: skip
    return mc.generate(manifest, tmp / "out")


def _slot_colors(path: Path, t_ms: float) -> list[mc.RGB]:
    frame = mc.frame_at(path, t_ms)
    return [mc.mean_color(frame, *mc.center_region(*slot)) for slot in SLOTS]


def _assert_slots(path: Path, t_ms: float, expected: list[str]) -> None:
    for i, (got, want) in enumerate(zip(_slot_colors(path, t_ms), expected, strict=True)):
        mc.assert_color(got, want, what=f"slot {i + 1} at {t_ms} ms")


def _picture_centre(info: dict[str, Any]) -> mc.Region:
    """The middle of an output picture: inside any fitted input, below the moving marks."""
    return mc.center_region(0, 0, info["Width"], info["Height"])


def test_result_reports_total_time_and_one_mix_of_the_template_canvas(cls: Generated) -> None:
    assert cls.result["TotalTime"] == 8000
    assert cls.result["OmittedDurations"] == []
    mix = cls.one(3)
    assert mix["UserId"] == f"tic_mixstream_{mc.ROOM_ID}_1"
    assert (mix["Width"], mix["Height"]) == (1320, 1224)
    assert mix["VideoPlayTime"] == 0
    assert abs(mix["VideoDuration"] - 8000) <= FRAME_MS
    info = mc.probe_durations(cls.path(mix))
    assert abs(info["video_duration_ms"] - 8000) <= FRAME_MS  # type: ignore[operator]
    assert abs(info["audio_duration_ms"] - 8000) <= FRAME_MS  # type: ignore[operator]


def test_cameras_present_at_the_start_take_the_first_slots_in_stream_id_order(
    cls: Generated,
) -> None:
    _assert_slots(cls.path(cls.one(3)), 500, [BOB, TEACHER, BACKGROUND, BACKGROUND])


def test_late_joiner_takes_the_next_free_slot_in_order_of_first_appearance(
    cls: Generated,
) -> None:
    # bob has left (slot 1 empty); alice joined at 2000 while bob was there: slot 3.
    _assert_slots(cls.path(cls.one(3)), 3500, [BACKGROUND, TEACHER, ALICE, BACKGROUND])


def test_returning_user_gets_the_old_slot_back_when_it_is_still_free(cls: Generated) -> None:
    _assert_slots(cls.path(cls.one(3)), 7500, [BOB, TEACHER, ALICE, BACKGROUND])


def test_whiteboard_fills_its_rect_and_the_canvas_shows_the_background(cls: Generated) -> None:
    frame = mc.frame_at(cls.path(cls.one(3)), 4000)
    x, y, w, h = BOARD_RECT
    mc.assert_color(mc.mean_color(frame, *mc.center_region(x, y, w, h)), BOARD, what="board")
    # The 20 px margin left of the board and the band between slots and board.
    mc.assert_color(mc.mean_color(frame, 2, 600, 14, 200), BACKGROUND, what="left margin")
    mc.assert_color(mc.mean_color(frame, 100, 250, 800, 4), BACKGROUND, what="band")


def test_each_user_is_heard_in_the_mix_only_while_present(cls: Generated) -> None:
    mix = cls.path(cls.one(3))
    heard = -35.0  # tones are -20 dBFS at the source; a limiter may lower them a little
    assert mc.tone_level_db(mix, 300, 2200, 440) > heard
    assert mc.tone_level_db(mix, 300, 2200, 660) > heard
    assert mc.tone_level_db(mix, 200, 1800, 550) < -55
    assert mc.tone_level_db(mix, 2800, 4700, 660) < -55
    assert mc.tone_level_db(mix, 2800, 4700, 550) > heard
    assert mc.tone_level_db(mix, 5300, 7700, 660) > heard
    assert mc.tone_level_db(mix, 300, 7700, 880) > heard  # audio only, never shown


def test_a_speakers_level_does_not_jump_when_others_join_or_leave(cls: Generated) -> None:
    mix = cls.path(cls.one(3))
    # teacher alone with bob (0-2000), with alice only (2800-4700), with both (5300-7700).
    levels = [mc.tone_level_db(mix, lo, lo + 1500, 440) for lo in (300, 2900, 5700)]
    assert max(levels) - min(levels) <= 1.5, levels


@pytest.mark.parametrize(
    ("slot", "beep_hz", "expected"),
    [(1, 1000, [1000, 6000]), (0, 2000, [1600, 6600]), (2, 1500, [4000])],
    ids=["teacher-mp4", "bob-mp4-then-ts-with-late-audio", "alice-flv"],
)
def test_flashes_and_beeps_stay_in_sync_in_the_mix(
    cls: Generated, slot: int, beep_hz: int, expected: list[int]
) -> None:
    mix = cls.path(cls.one(3))
    flashes = mc.flash_times_ms(mix, mc.center_region(*SLOTS[slot]))
    beeps = mc.beep_onsets_ms(mix, beep_hz)
    assert len(flashes) == len(expected), flashes
    assert len(beeps) == len(expected), beeps
    for flash, beep, want in zip(flashes, beeps, expected, strict=True):
        assert abs(flash - beep) <= FRAME_MS, (flash, beep)
        assert abs(flash - want) <= FRAME_MS + PRIMING_MS, (flash, want)


def test_per_stream_videos_span_each_stream_from_first_to_last_media(cls: Generated) -> None:
    expected = {"teacher": (0, 8000), "bob": (0, 8000), "alice": (2000, 6000)}
    for user, (play_time, duration) in expected.items():
        info = cls.one(0, user)
        assert abs(info["VideoPlayTime"] - play_time) <= FRAME_MS, user
        assert abs(info["VideoDuration"] - duration) <= FRAME_MS + PRIMING_MS, user
        if user != "bob":  # bob changes resolution; DESIGN leaves his size open
            assert (info["Width"], info["Height"]) == (160, 120), user
        probed = mc.probe_durations(cls.path(info))
        assert abs(probed["video_duration_ms"] - duration) <= FRAME_MS + PRIMING_MS, user  # type: ignore[operator]


def test_gap_in_a_concatenated_stream_is_black(cls: Generated) -> None:
    info = cls.one(0, "bob")
    path = cls.path(info)
    centre = _picture_centre(info)
    before, gap, after = (mc.frame_at(path, t) for t in (500, 3500, 7500))
    mc.assert_color(mc.mean_color(before, *centre), BOB, what="before the gap")
    mc.assert_color(mc.mean_color(gap, *centre), "#000000", what="in the gap")
    mc.assert_color(mc.mean_color(after, *centre), BOB, what="after the gap")
    assert mc.tone_level_db(path, 2800, 4700, 660) < -55


@pytest.mark.parametrize(
    ("user", "beep_hz", "expected"),
    [("teacher", 1000, [1000, 6000]), ("bob", 2000, [1600, 6600]), ("alice", 1500, [2000])],
    ids=["teacher-mp4", "bob-mp4-then-ts-with-late-audio", "alice-flv"],
)
def test_flashes_and_beeps_stay_in_sync_in_per_stream_videos(
    cls: Generated, user: str, beep_hz: int, expected: list[int]
) -> None:
    path = cls.path(cls.one(0, user))
    flashes = mc.flash_times_ms(path, _picture_centre(cls.one(0, user)))
    beeps = mc.beep_onsets_ms(path, beep_hz)
    assert len(flashes) == len(expected) and len(beeps) == len(expected), (flashes, beeps)
    for flash, beep, want in zip(flashes, beeps, expected, strict=True):
        assert abs(flash - beep) <= FRAME_MS, (flash, beep)
        assert abs(flash - want) <= FRAME_MS + PRIMING_MS, (flash, want)


def test_whiteboard_video_has_the_whiteboard_size_and_content(cls: Generated) -> None:
    info = cls.one(2)
    assert info["UserId"] == ""
    assert (info["Width"], info["Height"]) == (320, 240)
    assert info["VideoPlayTime"] == 0
    assert abs(info["VideoDuration"] - 8000) <= FRAME_MS
    frame = mc.frame_at(cls.path(info), 4000)
    assert frame.shape == (240, 320, 3)
    mc.assert_color(mc.mean_color(frame, *mc.center_region(0, 40, 320, 200)), BOARD)


def test_audio_files_are_mp3_per_stream_with_audio_and_follow_the_span_rule(
    cls: Generated,
) -> None:
    audio = cls.infos(4)
    assert sorted(v["UserId"] for v in audio) == ["aaa", "alice", "bob", "teacher"]
    assert all(v["VideoFormat"] == "mp3" and v["VideoUrl"].endswith(".mp3") for v in audio)
    bob = cls.one(4, "bob")
    assert bob["VideoPlayTime"] == 0
    assert abs(bob["VideoDuration"] - 8000) <= FRAME_MS + PRIMING_MS
    path = cls.path(bob)
    assert mc.tone_level_db(path, 300, 2200, 660) > -26
    assert mc.tone_level_db(path, 2800, 4700, 660) < -55
    assert mc.tone_level_db(path, 5500, 7500, 660) > -26
    alice = cls.one(4, "alice")
    assert abs(alice["VideoPlayTime"] - 2000) <= FRAME_MS
