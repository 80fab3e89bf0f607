"""A class recording: identity, wall-clock span, pauses and streams (DESIGN §1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum

from mixdown.domain.parameters import GenerationParams

WHITEBOARD_PREFIX = "tic_record_user"
#: Why a recording ended (TIW's FinishReason): StopOnlineRecord, no stream for
#: AutoStopTimeout, a pause or a recording too long, a failure.
USER_CALL, AUTO, FORCE_STOP, EXCEPTION = "USER_CALL", "AUTO", "FORCE_STOP", "EXCEPTION"
SCREEN_PREFIX = "tic_substream"


class VideoType(IntEnum):
    """TIW's ``VideoType`` of an output."""

    CAMERA = 0
    SCREEN = 1
    WHITEBOARD = 2
    MIX = 3
    AUDIO = 4


class StreamKind(Enum):
    WHITEBOARD = "whiteboard"
    SCREEN = "screen"
    CAMERA = "camera"

    @property
    def video_type(self) -> VideoType:
        """TIW VideoType of this kind's per-stream outputs."""
        return VideoType[self.name]


def stream_kind(stream_id: str) -> StreamKind:
    if stream_id.startswith(WHITEBOARD_PREFIX):
        return StreamKind.WHITEBOARD
    if stream_id.startswith(SCREEN_PREFIX + "_"):
        return StreamKind.SCREEN
    return StreamKind.CAMERA


@dataclass(frozen=True)
class Segment:
    """One media file; ``start_ms`` is the epoch ms of its earliest sample."""

    url: str
    start_ms: int


@dataclass(frozen=True)
class Stream:
    stream_id: str
    segments: tuple[Segment, ...]
    #: The low-resolution variant; None when the manifest gives none.
    small_segments: tuple[Segment, ...] | None = None

    @property
    def kind(self) -> StreamKind:
        return stream_kind(self.stream_id)

    @property
    def user_id(self) -> str:
        """``UserId`` of this stream's VideoInfo: empty for the whiteboard."""
        return "" if self.kind is StreamKind.WHITEBOARD else self.stream_id


@dataclass(frozen=True)
class Pause:
    pause_ms: int
    resume_ms: int


@dataclass(frozen=True)
class Recording:
    room_id: int
    group_id: str
    start_ms: int
    #: None: the end of the last media (resolved once media is probed).
    stop_ms: int | None
    streams: tuple[Stream, ...]
    pauses: tuple[Pause, ...] = ()
    defaults: GenerationParams = field(default_factory=GenerationParams)
    audio_file_needed: bool = False
    task_id: str = ""
    sdk_app_id: int = 0
    record_user_id: str = ""

    def all_segments(self) -> list[Segment]:
        """Every segment, main and small, in manifest order."""
        out: list[Segment] = []
        for stream in self.streams:
            out.extend(stream.segments)
            out.extend(stream.small_segments or ())
        return out
