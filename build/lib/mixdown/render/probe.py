"""Probe a media file with PyAV: which tracks exist, where each starts, how long it lasts.

Durations come from demuxing every packet rather than from the container header, so a
truncated file reports what can actually be read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from mixdown.domain.media import HEADER_SLACK_MS, AudioTrack, MediaInfo, VideoTrack
from mixdown.errors import MediaError
from mixdown.render.size_runs import SizeRuns


@dataclass
class _Extent:
    first: float | None = None
    end: float | None = None
    #: Packets the demuxer flagged corrupt.
    damaged: int = 0

    def add(self, start: float, duration: float) -> None:
        self.first = start if self.first is None else min(self.first, start)
        stop = start + duration
        self.end = stop if self.end is None else max(self.end, stop)


def probe_media(path: Path, label: str | None = None) -> MediaInfo:
    """Probe one local file; ``label`` names it in errors (defaults to the path)."""
    name = label or str(path)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise MediaError(f"{name}: cannot read media ({_reason(exc)})") from None
    try:
        return _probe_open(container, name)
    finally:
        container.close()


def _probe_open(container: Any, name: str) -> MediaInfo:
    video = next((s for s in container.streams.video), None)
    audio = next((s for s in container.streams.audio), None)
    if video is None and audio is None:
        raise MediaError(f"{name}: no audio or video track")
    runs = SizeRuns(video) if video is not None else None
    extents = _scan(container, [s for s in (video, audio) if s is not None], name, runs)
    base = _base_seconds(container, extents)
    vtrack = _video_track(container, video, extents, base, name) if video is not None else None
    if vtrack is not None and runs is not None:
        vtrack = replace(vtrack, sizes=_sizes(runs.sizes(), base, vtrack))
    atrack = _audio_track(audio, extents, base) if audio is not None else None
    if vtrack is None and atrack is None:
        raise MediaError(f"{name}: no decodable audio or video")
    return MediaInfo(
        video=vtrack,
        audio=atrack,
        container=str(container.format.name),
        complete=_complete(container, extents, base),
        header_ms=round(container.duration / 1000) if container.duration else 0,
        damaged_packets=sum(e.damaged for e in extents.values()),
    )


def _scan(
    container: Any, streams: list[Any], name: str, runs: SizeRuns | None
) -> dict[int, _Extent]:
    extents = {s.index: _Extent() for s in streams}
    try:
        for packet in container.demux(streams):
            if packet.is_corrupt:
                # A torn packet: what a cut MPEG-TS or fragmented MP4 ends with, whose
                # header (estimated from the packets) cannot show that it was cut.
                extents[packet.stream.index].damaged += 1
            if packet.pts is None:
                continue
            tb = packet.time_base
            duration = float(packet.duration * tb) if packet.duration else 0.0
            extents[packet.stream.index].add(float(packet.pts * tb), duration)
            if runs is not None and packet.stream.type == "video":
                runs.feed(packet)
    except av.error.FFmpegError:
        pass  # truncated or damaged tail: keep what was read
    if all(e.first is None for e in extents.values()):
        raise MediaError(f"{name}: no readable packets")
    return extents


def _base_seconds(container: Any, extents: dict[int, _Extent]) -> float:
    """ffmpeg's zero for this file: the container start, else the earliest packet.

    Not the minimum with the packets: an AAC priming packet sits before the start and
    is dropped by the decoder, so counting it would shift every track late.
    """
    if container.start_time is not None:
        return float(container.start_time / 1_000_000)
    return float(min(e.first for e in extents.values() if e.first is not None))


def _complete(container: Any, extents: dict[int, _Extent], base: float) -> bool:
    """Whether what can be read reaches what the header promises, with no packet torn."""
    if any(e.damaged for e in extents.values()):
        return False
    if not container.duration:
        return True
    readable = max(e.end for e in extents.values() if e.end is not None) - base
    return bool(readable + HEADER_SLACK_MS / 1000 >= container.duration / 1_000_000)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _video_track(
    container: Any, stream: Any, extents: dict[int, _Extent], base: float, name: str
) -> VideoTrack | None:
    ext = extents[stream.index]
    if ext.first is None or ext.end is None:
        return None
    rotation = _first_frame_rotation(container, stream, name)
    cc = stream.codec_context
    width, height = int(cc.width), int(cc.height)
    if rotation in (90, 270, -90):
        width, height = height, width
    rate = stream.average_rate or stream.guessed_rate or Fraction(15)
    first = max(ext.first, base)
    return VideoTrack(
        start_ms=_ms(first - base),
        duration_ms=max(0, _ms(ext.end - first)),
        width=width,
        height=height,
        fps=round(float(rate), 3),
        rotation=rotation,
        codec=str(cc.name),
        pix_fmt=str(cc.pix_fmt or ""),
        profile=str(cc.profile or ""),
    )


def _sizes(
    found: list[tuple[float, int, int]], base: float, track: VideoTrack
) -> tuple[tuple[int, int, int], ...]:
    """Display size runs on the track's timeline, the first from its first frame."""
    out: list[tuple[int, int, int]] = []
    for seconds, width, height in found:
        if track.rotation in (90, 270):
            width, height = height, width
        at = max(track.start_ms, _ms(seconds - base)) if out else track.start_ms
        out.append((at, width, height))
    return tuple(out)


def _first_frame_rotation(container: Any, stream: Any, name: str) -> int:
    container.seek(0)
    try:
        for frame in container.decode(stream):
            return round(getattr(frame, "rotation", 0) or 0) % 360
    except av.error.FFmpegError as exc:
        raise MediaError(f"{name}: video cannot be decoded ({_reason(exc)})") from None
    raise MediaError(f"{name}: video track has no decodable frame")


def _audio_track(stream: Any, extents: dict[int, _Extent], base: float) -> AudioTrack | None:
    ext = extents[stream.index]
    if ext.first is None or ext.end is None:
        return None
    cc = stream.codec_context
    first = max(ext.first, base)
    return AudioTrack(
        start_ms=_ms(first - base),
        duration_ms=max(0, _ms(ext.end - first)),
        sample_rate=int(cc.sample_rate or 48000),
        channels=int(cc.channels or 1),
        codec=str(cc.name),
    )


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).strip() or type(exc).__name__
