"""Finishing a stopped recording: probe every media file, then FINISHED (or failed with a
message that names the file), and the OnlineRecordFinished callback.

A live recording, once probed, runs one generation with its own parameters, as TIW does
after a real-time recording; it is FINISHED, with that generation's videos, when the
generation is (``finish_live``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from mixdown.domain.outcome import Failure
from mixdown.domain.result import GenerationResult
from mixdown.errors import RECORD_FAILED, MixdownError
from mixdown.jobs.context import JobContext
from mixdown.planning.planner import recording_stop
from mixdown.store import deliveries
from mixdown.store.models import RECORD, STOPPED, GenerationTask, Recording
from mixdown.store.outcomes import online_record, recording_of
from mixdown.store.recordings import (
    finish_recording,
    probed,
    recording_by_id,
    recording_to_probe,
)
from mixdown.store.tasks import add_task
from mixdown.tiw import documents

_log = logging.getLogger("mixdown.jobs")

#: Queues a job: (kind, key).
Defer = Callable[[str, str], None]
#: The kind a live recording's generation is queued as (``jobs.kinds.GENERATION``).
GENERATION_KIND = "generation"


class ImportJob:
    def __init__(self, ctx: JobContext, defer: Defer) -> None:
        self.ctx = ctx
        self.defer = defer

    def __call__(self, recording_id: str) -> None:
        ctx = self.ctx
        with ctx.db.transaction() as s:
            row = recording_to_probe(s, recording_id)
            if row is None:
                return
            stored = row
        probes: dict[str, Any] | None = None
        stop_ms: int | None = None
        failure: Failure | None = None
        try:
            recording = recording_of(stored)
            found = ctx.engine.probe(recording)
            probes = {url: info.to_json() for url, info in found.items()}
            # No media after the start: the recording has no length (TotalTime 0), and a
            # generation from it is refused with the reason.
            stop_ms = recording_stop(recording, found) or recording.start_ms
        except MixdownError as exc:
            failure = Failure(exc.code, exc.message)
        except Exception:
            _log.exception("probing crashed", extra={"task_id": recording_id})
            failure = Failure(RECORD_FAILED, "probing the recording's media failed unexpectedly")
        generation_id = None
        with ctx.db.transaction() as s:
            row = recording_to_probe(s, recording_id, lock=True)
            if row is None:
                return
            if row.live and failure is None and probes and row.manifest["Streams"]:
                task = add_task(
                    s, row.sdk_app_id, recording_id=row.task_id, params={}, now_ms=ctx.now_ms()
                )
                generation_id = task.task_id
                probed(row, probes, generation_id)
            else:
                if row.live:  # its stop is the stop call's, not its media's
                    stop_ms = row.stop_ms
                finish_recording(
                    row, probes=probes, stop_ms=stop_ms, now_ms=ctx.now_ms(), failure=failure
                )
                _finished_event(s, row, failure, None, ctx.now_ms())
        if generation_id is not None:
            self.defer(GENERATION_KIND, generation_id)
            _log.info("recording probed", extra={"task_id": recording_id})
            return
        ctx.notify()
        code = failure.code if failure else ""
        _log.info("recording finished", extra={"task_id": recording_id, "code": code})


def finish_live(
    s: Session,
    task: GenerationTask,
    outcome: GenerationResult | Failure,
    video_infos: list[dict[str, Any]],
    now_ms: int,
) -> None:
    """After ``task`` concluded: FINISHED the live recording it was the generation of."""
    row = recording_by_id(s, task.recording_id)
    if row is None or row.generation_id != task.task_id or row.status != STOPPED:
        return
    failure = outcome if isinstance(outcome, Failure) else None
    finish_recording(row, probes=row.probes, stop_ms=row.stop_ms, now_ms=now_ms, failure=failure)
    _finished_event(s, row, failure, video_infos, now_ms)


def _finished_event(
    s: Session,
    row: Recording,
    failure: Failure | None,
    video_infos: list[dict[str, Any]] | None,
    now_ms: int,
) -> None:
    deliveries.enqueue(
        s,
        sdk_app_id=row.sdk_app_id,
        kind=RECORD,
        event_type=documents.RECORD_FINISHED,
        task_id=row.task_id,
        event_data=documents.record_finished(online_record(row, video_infos), failure),
        now_ms=now_ms,
    )
