"""A generation's typed result and its JSON document (``result.json``, the stored result):
written and read back, nothing lost that the document records."""

from __future__ import annotations

import json
from typing import Any

from mixdown.domain.report import (
    REPORT_KEY,
    SOURCE_TRUNCATED,
    GenerationReport,
    Measured,
    Notice,
    OutputReport,
    Range,
    SourceUse,
)
from mixdown.domain.result import GenerationResult, OmittedDuration, VideoInfo
from mixdown.tiw import documents
from mixdown.tiw.schema import read
from mixdown.tiw.types import VIDEO_INFO

CAMERA = VideoInfo(
    play_time=1200,
    size=123_456,
    format="mp4",
    duration=4800,
    url="camera_teacher.mp4",
    video_id="a" * 32,
    video_type=0,
    user_id="teacher",
    width=320,
    height=240,
)
AUDIO = VideoInfo(1200, 9_876, "mp3", 4800, "audio_teacher.mp3", "b" * 32, 0, "teacher", 0, 0)
TRUNCATED = Notice(SOURCE_TRUNCATED, "t.flv: header claims 5.0 s", url="t.flv", stream_id="t")


def _output(name: str, measured: Measured, *warnings: Notice) -> OutputReport:
    use = SourceUse("t.flv", "teacher", "video", (Range(0, 2000, 1200), Range(2500, 4000, 3200)))
    return OutputReport(name, 0, "teacher", "splice", 5000, measured, (use,), warnings)


def _result(report: GenerationReport | None) -> GenerationResult:
    omitted = (OmittedDuration(2000, 1_700_000_002_000, 1_700_000_003_000),)
    return GenerationResult(6000, omitted, (CAMERA, AUDIO), report)


def _stored(document: dict[str, Any]) -> dict[str, Any]:
    """The document as a JSON column gives it back."""
    loaded: dict[str, Any] = json.loads(json.dumps(document))
    return loaded


def _document(report: GenerationReport) -> dict[str, Any]:
    return documents.result_document(_result(report))


def test_a_result_reads_back_from_its_stored_document_as_the_same_result() -> None:
    report = GenerationReport(
        (
            _output("camera_teacher.mp4", Measured(4800, 0, 21), TRUNCATED),
            _output("audio_teacher.mp3", Measured(4800, None, None)),
        )
    )
    result = _result(report)
    assert documents.read_result_document(_stored(documents.result_document(result))) == result


def test_a_stored_document_reads_back_to_the_same_document() -> None:
    measured = Measured(4800, video_start_ms=40, audio_start_ms=61, width=320, height=240)
    document = _stored(_document(GenerationReport((_output("c.mp4", measured),))))
    assert documents.result_document(documents.read_result_document(document)) == document


def test_a_report_keeps_the_duration_and_audio_offset_of_a_reading_not_its_starts() -> None:
    measured = Measured(4800, video_start_ms=40, audio_start_ms=61, width=320, height=240)
    document = _stored(_document(GenerationReport((_output("c.mp4", measured),))))
    report = documents.read_result_document(document).report
    assert report is not None
    assert report.outputs[0].measured == Measured(4800, 0, 21)
    assert report.outputs[0].measured.av_offset_ms == measured.av_offset_ms


def test_the_document_is_tiws_result_with_the_report_beside_it() -> None:
    report = GenerationReport((_output("camera_teacher.mp4", Measured(4800, 0, 0), TRUNCATED),))
    document = documents.result_document(_result(report))
    assert list(document) == ["TotalTime", "OmittedDurations", "VideoInfoList", REPORT_KEY]
    assert document["OmittedDurations"] == [
        {"VideoTime": 2000, "PauseTime": 1_700_000_002_000, "ResumeTime": 1_700_000_003_000}
    ]
    assert document["VideoInfoList"][0]["VideoSize"] == 123_456
    assert document[REPORT_KEY]["WarningCount"] == 1


def test_a_result_without_a_report_is_stored_and_read_back_without_one() -> None:
    result = _result(None)
    document = documents.result_document(result)
    assert REPORT_KEY not in document and document == documents.result(result)
    back = documents.read_result_document(_stored(document))
    assert back == result and back.report is None and back.warnings == ()


def test_an_empty_report_is_still_a_report() -> None:
    back = documents.read_result_document(_stored(_document(GenerationReport(()))))
    assert back.report == GenerationReport(())


def test_a_video_info_stored_without_an_id_reads_back_with_none() -> None:
    stored = {k: v for k, v in documents.video_infos([CAMERA])[0].items() if k != "VideoId"}
    assert read(stored, VIDEO_INFO).video_id == ""


def test_the_results_warnings_are_its_reports_each_cause_once() -> None:
    twice = GenerationReport(
        (
            _output("camera_teacher.mp4", Measured(4800, 0, 0), TRUNCATED),
            _output("mix.mp4", Measured(4800, 0, 0), TRUNCATED),
        )
    )
    result = _result(twice)
    assert result.warnings == (TRUNCATED,)
    assert twice.warning_count == 2 == documents.result_document(result)[REPORT_KEY]["WarningCount"]
