import pytest

from mixdown.domain.recording import Pause
from mixdown.domain.result import OmittedDuration
from mixdown.domain.timing import Span, merge, subtract
from mixdown.planning.timeline import Mapped, Timeline

T = Timeline(1000, 11000, (Pause(3000, 4000), Pause(6000, 8000)))


def test_total_time_is_the_span_minus_every_pause() -> None:
    assert T.total_ms == 10000 - 1000 - 2000


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        (1000, 0),
        (2999, 1999),
        (3500, 2000),  # inside a pause: the resume point
        (4000, 2000),
        (7000, 4000),
        (9000, 5000),
        (500, 0),  # before the start
        (20000, 7000),  # after the stop
    ],
)
def test_position_of_a_wall_clock_instant(wall: int, expected: int) -> None:
    assert T.position(wall) == expected


def test_a_segment_crossing_a_pause_plays_as_two_adjacent_pieces() -> None:
    assert T.map(Span(2000, 5000)) == [
        Mapped(Span(2000, 3000), 1000),
        Mapped(Span(4000, 5000), 2000),
    ]


def test_media_before_the_start_and_after_the_stop_is_trimmed() -> None:
    assert T.map(Span(0, 2000)) == [Mapped(Span(1000, 2000), 0)]
    assert T.map(Span(10000, 15000)) == [Mapped(Span(10000, 11000), 6000)]
    assert T.map(Span(12000, 13000)) == []


def test_media_entirely_inside_a_pause_is_dropped() -> None:
    assert T.map(Span(6100, 7900)) == []


def test_omitted_durations_give_the_playback_position_of_each_pause() -> None:
    assert T.omitted() == (OmittedDuration(2000, 3000, 4000), OmittedDuration(4000, 6000, 8000))


def test_span_helpers() -> None:
    assert subtract(Span(0, 10), [Span(2, 3), Span(5, 20)]) == [Span(0, 2), Span(3, 5)]
    assert merge([Span(5, 6), Span(0, 2), Span(2, 3), Span(4, 4)]) == [Span(0, 3), Span(5, 6)]
