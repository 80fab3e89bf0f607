"""One API call as it arrived: the request style, the common parameters and the raw
action parameters (reference §1.2, §1.3). Pure: the HTTP app hands in bytes and strings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from mixdown.api import faults
from mixdown.api.faults import ApiError
from mixdown.api.signature import Tc3Authorization, parse_tc3_authorization

TC3 = "TC3-HMAC-SHA256"
V1 = "v1"
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
#: Parameters of the v1 style that are not the action's own (reference §1.3).
V1_COMMON = frozenset(
    {
        "Action",
        "Region",
        "Timestamp",
        "Nonce",
        "SecretId",
        "Signature",
        "Version",
        "SignatureMethod",
        "Token",
        "Language",
        "RequestClient",
    }
)


@dataclass(frozen=True)
class ApiCall:
    style: str
    method: str
    path: str
    action: str
    version: str
    region: str
    timestamp: int
    secret_id: str
    #: Lower-case header names.
    headers: Mapping[str, str]
    raw_query: str
    body: bytes
    tc3: Tc3Authorization | None = None
    #: Every parameter of a v1 call, common ones included (what the signature covers).
    v1_params: Mapping[str, str] = field(default_factory=dict)
    #: The action's parameters: nested JSON (``flat`` False) or dotted names to strings.
    params: Mapping[str, Any] = field(default_factory=dict)
    flat: bool = False

    @property
    def host(self) -> str:
        return self.headers.get("host", "")


def content_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def decode_pairs(raw: str, where: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise ApiError(faults.INVALID_PARAMETER, f"the {where} is not valid UTF-8") from None
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise ApiError(faults.INVALID_PARAMETER, f"{key}: given more than once")
        out[key] = value
    return out


def _integer(value: str | None, name: str) -> int:
    if value is None or value == "":
        raise ApiError(faults.MISSING_PARAMETER, f"{name}: required")
    if not value.isdigit() or len(value) > 12:
        raise ApiError(faults.INVALID_PARAMETER, f"{name}: {value!r} is not a Unix time")
    return int(value)


def _required(value: str | None, name: str) -> str:
    if not value:
        raise ApiError(faults.MISSING_PARAMETER, f"{name}: required")
    return value


def read_call(
    method: str, path: str, headers: Mapping[str, str], raw_query: str, body: bytes
) -> ApiCall:
    """Classify and unpack a request; raises ApiError for anything malformed."""
    if method not in ("GET", "POST"):
        raise ApiError(
            faults.UNSUPPORTED_PROTOCOL, f"method {method} is not supported: use GET or POST"
        )
    if "authorization" in headers:
        return _read_tc3(method, path, headers, raw_query, body)
    return _read_v1(method, path, headers, raw_query, body)


def _read_tc3(
    method: str, path: str, headers: Mapping[str, str], raw_query: str, body: bytes
) -> ApiCall:
    auth = parse_tc3_authorization(headers["authorization"])
    params: Mapping[str, Any]
    flat = True
    if method == "GET":
        params = decode_pairs(raw_query, "query string")
    elif content_type(headers) == JSON_TYPE:
        params, flat = _json_object(body), False
    elif content_type(headers) == FORM_TYPE:
        params = decode_pairs(_text(body), "request body")
    else:
        raise ApiError(
            faults.INVALID_PARAMETER,
            f"Content-Type {content_type(headers) or '(none)'} is not supported: use {JSON_TYPE}",
        )
    return ApiCall(
        style=TC3,
        method=method,
        path=path,
        action=_required(headers.get("x-tc-action"), "X-TC-Action"),
        version=_required(headers.get("x-tc-version"), "X-TC-Version"),
        region=headers.get("x-tc-region", ""),
        timestamp=_integer(headers.get("x-tc-timestamp"), "X-TC-Timestamp"),
        secret_id=auth.secret_id,
        headers=headers,
        raw_query=raw_query,
        body=body,
        tc3=auth,
        params=params,
        flat=flat,
    )


def _read_v1(
    method: str, path: str, headers: Mapping[str, str], raw_query: str, body: bytes
) -> ApiCall:
    if method == "GET":
        everything = decode_pairs(raw_query, "query string")
    elif content_type(headers) == FORM_TYPE:
        everything = decode_pairs(_text(body), "request body")
    else:
        everything = {}
    if "Signature" not in everything:
        raise ApiError(
            faults.INVALID_AUTHORIZATION,
            "the request is not signed: send a TC3-HMAC-SHA256 Authorization header or v1 "
            "SecretId/Signature parameters",
        )
    _required(everything.get("Nonce"), "Nonce")
    return ApiCall(
        style=V1,
        method=method,
        path=path,
        action=_required(everything.get("Action"), "Action"),
        version=_required(everything.get("Version"), "Version"),
        region=everything.get("Region", ""),
        timestamp=_integer(everything.get("Timestamp"), "Timestamp"),
        secret_id=_required(everything.get("SecretId"), "SecretId"),
        headers=headers,
        raw_query=raw_query,
        body=body,
        v1_params=everything,
        params={k: v for k, v in everything.items() if k not in V1_COMMON},
        flat=True,
    )


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(faults.INVALID_PARAMETER, "the request body is not valid UTF-8") from None


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}", object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise ApiError(
            faults.INVALID_PARAMETER, f"{exc.args[0]!r} is given more than once"
        ) from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        # ValueError covers JSONDecodeError and integers too long to convert.
        raise ApiError(faults.INVALID_PARAMETER, "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(faults.INVALID_PARAMETER, "the request body must be a JSON object")
    if _has_lone_surrogate(data):
        raise ApiError(faults.INVALID_PARAMETER, "a string holds an unpaired UTF-16 surrogate")
    return data


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False
