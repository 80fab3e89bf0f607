"""When a live recording stops by itself: no stream for AutoStopTimeout (AUTO), a pause over
90 minutes or a recording over 24 hours (FORCE_STOP)."""

from __future__ import annotations

from mixdown.ingest.stop_rule import PAUSE_LIMIT_MS, RECORDING_LIMIT_MS, LiveState, due_stop

T0 = 1_800_000_000_000


def state(**changes: int | None) -> LiveState:
    values: dict[str, int | None] = {
        "start_ms": T0,
        "paused_ms": None,
        "active_ms": T0,
        "auto_stop_s": 300,
        "streams_open": 0,
    }
    values.update(changes)
    return LiveState(**values)  # type: ignore[arg-type]


def test_a_room_without_streams_stops_after_auto_stop_timeout() -> None:
    assert due_stop(state(), T0 + 299_999) is None
    assert due_stop(state(), T0 + 300_000) == "AUTO"


def test_the_timeout_counts_from_the_last_stream_seen() -> None:
    later = state(active_ms=T0 + 1_000_000)
    assert due_stop(later, T0 + 1_200_000) is None
    assert due_stop(later, T0 + 1_300_000) == "AUTO"


def test_an_open_stream_keeps_the_recording_going() -> None:
    assert due_stop(state(streams_open=1), T0 + 10 * 300_000) is None


def test_a_pause_over_ninety_minutes_is_a_forced_stop() -> None:
    paused = state(paused_ms=T0, streams_open=1)
    assert due_stop(paused, T0 + PAUSE_LIMIT_MS) is None
    assert due_stop(paused, T0 + PAUSE_LIMIT_MS + 1) == "FORCE_STOP"


def test_a_recording_over_a_day_is_a_forced_stop_even_with_streams() -> None:
    busy = state(streams_open=3)
    assert due_stop(busy, T0 + RECORDING_LIMIT_MS) is None
    assert due_stop(busy, T0 + RECORDING_LIMIT_MS + 1) == "FORCE_STOP"
