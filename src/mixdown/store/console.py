"""The console's sessions and its sign-in throttle.

A session is a random token in an HttpOnly cookie; the database keeps only its sha256, the
SecretId it signed in as, its CSRF token and its expiry. Failed sign-ins are counted by
client address and by SecretId over a window, so guessing a key is slow from one place and
for one account alike.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mixdown.store.models import (
    App,
    CallbackDelivery,
    ConsoleFailure,
    ConsoleSession,
    GenerationTask,
    Recording,
)

SESSION_MS = 12 * 3600 * 1000
#: Failed sign-ins allowed per key within the window before every sign-in of it is refused.
MAX_FAILURES = 5
FAILURE_WINDOW_MS = 5 * 60 * 1000


@dataclass(frozen=True)
class SignedIn:
    secret_id: str
    csrf: str
    #: The apps of the SecretId: all the console shows.
    sdk_app_ids: tuple[int, ...]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(s: Session, secret_id: str, now_ms: int) -> str:
    """A new session's token (for the cookie)."""
    token = secrets.token_urlsafe(32)
    s.add(
        ConsoleSession(
            token_hash=_hash(token),
            secret_id=secret_id,
            csrf=secrets.token_urlsafe(24),
            created_ms=now_ms,
            expires_ms=now_ms + SESSION_MS,
        )
    )
    s.execute(delete(ConsoleSession).where(ConsoleSession.expires_ms < now_ms))
    return token


def session_of(s: Session, token: str, now_ms: int) -> SignedIn | None:
    """The live session of a cookie's token; None for an unknown, ended or expired one."""
    if not token:
        return None
    row = s.get(ConsoleSession, _hash(token))
    if row is None or row.expires_ms < now_ms:
        return None
    apps = s.scalars(
        select(App.sdk_app_id).where(App.secret_id == row.secret_id).order_by(App.sdk_app_id)
    )
    return SignedIn(row.secret_id, row.csrf, tuple(apps))


def close_session(s: Session, token: str) -> None:
    s.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == _hash(token)))


def throttled(s: Session, keys: list[str], now_ms: int) -> bool:
    """Whether any key has failed too often lately."""
    since = now_ms - FAILURE_WINDOW_MS
    for key in keys:
        count = s.scalar(
            select(func.count()).where(ConsoleFailure.key == key, ConsoleFailure.at_ms > since)
        )
        if (count or 0) >= MAX_FAILURES:
            return True
    return False


def failed(s: Session, keys: list[str], now_ms: int) -> None:
    for key in keys:
        s.add(ConsoleFailure(key=key[:160], at_ms=now_ms))
    s.execute(delete(ConsoleFailure).where(ConsoleFailure.at_ms < now_ms - FAILURE_WINDOW_MS))


# --- what the console lists -------------------------------------------------------------

#: The most rows a console list shows (newest first).
LIST_LIMIT = 200


def recordings_of(s: Session, sdk_app_ids: tuple[int, ...]) -> list[Recording]:
    return list(
        s.scalars(
            select(Recording)
            .where(Recording.sdk_app_id.in_(sdk_app_ids))
            .order_by(Recording.created_ms.desc())
            .limit(LIST_LIMIT)
        )
    )


def tasks_of(
    s: Session, sdk_app_ids: tuple[int, ...], recording_id: str | None = None
) -> list[GenerationTask]:
    query = select(GenerationTask).where(GenerationTask.sdk_app_id.in_(sdk_app_ids))
    if recording_id is not None:
        query = query.where(GenerationTask.recording_id == recording_id)
    return list(s.scalars(query.order_by(GenerationTask.created_ms.desc()).limit(LIST_LIMIT)))


def deliveries_of(s: Session, sdk_app_ids: tuple[int, ...]) -> list[CallbackDelivery]:
    return list(
        s.scalars(
            select(CallbackDelivery)
            .where(CallbackDelivery.sdk_app_id.in_(sdk_app_ids))
            .order_by(CallbackDelivery.id.desc())
            .limit(LIST_LIMIT)
        )
    )
