"""The console's picture of a class: a lane per stream in a fixed order, bars where media
was, reconnects marked, pauses shaded, open segments drawn to the end, round time marks."""

from __future__ import annotations

from mixdown.console.timeline import LABEL_W, WIDTH, Piece, clock, timeline

T0 = 1_800_000_000_000


def test_lanes_put_the_whiteboard_first_then_cameras_then_screen_shares() -> None:
    pieces = [
        Piece("tic_substream_bob", T0 + 5_000, T0 + 6_000),
        Piece("zoe", T0, T0 + 10_000),
        Piece("tic_record_user", T0, T0 + 10_000),
        Piece("adam", T0, T0 + 10_000),
    ]
    lanes = timeline(T0, T0 + 10_000, pieces, []).lanes
    assert [lane.stream_id for lane in lanes] == [
        "tic_record_user",
        "adam",
        "zoe",
        "tic_substream_bob",
    ]
    assert [lane.kind for lane in lanes] == ["whiteboard", "camera", "camera", "screen"]
    assert lanes[1].y > lanes[0].y


def test_bars_sit_where_the_media_was_and_a_return_is_marked() -> None:
    pieces = [Piece("bob", T0 + 1_000, T0 + 3_000), Piece("bob", T0 + 6_000, T0 + 10_000)]
    (lane,) = timeline(T0, T0 + 10_000, pieces, []).lanes
    first, second = lane.bars
    scale = (WIDTH - LABEL_W) / 10_000
    assert abs(first.x - (LABEL_W + 1_000 * scale)) < 1e-6
    assert abs(first.width - 2_000 * scale) < 1e-6
    assert (first.reconnect, second.reconnect) == (False, True)
    # The gap between them is left empty.
    assert second.x - (first.x + first.width) > 2_000 * scale


def test_pauses_are_shaded_and_a_segment_still_recording_reaches_the_end() -> None:
    pieces = [Piece("tic_record_user", T0, None)]
    picture = timeline(T0, T0 + 20_000, pieces, [(T0 + 5_000, T0 + 8_000), (T0 - 9, T0 - 1)])
    (shade,) = picture.pauses  # the one before the start is not drawn
    assert (shade.pause_ms, shade.resume_ms) == (T0 + 5_000, T0 + 8_000)
    (bar,) = picture.lanes[0].bars
    assert bar.open and bar.end_ms == T0 + 20_000
    assert abs(bar.x + bar.width - WIDTH) < 1e-6


def test_time_marks_are_round_and_about_eight() -> None:
    ticks = timeline(T0, T0 + 60 * 60_000, [], []).ticks
    assert [t.label for t in ticks[:3]] == ["0:00", "10:00", "20:00"]
    assert 4 <= len(ticks) <= 9
    assert clock(3_725_000) == "1:02:05" and clock(65_000) == "1:05"
