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


def secret_key_of(s: Session, secret_id: str) -> str | None:
    return s.scalar(select(App.secret_key).where(App.secret_id == secret_id))


def find_app(s: Session, sdk_app_id: int) -> App | None:
    return s.get(App, sdk_app_id)
