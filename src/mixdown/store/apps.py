"""SdkAppIds and their SecretId/SecretKey (DESIGN §4.2 ``mixdown apps``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mixdown.errors import InvalidParameterValue
from mixdown.store.database import Database
from mixdown.store.identifiers import new_push_key, new_secret_id, new_secret_key
from mixdown.store.models import App

FIRST_SDK_APP_ID = 1400000001
DEFAULT_TASK_CONCURRENCY = 4


@dataclass(frozen=True)
class AppInfo:
    sdk_app_id: int
    secret_id: str
    task_concurrency: int
    created_ms: int
    push_key: str


@dataclass(frozen=True)
class Credentials:
    sdk_app_id: int
    secret_id: str
    secret_key: str
    push_key: str


def create_app(
    db: Database,
    *,
    now_ms: int,
    sdk_app_id: int | None = None,
    task_concurrency: int = DEFAULT_TASK_CONCURRENCY,
) -> Credentials:
    if task_concurrency < 1:
        raise InvalidParameterValue("task concurrency must be at least 1")
    with db.transaction() as s:
        if sdk_app_id is None:
            top = s.scalar(select(func.max(App.sdk_app_id)))
            sdk_app_id = max(FIRST_SDK_APP_ID, (top or 0) + 1)
        elif not 0 < sdk_app_id < 2**63 or s.get(App, sdk_app_id) is not None:
            raise InvalidParameterValue(f"SdkAppId {sdk_app_id} exists or is out of range")
        app = App(
            sdk_app_id=sdk_app_id,
            secret_id=new_secret_id(),
            secret_key=new_secret_key(),
            task_concurrency=task_concurrency,
            created_ms=now_ms,
            push_key=new_push_key(),
        )
        s.add(app)
        return Credentials(app.sdk_app_id, app.secret_id, app.secret_key, app.push_key)


def list_apps(db: Database) -> list[AppInfo]:
    with db.transaction() as s:
        rows = s.scalars(select(App).order_by(App.sdk_app_id))
        return [
            AppInfo(a.sdk_app_id, a.secret_id, a.task_concurrency, a.created_ms, a.push_key)
            for a in rows
        ]


def keys_of(s: Session, secret_id: str, now_ms: int) -> list[str]:
    """The SecretKeys a SecretId signs with now: its key, and the one a rotation replaced
    while its grace period lasts; none for an unknown SecretId."""
    app = s.scalar(select(App).where(App.secret_id == secret_id))
    if app is None:
        return []
    until = app.previous_key_until_ms
    grace = app.previous_secret_key and until is not None and now_ms < until
    return [app.secret_key, app.previous_secret_key] if grace else [app.secret_key]


#: The longest grace period a rotated key may keep working.
MAX_GRACE_MS = 30 * 24 * 3600 * 1000


def rotate_key(s: Session, sdk_app_id: int, *, grace_ms: int, now_ms: int) -> str:
    """A new SecretKey for the app; the old one keeps working for ``grace_ms`` (0: not at
    all), so clients can move to the new one without an outage."""
    if not 0 <= grace_ms <= MAX_GRACE_MS:
        raise InvalidParameterValue(
            f"the grace period must be 0 to {MAX_GRACE_MS // 86400000} days"
        )
    app = s.get(App, sdk_app_id, with_for_update=True)
    if app is None:
        raise InvalidParameterValue(f"SdkAppId {sdk_app_id} does not exist")
    app.previous_secret_key, app.secret_key = app.secret_key, new_secret_key()
    app.previous_key_until_ms = now_ms + grace_ms
    return app.secret_key


def find_app(s: Session, sdk_app_id: int) -> App | None:
    return s.get(App, sdk_app_id)
