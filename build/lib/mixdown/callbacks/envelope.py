"""The callback body TIW sends: ``{Timestamp, SdkAppId, ExpireTime, Sign, EventType,
EventData}`` with ``Sign = md5(CallbackKey + ExpireTime)`` (reference §4.2)."""

from __future__ import annotations

import hashlib
from typing import Any

#: How long a signature stays valid after it is made (receivers may reject older ones).
SIGN_VALID_S = 300


def sign(key: str, expire_time: int) -> str:
    """Lower-case hex MD5 of the key followed by the decimal ExpireTime; "" without a key."""
    if not key:
        return ""
    return hashlib.md5((key + str(expire_time)).encode("utf-8")).hexdigest()


def callback_body(
    *,
    sdk_app_id: int,
    event_type: str,
    event_data: dict[str, Any],
    event_time: int,
    now_s: int,
    key: str,
) -> dict[str, Any]:
    expire = now_s + SIGN_VALID_S
    return {
        "Timestamp": event_time,
        "SdkAppId": sdk_app_id,
        "ExpireTime": expire,
        "Sign": sign(key, expire),
        "EventType": event_type,
        "EventData": event_data,
    }
