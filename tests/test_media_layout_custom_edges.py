"""Checks of Custom layouts (DESIGN §3, reference §3.4-§3.7).

Canvas 641x271 (odd: rounded up to 642x272) on #101820. Slots, in list order:

* ``board``  (0,0) 160x120, InputStreamId ``tic_record_user`` (the whiteboard), ZOrder 0;
* ``screen`` (0,0) 160x120, InputStreamId ``tic_substream`` (screen share), ZOrder 1;
* ``teacher`` (160,0) 160x120, reserved for "teacher", who never comes; yellow background;
* ``stu`` (481,0) 160x120, reserved by the prefix "stu", cyan background; x + w = 641, the
  canvas's right edge, at an odd x;
* ``P`` (0,130) 200x140 and ``Q`` (100,150) 200x120: spare, overlapping, equal ZOrder, so Q
  (listed later) is drawn on top;
* ``R`` (480,150) 161x121: spare, red background, touching the right and bottom edges; its
  camera is 8:3, so FillMode 0 shows red bars above and below it;
* ``spare`` (320,0) 160x120, spare, yellow background, listed last: no camera is left for it.

Streams (6 s): whiteboard all along; screen share 2000-4000; ``stu_a`` 0-3000 and again
4500-6000; ``stu_b`` 1000-6000; ``pp``, ``qq``, ``rr`` all along. ``stu_b`` waits for the
reserved slot (first come) and takes no spare slot meanwhile; when ``stu_a`` comes back the
slot is ``stu_b``'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import mediacheck as mc
from mediacheck import Generated, Piece
from mixdown.synth import ClipSpec

pytestmark = pytest.mark.media

CANVAS_BG, YELLOW, CYAN, RED_BG = "#101820", "#FFFF00", "#00FFFF", "#FF0000"
BOARD, SCREEN = "#EEEEE6", "#7F8C8D"
COLORS = {
    "stu_a": "#E67E22",
    "stu_b": "#8E44AD",
    "pp": "#16A085",
    "qq": "#2E86C1",
    "rr": "#C0392B",
}
RECTS = {
    "board": (0, 0, 160, 120),
    "teacher": (160, 0, 160, 120),
    "spare": (320, 0, 160, 120),
    "stu": (481, 0, 160, 120),
    "P": (0, 130, 200, 140),
    "Q": (100, 150, 200, 120),
    "R": (480, 150, 161, 121),
}


def _slot(rect: tuple[int, int, int, int], z: int = 0, **extra: Any) -> dict[str, Any]:
    x, y, w, h = rect
    return {"LayoutParams": {"X": x, "Y": y, "Width": w, "Height": h, "ZOrder": z}, **extra}


CUSTOM = {
    "Canvas": {"LayoutParams": {"Width": 641, "Height": 271}, "BackgroundColor": CANVAS_BG},
    "InputStreamList": [
        _slot(RECTS["board"], InputStreamId="tic_record_user"),
        _slot(RECTS["board"], 1, InputStreamId="tic_substream"),
        _slot(RECTS["teacher"], InputStreamId="teacher", BackgroundColor=YELLOW),
        _slot(RECTS["stu"], InputStreamId="stu", BackgroundColor=CYAN),
        _slot(RECTS["P"]),
        _slot(RECTS["Q"]),
        _slot(RECTS["R"], BackgroundColor=RED_BG),
        _slot(RECTS["spare"], BackgroundColor=YELLOW),
    ],
}


def _cam(sid: str, length: int, **kw: Any) -> ClipSpec:
    return ClipSpec(duration_ms=length, color=COLORS[sid], moving_mark=False, **kw)


@pytest.fixture(scope="module")
def cls(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    tmp = tmp_path_factory.mktemp("adv-layout")
    board = ClipSpec(duration_ms=6000, width=320, height=240, color=BOARD, has_audio=False)
    screen = ClipSpec(duration_ms=2000, width=320, height=240, color=SCREEN, has_audio=False)
    pieces = [
        Piece("tic_record_user", "board.mp4", 0, board),
        Piece("tic_substream_pp", "screen.mp4", 2000, screen),
        Piece("stu_a", "stu_a-1.mp4", 0, _cam("stu_a", 3000)),
        Piece("stu_a", "stu_a-2.mp4", 4400, _cam("stu_a", 1600)),
        Piece("stu_b", "stu_b.mp4", 1000, _cam("stu_b", 5000)),
        Piece("pp", "pp.mp4", 0, _cam("pp", 6000)),
        Piece("qq", "qq.mp4", 0, _cam("qq", 6000)),
        Piece("rr", "rr.mp4", 0, _cam("rr", 6000, width=320, height=120)),
    ]
    manifest = mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=6000, MixStream={"Enabled": True, "Custom": CUSTOM}
    )
    return mc.generate(manifest, tmp / "out")


@pytest.fixture(scope="module")
def frames(cls: Generated) -> dict[int, np.ndarray]:
    times = [500, 1500, 2600, 3400, 5000]
    return dict(zip(times, mc.frames_at(cls.path(cls.one(3)), times), strict=True))


def _centre(frame: np.ndarray, name: str) -> mc.RGB:
    return mc.mean_color(frame, *mc.center_region(*RECTS[name]))


def test_an_odd_canvas_is_rounded_up_to_even_and_reported_at_its_real_size(
    cls: Generated, frames: dict[int, np.ndarray]
) -> None:
    mix = cls.one(3)
    assert (mix["Width"], mix["Height"]) == (642, 272)
    assert frames[500].shape == (272, 642, 3)
    assert mix["UserId"] == f"tic_mixstream_{mc.ROOM_ID}_custom"


def test_equal_zorder_overlap_draws_the_later_slot_on_top(frames: dict[int, np.ndarray]) -> None:
    frame = frames[1500]
    mc.assert_color(mc.mean_color(frame, 10, 140, 60, 40), COLORS["pp"], what="P alone")
    mc.assert_color(mc.mean_color(frame, 120, 170, 60, 60), COLORS["qq"], what="P under Q")
    mc.assert_color(mc.mean_color(frame, 220, 230, 60, 30), COLORS["qq"], what="Q alone")


def test_a_prefix_slot_shared_by_two_users_holds_one_at_a_time_first_come(
    frames: dict[int, np.ndarray],
) -> None:
    expected = {500: "stu_a", 1500: "stu_a", 3400: "stu_b", 5000: "stu_b"}
    for t, sid in expected.items():
        got = mc.mean_color(frames[t], 520, 30, 80, 60)
        mc.assert_color(got, COLORS[sid], what=f"stu slot at {t} ms")


def test_a_user_waiting_for_a_reserved_slot_takes_no_spare_slot(
    frames: dict[int, np.ndarray],
) -> None:
    for t in (1500, 2600):
        got = _centre(frames[t], "spare")
        mc.assert_color(got, CANVAS_BG, what=f"free spare slot at {t} ms")


def test_empty_slots_show_the_canvas_background_not_their_own(
    frames: dict[int, np.ndarray],
) -> None:
    for t, frame in frames.items():
        mc.assert_color(_centre(frame, "teacher"), CANVAS_BG, what=f"teacher slot at {t} ms")
        mc.assert_color(_centre(frame, "spare"), CANVAS_BG, what=f"spare slot at {t} ms")


def test_the_whiteboard_and_screen_share_fill_custom_slots_reserved_for_them(
    frames: dict[int, np.ndarray],
) -> None:
    expected = {500: BOARD, 1500: BOARD, 2600: SCREEN, 3400: SCREEN, 5000: BOARD}
    for t, color in expected.items():
        mc.assert_color(_centre(frames[t], "board"), color, what=f"board slot at {t} ms")


def test_an_occupied_fit_slot_shows_its_own_background_in_the_bars(
    frames: dict[int, np.ndarray],
) -> None:
    frame = frames[1500]
    # rr is 320x120 (8:3) in a 162x122 slot: about 60 rows of picture, 31 of bars each side.
    mc.assert_color(mc.mean_color(frame, 490, 153, 140, 20), RED_BG, what="top bar")
    mc.assert_color(mc.mean_color(frame, 490, 250, 140, 20), RED_BG, what="bottom bar")
    mc.assert_color(mc.mean_color(frame, 500, 195, 120, 30), COLORS["rr"], what="picture")


def test_a_slot_touching_the_right_and_bottom_edges_is_filled_to_the_edge(
    frames: dict[int, np.ndarray],
) -> None:
    frame = frames[1500]
    # The last column and row of the (rounded-up) canvas belong to slot R.
    mc.assert_color(mc.mean_color(frame, 640, 160, 2, 20), RED_BG, what="right edge, bar")
    mc.assert_color(mc.mean_color(frame, 640, 200, 2, 20), COLORS["rr"], what="right edge")
    mc.assert_color(mc.mean_color(frame, 490, 270, 140, 2), RED_BG, what="bottom edge")


def test_a_slot_at_an_odd_x_covers_every_column_it_asked_for(
    frames: dict[int, np.ndarray],
) -> None:
    """Slot ``stu`` asks for columns 481..640. A 4:2:0 canvas places pictures on even
    columns, so Mixdown grows an odd-placed slot one pixel outward (480..641) rather than
    shifting it: the requested right edge at 640 belongs to the slot (its picture or a
    one-pixel bar of its own background), never a stripe of canvas background."""
    frame = frames[500]
    edge = mc.mean_color(frame, 640, 30, 1, 60)
    own = min(mc.color_distance(edge, COLORS["stu_a"]), mc.color_distance(edge, CYAN))
    assert own <= 14 and mc.color_distance(edge, CANVAS_BG) > 14, edge
    mc.assert_color(mc.mean_color(frame, 482, 30, 1, 60), COLORS["stu_a"], what="column 482")
