"""The rows that jobs work on (recordings being imported, unfinished generation tasks) as the
cluster's job queue sees them: their leases, which leases lapsed, how a job ended.

A lease is the row's ``heartbeat_ms``: a worker running the row's job renews it every few
seconds. A row whose heartbeat (or, never run, whose creation) is older than the lease has
nobody working on it: its worker died, or its job never reached the queue.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from mixdown.store.database import Database
from mixdown.store.models import (
    FINISHED,
    PROCESSING,
    UNFINISHED,
    GenerationTask,
    Recording,
)
from mixdown.store.recordings import TO_PROBE


def renew_task(db: Database, task_id: str, now_ms: int) -> None:
    with db.transaction() as s:
        s.execute(
            update(GenerationTask)
            .where(GenerationTask.task_id == task_id, GenerationTask.status.in_(UNFINISHED))
            .values(heartbeat_ms=now_ms)
        )


def renew_recording(db: Database, recording_id: str, now_ms: int) -> None:
    with db.transaction() as s:
        s.execute(
            update(Recording)
            .where(Recording.task_id == recording_id, TO_PROBE)
            .values(heartbeat_ms=now_ms)
        )


def lapsed_tasks(db: Database, before_ms: int) -> list[str]:
    """Unfinished tasks nobody has renewed since ``before_ms``, oldest first; a task spread
    over workers is not one of them (its pieces and its publishing have leases of their own)."""
    seen = func.coalesce(GenerationTask.heartbeat_ms, GenerationTask.created_ms)
    with db.transaction() as s:
        return list(
            s.scalars(
                select(GenerationTask.task_id)
                .where(
                    GenerationTask.status.in_(UNFINISHED),
                    GenerationTask.work.is_(None),
                    seen < before_ms,
                )
                .order_by(GenerationTask.created_ms)
            )
        )


def lapsed_publishing(db: Database, before_ms: int) -> list[str]:
    """Spread tasks whose pieces are all done but which nobody has published (renewed)
    since ``before_ms``: their publishing worker died, or the job never reached the queue."""
    with db.transaction() as s:
        return list(
            s.scalars(
                select(GenerationTask.task_id)
                .where(
                    GenerationTask.status == PROCESSING,
                    GenerationTask.pieces_left == 0,
                    GenerationTask.heartbeat_ms < before_ms,
                )
                .order_by(GenerationTask.created_ms)
            )
        )


def lapsed_recordings(db: Database, before_ms: int) -> list[str]:
    """Recordings still being probed that nobody has renewed since ``before_ms``, oldest
    first."""
    seen = func.coalesce(Recording.heartbeat_ms, Recording.created_ms)
    with db.transaction() as s:
        return list(
            s.scalars(
                select(Recording.task_id)
                .where(TO_PROBE, seen < before_ms)
                .order_by(Recording.created_ms)
            )
        )


def task_failed(db: Database, task_id: str) -> bool:
    with db.transaction() as s:
        row = s.get(GenerationTask, task_id)
        return row is not None and row.status == FINISHED and bool(row.error_code)


def recording_failed(db: Database, recording_id: str) -> bool:
    with db.transaction() as s:
        row = s.get(Recording, recording_id)
        return row is not None and row.status == FINISHED and bool(row.error_code)
