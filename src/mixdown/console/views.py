"""What each console page shows, read from the store for one signed-in user: only the rows
of the user's apps are ever read (another app's id is as absent as an unknown one)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from mixdown.console.timeline import Piece, Timeline, timeline
from mixdown.domain.media import probes_from_json
from mixdown.domain.report import Notice
from mixdown.errors import InvalidParameter
from mixdown.storage.outputs import Attempt, Outputs
from mixdown.store import console, live
from mixdown.store.callback_configs import get_target
from mixdown.store.database import Database
from mixdown.store.models import FINISHED, GENERATION, RECORD, App, GenerationTask, Recording
from mixdown.store.outcomes import (
    UnreadableRow,
    failure_of,
    online_record,
    published_videos,
    recording_of,
    result_of,
)
from mixdown.store.tasks import task_by_id


@dataclass(frozen=True)
class RecordingRow:
    task_id: str
    sdk_app_id: int
    room_id: int
    status: str
    live: bool
    created_ms: int
    total_ms: int
    pauses: int
    error: str


@dataclass(frozen=True)
class TaskRow:
    task_id: str
    sdk_app_id: int
    recording_id: str
    status: str
    progress: int
    created_ms: int
    error: str


@dataclass(frozen=True)
class RecordingView:
    row: RecordingRow
    summary: dict[str, Any]
    picture: Timeline
    videos: list[dict[str, Any]]
    tasks: list[TaskRow]
    streams: list[str]


@dataclass(frozen=True)
class Output:
    info: dict[str, Any]
    #: The report's warnings about this file.
    warnings: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class TaskView:
    row: TaskRow
    status: str
    progress: int
    error: str
    params: str
    outputs: list[Output] = field(default_factory=list)
    warnings: tuple[Notice, ...] = ()
    #: The committed outputs' folder token, and where ffmpeg reads each output (a local
    #: file, or its download URL).
    token: str = ""
    sources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Delivery:
    event_type: str
    task_id: str
    state: str
    attempts: int
    last_error: str
    next_attempt_ms: int
    created_ms: int


@dataclass(frozen=True)
class CallbacksView:
    #: (SdkAppId, kind, URL, whether a key is set): the key itself is never shown.
    targets: list[tuple[int, str, str, bool]]
    deliveries: list[Delivery]


def recordings(db: Database, user: console.SignedIn) -> list[RecordingRow]:
    with db.transaction() as s:
        return [_recording_row(r) for r in console.recordings_of(s, user.sdk_app_ids)]


def _recording_row(row: Recording) -> RecordingRow:
    try:
        summary = online_record(row)
        total, pauses = summary["TotalTime"], len(summary["OmittedDurations"])
    except UnreadableRow:
        total, pauses = 0, 0
    failure = failure_of(row)
    return RecordingRow(
        row.task_id,
        row.sdk_app_id,
        row.room_id,
        row.status,
        row.live,
        row.created_ms,
        total,
        pauses,
        f"{failure.code}: {failure.message}" if failure else "",
    )


def recording(
    db: Database, outputs: Outputs, user: console.SignedIn, task_id: str
) -> RecordingView | None:
    with db.transaction() as s:
        row = s.get(Recording, task_id)
        if row is None or row.sdk_app_id not in user.sdk_app_ids:
            return None
        task = task_by_id(s, row.generation_id) if row.generation_id else None
        videos = published_videos(task, outputs.link) if task is not None else []
        summary = online_record(row, videos)
        pieces = _pieces(
            row,
            [
                (g.stream_id, g.start_ms or g.publish_ms, g.closed_ms)
                for g in live.segments(s, task_id)
            ],
        )
        tasks = [_task_row(t) for t in console.tasks_of(s, user.sdk_app_ids, task_id)]
        recorded = recording_of(row)
        start = recorded.start_ms
        end = row.stop_ms or recorded.stop_ms or _now_ms()
        pauses = [(p.pause_ms, p.resume_ms) for p in recorded.pauses]
        if row.paused_ms is not None:
            pauses.append((row.paused_ms, _now_ms()))
        streams = sorted({p.stream_id for p in pieces})
        return RecordingView(
            _recording_row(row),
            summary,
            timeline(start, end, pieces, pauses),
            videos,
            tasks,
            streams,
        )


def _pieces(row: Recording, segments: list[tuple[str, int, int | None]]) -> list[Piece]:
    """The segments to draw: a live recording's as they are recorded, until it is sealed;
    then (and for an import) the manifest's, as long as their probed media."""
    if row.live and row.sealed_ms is None:
        return [Piece(stream, start, end) for stream, start, end in segments]
    probes = probes_from_json(row.probes)
    pieces = []
    for stream in recording_of(row).streams:
        for seg in stream.segments:
            info = probes.get(seg.url)
            end = seg.start_ms + info.duration_ms if info is not None else seg.start_ms
            pieces.append(Piece(stream.stream_id, seg.start_ms, end))
    return pieces


def tasks(db: Database, user: console.SignedIn) -> list[TaskRow]:
    with db.transaction() as s:
        return [_task_row(t) for t in console.tasks_of(s, user.sdk_app_ids)]


def _task_row(task: GenerationTask) -> TaskRow:
    failure = failure_of(task) if task.status == FINISHED else None
    return TaskRow(
        task.task_id,
        task.sdk_app_id,
        task.recording_id,
        task.status,
        100 if task.status == FINISHED else task.progress,
        task.created_ms,
        f"{failure.code}: {failure.message}" if failure else "",
    )


def task(db: Database, outputs: Outputs, user: console.SignedIn, task_id: str) -> TaskView | None:
    with db.transaction() as s:
        row = task_by_id(s, task_id)
        if row is None or row.sdk_app_id not in user.sdk_app_ids:
            return None
        summary = _task_row(row)
        result = result_of(row)
        infos = published_videos(row, outputs.link)
        report = result.report if result is not None else None
        by_name = {o.name: o.warnings for o in report.outputs} if report else {}
        listed = [
            Output(info, by_name.get(info["VideoUrl"].rsplit("/", 1)[-1].split("?")[0], ()))
            for info in infos
        ]
        token = row.output_token or ""
        attempt = Attempt(row.sdk_app_id, row.task_id, token)
        sources = []
        for info in result.videos if result is not None else ():
            local = outputs.local_file(attempt, info.url) if token else None
            sources.append(
                str(local) if local else outputs.link(row.sdk_app_id, row.task_id, token, info.url)
            )
        return TaskView(
            summary,
            summary.status,
            summary.progress,
            summary.error,
            json.dumps(row.params, indent=2, sort_keys=True),
            listed,
            report.warnings if report else (),
            token,
            sources,
        )


def callbacks(db: Database, user: console.SignedIn) -> CallbacksView:
    with db.transaction() as s:
        targets = []
        for app in user.sdk_app_ids:
            for kind in (RECORD, GENERATION):
                target = get_target(s, app, kind)
                targets.append((app, kind, target.url, bool(target.key)))
        deliveries = [
            Delivery(
                d.event_type,
                d.task_id,
                d.state,
                d.attempts,
                d.last_error or "",
                d.next_attempt_ms,
                d.created_ms,
            )
            for d in console.deliveries_of(s, user.sdk_app_ids)
        ]
        return CallbacksView(targets, deliveries)


@dataclass(frozen=True)
class AppRow:
    sdk_app_id: int
    task_concurrency: int
    created_ms: int
    #: Until when the key a rotation replaced still works (0: none does).
    previous_key_until_ms: int


def apps(db: Database, user: console.SignedIn) -> list[AppRow]:
    with db.transaction() as s:
        now = _now_ms()
        rows = [s.get(App, app) for app in user.sdk_app_ids]
        return [
            AppRow(
                a.sdk_app_id,
                a.task_concurrency,
                a.created_ms,
                a.previous_key_until_ms
                if a.previous_key_until_ms and a.previous_key_until_ms > now
                else 0,
            )
            for a in rows
            if a is not None
        ]


#: The built-in layouts a task form offers (MixStream.ModelId), and none.
TEMPLATES = ("none", "1", "2", "custom")


def task_params(form: dict[str, str]) -> dict[str, Any]:
    """CreateVideoGenerationTask's parameter objects from the console's task form."""
    params: dict[str, Any] = {}
    if form.get("concat") == "on":
        params["Concat"] = {"Enabled": True}
    left_out, muted = _listed(form, "rc_off"), _listed(form, "rc_mute")
    if left_out or muted:
        params["RecordControl"] = {
            "Enabled": True,
            "StreamControls": [
                {"StreamId": s, "DisableRecord": s in left_out, "DisableAudio": s in muted}
                for s in sorted(left_out | muted)
            ],
        }
    template = form.get("template", "none")
    if template in ("1", "2"):
        params["MixStream"] = {"Enabled": True, "ModelId": int(template)}
    elif template == "custom":
        try:
            mix = json.loads(form.get("mix_stream", "") or "null")
        except ValueError as exc:
            raise InvalidParameter(f"MixStream: not JSON ({exc})") from None
        if not isinstance(mix, dict):
            raise InvalidParameter("MixStream: the layout editor's JSON must be an object")
        params["MixStream"] = mix
    return params


def _listed(form: dict[str, str], name: str) -> set[str]:
    return {v for v in form.get(name, "").split("\n") if v}


def _now_ms() -> int:
    return int(time.time() * 1000)
