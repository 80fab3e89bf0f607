"""The generation report (extension, DESIGN §4.3): what each output was made of, what was
measured in the finished file, and warnings with their cause.

Every field is a fact: from the probe, the plan, ffmpeg's own log or the finished files.
Field names follow TIW's style but none reuses a TIW name's meaning; the report travels
beside TIW's result (``result.json`` key ``GenerationReport``, the
``DescribeVideoGenerationReport`` action), never inside a TIW response.
"""

from __future__ import annotations

from collections.abc import Mapping
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

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Notice:
        return Notice(
            str(data["Code"]),
            str(data["Message"]),
            str(data.get("Url", "")),
            str(data.get("StreamId", "")),
        )


@dataclass(frozen=True)
class Range:
    """``[start, end)`` ms of the source's own timeline (0 = its earliest sample), placed
    at ``at`` ms of the output's timeline."""

    start: int
    end: int
    at: int

    def to_json(self) -> dict[str, int]:
        return {"SourceStart": self.start, "SourceEnd": self.end, "OutputStart": self.at}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Range:
        return Range(int(data["SourceStart"]), int(data["SourceEnd"]), int(data["OutputStart"]))


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

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> SourceUse:
        return SourceUse(
            str(data["Url"]),
            str(data["StreamId"]),
            str(data["Track"]),
            tuple(Range.from_json(r) for r in data["Ranges"]),
        )


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

    @staticmethod
    def as_reported(duration_ms: int, av_offset_ms: int | None) -> Measured:
        """What a report keeps of a reading: the duration and the audio's offset from the
        video, read back with the video at 0 (the size is the VideoInfo's to keep)."""
        if av_offset_ms is None:
            return Measured(duration_ms, None, None)
        return Measured(duration_ms, 0, av_offset_ms)


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

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> OutputReport:
        offset = data["AudioVideoOffset"]
        return OutputReport(
            name=str(data["FileName"]),
            video_type=int(data["VideoType"]),
            user_id=str(data["UserId"]),
            method=str(data["Method"]),
            planned_ms=int(data["PlannedDuration"]),
            measured=Measured.as_reported(
                int(data["ActualDuration"]), None if offset is None else int(offset)
            ),
            sources=tuple(SourceUse.from_json(s) for s in data["Sources"]),
            warnings=tuple(Notice.from_json(w) for w in data["Warnings"]),
        )


@dataclass(frozen=True)
class GenerationReport:
    outputs: tuple[OutputReport, ...]

    @property
    def warnings(self) -> tuple[Notice, ...]:
        """Every output's warnings, each cause once."""
        return tuple(dict.fromkeys(w for o in self.outputs for w in o.warnings))

    @property
    def warning_count(self) -> int:
        """Warnings of all outputs together (a cause two outputs share counts twice)."""
        return sum(len(o.warnings) for o in self.outputs)

    def to_json(self) -> dict[str, Any]:
        return {
            "Outputs": [o.to_json() for o in self.outputs],
            "WarningCount": self.warning_count,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> GenerationReport:
        """The inverse of ``to_json`` (``WarningCount`` is counted again, not read)."""
        return GenerationReport(tuple(OutputReport.from_json(o) for o in data["Outputs"]))
