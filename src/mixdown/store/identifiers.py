"""Random identifiers: task ids in TIW's shape, credentials, output tokens."""

from __future__ import annotations

import secrets
import string

_LOWER_ALNUM = string.ascii_lowercase + string.digits
_ALNUM = string.ascii_letters + string.digits


def _pick(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def new_task_id() -> str:
    """20 lower-case alphanumerics, like TIW's ``bj0mt2l23osdj300hl30`` (~103 bits)."""
    return _pick(_LOWER_ALNUM, 20)


def new_secret_id() -> str:
    return "AKID" + _pick(_ALNUM, 32)


def new_secret_key() -> str:
    return _pick(_ALNUM, 32)


def new_push_key() -> str:
    """An app's key for signing push URLs (128 bits, hex like Tencent Cloud's)."""
    return secrets.token_hex(16)


def new_token() -> str:
    """An unguessable URL-safe token (192 bits) naming an output folder."""
    return secrets.token_urlsafe(24)
