"""What probing found in one media file. Serialisable so the service can store it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: A header may round its duration: a file is cut only when it holds this much less.
HEADER_SLACK_MS = 200


@dataclass(frozen=True)
class VideoTrack:
    #: Offset of the first frame from the file's earliest sample (what ffmpeg calls 0).
    start_ms: int
    duration_ms: int
    #: Display size, after rotation.
    width: int
    height: int
    fps: float
    rotation: int = 0
    codec: str = ""
    pix_fmt: str = ""
    profile: str = ""
    #: Runs of display size in the file, ``(from_ms, width, height)`` with ``from_ms`` on
    #: the same timeline as ``start_ms``; one entry per change, the first at the first
    #: frame. Empty or one entry: the size never changes.
    sizes: tuple[tuple[int, int, int], ...] = ()

    @property
    def size_changes(self) -> bool:
        return len({(w, h) for _, w, h in self.sizes}) > 1


@dataclass(frozen=True)
class AudioTrack:
    start_ms: int
    duration_ms: int
    sample_rate: int
    channels: int
    codec: str = ""


@dataclass(frozen=True)
class MediaInfo:
    video: VideoTrack | None
    audio: AudioTrack | None
    container: str = ""
    #: False when the header promises more than can be read (a truncated file).
    complete: bool = True
    #: What the container header claims (ms), 0 when it claims nothing.
    header_ms: int = 0
    #: Packets the demuxer flagged corrupt (a torn end, damaged data).
    damaged_packets: int = 0

    @property
    def duration_ms(self) -> int:
        """From the earliest sample to the end of the last track."""
        ends = [t.start_ms + t.duration_ms for t in (self.video, self.audio) if t is not None]
        return max(ends, default=0)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(data: dict[str, Any]) -> MediaInfo:
        video = _video_from_json(data["video"]) if data.get("video") else None
        audio = AudioTrack(**data["audio"]) if data.get("audio") else None
        return MediaInfo(
            video=video,
            audio=audio,
            container=data.get("container", ""),
            complete=data.get("complete", True),
            header_ms=int(data.get("header_ms", 0)),
            damaged_packets=int(data.get("damaged_packets", 0)),
        )


def _video_from_json(data: dict[str, Any]) -> VideoTrack:
    # JSON has lists where the frozen dataclass keeps tuples (hashable, comparable).
    sizes = tuple((int(t), int(w), int(h)) for t, w, h in data.get("sizes", ()))
    return VideoTrack(**{**data, "sizes": sizes})


def probes_from_json(data: dict[str, Any] | None) -> dict[str, MediaInfo]:
    """A recording's stored probes (``{url: MediaInfo.to_json()}``) as MediaInfo."""
    return {url: MediaInfo.from_json(info) for url, info in (data or {}).items()}
