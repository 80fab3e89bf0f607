"""ImportOnlineRecord (extension), DescribeOnlineRecord and the live-recording lifecycle."""

from __future__ import annotations

from typing import Any

from mixdown.api import faults
from mixdown.api.action import Action, ActionContext
from mixdown.api.faults import ApiError
from mixdown.store import deliveries
from mixdown.store.identifiers import new_task_id
from mixdown.store.models import RECORD
from mixdown.store.outcomes import failure_of, online_record
from mixdown.store.recordings import add_recording, get_recording
from mixdown.tiw import documents
from mixdown.tiw.types import APP, APP_TASK, MANIFEST, START_ONLINE_RECORD

#: A manifest's fields, less the TaskId the server gives, for the caller's app.
_IMPORT = {**APP, **{k: f for k, f in MANIFEST.fields.items() if k not in APP and k != "TaskId"}}

_LIVE_UNSUPPORTED = (
    "{action}: live recording is not supported by this server yet; record the class "
    "elsewhere and bring it in with ImportOnlineRecord"
)


def import_online_record(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    manifest = ctx.services.policy.manifest({k: v for k, v in params.items() if k != "SdkAppId"})
    task_id = new_task_id()
    manifest["TaskId"], manifest["SdkAppId"] = task_id, ctx.app.sdk_app_id
    recording = documents.read_manifest(manifest)
    add_recording(
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
    lifecycle = documents.record_lifecycle(task_id, recording.room_id, recording.record_user_id)
    for event_type in (documents.RECORD_STARTED, documents.RECORD_STOPPED):
        deliveries.enqueue(
            ctx.session,
            sdk_app_id=ctx.app.sdk_app_id,
            kind=RECORD,
            event_type=event_type,
            task_id=task_id,
            event_data=lifecycle,
            now_ms=ctx.now_ms,
        )
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
    return online_record(row)


def _live(name: str) -> Action:
    def refuse(_ctx: ActionContext, _params: dict[str, Any]) -> dict[str, Any]:
        raise ApiError(faults.UNSUPPORTED_OPERATION, _LIVE_UNSUPPORTED.format(action=name))

    return Action(name, START_ONLINE_RECORD if name == "StartOnlineRecord" else APP_TASK, refuse)


ACTIONS = [
    Action("ImportOnlineRecord", _IMPORT, import_online_record),
    Action("DescribeOnlineRecord", APP_TASK, describe_online_record),
    *(
        _live(name)
        for name in (
            "StartOnlineRecord",
            "PauseOnlineRecord",
            "ResumeOnlineRecord",
            "StopOnlineRecord",
        )
    ),
]
