"""Where media lies in time: offsets inside files, many and overlapping segments, pauses at
the edges, a missing stop time, and a whiteboard rect without a whiteboard (DESIGN §1-§3).

Every recording is small and uses Custom canvases of 160x120 slots unless a template is the
point. Times are playback ms; "frame" is one output frame (66.7 ms at 15 fps).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import mediacheck as mc
from mediacheck import Generated, Piece
from mixdown.synth import ClipSpec

pytestmark = pytest.mark.media

FRAME_MS = 1000 / 15
#: AAC priming: a track's first timestamp may lie up to 21 ms before its first real sample.
PRIMING_MS = 22
RED, BLUE, GREEN, YELLOW = "#C0392B", "#2E86C1", "#27AE60", "#FFFF00"
BLACK, BACKGROUND = "#000000", "#34363B"
HEARD, SILENT = -26.0, -55.0  # dBFS: tones are -20 dBFS at the source


def _custom(slots: dict[str, tuple[int, int]], width: int, height: int, **canvas: Any) -> Any:
    """A Custom layout of 160x120 slots, each reserved for one StreamId prefix."""
    return {
        "Canvas": {"LayoutParams": {"Width": width, "Height": height}, **canvas},
        "InputStreamList": [
            {"LayoutParams": {"X": x, "Y": y, "Width": 160, "Height": 120}, "InputStreamId": sid}
            for sid, (x, y) in slots.items()
        ],
    }


def _picture(x: int = 0, y: int = 0) -> mc.Region:
    """The middle of a 160x120 camera picture at (x, y), below synth's moving mark."""
    return mc.center_region(x, y + 15, 160, 105)


def _assert_synced(
    flashes: list[float], beeps: list[float], expected: list[float], slack: float = 0
) -> None:
    assert len(flashes) == len(expected) == len(beeps), (flashes, beeps, expected)
    for flash, beep, want in zip(flashes, beeps, expected, strict=True):
        assert abs(flash - beep) <= FRAME_MS, ("flash vs beep", flash, beep)
        assert abs(flash - want) <= FRAME_MS + slack, ("flash vs expected", flash, want)


# --- Audio and video starting at different times inside a file; a silent segment ---


@pytest.fixture(scope="module")
def offsets(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    """``late``: audio starts 2 s after the video in its file (flash+beep at 2600, 3400).
    ``early``: video starts 1 s after the audio; StartTime 500 (the audio's first sample),
    flash+beep 600 and 1600 after the video start: playback 2100 and 3100.
    ``mixed``: a segment without audio (0-2000, flash at 1000), then one with (3000-5000,
    550 Hz, flash+beep at 4000)."""
    tmp = tmp_path_factory.mktemp("robust-offsets")
    late = ClipSpec(
        duration_ms=4000, color=RED, tone_hz=440, audio_offset_ms=2000,
        flashes_ms=(2600, 3400), beeps_ms=(2600, 3400),
    )  # fmt: skip
    early = ClipSpec(
        duration_ms=3000, color=BLUE, tone_hz=660, beep_hz=2000, audio_offset_ms=-1000,
        flashes_ms=(600, 1600), beeps_ms=(600, 1600),
    )  # fmt: skip
    mute = ClipSpec(duration_ms=2000, color=GREEN, has_audio=False, flashes_ms=(1000,))
    loud = ClipSpec(
        duration_ms=2000, color=GREEN, tone_hz=550, beep_hz=1500, flashes_ms=(1000,),
        beeps_ms=(1000,),
    )  # fmt: skip
    pieces = [
        Piece("late", "late.mp4", 0, late),
        Piece("early", "early.mp4", 500, early),
        Piece("mixed", "mute.mp4", 0, mute),
        Piece("mixed", "loud.mp4", 3000, loud),
    ]
    slots = {"late": (0, 0), "early": (160, 0), "mixed": (320, 0)}
    manifest = mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=5500, Concat={"Enabled": True},
        AudioFileNeeded=True, MixStream={"Enabled": True, "Custom": _custom(slots, 480, 120)},
    )  # fmt: skip
    return mc.generate(manifest, tmp / "out")


def test_audio_starting_two_seconds_into_a_file_is_heard_from_then_in_sync(
    offsets: Generated,
) -> None:
    mix = offsets.path(offsets.one(3))
    flashes = mc.flash_times_ms(mix, _picture(0))
    _assert_synced(flashes, mc.beep_onsets_ms(mix, 1000), [2600, 3400])
    own = offsets.path(offsets.one(0, "late"))
    _assert_synced(mc.flash_times_ms(own, _picture()), mc.beep_onsets_ms(own, 1000), [2600, 3400])
    for path in (mix, own, offsets.path(offsets.one(4, "late"))):
        assert mc.tone_level_db(path, 100, 1900, 440) < SILENT, path.name
        assert mc.tone_level_db(path, 2100, 3900, 440) > HEARD, path.name
    mc.assert_color(mc.mean_color(mc.frame_at(own, 1000), *_picture()), RED)


def test_video_starting_a_second_into_a_file_appears_a_second_after_its_start_time(
    offsets: Generated,
) -> None:
    mix = offsets.path(offsets.one(3))
    flashes = mc.flash_times_ms(mix, _picture(160))
    _assert_synced(flashes, mc.beep_onsets_ms(mix, 2000), [2100, 3100])
    before, after = mc.frames_at(mix, [1100, 1900])
    mc.assert_color(mc.mean_color(before, *_picture(160)), BLACK, what="slot before the video")
    mc.assert_color(mc.mean_color(after, *_picture(160)), BLUE, what="slot once the video runs")
    assert mc.tone_level_db(mix, 600, 1400, 660) > HEARD  # the audio runs from StartTime
    info = offsets.one(0, "early")
    assert abs(info["VideoPlayTime"] - 500) <= FRAME_MS
    own = offsets.path(info)
    # On its own timeline the video starts at 1000: flashes at 1600 and 2600.
    _assert_synced(mc.flash_times_ms(own, _picture()), mc.beep_onsets_ms(own, 2000), [1600, 2600])
    assert mc.tone_level_db(own, 100, 900, 660) > HEARD


def test_a_silent_segment_then_a_sounding_one_give_one_video_with_silence_then_sound(
    offsets: Generated,
) -> None:
    info = offsets.one(0, "mixed")
    assert info["VideoPlayTime"] == 0
    assert abs(info["VideoDuration"] - 5000) <= FRAME_MS + PRIMING_MS
    path = offsets.path(info)
    probed = mc.probe_durations(path)
    assert probed["audio_start_ms"] is not None, "the per-stream video has no audio track"
    assert probed["audio_start_ms"] <= FRAME_MS, probed  # type: ignore[operator]
    assert abs(probed["audio_duration_ms"] - 5000) <= FRAME_MS + PRIMING_MS, probed  # type: ignore[operator]
    assert mc.tone_level_db(path, 100, 1900, 550) < SILENT
    assert mc.tone_level_db(path, 3100, 3900, 550) > HEARD
    flashes = mc.flash_times_ms(path, _picture())
    assert len(flashes) == 2 and abs(flashes[0] - 1000) <= FRAME_MS, flashes
    (beep,) = mc.beep_onsets_ms(path, 1500)
    assert abs(flashes[1] - 4000) <= FRAME_MS and abs(beep - flashes[1]) <= FRAME_MS
    mp3 = offsets.one(4, "mixed")
    assert mp3["VideoPlayTime"] == 0
    assert mc.tone_level_db(offsets.path(mp3), 100, 1900, 550) < SILENT
    assert mc.tone_level_db(offsets.path(mp3), 3100, 4900, 550) > HEARD


# --- Many short segments of one stream; back-to-back segments (a reconnect) ---

SEGMENTS = 12
SEG_MS, EVERY_MS = 400, 600


def _one_slot(**canvas: Any) -> Any:
    return {"Enabled": True, "Custom": _custom({"cam": (0, 0)}, 160, 120, **canvas)}


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    """Twelve 400 ms segments every 600 ms, red and blue in turn; yellow mix canvas."""
    tmp = tmp_path_factory.mktemp("robust-many")
    pieces = [
        Piece("cam", f"s{i}.mp4", i * EVERY_MS, ClipSpec(
            duration_ms=SEG_MS, color=(RED, BLUE)[i % 2], tone_hz=440, moving_mark=False))
        for i in range(SEGMENTS)
    ]  # fmt: skip
    manifest = mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=SEGMENTS * EVERY_MS, Concat={"Enabled": True},
        MixStream=_one_slot(BackgroundColor=YELLOW),
    )  # fmt: skip
    return mc.generate(manifest, tmp / "out")


def test_twelve_short_segments_show_in_their_windows_with_gaps_between(many: Generated) -> None:
    (info,) = many.infos(0, "cam")
    assert info["VideoPlayTime"] == 0
    last_end = (SEGMENTS - 1) * EVERY_MS + SEG_MS
    assert abs(info["VideoDuration"] - last_end) <= FRAME_MS + PRIMING_MS
    own, mix = many.path(info), many.path(many.one(3))
    inside = [i * EVERY_MS + 200 for i in range(SEGMENTS)]
    gaps = [i * EVERY_MS + 500 for i in range(SEGMENTS - 1)]
    whole = mc.center_region(0, 0, 160, 120)
    for path, gap_color in ((own, BLACK), (mix, YELLOW)):
        frames = mc.frames_at(path, inside + gaps)
        for i, frame in enumerate(frames[:SEGMENTS]):
            mc.assert_color(mc.mean_color(frame, *whole), (RED, BLUE)[i % 2], what=f"seg {i}")
        for t, frame in zip(gaps, frames[SEGMENTS:], strict=True):
            mc.assert_color(mc.mean_color(frame, *whole), gap_color, what=f"gap at {t} ms")
    for i in range(SEGMENTS):
        lo = i * EVERY_MS
        assert mc.tone_level_db(own, lo + 60, lo + 340, 440) > HEARD, f"segment {i}"
        if i < SEGMENTS - 1:
            assert mc.tone_level_db(own, lo + 440, lo + 560, 440) < SILENT, f"gap after {i}"


@pytest.fixture(scope="module")
def reconnect(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    """One camera whose stream broke at 2000 and reconnected at once: two MP4 files."""
    tmp = tmp_path_factory.mktemp("robust-reconnect")
    pieces = [
        Piece("cam", "a.mp4", 0, ClipSpec(duration_ms=2000, color=RED, tone_hz=440)),
        Piece("cam", "b.mp4", 2000, ClipSpec(duration_ms=2000, color=BLUE, tone_hz=440)),
    ]
    manifest = mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=4000, Concat={"Enabled": True},
        MixStream=_one_slot(BackgroundColor=YELLOW),
    )  # fmt: skip
    return mc.generate(manifest, tmp / "out")


def _labels(path: Path) -> list[tuple[int, str]]:
    out = []
    for t, rgb in mc.video_frames(path):
        got = mc.mean_color(rgb, *_picture())
        name = next(
            (n for n, c in (("red", RED), ("blue", BLUE)) if mc.color_distance(got, c) < 30), None
        )
        out.append((round(t), name or "#{:02X}{:02X}{:02X}".format(*got)))
    return out


def test_a_camera_is_shown_from_the_first_frame_of_the_mix_and_of_its_own_video(
    reconnect: Generated,
) -> None:
    for path in (reconnect.path(reconnect.one(0, "cam")), reconnect.path(reconnect.one(3))):
        t, first = _labels(path)[0]
        assert (t, first) == (0, "red"), f"{path.name}: first frame {first} at {t} ms"


def test_back_to_back_segments_splice_without_a_black_or_background_frame(
    reconnect: Generated,
) -> None:
    for path in (reconnect.path(reconnect.one(0, "cam")), reconnect.path(reconnect.one(3))):
        labels = _labels(path)
        odd = [(t, name) for t, name in labels if t > 0 and name not in ("red", "blue")]
        assert odd == [], f"{path.name}: frames that are neither camera: {odd}"
        switch = next(t for t, name in labels if name == "blue")
        assert abs(switch - 2000) <= FRAME_MS, switch


# --- Eight cameras in eight slots; overlapping segments of one stream ---

EIGHT = ["#C0392B", "#2E86C1", "#27AE60", "#E67E22", "#8E44AD", "#16A085", "#F1C40F", "#7F8C8D"]
GRID = [((i % 4) * 80, (i // 4) * 60) for i in range(8)]


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    """Eight cameras for eight spare 80x60 slots, and ``ov``: a white file 0-3000 and a
    navy file 1000-3000 of the same stream (a reconnect while the old upload still ran)."""
    tmp = tmp_path_factory.mktemp("robust-crowd")
    pieces = [
        Piece(f"cam{i}", f"c{i}.mp4", 0,
              ClipSpec(duration_ms=2000, color=c, tone_hz=300 + 100 * i, moving_mark=False))
        for i, c in enumerate(EIGHT)
    ]  # fmt: skip
    pieces += [
        Piece("ov", "ov-a.mp4", 0,
              ClipSpec(duration_ms=3000, color="#FFFFFF", tone_hz=1100, moving_mark=False)),
        Piece("ov", "ov-b.mp4", 1000,
              ClipSpec(duration_ms=2000, color="#000080", tone_hz=1300, moving_mark=False)),
    ]  # fmt: skip
    slots: list[dict[str, Any]] = [
        {"LayoutParams": {"X": x, "Y": y, "Width": 80, "Height": 60}} for x, y in GRID
    ]
    slots.append(
        {"LayoutParams": {"X": 0, "Y": 120, "Width": 80, "Height": 60}, "InputStreamId": "ov"}
    )
    custom = {"Canvas": {"LayoutParams": {"Width": 320, "Height": 180}}, "InputStreamList": slots}
    manifest = mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=3000, Concat={"Enabled": True},
        MixStream={"Enabled": True, "Custom": custom},
    )  # fmt: skip
    return mc.generate(manifest, tmp / "out")


def test_eight_cameras_each_show_in_their_own_slot_and_are_all_heard(crowd: Generated) -> None:
    mix = crowd.path(crowd.one(3))
    frame = mc.frame_at(mix, 1000)
    for i, (color, (x, y)) in enumerate(zip(EIGHT, GRID, strict=True)):
        mc.assert_color(
            mc.mean_color(frame, *mc.center_region(x, y, 80, 60)), color, what=f"cam{i}"
        )
        assert mc.tone_level_db(mix, 200, 1800, 300 + 100 * i) > -35, f"cam{i} not heard"
    assert sorted(v["UserId"] for v in crowd.infos(0)) == sorted(
        [f"cam{i}" for i in range(8)] + ["ov"]
    )


def test_overlapping_segments_of_one_stream_show_and_play_only_the_later_one(
    crowd: Generated,
) -> None:
    """DESIGN allows overlap without saying who wins; a user expects one picture and one
    voice, never both files' sound at once: the later file (the reconnect) takes over."""
    mix = crowd.path(crowd.one(3))
    own = crowd.path(crowd.one(0, "ov"))
    assert abs(crowd.one(0, "ov")["VideoDuration"] - 3000) <= FRAME_MS + PRIMING_MS
    for path, region in ((mix, mc.center_region(0, 120, 80, 60)), (own, (40, 30, 80, 60))):
        early, later = mc.frames_at(path, [500, 2000])
        mc.assert_color(mc.mean_color(early, *region), "#FFFFFF", what=f"{path.name} at 500")
        mc.assert_color(mc.mean_color(later, *region), "#000080", what=f"{path.name} at 2000")
        assert mc.tone_level_db(path, 100, 900, 1100) > HEARD
        assert mc.tone_level_db(path, 1200, 2800, 1300) > HEARD
        assert mc.tone_level_db(path, 1200, 2800, 1100) < SILENT, "both files heard at once"


# --- Pauses at the very start, in the middle (longer than a segment) and at the very end ---

PAUSES = ((0, 1000), (3000, 5000), (7000, 8000))


@pytest.fixture(scope="module")
def paused(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    """Wall 0-8000 paused 0-1000, 3000-5000 and 7000-8000: playback 4000 ms.

    ``t``: red, flash+beep at wall 600 (paused), 2000 (-> 1000), 5600 (-> 2600), 7400
    (paused). ``s``: one file wholly inside the middle pause (3500-4500), one at 5200-6000
    (-> playback 2200-3000)."""
    tmp = tmp_path_factory.mktemp("robust-paused")
    sync = (600, 2000, 5600, 7400)
    pieces = [
        Piece("t", "t.mp4", 0, ClipSpec(
            duration_ms=8000, color=RED, tone_hz=440, flashes_ms=sync, beeps_ms=sync)),
        Piece("s", "s1.mp4", 3500, ClipSpec(duration_ms=1000, color=BLUE, tone_hz=660)),
        Piece("s", "s2.mp4", 5200, ClipSpec(duration_ms=800, color=BLUE, tone_hz=660)),
    ]  # fmt: skip
    manifest = mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=8000, pauses_ms=PAUSES, Concat={"Enabled": True},
        AudioFileNeeded=True,
        MixStream={"Enabled": True, "Custom": _custom({"t": (0, 0), "s": (160, 0)}, 320, 120)},
    )  # fmt: skip
    return mc.generate(manifest, tmp / "out")


def test_pauses_at_the_start_in_the_middle_and_at_the_end_are_cut_and_reported(
    paused: Generated,
) -> None:
    assert paused.result["TotalTime"] == 4000
    assert paused.result["OmittedDurations"] == [
        {"VideoTime": at, "PauseTime": mc.START_MS + lo, "ResumeTime": mc.START_MS + hi}
        for at, (lo, hi) in zip((0, 2000, 4000), PAUSES, strict=True)
    ]
    mix = paused.one(3)
    assert abs(mix["VideoDuration"] - 4000) <= FRAME_MS
    probed = mc.probe_durations(paused.path(mix))
    assert abs(probed["video_duration_ms"] - 4000) <= FRAME_MS  # type: ignore[operator]
    assert abs(probed["audio_duration_ms"] - 4000) <= FRAME_MS  # type: ignore[operator]


def test_flashes_inside_edge_pauses_vanish_and_the_others_move_earlier_in_sync(
    paused: Generated,
) -> None:
    mix = paused.path(paused.one(3))
    _assert_synced(mc.flash_times_ms(mix, _picture()), mc.beep_onsets_ms(mix, 1000), [1000, 2600])
    own = paused.path(paused.one(0, "t"))
    _assert_synced(mc.flash_times_ms(own, _picture()), mc.beep_onsets_ms(own, 1000), [1000, 2600])


def test_a_segment_wholly_inside_a_pause_is_neither_seen_nor_heard(paused: Generated) -> None:
    (info,) = paused.infos(0, "s")
    assert abs(info["VideoPlayTime"] - 2200) <= FRAME_MS
    assert abs(info["VideoDuration"] - 800) <= FRAME_MS + PRIMING_MS
    mix = paused.path(paused.one(3))
    before, during = mc.frames_at(mix, [1500, 2600])
    mc.assert_color(mc.mean_color(before, *_picture(160)), BLACK, what="s before 2200")
    mc.assert_color(mc.mean_color(during, *_picture(160)), BLUE, what="s at 2600")
    assert mc.tone_level_db(mix, 100, 2100, 660) < SILENT
    assert mc.tone_level_db(mix, 2300, 2900, 660) > HEARD


@pytest.fixture(scope="module")
def open_ended(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    """No RecordStopTimeMs: ``a`` 0-3000 with sound, ``b`` 1000-4000 without."""
    tmp = tmp_path_factory.mktemp("robust-nostop")
    pieces = [
        Piece("a", "a.mp4", 0, ClipSpec(duration_ms=3000, tone_hz=440)),
        Piece("b", "b.mp4", 1000, ClipSpec(duration_ms=3000, color=RED, has_audio=False)),
    ]
    manifest = mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=4000,
        MixStream={"Enabled": True, "Custom": _custom({"a": (0, 0), "b": (160, 0)}, 320, 120)},
    )  # fmt: skip
    data = json.loads(manifest.read_text(encoding="utf-8"))
    del data["RecordStopTimeMs"]
    manifest.write_text(json.dumps(data), encoding="utf-8")
    return mc.generate(manifest, tmp / "out")


def test_without_a_stop_time_the_recording_ends_with_its_last_media(open_ended: Generated) -> None:
    assert abs(open_ended.result["TotalTime"] - 4000) <= FRAME_MS
    mix = open_ended.path(open_ended.one(3))
    assert abs(mc.probe_durations(mix)["video_duration_ms"] - 4000) <= FRAME_MS  # type: ignore[operator]
    last = mc.frame_at(mix, 3800)
    mc.assert_color(mc.mean_color(last, *_picture(160)), RED, what="b at the end")
    assert abs(open_ended.one(0, "b")["VideoPlayTime"] - 1000) <= FRAME_MS


# --- Template 1 without a whiteboard stream; a screen share that comes and goes ---

BOARD_RECT = (20, 256, 1280, 960)
SCREEN = "#7F8C8D"


@pytest.fixture(scope="module")
def boardless(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    """No ``tic_record_user`` at all; the teacher shares a screen 1000-2000 and 3000-4000."""
    tmp = tmp_path_factory.mktemp("robust-boardless")
    screen = ClipSpec(duration_ms=1000, width=320, height=240, color=SCREEN, has_audio=False)
    pieces = [
        Piece("teacher", "cam.mp4", 0, ClipSpec(duration_ms=4500, color=RED, tone_hz=440)),
        Piece("tic_substream_teacher", "s1.mp4", 1000, screen),
        Piece("tic_substream_teacher", "s2.mp4", 3000, screen),
    ]
    manifest = mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=4500, Concat={"Enabled": True},
        MixStream={"Enabled": True, "ModelId": 1},
    )  # fmt: skip
    return mc.generate(manifest, tmp / "out")


def test_without_a_whiteboard_the_board_rect_shows_the_template_background(
    boardless: Generated,
) -> None:
    assert boardless.infos(2) == []
    frames = mc.frames_at(boardless.path(boardless.one(3)), [500, 2500, 4300])
    for t, frame in zip((500, 2500, 4300), frames, strict=True):
        got = mc.mean_color(frame, *mc.center_region(*BOARD_RECT))
        mc.assert_color(got, BACKGROUND, what=f"board rect at {t} ms")
        mc.assert_color(mc.mean_color(frame, *_picture(8, 8)), RED, what="teacher slot")


def test_a_screen_share_that_comes_and_goes_covers_the_board_rect_only_while_shared(
    boardless: Generated,
) -> None:
    times = [1500, 2500, 3500]
    frames = mc.frames_at(boardless.path(boardless.one(3)), times)
    for t, frame, want in zip(times, frames, (SCREEN, BACKGROUND, SCREEN), strict=True):
        got = mc.mean_color(frame, *mc.center_region(*BOARD_RECT))
        mc.assert_color(got, want, what=f"board rect at {t} ms")
    info = boardless.one(1, "tic_substream_teacher")
    assert abs(info["VideoPlayTime"] - 1000) <= FRAME_MS
    assert abs(info["VideoDuration"] - 3000) <= FRAME_MS
    own = boardless.path(info)
    region = mc.center_region(0, 40, 320, 200)
    shown = [mc.mean_color(f, *region) for f in mc.frames_at(own, [500, 1500, 2500])]
    for got, want in zip(shown, (SCREEN, BLACK, SCREEN), strict=True):
        mc.assert_color(got, want, what="screen share video")
