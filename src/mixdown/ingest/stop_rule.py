"""When a live recording stops by itself (reference §6.1): no stream in the room for
AutoStopTimeout seconds (AUTO), a pause over 90 minutes or a recording over 24 hours
(FORCE_STOP). Pure: the recording's state and the clock in, the reason (or none) out."""

from __future__ import annotations

from dataclasses import dataclass

from mixdown.domain.recording import AUTO, FORCE_STOP

PAUSE_LIMIT_MS = 90 * 60 * 1000
RECORDING_LIMIT_MS = 24 * 60 * 60 * 1000
#: StartOnlineRecord's AutoStopTimeout: its default and TIW's range, in seconds.
AUTO_STOP_DEFAULT_S = 300
AUTO_STOP_MIN_S, AUTO_STOP_MAX_S = 300, 86400


@dataclass(frozen=True)
class LiveState:
    start_ms: int
    #: When the pause in progress began; None while recording.
    paused_ms: int | None
    #: The last time a stream was seen in the room (or the start).
    active_ms: int
    auto_stop_s: int
    #: Publishes in progress.
    streams_open: int


def due_stop(state: LiveState, now_ms: int) -> str | None:
    """The FinishReason the recording stops with now, or None while it goes on."""
    if now_ms - state.start_ms > RECORDING_LIMIT_MS:
        return FORCE_STOP
    if state.paused_ms is not None and now_ms - state.paused_ms > PAUSE_LIMIT_MS:
        return FORCE_STOP
    if state.streams_open == 0 and now_ms - state.active_ms >= state.auto_stop_s * 1000:
        return AUTO
    return None
