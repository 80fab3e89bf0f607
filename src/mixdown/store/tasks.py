"""Video generation tasks: creation under the app's concurrency limit, attempts, results.

Only the current attempt (``attempt_id``) may move a task on, so a stale worker whose task
was re-queued can never overwrite the result of the attempt that replaced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mixdown.domain.outcome import Failure
from mixdown.domain.result import GenerationResult
from mixdown.errors import TaskConcurrencyExceeded
from mixdown.store.database import Database
from mixdown.store.identifiers import new_task_id
from mixdown.store.models import FINISHED, PROCESSING, QUEUED, UNFINISHED, App, GenerationTask
from mixdown.store.outcomes import write_failure, write_result


@dataclass(frozen=True)
class Claim:
    task_id: str
    attempt_id: str
    attempts: int
    #: True on the first attempt (QUEUED → PROCESSING), False when resuming after a crash.
    first: bool


def create_task(
    s: Session, app: App, *, recording_id: str, params: dict[str, Any], now_ms: int
) -> GenerationTask:
    """Insert a QUEUED task unless the app's unfinished tasks already reach its limit.

    Race-free: SQLite runs this in a BEGIN IMMEDIATE transaction (one writer at a time);
    PostgreSQL serialises creators on the app row's lock.
    """
    s.execute(select(App.sdk_app_id).where(App.sdk_app_id == app.sdk_app_id).with_for_update())
    unfinished = s.scalar(
        select(func.count())
        .select_from(GenerationTask)
        .where(GenerationTask.sdk_app_id == app.sdk_app_id, GenerationTask.status.in_(UNFINISHED))
    )
    if (unfinished or 0) >= app.task_concurrency:
        raise TaskConcurrencyExceeded(
            f"SdkAppId {app.sdk_app_id} already has {unfinished} unfinished video generation "
            f"tasks, its limit is {app.task_concurrency}",
        )
    return add_task(s, app.sdk_app_id, recording_id=recording_id, params=params, now_ms=now_ms)


def add_task(
    s: Session, sdk_app_id: int, *, recording_id: str, params: dict[str, Any], now_ms: int
) -> GenerationTask:
    """Insert a QUEUED task, whatever the app's limit: the generation a live recording runs
    once it stops is part of the recording, not a task the app asked for."""
    row = GenerationTask(
        task_id=new_task_id(),
        sdk_app_id=sdk_app_id,
        recording_id=recording_id,
        status=QUEUED,
        params=params,
        progress=0,
        attempt_id=None,
        attempts=0,
        output_token=None,
        result=None,
        error_code=None,
        error_message=None,
        created_ms=now_ms,
        started_ms=None,
        finished_ms=None,
    )
    s.add(row)
    return row


def get_task(s: Session, sdk_app_id: int, task_id: str) -> GenerationTask | None:
    """The app's task; another app's is as absent as a missing one."""
    row = s.get(GenerationTask, task_id)
    return row if row is not None and row.sdk_app_id == sdk_app_id else None


def task_by_id(s: Session, task_id: str) -> GenerationTask | None:
    return s.get(GenerationTask, task_id)


def claim(s: Session, task_id: str, *, attempt_id: str, now_ms: int) -> Claim | None:
    """Start a new attempt of an unfinished task; None when it is finished or gone."""
    row = s.get(GenerationTask, task_id)
    if row is None or row.status not in UNFINISHED:
        return None
    first = row.status == QUEUED
    row.status, row.attempt_id, row.progress = PROCESSING, attempt_id, 0
    row.attempts += 1
    row.started_ms = row.started_ms or now_ms
    return Claim(task_id, attempt_id, row.attempts, first)


def give_back(s: Session, task_id: str, attempt_id: str) -> None:
    """A graceful stop interrupted this attempt: it does not count towards the crash limit."""
    row = current_attempt(s, task_id, attempt_id)
    if row is not None:
        row.attempts = max(0, row.attempts - 1)


def set_progress(db: Database, task_id: str, attempt_id: str, percent: int) -> None:
    with db.transaction() as s:
        row = s.get(GenerationTask, task_id)
        if row is not None and row.attempt_id == attempt_id and row.status == PROCESSING:
            row.progress = max(0, min(99, percent))


def current_attempt(s: Session, task_id: str, attempt_id: str) -> GenerationTask | None:
    """The task while ``attempt_id`` is its running attempt, locked for the transaction: of
    two pieces failing at once (S3 away for both), the second waits and finds the task
    concluded, instead of concluding it again."""
    row = s.get(GenerationTask, task_id, with_for_update=True, populate_existing=True)
    if row is None or row.attempt_id != attempt_id or row.status != PROCESSING:
        return None
    return row


def finish_task(
    row: GenerationTask,
    outcome: GenerationResult | Failure,
    *,
    now_ms: int,
    output_token: str | None = None,
) -> None:
    """FINISHED with a result (whose files are in ``output_token``'s folder) or a failure."""
    row.status, row.finished_ms, row.progress = FINISHED, now_ms, 100
    if isinstance(outcome, Failure):
        write_result(row, None)
        write_failure(row, outcome)
        row.output_token = None
    else:
        write_result(row, outcome)
        write_failure(row, None)
        row.output_token = output_token


def unfinished_tasks(db: Database) -> list[str]:
    with db.transaction() as s:
        return list(
            s.scalars(
                select(GenerationTask.task_id)
                .where(GenerationTask.status.in_(UNFINISHED))
                .order_by(GenerationTask.created_ms)
            )
        )


def committed_task(s: Session, output_token: str) -> GenerationTask | None:
    """The finished task whose committed outputs ``output_token`` names."""
    if not output_token:
        return None
    return s.scalar(
        select(GenerationTask).where(
            GenerationTask.output_token == output_token, GenerationTask.status == FINISHED
        )
    )


def running_tasks(
    s: Session, sdk_app_id: int, *, since_ms: int, offset: int, limit: int
) -> tuple[int, list[GenerationTask]]:
    where = (
        GenerationTask.sdk_app_id == sdk_app_id,
        GenerationTask.status.in_(UNFINISHED),
        GenerationTask.created_ms >= since_ms,
    )
    total = s.scalar(select(func.count()).select_from(GenerationTask).where(*where)) or 0
    rows = s.scalars(
        select(GenerationTask)
        .where(*where)
        .order_by(GenerationTask.created_ms)
        .offset(offset)
        .limit(limit)
    )
    return total, list(rows)
