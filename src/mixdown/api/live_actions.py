"""The live recording lifecycle (reference §2.1-§2.4): StartOnlineRecord, PauseOnlineRecord,
ResumeOnlineRecord, StopOnlineRecord.

Start admits pushes to the room (checked by the ingest's ``on_publish``); Pause and Resume
mark the intervals generation cuts out; Stop ends it: the ingest node then closes its
publishes, seals the segments into the recording and runs its generation.
"""

from __future__ import annotations

import re
from typing import Any

from mixdown.api import faults
from mixdown.api.action import Action, ActionContext
from mixdown.api.faults import ApiError
from mixdown.domain.recording import USER_CALL
from mixdown.errors import ResourceUnavailable, TaskConcurrencyExceeded
from mixdown.ingest.stop_rule import AUTO_STOP_DEFAULT_S, AUTO_STOP_MAX_S
from mixdown.ingest.stream_name import MAX_ROOM_ID
from mixdown.store import live
from mixdown.store.identifiers import new_task_id
from mixdown.store.models import FINISHED, PAUSED, RECORDING, STOPPED, Recording
from mixdown.store.recordings import get_recording
from mixdown.tiw import documents
from mixdown.tiw.types import APP_TASK, PARAMETER_FIELDS, START_ONLINE_RECORD

#: TIW's limit of recordings an app runs at once (reference §2.1).
MAX_LIVE_PER_APP = 100
#: An ingest node not seen for this long is gone.
NODE_SILENCE_MS = 15_000
MIX_STREAM_EXTRA = "MIX_STREAM"
_RECORD_MODES = ("REALTIME_MODE", "VIDEO_GENERATION_MODE")
_RECORD_USER_ID_MAX = 60


def start_online_record(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    room_id = _room_id(params)
    record_user_id = _record_user_id(params, room_id)
    auto_stop_s = _auto_stop(params, ctx.services.auto_stop_min_s)
    _check_mode(params)
    own = {k: params[k] for k in PARAMETER_FIELDS if k in params}
    defaults = documents.read_params(own)  # InvalidParameter.RecordParameter, naming the field
    _check_extras(params, mix=defaults.mix_stream is not None and defaults.mix_stream.enabled)
    ctx.services.policy.params(own)
    s, sdk_app_id = ctx.session, ctx.app.sdk_app_id
    _check_ingest(ctx)
    running = live.live_recordings(s, sdk_app_id)
    if any(row.record_user_id == record_user_id for row in running):
        raise ApiError(
            faults.RECORD_USER_IN_USE,
            f"RecordUserId: {record_user_id!r} is recording another task already",
        )
    if any(row.room_id == room_id for row in running):
        raise TaskConcurrencyExceeded(f"RoomId: room {room_id} is being recorded already")
    if len(running) >= MAX_LIVE_PER_APP:
        raise TaskConcurrencyExceeded(
            f"SdkAppId {sdk_app_id} records {len(running)} rooms at once, the most allowed"
        )
    task_id = new_task_id()
    manifest = {
        "RoomId": room_id,
        "GroupId": params.get("GroupId") or str(room_id),
        "RecordUserId": record_user_id,
        **own,
        "AudioFileNeeded": bool(params.get("AudioFileNeeded", False)),
        "TaskId": task_id,
        "SdkAppId": sdk_app_id,
    }
    row = live.start_recording(
        s,
        task_id=task_id,
        sdk_app_id=sdk_app_id,
        manifest=manifest,
        auto_stop_s=auto_stop_s,
        now_ms=ctx.now_ms,
    )
    live.announce(s, row, documents.RECORD_STARTED, ctx.now_ms)
    ctx.after_commit.append(ctx.services.notify_callbacks)
    return {"TaskId": task_id}


def pause_online_record(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    row = _live_recording(ctx, params["TaskId"])
    if row.status != RECORDING:
        raise ApiError(faults.INVALID_TASK_STATUS, f"TaskId: {row.task_id!r} is paused already")
    live.pause(row, ctx.now_ms)
    return {}


def resume_online_record(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    row = _live_recording(ctx, params["TaskId"])
    if row.status != PAUSED:
        raise ApiError(faults.INVALID_TASK_STATUS, f"TaskId: {row.task_id!r} is not paused")
    live.resume(row, ctx.now_ms)
    return {}


def stop_online_record(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    row = _live_recording(ctx, params["TaskId"])
    live.stop(row, USER_CALL, ctx.now_ms)
    live.announce(ctx.session, row, documents.RECORD_STOPPED, ctx.now_ms)
    ctx.after_commit.append(ctx.services.notify_callbacks)
    return {}


def _live_recording(ctx: ActionContext, task_id: str) -> Recording:
    """The app's recording, locked, while it takes media."""
    if get_recording(ctx.session, ctx.app.sdk_app_id, task_id) is None:
        raise ApiError(faults.TASK_NOT_FOUND, f"TaskId: no recording {task_id!r}")
    row = live.locked(ctx.session, task_id)
    assert row is not None
    if row.status in (STOPPED, FINISHED):
        raise ApiError(
            faults.TASK_ALREADY_STOPPED, f"TaskId: recording {task_id!r} has stopped already"
        )
    return row


def _room_id(params: dict[str, Any]) -> int:
    room_id = int(params["RoomId"])
    if not 1 < room_id < MAX_ROOM_ID:
        raise ApiError(faults.RECORD_PARAMETER, f"RoomId: {room_id} is outside (1, {MAX_ROOM_ID})")
    return room_id


def _record_user_id(params: dict[str, Any], room_id: int) -> str:
    """TIW's required shape ``tic_record_user_<RoomId>_<random>``, at most 60 bytes."""
    value = str(params["RecordUserId"])
    shape = re.fullmatch(rf"tic_record_user_{room_id}_[A-Za-z0-9_-]+", value)
    if shape is None or len(value.encode()) > _RECORD_USER_ID_MAX:
        raise ApiError(
            faults.RECORD_PARAMETER,
            f"RecordUserId: {value[:80]!r} must be tic_record_user_{room_id}_<random>, "
            f"at most {_RECORD_USER_ID_MAX} bytes",
        )
    if not str(params["RecordUserSig"]):
        raise ApiError(faults.RECORD_PARAMETER, "RecordUserSig: must not be empty")
    return value


def _auto_stop(params: dict[str, Any], min_s: int) -> int:
    value = params.get("AutoStopTimeout")
    if value is None:
        return max(min_s, AUTO_STOP_DEFAULT_S)
    if not min_s <= int(value) <= AUTO_STOP_MAX_S:
        raise ApiError(
            faults.RECORD_PARAMETER,
            f"AutoStopTimeout: {value} is outside [{min_s}, {AUTO_STOP_MAX_S}] seconds",
        )
    return int(value)


def _check_mode(params: dict[str, Any]) -> None:
    mode = params.get("RecordMode") or _RECORD_MODES[0]
    if mode not in _RECORD_MODES:
        raise ApiError(
            faults.RECORD_PARAMETER, f"RecordMode: {mode!r} is not one of {list(_RECORD_MODES)}"
        )
    if mode == "VIDEO_GENERATION_MODE":
        raise ApiError(
            faults.INTERFACE_UNAUTHORIZED,
            "RecordMode: VIDEO_GENERATION_MODE (a signalling replay) is not offered here; "
            "REALTIME_MODE records the videos, and CreateVideoGenerationTask regenerates them",
        )
    trtc = params.get("TRTCRoomId")
    if trtc is not None and not 1 < int(trtc) < MAX_ROOM_ID:
        raise ApiError(faults.RECORD_PARAMETER, f"TRTCRoomId: {trtc} is outside (1, {MAX_ROOM_ID})")


def _check_extras(params: dict[str, Any], *, mix: bool) -> None:
    extras = [str(e) for e in params.get("Extras") or []]
    for i, extra in enumerate(extras):
        if extra != MIX_STREAM_EXTRA:
            raise ApiError(
                faults.INVALID_EXTRA, f"Extras.{i}: {extra[:64]!r} is not a feature; use MIX_STREAM"
            )
    if mix and MIX_STREAM_EXTRA not in extras:
        raise ApiError(
            faults.INVALID_EXTRA, "Extras: MixStream is enabled, so Extras must hold MIX_STREAM"
        )


def _check_ingest(ctx: ActionContext) -> None:
    """Refuse to start when no ingest node could take the pushes, saying why."""
    nodes = live.ingest_nodes(ctx.session, since_ms=ctx.now_ms - NODE_SILENCE_MS)
    if not nodes:
        raise ResourceUnavailable(
            "no RTMP ingest is running: start `mixdown serve --rtmp-port 1935` (it needs "
            "nginx with the RTMP module) so that pushes can be recorded"
        )
    if nodes[0].problem:
        raise ResourceUnavailable(nodes[0].problem)


ACTIONS = [
    Action("StartOnlineRecord", START_ONLINE_RECORD, start_online_record),
    Action("PauseOnlineRecord", APP_TASK, pause_online_record),
    Action("ResumeOnlineRecord", APP_TASK, resume_online_record),
    Action("StopOnlineRecord", APP_TASK, stop_online_record),
]
