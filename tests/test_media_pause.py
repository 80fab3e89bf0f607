"""A pause, Concat gaps with an image, RecordControl, and outputs without Concat (DESIGN §1-2).

Wall clock 0-6000 with a pause 2000-3000, so playback is 5000 ms and wall 3000 plays at 2000.

* ``teacher``: red, 440 Hz, beep+flash at wall 600, 2600 (inside the pause) and 4000;
* ``gappy``: blue, 660 Hz, wall 0-1500 and 3500-6000: playback 0-1500 and 2500-5000;
* ``stu_a``: green, 550 Hz; RecordControl ``stu`` -> DisableAudio (seen, never heard);
* ``stu_xy``: yellow, 770 Hz; ``stu_x`` is the longer prefix -> DisableRecord (gone);
* the whiteboard, whole class.

The manifest asks for Concat with a wide orange image; a second run passes params that turn
Concat and the mix off.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import mediacheck as mc
from mediacheck import Generated, Piece
from mixdown.synth import ClipSpec, make_image

pytestmark = pytest.mark.media

FRAME_MS = 1000 / 15
PAUSE = (2000, 3000)
RED, BLUE, GREEN, YELLOW, ORANGE = "#C0392B", "#2E86C1", "#27AE60", "#F1C40F", "#E67E22"
BOARD = "#EEEEE6"
SLOTS = [(x, 8, 320, 240) for x in (8, 336, 664, 992)]  # template 1
CENTRE = mc.center_region(0, 15, 160, 105)  # of a 160x120 camera picture, below the mark


def _cam(color: str, tone: int, length: int, sync: tuple[int, ...] = ()) -> ClipSpec:
    return ClipSpec(duration_ms=length, color=color, tone_hz=tone, flashes_ms=sync, beeps_ms=sync)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    tmp = tmp_path_factory.mktemp("pause")
    filler = make_image(tmp / "filler.png", ORANGE, 320, 120, ffmpeg)
    board = ClipSpec(duration_ms=6000, width=320, height=240, color=BOARD, has_audio=False)
    pieces = [
        Piece("tic_record_user", "board.mp4", 0, board),
        Piece("teacher", "teacher.mp4", 0, _cam(RED, 440, 6000, (600, 2600, 4000))),
        Piece("gappy", "gappy-1.mp4", 0, _cam(BLUE, 660, 1500)),
        Piece("gappy", "gappy-2.mp4", 3500, _cam(BLUE, 660, 2500)),
        Piece("stu_a", "stu_a.mp4", 0, _cam(GREEN, 550, 6000)),
        Piece("stu_xy", "stu_xy.mp4", 0, _cam(YELLOW, 770, 6000)),
    ]
    return mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=6000, pauses_ms=[PAUSE],
        Whiteboard={"Width": 320, "Height": 240},
        Concat={"Enabled": True, "Image": str(filler)},
        MixStream={"Enabled": True, "ModelId": 1},
        RecordControl={
            "Enabled": True,
            "StreamControls": [
                {"StreamId": "stu", "DisableAudio": True},
                {"StreamId": "stu_x", "DisableRecord": True},
            ],
        },
        AudioFileNeeded=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def cls(inputs: Path) -> Generated:
    return mc.generate(inputs, inputs.parent.parent / "out")


@pytest.fixture(scope="module")
def pieces(inputs: Path) -> Generated:
    params = {"Concat": {"Enabled": False}, "MixStream": {"Enabled": False}}
    return mc.generate(inputs, inputs.parent.parent / "out-pieces", params)


def test_pause_is_cut_from_total_time_and_reported_as_omitted(cls: Generated) -> None:
    assert cls.result["TotalTime"] == 6000 - (PAUSE[1] - PAUSE[0])
    assert cls.result["OmittedDurations"] == [
        {"VideoTime": PAUSE[0], "PauseTime": mc.START_MS + PAUSE[0],
         "ResumeTime": mc.START_MS + PAUSE[1]}
    ]  # fmt: skip
    mix = cls.one(3)
    assert abs(mix["VideoDuration"] - 5000) <= FRAME_MS
    probed = mc.probe_durations(cls.path(mix))
    assert abs(probed["video_duration_ms"] - 5000) <= FRAME_MS  # type: ignore[operator]


def test_a_flash_during_the_pause_is_absent_and_later_media_moves_earlier(
    cls: Generated,
) -> None:
    mix = cls.path(cls.one(3))
    # Cameras at the start: gappy, stu_a, teacher (StreamId order); stu_xy is not recorded.
    flashes = mc.flash_times_ms(mix, mc.center_region(*SLOTS[2]))
    beeps = mc.beep_onsets_ms(mix, 1000)
    expected = [600, 4000 - (PAUSE[1] - PAUSE[0])]
    assert len(flashes) == 2 and len(beeps) == 2, (flashes, beeps)
    for flash, beep, want in zip(flashes, beeps, expected, strict=True):
        assert abs(flash - want) <= FRAME_MS and abs(beep - want) <= FRAME_MS, (flash, beep)
    teacher = cls.path(cls.one(0, "teacher"))
    own = mc.flash_times_ms(teacher, CENTRE)
    assert len(own) == 2, own
    assert all(abs(a - b) <= FRAME_MS for a, b in zip(own, expected, strict=True)), own


def test_disable_record_by_longest_prefix_drops_the_stream_everywhere(cls: Generated) -> None:
    assert cls.infos(user_id="stu_xy") == []
    mix = cls.path(cls.one(3))
    for t in (1000, 4000):
        frame = mc.frame_at(mix, t)
        for slot in SLOTS:
            got = mc.mean_color(frame, *mc.center_region(*slot))
            assert mc.color_distance(got, YELLOW) > 40, f"stu_xy shown at {t} ms"
    assert mc.tone_level_db(mix, 200, 4800, 770) < -55


def test_disable_audio_keeps_the_picture_but_drops_the_sound_everywhere(
    cls: Generated,
) -> None:
    mix = cls.path(cls.one(3))
    mc.assert_color(mc.mean_color(mc.frame_at(mix, 1000), *mc.center_region(*SLOTS[1])), GREEN)
    assert mc.tone_level_db(mix, 200, 4800, 550) < -55
    assert mc.tone_level_db(mix, 200, 4800, 440) > -40
    assert cls.infos(4, "stu_a") == []
    video = cls.path(cls.one(0, "stu_a"))
    mc.assert_color(mc.mean_color(mc.frame_at(video, 1000), *CENTRE), GREEN)
    if mc.probe_durations(video)["audio_start_ms"] is not None:
        assert mc.tone_level_db(video, 200, 4800, 550) < -55


def test_concat_gap_shows_the_concat_image_fitted_on_black_with_silence(
    cls: Generated,
) -> None:
    info = cls.one(0, "gappy")
    assert info["VideoPlayTime"] == 0
    assert abs(info["VideoDuration"] - 5000) <= FRAME_MS
    path = cls.path(info)
    gap = mc.frame_at(path, 2000)  # playback 1500-2500
    # A 320x120 image fitted into 160x120: 160x60 in the middle, black above and below.
    mc.assert_color(mc.mean_color(gap, 20, 45, 120, 30), ORANGE, what="image")
    mc.assert_color(mc.mean_color(gap, 20, 4, 120, 20), "#000000", what="bar above")
    mc.assert_color(mc.mean_color(gap, 20, 96, 120, 20), "#000000", what="bar below")
    mc.assert_color(mc.mean_color(mc.frame_at(path, 3500), *CENTRE), BLUE, what="after")
    assert mc.tone_level_db(path, 1600, 2400, 660) < -55
    assert mc.tone_level_db(path, 2700, 4800, 660) > -26
    mp3 = cls.path(cls.one(4, "gappy"))
    assert mc.tone_level_db(mp3, 1600, 2400, 660) < -55


def test_concat_whiteboard_video_spans_the_whole_playback(cls: Generated) -> None:
    info = cls.one(2)
    assert info["VideoPlayTime"] == 0
    assert abs(info["VideoDuration"] - 5000) <= FRAME_MS


def test_without_concat_a_segment_cut_by_a_pause_gives_two_outputs(pieces: Generated) -> None:
    assert pieces.infos(3) == []
    for video_type, user in ((0, "teacher"), (2, ""), (4, "teacher")):
        found = pieces.infos(video_type, user)
        spans = sorted((v["VideoPlayTime"], v["VideoDuration"]) for v in found)
        assert len(spans) == 2, (video_type, user, spans)
        (t0, d0), (t1, d1) = spans
        assert t0 == 0 and abs(d0 - 2000) <= FRAME_MS, spans
        assert t1 == pytest.approx(2000, abs=FRAME_MS) and abs(d1 - 3000) <= FRAME_MS, spans


def test_without_concat_each_segment_is_its_own_output(pieces: Generated) -> None:
    spans = sorted((v["VideoPlayTime"], v["VideoDuration"]) for v in pieces.infos(0, "gappy"))
    assert len(spans) == 2, spans
    (t0, d0), (t1, d1) = spans
    assert t0 == 0 and abs(d0 - 1500) <= FRAME_MS, spans
    assert abs(t1 - 2500) <= FRAME_MS and abs(d1 - 2500) <= FRAME_MS, spans


def test_a_piece_after_the_pause_keeps_its_sync_on_its_own_timeline(pieces: Generated) -> None:
    after = max(pieces.infos(0, "teacher"), key=lambda v: v["VideoPlayTime"])
    path = pieces.path(after)
    # Wall 4000 is playback 3000, i.e. 1000 ms into the piece that starts at 2000.
    (flash,) = mc.flash_times_ms(path, CENTRE)
    (beep,) = mc.beep_onsets_ms(path, 1000)
    assert abs(flash - 1000) <= FRAME_MS and abs(beep - flash) <= FRAME_MS, (flash, beep)


@pytest.fixture(scope="module")
def trimmed(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    """A 2 s recording whose one camera file starts 1 s before it and ends 1 s after it."""
    tmp = tmp_path_factory.mktemp("trim")
    spec = _cam(RED, 440, 4000, (600, 1600, 3600))  # wall -400, 600, 2600
    return mc.generate(
        mc.write_recording(
            tmp / "in", ffmpeg, [Piece("teacher", "teacher.mp4", -1000, spec)],
            length_ms=2000, Concat={"Enabled": True}, MixStream={"Enabled": True, "ModelId": 1},
        ),
        tmp / "out",
    )  # fmt: skip


def test_media_before_the_start_or_after_the_stop_is_trimmed(trimmed: Generated) -> None:
    assert trimmed.result["TotalTime"] == 2000
    camera = trimmed.one(0, "teacher")
    assert camera["VideoPlayTime"] == 0
    assert abs(camera["VideoDuration"] - 2000) <= FRAME_MS
    flashes = mc.flash_times_ms(trimmed.path(camera), CENTRE)
    assert len(flashes) == 1 and abs(flashes[0] - 600) <= FRAME_MS, flashes
    mix = trimmed.path(trimmed.one(3))
    assert abs(mc.probe_durations(mix)["video_duration_ms"] - 2000) <= FRAME_MS  # type: ignore[operator]
    (flash,) = mc.flash_times_ms(mix, mc.center_region(*SLOTS[0]))
    (beep,) = mc.beep_onsets_ms(mix, 1000)
    assert abs(flash - 600) <= FRAME_MS and abs(beep - flash) <= FRAME_MS, (flash, beep)
