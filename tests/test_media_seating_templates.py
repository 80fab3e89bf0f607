"""Checks of who sits where over time in the built-in templates (DESIGN §1 kind
table, §3 "Who goes where").

``crowd`` (template 2, 6 s, ``TeacherId`` "teach" who never comes, so slot 1 stays empty and
three spare slots remain). Six cameras join one by one while two leave:

=====  ==========================  =====================================================
 id     present (ms)                expected slot
=====  ==========================  =====================================================
 ann    0-3600                      2 until she leaves
 bea    600-2400, again 4200-6000   3; on return her old slot is taken: not shown
 cal    1200-6000                   4
 dex    1800-6000                   none until bea leaves, then bea's slot 3
 eve    3000-6000                   none until ann leaves, then ann's slot 2
 fay    4800-6000                   none (every slot is taken)
=====  ==========================  =====================================================

``kinds`` (template 1, 3 s, ``TeacherId`` "teach" absent): the ids decide the kind.
``tic_record_user_7`` is a whiteboard (board rect, VideoType 2, UserId ""),
``tic_substream_bob`` a screen share 600-1800 with a tone (board rect above the board,
VideoType 1, heard in the mix), ``bob`` a camera (slot 2), and ``tic_substreamer``, present
2000-3000, is a camera by the table (it does not start with ``tic_substream_``): slot 3.
"""

from __future__ import annotations

import pytest

import mediacheck as mc
from mediacheck import Generated, Piece
from mixdown.synth import ClipSpec

pytestmark = pytest.mark.media

FRAME_MS = 1000 / 15
BACKGROUND, BOARD, SCREEN = "#34363B", "#EEEEE6", "#7F8C8D"
CAMERAS = {  # colour, tone Hz, [(join, leave)]
    "ann": ("#E67E22", 300, [(0, 3600)]),
    "bea": ("#8E44AD", 400, [(600, 2400), (4200, 6000)]),
    "cal": ("#16A085", 500, [(1200, 6000)]),
    "dex": ("#F1C40F", 600, [(1800, 6000)]),
    "eve": ("#C0392B", 700, [(3000, 6000)]),
    "fay": ("#2E86C1", 800, [(4800, 6000)]),
}
TEMPLATE_2_SLOTS = [(1296, y, 320, 240) for y in (8, 256, 504, 752)]
TEMPLATE_1_SLOTS = [(x, 8, 320, 240) for x in (8, 336, 664, 992)]
TEMPLATE_1_BOARD = (20, 256, 1280, 960)
#: Time -> expected occupant of slots 1-4 (None: empty, the template background).
EXPECTED = {
    300: [None, "ann", None, None],
    900: [None, "ann", "bea", None],
    1500: [None, "ann", "bea", "cal"],
    2100: [None, "ann", "bea", "cal"],
    2700: [None, "ann", "dex", "cal"],
    3300: [None, "ann", "dex", "cal"],
    3900: [None, "eve", "dex", "cal"],
    4500: [None, "eve", "dex", "cal"],
    5400: [None, "eve", "dex", "cal"],
}


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    tmp = tmp_path_factory.mktemp("adv-crowd")
    pieces = []
    for sid, (color, tone, spans) in CAMERAS.items():
        for n, (lo, hi) in enumerate(spans):
            spec = ClipSpec(duration_ms=hi - lo, color=color, tone_hz=tone, moving_mark=False)
            pieces.append(Piece(sid, f"{sid}-{n}.mp4", lo, spec))
    manifest = mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=6000,
        MixStream={"Enabled": True, "ModelId": 2, "TeacherId": "teach"},
    )  # fmt: skip
    return mc.generate(manifest, tmp / "out")


def test_cameras_joining_one_by_one_while_two_leave_fill_freed_slots_in_order_of_arrival(
    crowd: Generated,
) -> None:
    frames = mc.frames_at(crowd.path(crowd.one(3)), list(EXPECTED))
    for frame, (t, occupants) in zip(frames, EXPECTED.items(), strict=True):
        for i, (slot, sid) in enumerate(zip(TEMPLATE_2_SLOTS, occupants, strict=True)):
            want = BACKGROUND if sid is None else CAMERAS[sid][0]
            got = mc.mean_color(frame, *mc.center_region(*slot))
            mc.assert_color(got, want, what=f"slot {i + 1} at {t} ms ({sid})")


def test_cameras_without_a_slot_are_still_heard_and_leavers_are_not(crowd: Generated) -> None:
    mix = crowd.path(crowd.one(3))
    for sid, (_, tone, spans) in CAMERAS.items():
        for lo, hi in spans:
            assert mc.tone_level_db(mix, lo + 150, hi - 150, tone) > -35, (sid, lo)
    assert mc.tone_level_db(mix, 2550, 4050, CAMERAS["bea"][1]) < -55
    assert mc.tone_level_db(mix, 3750, 5850, CAMERAS["ann"][1]) < -55


@pytest.fixture(scope="module")
def kinds(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    tmp = tmp_path_factory.mktemp("adv-kinds")
    board = ClipSpec(duration_ms=3000, width=320, height=240, color=BOARD, has_audio=False)
    screen = ClipSpec(duration_ms=1200, width=320, height=240, color=SCREEN, tone_hz=900)
    pieces = [
        Piece("tic_record_user_7", "board.mp4", 0, board),
        Piece("tic_substream_bob", "screen.mp4", 600, screen),
        Piece("bob", "bob.mp4", 0, ClipSpec(duration_ms=3000, color="#2E86C1", tone_hz=500)),
        Piece("tic_substreamer", "cam.mp4", 2000, ClipSpec(duration_ms=1000, color="#C0392B")),
    ]
    manifest = mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=3000,
        Whiteboard={"Width": 320, "Height": 240},
        MixStream={"Enabled": True, "ModelId": 1, "TeacherId": "teach"},
    )  # fmt: skip
    return mc.generate(manifest, tmp / "out")


def _template_1(kinds: Generated, t_ms: float) -> tuple[mc.RGB, list[mc.RGB]]:
    frame = mc.frame_at(kinds.path(kinds.one(3)), t_ms)
    board = mc.mean_color(frame, *mc.center_region(*TEMPLATE_1_BOARD))
    return board, [mc.mean_color(frame, *mc.center_region(*s)) for s in TEMPLATE_1_SLOTS]


def test_a_stream_id_starting_with_tic_record_user_is_the_whiteboard(kinds: Generated) -> None:
    info = kinds.one(2)
    assert info["UserId"] == ""
    assert (info["Width"], info["Height"]) == (320, 240)
    assert kinds.infos(0, "tic_record_user_7") == []
    board, _ = _template_1(kinds, 300)
    mc.assert_color(board, BOARD, what="board rect")


def test_a_tic_substream_stream_is_a_screen_share_drawn_over_the_board_and_heard(
    kinds: Generated,
) -> None:
    info = kinds.one(1, "tic_substream_bob")
    assert abs(info["VideoPlayTime"] - 600) <= FRAME_MS
    board, slots = _template_1(kinds, 1200)
    mc.assert_color(board, SCREEN, what="board rect while shared")
    assert all(mc.color_distance(s, SCREEN) > 40 for s in slots), "screen share in a small slot"
    mix = kinds.path(kinds.one(3))
    assert mc.tone_level_db(mix, 750, 1650, 900) > -35
    assert mc.tone_level_db(mix, 2000, 2900, 900) < -55


def test_teacher_id_absent_all_class_keeps_slot_1_empty_from_start_to_end(
    kinds: Generated, crowd: Generated
) -> None:
    for t in (100, 1500, 2900):
        _, slots = _template_1(kinds, t)
        mc.assert_color(slots[0], BACKGROUND, what=f"template 1 slot 1 at {t} ms")
        mc.assert_color(slots[1], "#2E86C1", what=f"bob in template 1 slot 2 at {t} ms")
    frames = mc.frames_at(crowd.path(crowd.one(3)), [100, 5900])
    for frame in frames:
        got = mc.mean_color(frame, *mc.center_region(*TEMPLATE_2_SLOTS[0]))
        mc.assert_color(got, BACKGROUND, what="template 2 slot 1")


def test_a_camera_whose_id_only_begins_with_tic_substream_takes_a_small_slot(
    kinds: Generated,
) -> None:
    """DESIGN's kind table: only ``tic_substream_<user>`` is a screen share; anything else is
    a camera, so ``tic_substreamer`` sits in the next spare slot like any camera."""
    info = kinds.one(0, "tic_substreamer")
    assert info["VideoType"] == 0
    board, slots = _template_1(kinds, 2500)
    mc.assert_color(slots[2], "#C0392B", what="tic_substreamer in slot 3")
    mc.assert_color(board, BOARD, what="board rect")
