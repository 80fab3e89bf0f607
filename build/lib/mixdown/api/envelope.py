"""The response envelope (reference §1.7) and the one place errors become responses.

Every reply is HTTP 200 with ``Content-Type: application/json`` exactly (no charset: the SDK
skips error detection otherwise) and carries a RequestId.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from mixdown.api import faults
from mixdown.errors import MixdownError

CONTENT_TYPE = "application/json"
_log = logging.getLogger("mixdown.api")


def new_request_id() -> str:
    return str(uuid.uuid4())


def success(request_id: str, fields: dict[str, Any]) -> bytes:
    return _dump({"Response": {**fields, "RequestId": request_id}})


def failure(request_id: str, code: str, message: str) -> bytes:
    return _dump(
        {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}}
    )


def error_of(exc: BaseException, request_id: str) -> tuple[str, str]:
    """Code and message for any exception; unexpected ones never show their internals."""
    if isinstance(exc, MixdownError):
        return exc.code, exc.message
    _log.error(
        "unexpected error",
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"request_id": request_id},
    )
    return faults.INTERNAL_ERROR, f"internal error; quote RequestId {request_id} to the operator"


def _dump(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
