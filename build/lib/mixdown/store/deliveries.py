"""Callback deliveries: an outbox written in the same transaction as the state change
that caused the event, so an event is never lost and never blocks the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mixdown.store.callback_configs import get_target
from mixdown.store.database import Database
from mixdown.store.models import DELIVERED, GAVE_UP, PENDING, CallbackDelivery


@dataclass(frozen=True)
class DueDelivery:
    id: int
    sdk_app_id: int
    event_type: str
    task_id: str
    url: str
    event_time: int
    event_data: dict[str, Any]
    attempts: int
    created_ms: int
    #: The app's callback key now (a key changed after the event signs later attempts).
    key: str


@dataclass(frozen=True)
class DeliveryState:
    event_type: str
    task_id: str
    state: str
    attempts: int
    last_error: str | None


def enqueue(
    s: Session,
    *,
    sdk_app_id: int,
    kind: str,
    event_type: str,
    task_id: str,
    event_data: dict[str, Any],
    now_ms: int,
) -> bool:
    """Record an event for delivery; False when the app has no callback URL for ``kind``."""
    target = get_target(s, sdk_app_id, kind)
    if not target.url:
        return False
    s.add(
        CallbackDelivery(
            sdk_app_id=sdk_app_id,
            kind=kind,
            event_type=event_type,
            task_id=task_id,
            url=target.url,
            event_time=now_ms // 1000,
            event_data=event_data,
            state=PENDING,
            attempts=0,
            next_attempt_ms=now_ms,
            created_ms=now_ms,
        )
    )
    return True


def lease_due(db: Database, *, now_ms: int, limit: int, lease_ms: int) -> list[DueDelivery]:
    """Take up to ``limit`` due deliveries; each is hidden for ``lease_ms`` while sent, so a
    crash mid-send only delays it."""
    out: list[DueDelivery] = []
    with db.transaction() as s:
        rows = s.scalars(
            select(CallbackDelivery)
            .where(CallbackDelivery.state == PENDING, CallbackDelivery.next_attempt_ms <= now_ms)
            .order_by(CallbackDelivery.next_attempt_ms, CallbackDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            row.attempts += 1
            row.next_attempt_ms = now_ms + lease_ms
            key = get_target(s, row.sdk_app_id, row.kind).key
            out.append(
                DueDelivery(
                    id=row.id,
                    sdk_app_id=row.sdk_app_id,
                    event_type=row.event_type,
                    task_id=row.task_id,
                    url=row.url,
                    event_time=row.event_time,
                    event_data=dict(row.event_data),
                    attempts=row.attempts,
                    created_ms=row.created_ms,
                    key=key,
                )
            )
    return out


def mark_delivered(db: Database, delivery_id: int, *, now_ms: int) -> None:
    with db.transaction() as s:
        row = s.get(CallbackDelivery, delivery_id)
        if row is not None:
            row.state, row.delivered_ms, row.last_error = DELIVERED, now_ms, None


def mark_failed(db: Database, delivery_id: int, *, error: str, retry_at_ms: int | None) -> None:
    """Schedule another attempt at ``retry_at_ms``, or give up when it is None."""
    with db.transaction() as s:
        row = s.get(CallbackDelivery, delivery_id)
        if row is None or row.state != PENDING:
            # Another node's send of it succeeded meanwhile (a lease outlived): that stands.
            return
        row.last_error = error[:500]
        if retry_at_ms is None:
            row.state = GAVE_UP
        else:
            row.next_attempt_ms = retry_at_ms


def backlog(db: Database) -> int:
    """Deliveries still to be sent (due or waiting for a retry)."""
    with db.transaction() as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(CallbackDelivery)
                .where(CallbackDelivery.state == PENDING)
            )
            or 0
        )


def states(db: Database, task_id: str) -> list[DeliveryState]:
    with db.transaction() as s:
        rows = s.scalars(
            select(CallbackDelivery)
            .where(CallbackDelivery.task_id == task_id)
            .order_by(CallbackDelivery.id)
        )
        return [
            DeliveryState(r.event_type, r.task_id, r.state, r.attempts, r.last_error) for r in rows
        ]
