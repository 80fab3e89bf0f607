"""Stored rows as TIW documents: DescribeOnlineRecord's fields, VideoInfo with URLs."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from mixdown.domain.recording import Pause
from mixdown.domain.result import VideoInfo
from mixdown.planning.timeline import Timeline
from mixdown.store.models import FINISHED, GenerationTask, Recording
from mixdown.store.outcomes import failure_of, result_of

#: An import is complete by the caller's decision (TIW: "StopOnlineRecord was called").
IMPORT_FINISH_REASON = "USER_CALL"
FAILED_FINISH_REASON = "EXCEPTION"


def recording_summary(row: Recording) -> dict[str, Any]:
    """DescribeOnlineRecord's fields (reference §2.5); zeros while not yet known."""
    start = int(row.manifest["RecordStartTimeMs"])
    stop = row.stop_ms
    total, omitted = 0, []
    if stop is not None and stop > start:
        pauses = tuple(
            Pause(int(p["PauseTime"]), int(p["ResumeTime"])) for p in row.manifest.get("Pauses", [])
        )
        timeline = Timeline(start, stop, pauses)
        total, omitted = timeline.total_ms, [o.to_tiw() for o in timeline.omitted()]
    reason = ""
    if row.status == FINISHED:
        reason = FAILED_FINISH_REASON if failure_of(row) else IMPORT_FINISH_REASON
    return {
        "FinishReason": reason,
        "TaskId": row.task_id,
        "Status": row.status,
        "RoomId": row.room_id,
        "GroupId": row.group_id,
        "RecordUserId": row.record_user_id,
        "RecordStartTime": start // 1000,
        "RecordStopTime": (stop or 0) // 1000,
        "TotalTime": total,
        "ExceptionCnt": 0,
        "OmittedDurations": omitted,
        "VideoInfos": [],
        "ReplayUrl": "",
        "Interrupts": [],
    }


def file_url(base_url: str, token: str, name: str) -> str:
    return f"{base_url.rstrip('/')}/files/{token}/{quote(name)}"


def video_infos(task: GenerationTask, base_url: str) -> list[dict[str, Any]]:
    """The committed result's VideoInfoList with download URLs."""
    result = result_of(task)
    if result is None or not task.output_token:
        return []
    token = task.output_token
    return [_downloadable(info, base_url, token).to_tiw() for info in result.videos]


def _downloadable(info: VideoInfo, base_url: str, token: str) -> VideoInfo:
    """``info`` with its download URL, and an id derived from it when it was given none."""
    video_id = info.video_id or hashlib.sha256(f"{token}/{info.url}".encode()).hexdigest()[:32]
    return replace(info, url=file_url(base_url, token, info.url), video_id=video_id)
