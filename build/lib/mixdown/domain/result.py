"""What one generation produced: TIW's result (``TotalTime``, ``OmittedDurations``,
``VideoInfoList``, reference §2.10, §3.10, §3.11) and the generation report beside it.

Its JSON, both ways, is ``mixdown.tiw.documents``' part (``result_document``).
"""

from __future__ import annotations

from dataclasses import dataclass

from mixdown.domain.report import GenerationReport, Notice


@dataclass(frozen=True)
class OmittedDuration:
    """A pause cut out of the playback timeline: where it sits (``video_time``) and the
    wall-clock span it left out."""

    video_time: int
    pause_time: int
    resume_time: int


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
