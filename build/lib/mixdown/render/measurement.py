"""Read back a finished output: how long it lasts and where each track starts.

These are the report's measured facts (the plan says what was meant; this says what the
file holds), and the VideoInfo's duration and size come from the same reading.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av

from mixdown.domain.report import Measured


def measure(path: Path) -> Measured:
    """Duration and track starts in ms on the file's timeline (0 = what a player shows
    as 0:00), from the container's index: no decoding."""
    with av.open(str(path)) as container:
        base = container.start_time or 0
        video = next(iter(container.streams.video), None)
        audio = next(iter(container.streams.audio), None)
        return Measured(
            duration_ms=round((container.duration or 0) / 1000),
            video_start_ms=_start_ms(container, video, base),
            audio_start_ms=_start_ms(container, audio, base),
            width=int(video.codec_context.width) if video is not None else 0,
            height=int(video.codec_context.height) if video is not None else 0,
        )


def _start_ms(container: Any, stream: Any, base_us: int) -> int | None:
    if stream is None:
        return None
    if stream.start_time is None:
        first = next((p for p in container.demux(stream) if p.pts is not None), None)
        container.seek(0)
        if first is None:
            return None
        pts = first.pts
    else:
        pts = stream.start_time
    return round(float(pts * stream.time_base) * 1000 - base_us / 1000)
