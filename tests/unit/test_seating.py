from mixdown.domain.parameters import MixStream
from mixdown.domain.timing import Span
from mixdown.planning.layout import layout_for
from mixdown.planning.seating import Seat, seat

T1 = layout_for(MixStream(enabled=True, model_id=1)).slots  # 0 board, 1 screen, 2-5 small


def seats_of(result: list[Seat], sid: str) -> list[tuple[int, int, int]]:
    return [(s.slot, s.span.start, s.span.end) for s in result if s.stream_id == sid]


def test_spare_slots_go_in_order_of_first_appearance_with_ties_by_stream_id() -> None:
    result = seat(T1, {"c": [Span(0, 10)], "b": [Span(0, 10)], "a": [Span(5, 10)]})
    assert seats_of(result, "b") == [(2, 0, 10)]
    assert seats_of(result, "c") == [(3, 0, 10)]
    assert seats_of(result, "a") == [(4, 5, 10)]


def test_whiteboard_and_screen_share_take_their_reserved_rectangles() -> None:
    result = seat(T1, {"tic_record_user": [Span(0, 10)], "tic_substream_t": [Span(2, 4)]})
    assert seats_of(result, "tic_record_user") == [(0, 0, 10)]
    assert seats_of(result, "tic_substream_t") == [(1, 2, 4)]


def test_a_returning_user_gets_the_old_slot_back_when_it_is_free() -> None:
    result = seat(T1, {"a": [Span(0, 5), Span(8, 10)], "b": [Span(0, 10)]})
    assert seats_of(result, "a") == [(2, 0, 5), (2, 8, 10)]


def test_a_returning_user_whose_old_slot_was_taken_gets_the_first_free_one() -> None:
    presence = {
        "a": [Span(0, 5), Span(8, 10)],
        "b": [Span(0, 10)],
        "c": [Span(6, 10)],  # appears while a is away and takes a's old slot
    }
    result = seat(T1, presence)
    assert seats_of(result, "c") == [(2, 6, 10)]
    assert seats_of(result, "a") == [(2, 0, 5), (4, 8, 10)]


def test_more_cameras_than_slots_leaves_the_latest_unseen_until_a_slot_frees() -> None:
    presence = {f"u{i}": [Span(i, 20)] for i in range(5)}
    presence["u0"] = [Span(0, 10)]
    result = seat(T1, presence)
    assert seats_of(result, "u4") == [(2, 10, 20)]  # waits, then takes u0's freed slot
    assert [s.slot for s in result if s.stream_id != "u4"] == [2, 3, 4, 5]


def test_teacher_id_reserves_the_first_small_slot_even_while_absent() -> None:
    slots = layout_for(MixStream(enabled=True, model_id=1, teacher_id="t")).slots
    result = seat(slots, {"a": [Span(0, 10)], "t": [Span(5, 10)]})
    assert seats_of(result, "a") == [(3, 0, 10)]
    assert seats_of(result, "t") == [(2, 5, 10)]


def test_audio_only_streams_have_no_presence_so_take_no_slot() -> None:
    assert seat(T1, {"a": []}) == []
