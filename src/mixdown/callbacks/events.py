"""Event names and their EventData (DESIGN §4.3); receivers dedupe on (EventType, TaskId)."""

from __future__ import annotations

from typing import Any

from mixdown.domain.outcome import Failure
from mixdown.domain.result import GenerationResult

RECORD_STARTED = "OnlineRecordStarted"
RECORD_STOPPED = "OnlineRecordStopped"
RECORD_FINISHED = "OnlineRecordFinished"
GENERATION_STARTED = "VideoGenerationStarted"
GENERATION_FINISHED = "VideoGenerationFinished"


def record_lifecycle(task_id: str, room_id: int, record_user_id: str) -> dict[str, Any]:
    """EventData of OnlineRecordStarted and OnlineRecordStopped."""
    return {"TaskId": task_id, "RoomId": room_id, "RecordUserId": record_user_id}


def record_finished(summary: dict[str, Any], failure: Failure | None) -> dict[str, Any]:
    """EventData of OnlineRecordFinished: the DescribeOnlineRecord fields, plus the error."""
    keys = (
        "TaskId",
        "RoomId",
        "GroupId",
        "RecordUserId",
        "FinishReason",
        "RecordStartTime",
        "RecordStopTime",
        "TotalTime",
        "ExceptionCnt",
        "OmittedDurations",
        "VideoInfos",
    )
    return {**{k: summary[k] for k in keys}, **_error_fields(failure)}


def generation_started(
    task_id: str, recording_id: str, room_id: int, group_id: str
) -> dict[str, Any]:
    return {
        "TaskId": task_id,
        "OnlineRecordTaskId": recording_id,
        "RoomId": room_id,
        "GroupId": group_id,
    }


def generation_finished(
    started: dict[str, Any],
    outcome: GenerationResult | Failure,
    *,
    video_infos: list[dict[str, Any]],
) -> dict[str, Any]:
    """EventData of VideoGenerationFinished; ``video_infos`` are the result's VideoInfos
    with their download URLs (none for a failure)."""
    if isinstance(outcome, Failure):
        total_time, failure = 0, outcome
    else:
        total_time, failure = outcome.total_time, None
    return {
        **started,
        "Status": "FINISHED",
        "TotalTime": total_time,
        "VideoInfoList": video_infos,
        **_error_fields(failure),
    }


def _error_fields(failure: Failure | None) -> dict[str, str]:
    """ErrorCode and ErrorMessage of a finished event: empty when the work succeeded."""
    if failure is None:
        return {"ErrorCode": "", "ErrorMessage": ""}
    return {"ErrorCode": failure.code, "ErrorMessage": failure.message}
