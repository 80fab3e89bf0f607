"""One video generation task end to end (DESIGN §5): claim an attempt, render into the
attempt's own folder, commit the outputs together with the final state, queue callbacks.

A crash at any point leaves the task unfinished in the store; the next start re-queues it
and a new attempt renders from scratch into a new folder, so outputs are never duplicated
or half-written.
"""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import Any

from mixdown.callbacks import events
from mixdown.domain.media import probes_from_json
from mixdown.domain.report import REPORT_KEY
from mixdown.errors import RECORD_FAILED, Cancelled, MixdownError
from mixdown.jobs.context import JobContext
from mixdown.planning.manifest import parse_manifest
from mixdown.planning.params import parse_params
from mixdown.store import deliveries, tasks
from mixdown.store.identifiers import new_token
from mixdown.store.models import GENERATION, GenerationTask
from mixdown.store.recordings import recording_by_id
from mixdown.store.shapes import video_infos

_log = logging.getLogger("mixdown.jobs")
_PROGRESS_EVERY_S = 0.5


class GenerationJob:
    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx

    def __call__(self, task_id: str) -> None:
        ctx, attempt_id = self.ctx, uuid.uuid4().hex
        with ctx.db.transaction() as s:
            claim = tasks.claim(s, task_id, attempt_id=attempt_id, now_ms=ctx.now_ms())
            if claim is None:
                return
            task = tasks.task_by_id(s, task_id)
            recording = recording_by_id(s, task.recording_id) if task else None
            assert task is not None and recording is not None
            started = events.generation_started(
                task_id, recording.task_id, recording.room_id, recording.group_id
            )
            if claim.attempts > ctx.max_attempts:
                message = f"gave up after {ctx.max_attempts} interrupted attempts"
                self._finish(s, task, started, None, None, (RECORD_FAILED, message))
                return
            if claim.first:
                self._event(s, task, events.GENERATION_STARTED, started)
            manifest, probes_json, params_json = recording.manifest, recording.probes, task.params
        ctx.notify()
        _log.info("generation started", extra={"task_id": task_id, "attempt": claim.attempts})
        token = new_token()
        result, error = self._render(task_id, attempt_id, token, manifest, probes_json, params_json)
        if error is not None and error[0] == "":  # shut down mid-render: left for the restart
            with ctx.db.transaction() as s:
                tasks.give_back(s, task_id, attempt_id)
            return
        with ctx.db.transaction() as s:
            current = tasks.current_attempt(s, task_id, attempt_id)
            if current is None:  # superseded by a newer attempt: its outputs win
                ctx.storage.discard(token)
                return
            self._finish(s, current, started, result, token if result else None, error)
        ctx.notify()
        _log_report(task_id, result)
        _log.info(
            "generation finished",
            extra={
                "task_id": task_id,
                "code": error[0] if error else "",
                "attempt": claim.attempts,
            },
        )

    def _render(
        self,
        task_id: str,
        attempt_id: str,
        token: str,
        manifest: dict[str, Any],
        probes_json: dict[str, Any] | None,
        params_json: dict[str, Any],
    ) -> tuple[dict[str, Any] | None, tuple[str, str] | None]:
        """The committed result or the error; error code "" means "interrupted, no verdict"."""
        ctx = self.ctx
        out_dir = ctx.storage.attempt_dir(token)
        try:
            recording = parse_manifest(manifest, base_dir=None)
            params = parse_params(params_json)
            probes = probes_from_json(probes_json)
            raw = ctx.engine.generate(
                recording,
                params,
                out_dir,
                probes=probes,
                progress=self._progress(task_id, attempt_id),
                cancel=ctx.stopping,
            )
            return _checked(raw, out_dir), None
        except MixdownError as exc:
            ctx.storage.discard(token)
            if isinstance(exc, Cancelled) and ctx.stopping.is_set():
                return None, ("", "")
            return None, (exc.code, exc.message)
        except Exception:
            ctx.storage.discard(token)
            _log.exception("generation crashed", extra={"task_id": task_id})
            return None, (RECORD_FAILED, "video generation failed unexpectedly")

    def _progress(self, task_id: str, attempt_id: str) -> Any:
        last = {"percent": 0, "at": 0.0}

        def report(fraction: float) -> None:
            percent = int(max(0.0, min(1.0, fraction)) * 100)
            now = time.monotonic()
            if percent <= last["percent"] or now - last["at"] < _PROGRESS_EVERY_S:
                return
            last["percent"], last["at"] = percent, now
            try:
                tasks.set_progress(self.ctx.db, task_id, attempt_id, percent)
            except Exception:  # progress is advisory: never fail a render over it
                _log.warning("progress not saved", extra={"task_id": task_id})

        return report

    def _finish(
        self,
        s: Any,
        task: GenerationTask,
        started: dict[str, Any],
        result: dict[str, Any] | None,
        token: str | None,
        error: tuple[str, str] | None,
    ) -> None:
        tasks.finish_task(
            task, now_ms=self.ctx.now_ms(), result=result, output_token=token, error=error
        )
        data = events.generation_finished(
            started,
            total_time=int(result.get("TotalTime", 0)) if result else 0,
            video_infos=video_infos(task, self.ctx.base_url),
            error=error,
        )
        self._event(s, task, events.GENERATION_FINISHED, data)

    def _event(self, s: Any, task: GenerationTask, event_type: str, data: dict[str, Any]) -> None:
        deliveries.enqueue(
            s,
            sdk_app_id=task.sdk_app_id,
            kind=GENERATION,
            event_type=event_type,
            task_id=task.task_id,
            event_data=data,
            now_ms=self.ctx.now_ms(),
        )


def _log_report(task_id: str, result: dict[str, Any] | None) -> None:
    """Each warning of the generation report, one line each, so operators see them too."""
    report = (result or {}).get(REPORT_KEY) or {}
    for output in report.get("Outputs", []):
        for warning in output.get("Warnings", []):
            _log.warning(
                "generation warning",
                extra={
                    "task_id": task_id,
                    "output": output.get("FileName", ""),
                    "code": warning.get("Code", ""),
                    "detail": warning.get("Message", ""),
                },
            )


def _checked(raw: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """The engine's result with each VideoUrl proven to be a file inside ``out_dir``."""
    result = dict(raw)
    infos = []
    root = out_dir.resolve()
    for info in result.get("VideoInfoList", []):
        name = str(info.get("VideoUrl", ""))
        path = (root / name).resolve()
        if root not in path.parents or not path.is_file():
            raise MixdownError(f"output {name!r} is missing", code=RECORD_FAILED)
        infos.append(
            {
                **info,
                "VideoUrl": path.relative_to(root).as_posix(),
                "VideoSize": path.stat().st_size,
            }
        )
    result["VideoInfoList"] = infos
    return result
