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
from dataclasses import dataclass, replace
from pathlib import Path
from stat import S_ISREG
from typing import Any

from mixdown.domain.media import probes_from_json
from mixdown.domain.outcome import Failure, Interrupted
from mixdown.domain.report import GenerationReport
from mixdown.domain.result import GenerationResult, VideoInfo
from mixdown.errors import RECORD_FAILED, Cancelled, MixdownError
from mixdown.jobs.context import JobContext
from mixdown.jobs.importer import finish_live
from mixdown.storage.outputs import Attempt
from mixdown.store import deliveries, tasks
from mixdown.store.identifiers import new_token
from mixdown.store.models import GENERATION, GenerationTask, Recording
from mixdown.store.outcomes import published_videos, recording_of
from mixdown.store.recordings import recording_by_id
from mixdown.tiw import documents

_log = logging.getLogger("mixdown.jobs")
_PROGRESS_EVERY_S = 0.5


@dataclass(frozen=True)
class Begun:
    """A claimed attempt: the task's and its recording's rows, the start event's data."""

    task: GenerationTask
    recording: Recording
    started: dict[str, Any]
    attempts: int


class GenerationJob:
    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx

    def __call__(self, task_id: str) -> None:
        ctx, attempt_id = self.ctx, uuid.uuid4().hex
        begun = self.begin(task_id, attempt_id)
        if begun is None:
            return
        task, started = begun.task, begun.started
        stored, probes_json, params_json = begun.recording, begun.recording.probes, task.params
        attempt = Attempt(task.sdk_app_id, task_id, new_token())
        outcome = self._render(attempt, attempt_id, stored, probes_json, params_json)
        if isinstance(outcome, Interrupted):  # shut down mid-render: left for the restart
            with ctx.db.transaction() as s:
                tasks.give_back(s, task_id, attempt_id)
            return
        with ctx.db.transaction() as s:
            current = tasks.current_attempt(s, task_id, attempt_id)
            if current is None:  # superseded by a newer attempt: its outputs win
                ctx.outputs.discard(attempt)
                return
            committed = attempt.token if isinstance(outcome, GenerationResult) else None
            self.conclude(s, current, started, outcome, committed)
        self.concluded(attempt, outcome, begun.attempts)

    def begin(self, task_id: str, attempt_id: str) -> Begun | None:
        """Claim a new attempt at the task (announcing its first start); None when there is
        nothing to do, or the task was interrupted too often and has failed now."""
        ctx = self.ctx
        with ctx.db.transaction() as s:
            claim = tasks.claim(s, task_id, attempt_id=attempt_id, now_ms=ctx.now_ms())
            if claim is None:
                return None
            task = tasks.task_by_id(s, task_id)
            recording = recording_by_id(s, task.recording_id) if task else None
            assert task is not None and recording is not None
            started = documents.generation_started(
                task_id, recording.task_id, recording.room_id, recording.group_id
            )
            if claim.attempts > ctx.max_attempts:
                message = f"gave up after {ctx.max_attempts} interrupted attempts"
                self.conclude(s, task, started, Failure(RECORD_FAILED, message), None)
                begun = None
            else:
                if claim.first:
                    self._event(s, task, documents.GENERATION_STARTED, started)
                begun = Begun(task, recording, started, claim.attempts)
        ctx.notify()
        if begun is not None:
            _log.info("generation started", extra={"task_id": task_id, "attempt": claim.attempts})
        return begun

    def concluded(
        self, attempt: Attempt, outcome: GenerationResult | Failure, attempts: int
    ) -> None:
        """After the commit of the task's verdict: tidy the store and say so."""
        self.ctx.notify()
        if isinstance(outcome, GenerationResult):
            self.ctx.outputs.keep_only(attempt)  # dead attempts of this task leave no objects
            _log_report(attempt.task_id, outcome.report)
        code = outcome.code if isinstance(outcome, Failure) else ""
        _log.info(
            "generation finished",
            extra={"task_id": attempt.task_id, "code": code, "attempt": attempts},
        )

    def _render(
        self,
        attempt: Attempt,
        attempt_id: str,
        stored: Recording,
        probes_json: dict[str, Any] | None,
        params_json: dict[str, Any],
    ) -> GenerationResult | Failure | Interrupted:
        """The result, checked and stored under the attempt's keys; or the verdict on the
        attempt; or none (interrupted)."""
        ctx, task_id = self.ctx, attempt.task_id
        out_dir = ctx.outputs.attempt_dir(attempt)
        try:
            recording = recording_of(stored)
            params = documents.read_params(params_json)
            probes = probes_from_json(probes_json)
            result = ctx.engine.generate(
                recording,
                params,
                out_dir,
                probes=probes,
                progress=self._progress(task_id, attempt_id),
                cancel=ctx.stopping,
            )
            checked = _checked(result, out_dir)
            ctx.outputs.keep(attempt, [out_dir / info.url for info in checked.videos])
            return checked
        except MixdownError as exc:
            ctx.outputs.discard(attempt)
            return verdict(exc, stopping=ctx.stopping.is_set())
        except Exception:
            ctx.outputs.discard(attempt)
            _log.exception("generation crashed", extra={"task_id": task_id})
            return Failure(RECORD_FAILED, "video generation failed unexpectedly")

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

    def conclude(
        self,
        s: Any,
        task: GenerationTask,
        started: dict[str, Any],
        outcome: GenerationResult | Failure,
        token: str | None,
    ) -> None:
        tasks.finish_task(task, outcome, now_ms=self.ctx.now_ms(), output_token=token)
        infos = published_videos(task, self.ctx.outputs.link)
        data = documents.generation_finished(started, outcome, video_infos=infos)
        self._event(s, task, documents.GENERATION_FINISHED, data)
        finish_live(s, task, outcome, infos, self.ctx.now_ms())

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


def verdict(exc: MixdownError, *, stopping: bool) -> Failure | Interrupted:
    """What a render's error comes to: a render cancelled because the server is stopping
    has no verdict (the attempt is given back and runs again after the restart); any
    other error is the task's failure."""
    if isinstance(exc, Cancelled) and stopping:
        return Interrupted()
    return Failure(exc.code, exc.message)


def _log_report(task_id: str, report: GenerationReport | None) -> None:
    """Each warning of the generation report, one line each, so operators see them too."""
    for output in report.outputs if report is not None else ():
        for warning in output.warnings:
            _log.warning(
                "generation warning",
                extra={
                    "task_id": task_id,
                    "output": output.name,
                    "code": warning.code,
                    "detail": warning.message,
                },
            )


def _checked(result: GenerationResult, out_dir: Path) -> GenerationResult:
    """The engine's result with each file proven to be a regular file inside ``out_dir``."""
    root = out_dir.resolve()
    return replace(result, videos=tuple(_committed(info, root) for info in result.videos))


def _committed(info: VideoInfo, root: Path) -> VideoInfo:
    """``info`` with its url as the file's path inside ``root`` and its size as the file's:
    the one stat that proves the file is there also gives the size that is committed."""
    path = (root / info.url).resolve()
    try:
        found = path.stat() if root in path.parents else None
    except (OSError, ValueError):
        found = None
    if found is None or not S_ISREG(found.st_mode):
        raise MixdownError(f"output {info.url!r} is missing", code=RECORD_FAILED)
    return replace(info, url=path.relative_to(root).as_posix(), size=found.st_size)
