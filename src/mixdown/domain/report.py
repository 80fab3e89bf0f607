"""The generation report (extension, DESIGN §4.3): what each output was made of, what was
measured in the finished file, and warnings with their cause.

Every field is a fact: from the probe, the plan, ffmpeg's own log or the finished files.
Field names follow TIW's style but none reuses a TIW name's meaning; the report travels
beside TIW's result (``result.json`` key ``GenerationReport``, the
``DescribeVideoGenerationReport`` action), never inside a TIW response.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Warning codes, one per cause.
SOURCE_TRUNCATED = "SourceTruncated"
DECODE_ERRORS = "DecodeErrors"
STREAM_NOT_SHOWN = "StreamNotShown"
SLOT_UNMATCHED = "SlotUnmatched"
RESOLUTION_CHANGE = "ResolutionChange"
DURATION_MISMATCH = "DurationMismatch"
AUDIO_VIDEO_OFFSET = "AudioVideoOffset"
#: The extension key of ``result.json`` (and of the stored result) that holds the report.
REPORT_KEY = "GenerationReport"


@dataclass(frozen=True)
class Notice:
    """One warning: a code naming the cause, a sentence for people, what it concerns."""

    code: str
    message: str
    url: str = ""
    stream_id: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Code": self.code, "Message": self.message}
        if self.url:
            out["Url"] = self.url
        if self.stream_id:
            out["StreamId"] = self.stream_id
        return out


@dataclass(frozen=True)
class Range:
    """``[start, end)`` ms of the source's own timeline (0 = its earliest sample), placed
    at ``at`` ms of the output's timeline."""

    start: int
    end: int
    at: int

    def to_json(self) -> dict[str, int]:
        return {"SourceStart": self.start, "SourceEnd": self.end, "OutputStart": self.at}


@dataclass(frozen=True)
class SourceUse:
    url: str
    stream_id: str
    #: "video" or "audio".
    track: str
    ranges: tuple[Range, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "Url": self.url,
            "StreamId": self.stream_id,
            "Track": self.track,
            "Ranges": [r.to_json() for r in self.ranges],
        }


@dataclass(frozen=True)
class Measured:
    """Facts read back from a finished file (ms on the file's own timeline)."""

    duration_ms: int
    video_start_ms: int | None
    audio_start_ms: int | None
    width: int = 0
    height: int = 0

    @property
    def av_offset_ms(self) -> int | None:
        """Audio start minus video start; None unless the file has both."""
        if self.video_start_ms is None or self.audio_start_ms is None:
            return None
        return self.audio_start_ms - self.video_start_ms


@dataclass(frozen=True)
class OutputReport:
    name: str
    video_type: int
    user_id: str
    #: "encode", "splice" (GOPs copied, cuts and gaps encoded) or "remux".
    method: str
    planned_ms: int
    measured: Measured
    sources: tuple[SourceUse, ...]
    warnings: tuple[Notice, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "FileName": self.name,
            "VideoType": self.video_type,
            "UserId": self.user_id,
            "Method": self.method,
            "PlannedDuration": self.planned_ms,
            "ActualDuration": self.measured.duration_ms,
            "AudioVideoOffset": self.measured.av_offset_ms,
            "Sources": [s.to_json() for s in self.sources],
            "Warnings": [w.to_json() for w in self.warnings],
        }


@dataclass(frozen=True)
class GenerationReport:
    outputs: tuple[OutputReport, ...]

    @property
    def warnings(self) -> tuple[Notice, ...]:
        """Every output's warnings, each cause once."""
        return tuple(dict.fromkeys(w for o in self.outputs for w in o.warnings))

    def to_json(self) -> dict[str, Any]:
        return {
            "Outputs": [o.to_json() for o in self.outputs],
            "WarningCount": sum(len(o.warnings) for o in self.outputs),
        }
