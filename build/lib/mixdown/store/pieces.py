"""The pieces of a generation fanned out across a cluster's workers (``planning.work``):
one row per piece of the task's current attempt, and the count of those not yet done.

A piece's job key is ``<TaskId>:<attempt id>:<piece name>``. A run of a piece claims it and
renews its lease while it renders; it may record the piece done only while it is the
piece's current run and the task's attempt is still the one the piece belongs to, so a late
or duplicate run never counts twice. Counting happens under the task's row lock: the run
that brings the count to zero is the one that queues the publishing, exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from mixdown.store.database import Database
from mixdown.store.models import PROCESSING, GenerationTask, TaskPiece

# Piece states.
WAITING, RENDERING, DONE = "WAITING", "RENDERING", "DONE"


@dataclass(frozen=True)
class PieceKey:
    task_id: str
    attempt_id: str
    name: str

    def __str__(self) -> str:
        return f"{self.task_id}:{self.attempt_id}:{self.name}"

    @staticmethod
    def parse(key: str) -> PieceKey | None:
        parts = key.split(":", 2)
        return PieceKey(*parts) if len(parts) == 3 else None


def fan_out(
    s: Session, task: GenerationTask, names: Sequence[str], work: dict[str, Any], now_ms: int
) -> list[PieceKey]:
    """Record the attempt's work and its pieces, all waiting; their job keys."""
    assert task.attempt_id is not None
    s.execute(delete(TaskPiece).where(TaskPiece.task_id == task.task_id))
    task.work, task.pieces_left, task.heartbeat_ms = work, len(names), now_ms
    for name in names:
        s.add(
            TaskPiece(
                task_id=task.task_id,
                attempt_id=task.attempt_id,
                name=name,
                state=WAITING,
                runs=0,
                created_ms=now_ms,
            )
        )
    return [PieceKey(task.task_id, task.attempt_id, name) for name in names]


def _current(
    s: Session, key: PieceKey, *, lock: bool = False
) -> tuple[GenerationTask, TaskPiece] | None:
    """The task and the piece, while the piece belongs to the task's current attempt."""
    query = select(GenerationTask).where(GenerationTask.task_id == key.task_id)
    task = s.scalar(query.with_for_update() if lock else query)
    if task is None or task.status != PROCESSING or task.attempt_id != key.attempt_id:
        return None
    piece = s.get(TaskPiece, (key.task_id, key.attempt_id, key.name))
    return (task, piece) if piece is not None else None


def claim(s: Session, key: PieceKey, run_id: str, now_ms: int) -> tuple[GenerationTask, int] | None:
    """Start a run of the piece: the task and how many runs the piece has had, this one
    included; None when it is done, or no longer wanted."""
    found = _current(s, key)
    if found is None or found[1].state == DONE:
        return None
    task, piece = found
    piece.state, piece.run_id, piece.runs, piece.heartbeat_ms = (
        RENDERING,
        run_id,
        piece.runs + 1,
        now_ms,
    )
    return task, piece.runs


def finish(
    s: Session, key: PieceKey, run_id: str, facts: dict[str, Any], now_ms: int
) -> int | None:
    """Record the run's piece done; the pieces still to do, or None when this run is no
    longer the piece's (its files are not counted)."""
    found = _current(s, key, lock=True)
    if found is None:
        return None
    task, piece = found
    if piece.state != RENDERING or piece.run_id != run_id:
        return None
    piece.state, piece.facts, piece.heartbeat_ms = DONE, facts, now_ms
    task.pieces_left = left = (task.pieces_left or 1) - 1
    total = len((task.work or {}).get("graph", {}).get("pieces", ())) or 1
    task.progress = min(99, 100 * (total - left) // total)
    # The publishing's lease starts now: nobody renews it until a worker takes the job.
    task.heartbeat_ms = now_ms
    return task.pieces_left


def give_back(s: Session, key: PieceKey, run_id: str) -> None:
    """A stopping worker hands its run back: the piece waits for the next one."""
    s.execute(
        update(TaskPiece)
        .where(
            TaskPiece.task_id == key.task_id,
            TaskPiece.attempt_id == key.attempt_id,
            TaskPiece.name == key.name,
            TaskPiece.run_id == run_id,
            TaskPiece.state == RENDERING,
        )
        .values(state=WAITING, heartbeat_ms=None)
    )


def done(s: Session, task_id: str, attempt_id: str) -> dict[str, dict[str, Any]]:
    """The facts of each done piece of the attempt, by name."""
    rows = s.scalars(
        select(TaskPiece).where(
            TaskPiece.task_id == task_id,
            TaskPiece.attempt_id == attempt_id,
            TaskPiece.state == DONE,
        )
    )
    return {row.name: row.facts or {} for row in rows}


def renew(db: Database, key: str, now_ms: int) -> None:
    parsed = PieceKey.parse(key)
    if parsed is None:
        return
    with db.transaction() as s:
        s.execute(
            update(TaskPiece)
            .where(
                TaskPiece.task_id == parsed.task_id,
                TaskPiece.attempt_id == parsed.attempt_id,
                TaskPiece.name == parsed.name,
                TaskPiece.state == RENDERING,
            )
            .values(heartbeat_ms=now_ms)
        )


def lapsed(db: Database, before_ms: int) -> list[str]:
    """Keys of the pieces of running tasks' current attempts that nobody renewed since
    ``before_ms`` (a dead worker's, or never queued), oldest first."""
    seen = func.coalesce(TaskPiece.heartbeat_ms, TaskPiece.created_ms)
    with db.transaction() as s:
        rows = s.execute(
            select(TaskPiece.task_id, TaskPiece.attempt_id, TaskPiece.name)
            .join(GenerationTask, GenerationTask.task_id == TaskPiece.task_id)
            .where(
                GenerationTask.status == PROCESSING,
                GenerationTask.attempt_id == TaskPiece.attempt_id,
                TaskPiece.state != DONE,
                seen < before_ms,
            )
            .order_by(TaskPiece.created_ms)
        )
        return [str(PieceKey(*row)) for row in rows]


def failed(db: Database, key: str) -> bool:
    """A piece's run fails its task: the task's verdict says."""
    parsed = PieceKey.parse(key)
    if parsed is None:
        return False
    with db.transaction() as s:
        task = s.get(GenerationTask, parsed.task_id)
        return task is not None and bool(task.error_code)
