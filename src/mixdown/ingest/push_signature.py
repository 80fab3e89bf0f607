"""Push authentication in the style of Tencent Cloud's live push URLs: the query carries
``txTime`` (the expiry, Unix seconds in hex) and ``txSecret`` =
``md5(PushKey + streamName + txTime)`` in hex. ``PushKey`` is the app's own key for pushes,
not its API SecretKey: handing it to an encoder never exposes the API.

Pure: the caller gives the key and the clock.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from mixdown.ingest.stream_name import StreamName

#: Eight hex digits cover every expiry until 2106; more is refused, not parsed.
_TX_TIME = re.compile(r"[0-9A-Fa-f]{1,8}")
_TX_SECRET = re.compile(r"[0-9A-Fa-f]{32}")


@dataclass(frozen=True)
class PushGrant:
    """A push URL's query, as nginx hands it to ``on_publish``."""

    tx_time: str
    tx_secret: str

    def query(self) -> str:
        return urlencode({"txTime": self.tx_time, "txSecret": self.tx_secret})


def signature(push_key: str, name: StreamName, tx_time: str) -> str:
    return hashlib.md5((push_key + str(name) + tx_time).encode("utf-8")).hexdigest()


def grant(push_key: str, name: StreamName, expires_s: int) -> PushGrant:
    """The query that lets ``name`` be pushed until ``expires_s`` (Unix seconds)."""
    tx_time = format(expires_s, "X")
    return PushGrant(tx_time, signature(push_key, name, tx_time))


def refusal(push_key: str, name: StreamName, tx_time: str, tx_secret: str, now_s: int) -> str:
    """Why the push is refused, or "" when it may go ahead."""
    if not tx_time or not tx_secret:
        return "no txTime and txSecret in the push URL"
    if not _TX_TIME.fullmatch(tx_time) or not _TX_SECRET.fullmatch(tx_secret):
        return "txTime or txSecret is malformed"
    if not hmac.compare_digest(signature(push_key, name, tx_time), tx_secret.lower()):
        return "txSecret does not match"
    if int(tx_time, 16) <= now_s:
        return "the push URL has expired"
    return ""
