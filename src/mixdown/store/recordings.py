"""Recordings (TIW online-record tasks). Imports are STOPPED while their media is probed,
then FINISHED, with an error code and message when the media is unusable."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from mixdown.domain.outcome import Failure
from mixdown.store.database import Database
from mixdown.store.models import FINISHED, STOPPED, Recording
from mixdown.store.outcomes import write_failure

#: Recordings whose media is to be probed: stopped imports, and stopped live recordings
#: once sealed (their segments in the manifest) and until their generation is queued.
TO_PROBE = and_(
    Recording.status == STOPPED,
    or_(
        ~Recording.live,
        and_(Recording.sealed_ms.is_not(None), Recording.generation_id.is_(None)),
    ),
)


def add_recording(
    s: Session,
    *,
    task_id: str,
    sdk_app_id: int,
    manifest: dict[str, Any],
    room_id: int,
    group_id: str,
    record_user_id: str,
    now_ms: int,
) -> Recording:
    row = Recording(
        task_id=task_id,
        sdk_app_id=sdk_app_id,
        room_id=room_id,
        group_id=group_id,
        record_user_id=record_user_id,
        status=STOPPED,
        manifest=manifest,
        probes=None,
        stop_ms=None,
        error_code=None,
        error_message=None,
        created_ms=now_ms,
        finished_ms=None,
    )
    s.add(row)
    return row


def get_recording(s: Session, sdk_app_id: int, task_id: str) -> Recording | None:
    """The app's recording; another app's is as absent as a missing one."""
    row = s.get(Recording, task_id)
    return row if row is not None and row.sdk_app_id == sdk_app_id else None


def recording_by_id(s: Session, task_id: str) -> Recording | None:
    return s.get(Recording, task_id)


def recording_to_probe(s: Session, task_id: str, *, lock: bool = False) -> Recording | None:
    """The recording, while its media is still to be probed; with ``lock``, its row locked
    for the transaction: of two probes of one recording (a job run twice), only the first
    to conclude does."""
    query = select(Recording).where(Recording.task_id == task_id, TO_PROBE)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return s.scalar(query)


def probed(row: Recording, probes: dict[str, Any], generation_id: str) -> None:
    """A live recording's media is probed; it finishes with the generation it runs."""
    row.probes, row.generation_id = probes, generation_id


def finish_recording(
    row: Recording,
    *,
    probes: dict[str, Any] | None,
    stop_ms: int | None,
    now_ms: int,
    failure: Failure | None = None,
) -> None:
    row.status, row.finished_ms = FINISHED, now_ms
    row.probes, row.stop_ms = probes, stop_ms
    write_failure(row, failure)


def unfinished_recordings(db: Database) -> list[str]:
    with db.transaction() as s:
        return list(
            s.scalars(select(Recording.task_id).where(TO_PROBE).order_by(Recording.created_ms))
        )


def running_recordings(
    s: Session, sdk_app_id: int, *, since_ms: int, offset: int, limit: int
) -> tuple[int, list[Recording]]:
    where = (
        Recording.sdk_app_id == sdk_app_id,
        Recording.status != FINISHED,
        Recording.created_ms >= since_ms,
    )
    rows = list(s.scalars(select(Recording).where(*where).order_by(Recording.created_ms)))
    return len(rows), rows[offset : offset + limit]
