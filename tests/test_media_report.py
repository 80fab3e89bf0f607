"""The generation report in ``result.json``: each warning provoked by a real input, the
outputs checked alongside, and a clean class that raises none.

Template 1: the small slots are 320x240 at y 8, x 8 / 336 / 664 / 992.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

import mediacheck as mc
from mediacheck import Generated, Piece
from mixdown.synth import ClipSpec, make_clip
from recorders import make_truncated

pytestmark = pytest.mark.media

SLOTS_X = (8, 336, 664, 992)
COLORS = ("#E67E22", "#2E86C1", "#27AE60", "#F1C40F", "#8E44AD")
BOARD = "#DDDDDD"


def _report(gen: Generated) -> dict[str, Any]:
    report: dict[str, Any] = gen.result["GenerationReport"]
    return report


def _output(gen: Generated, name_start: str) -> dict[str, Any]:
    found = [o for o in _report(gen)["Outputs"] if o["FileName"].startswith(name_start)]
    assert len(found) == 1, [o["FileName"] for o in _report(gen)["Outputs"]]
    return found[0]


def _codes(output: dict[str, Any]) -> list[str]:
    return [w["Code"] for w in output["Warnings"]]


def _board(length_ms: int) -> Piece:
    spec = ClipSpec(duration_ms=length_ms, color=BOARD, has_audio=False, width=320, height=240)
    return Piece("tic_record_user", "wb.mp4", 0, spec)


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    """Five cameras for four small slots, all to the end: u4 joins last, never gets one."""
    tmp = tmp_path_factory.mktemp("crowded")
    cams = [
        Piece(
            f"u{i}", f"u{i}.mp4", i * 200, ClipSpec(3000 - i * 200, color=c, tone_hz=300 + 100 * i)
        )
        for i, c in enumerate(COLORS)
    ]
    manifest = mc.write_recording(
        tmp, ffmpeg, [_board(3000), *cams], length_ms=3000,
        MixStream={"Enabled": True, "ModelId": 1}, Concat={"Enabled": True},
    )  # fmt: skip
    return mc.generate(manifest, tmp / "out")


def test_a_camera_with_no_free_slot_is_reported_never_shown_and_still_gets_its_own_video(
    crowded: Generated,
) -> None:
    mix = _output(crowded, "mix_")
    assert _codes(mix) == ["StreamNotShown"]
    (warning,) = mix["Warnings"]
    assert warning["StreamId"] == "u4" and "never shown" in warning["Message"]
    frame = mc.frame_at(crowded.path(crowded.one(3)), 1500)
    for x, color in zip(SLOTS_X, COLORS[:4], strict=True):
        mc.assert_color(mc.mean_color(frame, *mc.center_region(x, 8, 320, 240)), color)
    u4 = mc.frame_at(crowded.path(crowded.one(0, "u4")), 500)
    mc.assert_color(mc.mean_color(u4, 40, 30, 80, 60), COLORS[4], what="u4's own video")
    others = [o for o in _report(crowded)["Outputs"] if not o["FileName"].startswith("mix_")]
    assert others and all(o["Warnings"] == [] for o in others)
    assert _report(crowded)["WarningCount"] == 1


def test_the_report_says_what_each_output_was_made_of_and_what_was_measured(
    crowded: Generated,
) -> None:
    mix = _output(crowded, "mix_")
    assert mix["Method"] == "encode" and mix["VideoType"] == 3
    assert mix["PlannedDuration"] == 3000
    assert abs(mix["ActualDuration"] - 3000) <= 70
    assert mix["AudioVideoOffset"] is not None and abs(mix["AudioVideoOffset"]) <= 67
    video = {s["StreamId"] for s in mix["Sources"] if s["Track"] == "video"}
    audio = {s["StreamId"] for s in mix["Sources"] if s["Track"] == "audio"}
    assert video == {"tic_record_user", "u0", "u1", "u2", "u3"}  # u4 was never drawn
    assert audio == {"u0", "u1", "u2", "u3", "u4"}  # but it is heard
    u2 = next(s for s in mix["Sources"] if s["StreamId"] == "u2" and s["Track"] == "audio")
    assert u2["Url"].endswith("u2.mp4")
    assert u2["Ranges"] == [{"SourceStart": 0, "SourceEnd": 2600, "OutputStart": 400}]
    cam = _output(crowded, "camera_u1_")
    assert cam["Method"] in ("splice", "remux", "encode")
    assert cam["PlannedDuration"] == 2800 and abs(cam["ActualDuration"] - 2800) <= 70


@pytest.fixture(scope="module")
def unmatched(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    tmp = tmp_path_factory.mktemp("unmatched")
    cam = Piece("teacher", "teacher.mp4", 0, ClipSpec(2000, color=COLORS[0], tone_hz=440))
    custom = {
        "Canvas": {"LayoutParams": {"Width": 320, "Height": 240}},
        "InputStreamList": [
            {"LayoutParams": {"Width": 320, "Height": 240}, "InputStreamId": "nobody"}
        ],
    }
    manifest = mc.write_recording(
        tmp, ffmpeg, [cam], length_ms=2000, MixStream={"Enabled": True, "Custom": custom}
    )
    return mc.generate(manifest, tmp / "out")


def test_a_layout_slot_that_matches_no_stream_is_reported_with_the_black_mix_it_explains(
    unmatched: Generated,
) -> None:
    frame = mc.frame_at(unmatched.path(unmatched.one(3)), 1000)
    mc.assert_color(mc.mean_color(frame, 0, 0, 320, 240), "#000000", what="the whole mix")
    mix = _output(unmatched, "mix_")
    assert _codes(mix) == ["SlotUnmatched", "StreamNotShown"]
    slot, camera = mix["Warnings"]
    assert "InputStreamList[0] (InputStreamId 'nobody')" in slot["Message"]
    assert (
        camera["StreamId"] == "teacher" and "no slot of the layout takes it" in (camera["Message"])
    )


def test_the_cli_prints_each_warning_on_stderr_after_generating(
    tmp_path: Path, ffmpeg: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cam = Piece("teacher", "teacher.mp4", 0, ClipSpec(1000, color=COLORS[0]))
    custom = {
        "Canvas": {"LayoutParams": {"Width": 160, "Height": 120}},
        "InputStreamList": [{"LayoutParams": {"Width": 160, "Height": 120}, "InputStreamId": "x"}],
    }
    manifest = mc.write_recording(
        tmp_path, ffmpeg, [cam], length_ms=1000, MixStream={"Enabled": True, "Custom": custom}
    )
    mc.generate(manifest, tmp_path / "out")
    err = capsys.readouterr().err
    assert "mixdown: warning: SlotUnmatched: MixStream.Custom.InputStreamList[0]" in err
    assert "mixdown: warning: StreamNotShown: teacher: never shown" in err
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    """A camera cut to 40 % of its bytes (its header still claims 5 s), and one whose middle
    is overwritten with noise."""
    tmp = tmp_path_factory.mktemp("damaged")
    make_truncated(
        ClipSpec(5000, color=COLORS[1], tone_hz=500), tmp / "cut.mp4", ffmpeg, "mp4", 0.4
    )
    noisy = make_clip(
        ClipSpec(5000, color=COLORS[2], tone_hz=600, width=320, height=240),
        tmp / "noisy.mp4",
        ffmpeg,
    )
    _overwrite_middle(noisy)
    board = _board(5000)
    make_clip(board.spec, tmp / board.name, ffmpeg)
    streams = [("tic_record_user", "wb.mp4"), ("cut", "cut.mp4"), ("noisy", "noisy.mp4")]
    manifest = {
        "RoomId": mc.ROOM_ID,
        "RecordStartTimeMs": mc.START_MS,
        "RecordStopTimeMs": mc.START_MS + 5000,
        "Streams": [
            {"StreamId": sid, "Segments": [{"Url": name, "StartTime": mc.START_MS}]}
            for sid, name in streams
        ],
        "MixStream": {"Enabled": True, "ModelId": 1},
        "AudioFileNeeded": True,
    }
    path = tmp / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return mc.generate(path, tmp / "out")


def _overwrite_middle(path: Path) -> None:
    """Noise over 40-70 % of a faststart MP4: sample data only, its index stays whole."""
    size = path.stat().st_size
    rng = random.Random(7)
    with path.open("r+b") as f:
        for at in range(int(size * 0.4), int(size * 0.7), 1500):
            f.seek(at)
            f.write(bytes(rng.randrange(256) for _ in range(300)))
        f.flush()
        os.fsync(f.fileno())


def test_a_truncated_source_is_reported_on_every_output_it_feeds_and_its_part_is_used(
    damaged: Generated,
) -> None:
    fed = [o for o in _report(damaged)["Outputs"] if "_cut_" in o["FileName"]]
    fed.append(_output(damaged, "mix_"))
    assert len(fed) == 3  # its video, its mp3, the mix
    for output in fed:
        (warning,) = [w for w in output["Warnings"] if w["Code"] == "SourceTruncated"]
        assert warning["Url"].endswith("cut.mp4") and warning["StreamId"] == "cut"
        assert "header claims 5.0 s" in warning["Message"], warning
        assert "the readable part is used" in warning["Message"]
    cam = damaged.one(0, "cut")
    readable = cam["VideoDuration"]
    assert 500 <= readable <= 3500, "the readable part, not the 5 s the header claims"
    frame = mc.frame_at(damaged.path(cam), readable / 2)
    mc.assert_color(mc.mean_color(frame, 40, 30, 80, 60), COLORS[1], what="the readable part")


def test_decoding_errors_in_a_damaged_source_are_reported_naming_it(damaged: Generated) -> None:
    mix = _output(damaged, "mix_")
    errors = [w for w in mix["Warnings"] if w["Code"] == "DecodeErrors"]
    named = {Path(w["Url"]).name for w in errors if w.get("Url")}
    assert "noisy.mp4" in named, mix["Warnings"]
    assert "wb.mp4" not in named, "the clean whiteboard is never blamed by name"
    # A decoder that does not say which file it read names every candidate, never one.
    for w in errors:
        assert "skipped or concealed" in w["Message"]
        if not w.get("Url"):
            assert "one of " in w["Message"] and "noisy.mp4" in w["Message"]
    clean = [o for o in _report(damaged)["Outputs"] if o["FileName"].startswith("whiteboard")]
    assert [o["Warnings"] for o in clean] == [[]]
