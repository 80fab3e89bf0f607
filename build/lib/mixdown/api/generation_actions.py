"""CreateVideoGenerationTask and DescribeVideoGenerationTask (reference §2.9-§2.10)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mixdown.api import faults
from mixdown.api.action import Action, ActionContext, Services
from mixdown.api.faults import ApiError
from mixdown.domain.media import probes_from_json
from mixdown.planning.planner import plan_generation
from mixdown.store.database import Database
from mixdown.store.models import FINISHED, QUEUED, GenerationTask, Recording
from mixdown.store.outcomes import failure_of, published_videos, recording_of, result_of
from mixdown.store.recordings import get_recording, recording_by_id
from mixdown.store.tasks import create_task, get_task
from mixdown.tiw import documents
from mixdown.tiw.schema import integer, string
from mixdown.tiw.types import APP_TASK, CREATE_VIDEO_GENERATION_TASK, PARAMETER_FIELDS

#: A params file may leave out the task and app; a request may not.
_CREATE = {
    **CREATE_VIDEO_GENERATION_TASK.fields,
    "OnlineRecordTaskId": string(required=True),
    "SdkAppId": integer(required=True),
}


def prepare_create(
    db: Database, services: Services, sdk_app_id: int, params: dict[str, Any]
) -> None:
    """Plan now (pure, no media read) so bad parameters fail at create time, not in the
    worker; outside the write transaction, since a long recording takes seconds to plan."""
    with db.transaction() as session:
        row = _finished_recording(session, sdk_app_id, params["OnlineRecordTaskId"])
        recording, probes_json = recording_of(row), row.probes or {}
    own = {k: params[k] for k in PARAMETER_FIELDS if k in params}
    services.policy.params(own)
    probes = probes_from_json(probes_json)
    plan_generation(recording, documents.read_params(own), probes, services.settings)


def create_video_generation_task(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    recording_id = params["OnlineRecordTaskId"]
    _finished_recording(ctx.session, ctx.app.sdk_app_id, recording_id)
    generation = documents.read_params(params)
    task = create_task(
        ctx.session,
        ctx.app,
        recording_id=recording_id,
        params=documents.parameters(generation),
        now_ms=ctx.now_ms,
    )
    task_id = task.task_id
    ctx.after_commit.append(lambda: ctx.services.submit_generation(task_id))
    return {"TaskId": task_id}


def _finished_recording(session: Session, sdk_app_id: int, recording_id: str) -> Recording:
    row = get_recording(session, sdk_app_id, recording_id)
    if row is None:
        raise ApiError(faults.TASK_NOT_FOUND, f"OnlineRecordTaskId: no recording {recording_id!r}")
    if row.status != FINISHED:
        raise ApiError(
            faults.INVALID_TASK_STATUS,
            f"OnlineRecordTaskId: recording {recording_id!r} is {row.status}, its media is "
            "still being probed; retry once DescribeOnlineRecord says FINISHED",
        )
    failure = failure_of(row)
    if failure is not None:
        raise ApiError(
            faults.INVALID_TASK_STATUS,
            f"OnlineRecordTaskId: recording {recording_id!r} failed: {failure.message}",
        )
    return row


def describable_task(ctx: ActionContext, task_id: str) -> GenerationTask:
    """The app's task, unless it is unknown or failed: a failed task answers with the
    error envelope (DESIGN §4.3), for its outputs and its report alike."""
    task = get_task(ctx.session, ctx.app.sdk_app_id, task_id)
    if task is None:
        raise ApiError(faults.TASK_NOT_FOUND, f"TaskId: no video generation task {task_id!r}")
    failure = failure_of(task) if task.status == FINISHED else None
    if failure is not None:
        raise ApiError(failure.code, failure.message or "video generation failed")
    return task


def describe_video_generation_task(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    task = describable_task(ctx, params["TaskId"])
    recording = recording_by_id(ctx.session, task.recording_id)
    assert recording is not None
    infos = published_videos(task, ctx.services.link)
    result = result_of(task)
    progress = 0 if task.status == QUEUED else 100 if task.status == FINISHED else task.progress
    return {
        "GroupId": recording.group_id,
        "RoomId": recording.room_id,
        "TaskId": task.task_id,
        "Progress": progress,
        "Status": task.status,
        "TotalTime": result.total_time if result is not None else 0,
        "VideoInfos": infos[0] if infos else None,
        "VideoInfoList": infos,
    }


ACTIONS = [
    Action(
        "CreateVideoGenerationTask", _CREATE, create_video_generation_task, prepare=prepare_create
    ),
    Action("DescribeVideoGenerationTask", APP_TASK, describe_video_generation_task),
]
