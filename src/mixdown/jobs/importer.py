"""Finishing an imported recording: probe every media file, then FINISHED (or failed with
a message that names the file), and the OnlineRecordFinished callback."""

from __future__ import annotations

import logging
from typing import Any

from mixdown.callbacks import events
from mixdown.domain.media import MediaInfo
from mixdown.domain.recording import Recording
from mixdown.errors import MixdownError
from mixdown.jobs.context import JobContext
from mixdown.planning.manifest import parse_manifest
from mixdown.store import deliveries
from mixdown.store.models import FINISHED, RECORD
from mixdown.store.recordings import finish_recording, recording_by_id
from mixdown.store.shapes import recording_summary

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
            manifest = row.manifest
        probes: dict[str, Any] | None = None
        stop_ms: int | None = None
        error: tuple[str, str] | None = None
        try:
            recording = parse_manifest(manifest, base_dir=None)
            found = ctx.engine.probe(recording)
            probes = {url: info.to_json() for url, info in found.items()}
            stop_ms = recording.stop_ms or _media_end(recording.start_ms, recording, found)
        except MixdownError as exc:
            error = (exc.code, exc.message)
        except Exception:
            _log.exception("probing crashed", extra={"task_id": recording_id})
            error = ("FailedOperation.Record", "probing the recording's media failed unexpectedly")
        with ctx.db.transaction() as s:
            row = recording_by_id(s, recording_id)
            if row is None or row.status == FINISHED:
                return
            finish_recording(row, probes=probes, stop_ms=stop_ms, now_ms=ctx.now_ms(), error=error)
            deliveries.enqueue(
                s,
                sdk_app_id=row.sdk_app_id,
                kind=RECORD,
                event_type=events.RECORD_FINISHED,
                task_id=row.task_id,
                event_data=events.record_finished(recording_summary(row), error),
                now_ms=ctx.now_ms(),
            )
        ctx.notify()
        _log.info(
            "recording imported", extra={"task_id": recording_id, "code": error[0] if error else ""}
        )


def _media_end(start_ms: int, recording: Recording, probes: dict[str, MediaInfo]) -> int:
    """The stop time a manifest without RecordStopTimeMs gets: the end of the last media."""
    ends = [
        seg.start_ms + probes[seg.url].duration_ms
        for seg in recording.all_segments()
        if seg.url in probes
    ]
    return max([start_ms, *ends])
