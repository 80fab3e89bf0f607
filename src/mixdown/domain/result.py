"""What one generation produced: TIW's result (``TotalTime``, ``OmittedDurations``,
``VideoInfoList``, reference §2.10, §3.10, §3.11) and the generation report beside it.

The one home of its JSON shape, both ways: ``to_document`` is ``result.json`` and what the
service stores; ``from_document`` reads a stored one back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mixdown.domain.report import REPORT_KEY, GenerationReport, Notice


@dataclass(frozen=True)
class OmittedDuration:
    """A pause cut out of the playback timeline: where it sits (``video_time``) and the
    wall-clock span it left out."""

    video_time: int
    pause_time: int
    resume_time: int

    def to_tiw(self) -> dict[str, int]:
        return {
            "VideoTime": self.video_time,
            "PauseTime": self.pause_time,
            "ResumeTime": self.resume_time,
        }

    @staticmethod
    def from_tiw(data: Mapping[str, Any]) -> OmittedDuration:
        return OmittedDuration(
            int(data["VideoTime"]), int(data["PauseTime"]), int(data["ResumeTime"])
        )


@dataclass(frozen=True)
class VideoInfo:
    play_time: int
    #: Bytes of the finished file.
    size: int
    format: str
    duration: int
    #: Where the file is: its name inside the output folder until a URL is made of it.
    url: str
    video_id: str
    video_type: int
    user_id: str
    width: int
    height: int

    def to_tiw(self) -> dict[str, Any]:
        return {
            "VideoPlayTime": self.play_time,
            "VideoSize": self.size,
            "VideoFormat": self.format,
            "VideoDuration": self.duration,
            "VideoUrl": self.url,
            "VideoId": self.video_id,
            "VideoType": self.video_type,
            "UserId": self.user_id,
            "Width": self.width,
            "Height": self.height,
        }

    @staticmethod
    def from_tiw(data: Mapping[str, Any]) -> VideoInfo:
        """The inverse of ``to_tiw``; a missing ``VideoId`` reads as "" (none given)."""
        return VideoInfo(
            play_time=int(data["VideoPlayTime"]),
            size=int(data["VideoSize"]),
            format=str(data["VideoFormat"]),
            duration=int(data["VideoDuration"]),
            url=str(data["VideoUrl"]),
            video_id=str(data.get("VideoId", "")),
            video_type=int(data["VideoType"]),
            user_id=str(data["UserId"]),
            width=int(data["Width"]),
            height=int(data["Height"]),
        )


@dataclass(frozen=True)
class GenerationResult:
    total_time: int
    omitted: tuple[OmittedDuration, ...]
    videos: tuple[VideoInfo, ...]
    #: None when no report was made (a result stored before reports existed has none).
    report: GenerationReport | None = None

    @property
    def warnings(self) -> tuple[Notice, ...]:
        """The report's warnings, each cause once; none without a report."""
        return self.report.warnings if self.report is not None else ()

    def to_tiw(self) -> dict[str, Any]:
        return {
            "TotalTime": self.total_time,
            "OmittedDurations": [o.to_tiw() for o in self.omitted],
            "VideoInfoList": [v.to_tiw() for v in self.videos],
        }

    def to_document(self) -> dict[str, Any]:
        """TIW's result plus the report under its extension key (``result.json``)."""
        if self.report is None:
            return self.to_tiw()
        return {**self.to_tiw(), REPORT_KEY: self.report.to_json()}

    @staticmethod
    def from_document(data: Mapping[str, Any]) -> GenerationResult:
        """The inverse of ``to_document``: ``from_document(d).to_document() == d`` for
        every document it wrote."""
        report = data.get(REPORT_KEY)
        return GenerationResult(
            total_time=int(data["TotalTime"]),
            omitted=tuple(OmittedDuration.from_tiw(o) for o in data["OmittedDurations"]),
            videos=tuple(VideoInfo.from_tiw(v) for v in data["VideoInfoList"]),
            report=GenerationReport.from_json(report) if report else None,
        )
