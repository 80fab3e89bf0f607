"""The rate limit of a cluster's API nodes (PostgreSQL): a sliding one-second window over
the requests each (SdkAppId, action) was let through, by the database's clock, so every
node counts the same requests and no node's clock matters.

A transaction advisory lock on the key serialises the count-then-log of one key across
nodes; other keys never wait.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from mixdown.store.models import AllowedRequest

#: Rows older than this are no longer counted; they are removed as new ones come.
_KEEP_MS = 10_000
_NOW_MS = text("(extract(epoch FROM clock_timestamp()) * 1000)::bigint")


def admit(s: Session, sdk_app_id: int, action: str, rate: int, window_ms: int = 1000) -> bool:
    """Log one request of the key unless ``rate`` were let through in the last
    ``window_ms``; whether it was let through."""
    s.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"mixdown-rate:{sdk_app_id}:{action}"},
    )
    now_ms = int(s.scalar(select(_NOW_MS)) or 0)
    mine = (AllowedRequest.sdk_app_id == sdk_app_id, AllowedRequest.action == action)
    recent = s.scalar(select(func.count()).where(*mine, AllowedRequest.at_ms > now_ms - window_ms))
    if (recent or 0) >= rate:
        return False
    s.add(AllowedRequest(sdk_app_id=sdk_app_id, action=action, at_ms=now_ms))
    s.execute(delete(AllowedRequest).where(*mine, AllowedRequest.at_ms < now_ms - _KEEP_MS))
    return True
