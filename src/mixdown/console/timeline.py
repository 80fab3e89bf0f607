"""The picture of a class on the console: one lane per stream (the whiteboard first, then
cameras and screen shares), a bar for each segment, pauses shaded across every lane,
reconnects marked, gaps left empty.

Pure: the recording's times and its segments in, a ``Timeline`` of positioned shapes out,
which the page draws as SVG. Times are epoch ms; x positions are pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mixdown.domain.recording import StreamKind, stream_kind

WIDTH = 960
LABEL_W = 170
LANE_H = 28
BAR_H = 18
AXIS_H = 24
_ORDER = {StreamKind.WHITEBOARD: 0, StreamKind.CAMERA: 1, StreamKind.SCREEN: 2}


@dataclass(frozen=True)
class Piece:
    """One segment of a stream; ``end_ms`` None while it is still being recorded."""

    stream_id: str
    start_ms: int
    end_ms: int | None


@dataclass(frozen=True)
class Bar:
    stream_id: str
    x: float
    width: float
    start_ms: int
    end_ms: int
    #: Not the stream's first segment: it came back (a reconnect or a late rejoin).
    reconnect: bool
    open: bool


@dataclass(frozen=True)
class Lane:
    stream_id: str
    kind: str
    y: float
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Shade:
    x: float
    width: float
    pause_ms: int
    resume_ms: int


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    lanes: tuple[Lane, ...]
    pauses: tuple[Shade, ...]
    ticks: tuple[Tick, ...]
    start_ms: int
    end_ms: int


def timeline(
    start_ms: int,
    end_ms: int,
    pieces: list[Piece],
    pauses: list[tuple[int, int]],
) -> Timeline:
    """The picture of a recording from ``start_ms`` to ``end_ms`` (its stop, or now)."""
    end_ms = max(end_ms, start_ms + 1, *(p.end_ms or p.start_ms for p in pieces))
    span = end_ms - start_ms

    def x(t: int) -> float:
        return LABEL_W + (WIDTH - LABEL_W) * (min(max(t, start_ms), end_ms) - start_ms) / span

    streams = sorted({p.stream_id for p in pieces}, key=lambda s: (_ORDER[stream_kind(s)], s))
    lanes = []
    for i, stream_id in enumerate(streams):
        own = sorted((p for p in pieces if p.stream_id == stream_id), key=lambda p: p.start_ms)
        bars = tuple(
            Bar(
                stream_id,
                x(p.start_ms),
                max(1.0, x(p.end_ms or end_ms) - x(p.start_ms)),
                p.start_ms,
                p.end_ms or end_ms,
                reconnect=n > 0,
                open=p.end_ms is None,
            )
            for n, p in enumerate(own)
        )
        lanes.append(Lane(stream_id, stream_kind(stream_id).value, AXIS_H + i * LANE_H, bars))
    shades = tuple(
        Shade(x(p), max(1.0, x(r) - x(p)), p, r) for p, r in pauses if r > start_ms and p < end_ms
    )
    return Timeline(
        WIDTH,
        AXIS_H + max(1, len(lanes)) * LANE_H + 4,
        tuple(lanes),
        shades,
        _ticks(start_ms, end_ms, x),
        start_ms,
        end_ms,
    )


def _ticks(start_ms: int, end_ms: int, x: Callable[[int], float]) -> tuple[Tick, ...]:
    """About eight round marks along the top: 1 s, 5 s, 10 s, 30 s, 1 min … apart."""
    span = end_ms - start_ms
    step = next(
        (s for s in (1, 5, 10, 30, 60, 300, 600, 1800, 3600) if span / (s * 1000) <= 8), 7200
    )
    return tuple(
        Tick(x(start_ms + t * 1000), clock(t * 1000)) for t in range(0, span // 1000 + 1, step)
    )


def clock(ms: int) -> str:
    """``m:ss`` or ``h:mm:ss`` of a duration."""
    seconds = ms // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"
