"""What probing found in one media file. Serialisable so the service can store it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


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

    @property
    def duration_ms(self) -> int:
        """From the earliest sample to the end of the last track."""
        ends = [t.start_ms + t.duration_ms for t in (self.video, self.audio) if t is not None]
        return max(ends, default=0)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(data: dict[str, Any]) -> MediaInfo:
        video = VideoTrack(**data["video"]) if data.get("video") else None
        audio = AudioTrack(**data["audio"]) if data.get("audio") else None
        return MediaInfo(
            video=video,
            audio=audio,
            container=data.get("container", ""),
            complete=data.get("complete", True),
        )
