"""DescribeRunningTasks (reference §2.12): unfinished tasks of one kind created in the last
three days. ``VideoGeneration`` is accepted besides TIW's kinds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from mixdown.api import faults
from mixdown.api.action import Action, ActionContext
from mixdown.api.faults import ApiError
from mixdown.store.models import QUEUED
from mixdown.store.recordings import recording_by_id, running_recordings
from mixdown.store.tasks import running_tasks
from mixdown.tiw.types import DESCRIBE_RUNNING_TASKS

WINDOW_MS = 3 * 24 * 3600 * 1000
#: TIW's examples print times as Beijing time without a zone.
_TIW_ZONE = timezone(timedelta(hours=8))
_OTHER_KINDS = ("TranscodeH5", "TranscodeJPG", "WhiteboardPush")


def _time(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC).astimezone(_TIW_ZONE).strftime("%Y-%m-%d %H:%M:%S")
    )


def _item(
    app: int, task_id: str, kind: str, created: int, status: str, progress: int, room: int
) -> dict[str, Any]:
    return {
        "SdkAppID": app,
        "TaskID": task_id,
        "TaskType": kind,
        "CreateTime": _time(created),
        "CancelTime": "",
        "Status": status,
        "Progress": progress,
        "FileURL": "",
        "RoomID": room,
    }


def _room(ctx: ActionContext, recording_id: str) -> int:
    row = recording_by_id(ctx.session, recording_id)
    return row.room_id if row else 0


def describe_running_tasks(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    kind = params["TaskType"]
    offset, limit = params.get("Offset", 0), params.get("Limit", 100)
    if offset < 0:
        raise ApiError(faults.INVALID_PARAMETER_VALUE, "Offset: must not be negative")
    if not 1 <= limit <= 500:
        raise ApiError(faults.INVALID_PARAMETER_VALUE, "Limit: must be within [1, 500]")
    app, since = ctx.app.sdk_app_id, ctx.now_ms - WINDOW_MS
    items: list[dict[str, Any]] = []
    total = 0
    if kind == "OnlineRecord":
        total, recordings = running_recordings(
            ctx.session, app, since_ms=since, offset=offset, limit=limit
        )
        items = [
            _item(app, r.task_id, kind, r.created_ms, "PROCESSING", 0, r.room_id)
            for r in recordings
        ]
    elif kind == "VideoGeneration":
        total, tasks = running_tasks(ctx.session, app, since_ms=since, offset=offset, limit=limit)
        rooms = {t.task_id: _room(ctx, t.recording_id) for t in tasks}
        items = [
            _item(
                app,
                t.task_id,
                kind,
                t.created_ms,
                t.status,
                0 if t.status == QUEUED else t.progress,
                rooms[t.task_id],
            )
            for t in tasks
        ]
    elif kind not in _OTHER_KINDS:
        raise ApiError(
            faults.INVALID_PARAMETER_VALUE,
            f"TaskType: {kind!r} is not one of OnlineRecord, VideoGeneration, "
            + ", ".join(_OTHER_KINDS),
        )
    return {"Total": total, "Tasks": items}


ACTIONS = [
    Action(
        "DescribeRunningTasks",
        DESCRIBE_RUNNING_TASKS,
        describe_running_tasks,
        app_param="SdkAppID",
    )
]
