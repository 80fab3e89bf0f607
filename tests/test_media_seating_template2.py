"""Template 2 with a TeacherId and more cameras than slots (DESIGN §3).

Five cameras for four small slots, 4 s: amy, ben, cat and dan are there from the start;
the teacher ``zed`` (who sorts last) joins at 2000. ``TeacherId`` reserves slot 1 for zed,
so it stays empty until he comes, the other three slots go to amy, ben, cat (StreamId
order), and dan is heard but never shown. zed shares his screen (``tic_substream_zed``)
from 1000 to 3000: it covers the whiteboard's rectangle meanwhile.
"""

from __future__ import annotations

import pytest

import mediacheck as mc
from mediacheck import Generated, Piece
from mixdown.synth import ClipSpec

pytestmark = pytest.mark.media

BACKGROUND = "#34363B"
BOARD = "#EEEEE6"
SCREEN = "#7F8C8D"
CAMERAS = {  # colour, tone Hz, wall-clock start
    "amy": ("#E67E22", 300, 0),
    "ben": ("#8E44AD", 400, 0),
    "cat": ("#16A085", 500, 0),
    "dan": ("#F1C40F", 600, 0),
    "zed": ("#C0392B", 700, 2000),
}
#: Template 2 (DESIGN §3): canvas 1624x1000, board at (8, 8), slots in a column at x 1296.
BOARD_RECT = (8, 8, 1280, 960)
SLOTS = [(1296, y, 320, 240) for y in (8, 256, 504, 752)]


@pytest.fixture(scope="module")
def cls(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    tmp = tmp_path_factory.mktemp("seating")
    board = ClipSpec(duration_ms=4000, width=320, height=240, color=BOARD, has_audio=False)
    screen = ClipSpec(duration_ms=2000, width=320, height=240, color=SCREEN, has_audio=False)
    pieces = [
        Piece("tic_record_user", "board.mp4", 0, board),
        Piece("tic_substream_zed", "screen.mp4", 1000, screen),
    ]
    for sid, (color, tone, at) in CAMERAS.items():
        spec = ClipSpec(duration_ms=4000 - at, width=160, height=120, color=color, tone_hz=tone)
        pieces.append(Piece(sid, f"{sid}.mp4", at, spec))
    manifest = mc.write_recording(
        tmp / "in",
        ffmpeg,
        pieces,
        length_ms=4000,
        Whiteboard={"Width": 320, "Height": 240},
        MixStream={"Enabled": True, "ModelId": 2, "TeacherId": "zed"},
    )
    return mc.generate(manifest, tmp / "out")


def _slots(cls: Generated, t_ms: float) -> list[mc.RGB]:
    frame = mc.frame_at(cls.path(cls.one(3)), t_ms)
    assert frame.shape == (1000, 1624, 3)
    return [mc.mean_color(frame, *mc.center_region(*slot)) for slot in SLOTS]


def test_template_2_mix_has_its_canvas_and_user_id(cls: Generated) -> None:
    mix = cls.one(3)
    assert (mix["Width"], mix["Height"]) == (1624, 1000)
    assert mix["UserId"] == f"tic_mixstream_{mc.ROOM_ID}_2"
    frame = mc.frame_at(cls.path(mix), 500)
    mc.assert_color(mc.mean_color(frame, *mc.center_region(*BOARD_RECT)), BOARD, what="board")
    mc.assert_color(mc.mean_color(frame, 1300, 994, 300, 5), BACKGROUND, what="below slots")


def test_teacher_id_keeps_slot_1_empty_until_the_teacher_arrives(cls: Generated) -> None:
    before = _slots(cls, 1000)
    mc.assert_color(before[0], BACKGROUND, what="slot 1 before zed joins")
    after = _slots(cls, 3000)
    mc.assert_color(after[0], CAMERAS["zed"][0], what="slot 1 after zed joins")


def test_other_cameras_take_the_spare_slots_in_stream_id_order(cls: Generated) -> None:
    for t in (1000, 3000):
        got = _slots(cls, t)
        for slot, sid in zip(got[1:], ("amy", "ben", "cat"), strict=True):
            mc.assert_color(slot, CAMERAS[sid][0], what=f"{sid} at {t} ms")


def test_a_camera_without_a_slot_is_heard_but_not_shown(cls: Generated) -> None:
    mix = cls.path(cls.one(3))
    dan = CAMERAS["dan"][0]
    for t in (1000, 3000):
        frame = mc.frame_at(mix, t)
        for x, y, w, h in SLOTS:
            got = mc.mean_color(frame, *mc.center_region(x, y, w, h))
            assert mc.color_distance(got, dan) > 40, f"dan is shown at {t} ms"
    assert mc.tone_level_db(mix, 300, 3700, CAMERAS["dan"][1]) > -40
    assert mc.tone_level_db(mix, 300, 1900, CAMERAS["zed"][1]) < -55
    assert mc.tone_level_db(mix, 2300, 3700, CAMERAS["zed"][1]) > -40


def test_without_concat_each_camera_still_gets_its_own_video(cls: Generated) -> None:
    assert sorted(v["UserId"] for v in cls.infos(0)) == sorted(CAMERAS)
    assert cls.one(0, "zed")["VideoPlayTime"] == pytest.approx(2000, abs=67)
    assert cls.infos(4) == []  # AudioFileNeeded not asked


def test_screen_share_covers_the_whiteboard_rect_while_active(cls: Generated) -> None:
    mix = cls.path(cls.one(3))
    expected = {500: BOARD, 2000: SCREEN, 3500: BOARD}
    for frame, (t, color) in zip(mc.frames_at(mix, list(expected)), expected.items(), strict=True):
        got = mc.mean_color(frame, *mc.center_region(*BOARD_RECT))
        mc.assert_color(got, color, what=f"whiteboard rect at {t} ms")
    screen = cls.one(1, "tic_substream_zed")
    assert abs(screen["VideoPlayTime"] - 1000) <= 67
    assert abs(screen["VideoDuration"] - 2000) <= 67
