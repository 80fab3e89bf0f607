"""Finishing an imported recording: probe every media file, then FINISHED (or failed with
a message that names the file), and the OnlineRecordFinished callback."""

from __future__ import annotations

import logging
from typing import Any

from mixdown.domain.outcome import Failure
from mixdown.errors import RECORD_FAILED, MixdownError
from mixdown.jobs.context import JobContext
from mixdown.planning.planner import recording_stop
from mixdown.store import deliveries
from mixdown.store.models import FINISHED, RECORD
from mixdown.store.outcomes import online_record, recording_of
from mixdown.store.recordings import finish_recording, recording_by_id
from mixdown.tiw import documents

_log = logging.getLogger("mixdown.jobs")


class ImportJob:
    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx

    def __call__(self, recording_id: str) -> None:
        ctx = self.ctx
        with ctx.db.transaction() as s:
            row = recording_by_id(s, recording_id)
            if row is None or row.status == FINISHED:
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
        with ctx.db.transaction() as s:
            row = recording_by_id(s, recording_id)
            if row is None or row.status == FINISHED:
                return
            finish_recording(
                row, probes=probes, stop_ms=stop_ms, now_ms=ctx.now_ms(), failure=failure
            )
            deliveries.enqueue(
                s,
                sdk_app_id=row.sdk_app_id,
                kind=RECORD,
                event_type=documents.RECORD_FINISHED,
                task_id=row.task_id,
                event_data=documents.record_finished(online_record(row), failure),
                now_ms=ctx.now_ms(),
            )
        ctx.notify()
        code = failure.code if failure else ""
        _log.info("recording imported", extra={"task_id": recording_id, "code": code})
