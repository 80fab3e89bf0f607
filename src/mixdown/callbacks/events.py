"""Event names and their EventData (DESIGN §4.3); receivers dedupe on (EventType, TaskId)."""

from __future__ import annotations

from typing import Any

RECORD_STARTED = "OnlineRecordStarted"
RECORD_STOPPED = "OnlineRecordStopped"
RECORD_FINISHED = "OnlineRecordFinished"
GENERATION_STARTED = "VideoGenerationStarted"
GENERATION_FINISHED = "VideoGenerationFinished"


def record_lifecycle(task_id: str, room_id: int, record_user_id: str) -> dict[str, Any]:
    """EventData of OnlineRecordStarted and OnlineRecordStopped."""
    return {"TaskId": task_id, "RoomId": room_id, "RecordUserId": record_user_id}


def record_finished(summary: dict[str, Any], error: tuple[str, str] | None) -> dict[str, Any]:
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
    data = {k: summary[k] for k in keys}
    data["ErrorCode"], data["ErrorMessage"] = error if error else ("", "")
    return data


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
    *,
    total_time: int,
    video_infos: list[dict[str, Any]],
    error: tuple[str, str] | None,
) -> dict[str, Any]:
    code, message = error if error else ("", "")
    return {
        **started,
        "Status": "FINISHED",
        "TotalTime": total_time,
        "VideoInfoList": video_infos,
        "ErrorCode": code,
        "ErrorMessage": message,
    }
