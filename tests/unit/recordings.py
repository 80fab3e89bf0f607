"""Builders of recordings and fake probe results for unit tests of pure planning code."""

from __future__ import annotations

from mixdown.domain.media import AudioTrack, MediaInfo, VideoTrack
from mixdown.domain.parameters import GenerationParams
from mixdown.domain.recording import Pause, Recording, Segment, Stream

T0 = 1_700_000_000_000


def media(
    duration: int,
    *,
    video: bool = True,
    audio: bool = True,
    size: tuple[int, int] = (640, 480),
    audio_offset: int = 0,
) -> MediaInfo:
    return MediaInfo(
        video=VideoTrack(0, duration, size[0], size[1], 15.0) if video else None,
        audio=AudioTrack(audio_offset, duration - audio_offset, 48000, 1) if audio else None,
    )


def recording(
    streams: dict[str, list[tuple[str, int]]],
    *,
    stop: int | None = 60_000,
    pauses: list[tuple[int, int]] = (),  # type: ignore[assignment]
    defaults: GenerationParams | None = None,
    audio_file: bool = False,
) -> Recording:
    """``streams``: id -> [(url, start offset ms from T0)]; pauses in offsets from T0."""
    return Recording(
        room_id=42,
        group_id="42",
        start_ms=T0,
        stop_ms=None if stop is None else T0 + stop,
        streams=tuple(
            Stream(sid, tuple(Segment(url, T0 + off) for url, off in segs))
            for sid, segs in streams.items()
        ),
        pauses=tuple(Pause(T0 + a, T0 + b) for a, b in pauses),
        defaults=defaults or GenerationParams(),
        audio_file_needed=audio_file,
    )
