"""Where and with which key an app's callbacks go, per kind (record / generation)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from mixdown.store.models import CallbackConfig


@dataclass(frozen=True)
class CallbackTarget:
    url: str = ""
    key: str = ""


def get_target(s: Session, sdk_app_id: int, kind: str) -> CallbackTarget:
    row = s.get(CallbackConfig, (sdk_app_id, kind))
    return CallbackTarget(row.url, row.key) if row else CallbackTarget()


def set_target(
    s: Session, sdk_app_id: int, kind: str, *, url: str | None = None, key: str | None = None
) -> None:
    """Change the URL and/or the key; ``""`` deletes that setting (reference §2.6-§2.7)."""
    row = s.get(CallbackConfig, (sdk_app_id, kind))
    if row is None:
        row = CallbackConfig(sdk_app_id=sdk_app_id, kind=kind, url="", key="")
        s.add(row)
    if url is not None:
        row.url = url
    if key is not None:
        row.key = key
