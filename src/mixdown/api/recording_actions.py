"""ImportOnlineRecord (extension) and DescribeOnlineRecord; the live lifecycle is in
``api.live_actions``."""

from __future__ import annotations

from typing import Any

from mixdown.api import faults
from mixdown.api.action import Action, ActionContext
from mixdown.api.faults import ApiError
from mixdown.store.identifiers import new_task_id
from mixdown.store.live import announce
from mixdown.store.outcomes import failure_of, online_record, published_videos
from mixdown.store.recordings import add_recording, get_recording
from mixdown.store.tasks import task_by_id
from mixdown.tiw import documents
from mixdown.tiw.types import APP, APP_TASK, MANIFEST

#: A manifest's fields, less the TaskId the server gives, for the caller's app.
_IMPORT = {**APP, **{k: f for k, f in MANIFEST.fields.items() if k not in APP and k != "TaskId"}}


def import_online_record(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    manifest = ctx.services.policy.manifest({k: v for k, v in params.items() if k != "SdkAppId"})
    task_id = new_task_id()
    manifest["TaskId"], manifest["SdkAppId"] = task_id, ctx.app.sdk_app_id
    recording = documents.read_manifest(manifest)
    row = add_recording(
        ctx.session,
        task_id=task_id,
        sdk_app_id=ctx.app.sdk_app_id,
        manifest=manifest,
        room_id=recording.room_id,
        group_id=recording.group_id,
        record_user_id=recording.record_user_id,
        now_ms=ctx.now_ms,
    )
    # An import replays the lifecycle: it started and stopped; it finishes once probed.
    for event_type in (documents.RECORD_STARTED, documents.RECORD_STOPPED):
        announce(ctx.session, row, event_type, ctx.now_ms)
    ctx.after_commit.append(lambda: ctx.services.submit_import(task_id))
    ctx.after_commit.append(ctx.services.notify_callbacks)
    return {"TaskId": task_id}


def describe_online_record(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    row = get_recording(ctx.session, ctx.app.sdk_app_id, params["TaskId"])
    if row is None:
        raise ApiError(faults.TASK_NOT_FOUND, f"TaskId: no recording {params['TaskId']!r}")
    failure = failure_of(row)
    if failure is not None:
        raise ApiError(failure.code, failure.message or "the recording failed")
    task = task_by_id(ctx.session, row.generation_id) if row.generation_id else None
    videos = published_videos(task, ctx.services.link) if task is not None else None
    return online_record(row, videos)


ACTIONS = [
    Action("ImportOnlineRecord", _IMPORT, import_online_record),
    Action("DescribeOnlineRecord", APP_TASK, describe_online_record),
]
