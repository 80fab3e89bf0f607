"""How work that produced nothing ends: a Failure (a verdict with its code), or Interrupted
(no verdict); where each is decided and how the finished events carry them."""

from __future__ import annotations

import pytest

from mixdown.domain.outcome import Failure, Interrupted
from mixdown.domain.result import GenerationResult
from mixdown.errors import RECORD_FAILED, Cancelled, MediaError
from mixdown.jobs.pipeline import verdict
from mixdown.tiw import documents as events

STARTED = events.generation_started("task", "rec", 42, "42")
SUMMARY = {
    "TaskId": "rec",
    "RoomId": 42,
    "GroupId": "42",
    "RecordUserId": "",
    "FinishReason": "EXCEPTION",
    "RecordStartTime": 1_700_000_000,
    "RecordStopTime": 1_700_000_002,
    "TotalTime": 2000,
    "ExceptionCnt": 0,
    "OmittedDurations": [],
    "VideoInfos": [],
    "Status": "FINISHED",
}


def test_a_failure_always_names_its_error_code() -> None:
    with pytest.raises(ValueError, match="error code"):
        Failure("", "interrupted")


def test_a_render_cancelled_because_the_server_stops_has_no_verdict() -> None:
    assert verdict(Cancelled("cancelled"), stopping=True) == Interrupted()


def test_a_render_cancelled_while_the_server_runs_fails_with_the_cancel_code() -> None:
    assert verdict(Cancelled("cancelled"), stopping=False) == Failure(
        "FailedOperation.Cancelled", "cancelled"
    )


def test_any_other_error_is_the_tasks_failure_even_while_stopping() -> None:
    failure = Failure("FailedOperation.Media", "t.flv: truncated")
    assert verdict(MediaError("t.flv: truncated"), stopping=True) == failure
    assert verdict(MediaError("t.flv: truncated"), stopping=False) == failure


def test_a_failed_generations_event_carries_the_code_and_message_and_no_time() -> None:
    failure = Failure(RECORD_FAILED, "gave up after 3 interrupted attempts")
    data = events.generation_finished(STARTED, failure, video_infos=[])
    assert data == {
        **STARTED,
        "Status": "FINISHED",
        "TotalTime": 0,
        "VideoInfoList": [],
        "ErrorCode": RECORD_FAILED,
        "ErrorMessage": "gave up after 3 interrupted attempts",
    }


def test_a_finished_generations_event_carries_its_total_time_and_empty_error() -> None:
    result = GenerationResult(2000, (), ())
    infos = [{"VideoUrl": "http://host/files/t/whiteboard_0.mp4"}]
    data = events.generation_finished(STARTED, result, video_infos=infos)
    assert (data["TotalTime"], data["VideoInfoList"]) == (2000, infos)
    assert (data["ErrorCode"], data["ErrorMessage"]) == ("", "")


def test_an_imports_finished_event_carries_its_failure_or_empty_error() -> None:
    failed = events.record_finished(SUMMARY, Failure("FailedOperation.Media", "wb.mp4: bad"))
    assert (failed["ErrorCode"], failed["ErrorMessage"]) == ("FailedOperation.Media", "wb.mp4: bad")
    assert "Status" not in failed
    done = events.record_finished(SUMMARY, None)
    assert (done["ErrorCode"], done["ErrorMessage"]) == ("", "")
