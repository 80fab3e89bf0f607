"""TC3-HMAC-SHA256 and v1 (HmacSHA1/HmacSHA256) request signatures (reference §1.4-§1.6).

Pure functions over what arrived on the wire: the raw query string and the raw body bytes
are signed, never a re-encoding of our own. Every comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mixdown.api import faults
from mixdown.api.faults import ApiError

if TYPE_CHECKING:  # wire imports this module
    from mixdown.api.wire import ApiCall

SERVICE = "tiw"
WINDOW_S = 300
TC3_ALGORITHM = "TC3-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

_TC3 = re.compile(
    r"^TC3-HMAC-SHA256 Credential=([^/\s]+)/(\d{4}-\d{2}-\d{2})/([^/\s]+)/tc3_request, "
    r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Tc3Authorization:
    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_tc3_authorization(value: str) -> Tc3Authorization:
    match = _TC3.match(value.strip())
    if not match:
        raise ApiError(
            faults.INVALID_AUTHORIZATION,
            "the Authorization header is not in TC3-HMAC-SHA256 format",
        )
    secret_id, date, service, signed, signature = match.groups()
    return Tc3Authorization(secret_id, date, service, tuple(signed.split(";")), signature)


def check_timestamp(timestamp: int, now: float) -> None:
    if abs(now - timestamp) > WINDOW_S:
        raise ApiError(
            faults.SIGNATURE_EXPIRE,
            f"the request timestamp {timestamp} differs from server time by more than "
            f"{WINDOW_S} seconds",
        )


def utc_date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def _hmac256(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_signature(
    secret_key: str,
    *,
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    signed_headers: tuple[str, ...],
    payload: bytes,
    timestamp: int,
    date: str,
    service: str = SERVICE,
    lower_values: bool = False,
) -> str:
    """The hex signature; ``headers`` has lower-case names."""
    canon_headers = "".join(
        f"{name}:{headers[name].strip().lower() if lower_values else headers[name].strip()}\n"
        for name in signed_headers
    )
    canonical = "\n".join(
        [
            method,
            path,
            raw_query if method == "GET" else "",
            canon_headers,
            ";".join(signed_headers),
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(
        [TC3_ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac256(("TC3" + secret_key).encode("utf-8"), date)
    key = _hmac256(key, service)
    key = _hmac256(key, "tc3_request")
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


_REQUIRED_SIGNED = {"content-type", "host"}


def verify_tc3(
    auth: Tc3Authorization,
    secret_key: str,
    *,
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    timestamp: int,
    now: float,
) -> None:
    """Raise unless the request is signed by ``secret_key`` within the time window."""
    check_timestamp(timestamp, now)
    if auth.date != utc_date(timestamp):
        raise ApiError(
            faults.SIGNATURE_EXPIRE,
            "the credential date does not match the UTC date of X-TC-Timestamp",
        )
    if auth.service != SERVICE or any(h not in headers for h in auth.signed_headers):
        raise ApiError(faults.SIGNATURE_FAILURE, "the request signature does not match")
    if not set(auth.signed_headers) >= _REQUIRED_SIGNED:
        # TC3 signs at least these two; a signature without them could be replayed elsewhere.
        raise ApiError(faults.SIGNATURE_FAILURE, "SignedHeaders must include content-type and host")
    payload = b"" if method == "GET" else body
    if headers.get("x-tc-content-sha256") == UNSIGNED_PAYLOAD:
        payload = UNSIGNED_PAYLOAD.encode()
    ok = False
    # The reference asks for lower-cased header values; the Python SDK signs them as sent.
    for lower in (False, True):
        expected = tc3_signature(
            secret_key,
            method=method,
            path=path,
            raw_query=raw_query,
            headers=headers,
            signed_headers=auth.signed_headers,
            payload=payload,
            timestamp=timestamp,
            date=auth.date,
            service=auth.service,
            lower_values=lower,
        )
        ok |= hmac.compare_digest(expected, auth.signature)
    if not ok:
        raise ApiError(faults.SIGNATURE_FAILURE, "the request signature does not match")


def v1_source(method: str, host: str, path: str, params: Mapping[str, str]) -> str:
    """``METHOD host path ? k=v&...`` over every parameter but Signature, raw values."""
    joined = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "Signature")
    return f"{method}{host}{path}?{joined}"


def v1_signature(secret_key: str, source: str, method_name: str) -> str:
    digest = hashlib.sha256 if method_name == "HmacSHA256" else hashlib.sha1
    mac = hmac.new(secret_key.encode("utf-8"), source.encode("utf-8"), digest).digest()
    return base64.b64encode(mac).decode("ascii")


def verify_v1(
    secret_key: str,
    *,
    method: str,
    host: str,
    path: str,
    params: Mapping[str, str],
    timestamp: int,
    now: float,
) -> None:
    """Raise unless ``params['Signature']`` signs the request within the time window."""
    check_timestamp(timestamp, now)
    given = params.get("Signature", "")
    method_name = params.get("SignatureMethod", "HmacSHA1")
    variants = [params]
    if any("_" in k for k in params):
        # The Python SDK rewrites "_" to "." in names before signing (reference §1.5).
        variants.append({k.replace("_", "."): v for k, v in params.items()})
    ok = False
    for variant in variants:
        expected = v1_signature(secret_key, v1_source(method, host, path, variant), method_name)
        ok |= hmac.compare_digest(expected.encode(), given.encode())
    if not ok:
        raise ApiError(faults.SIGNATURE_FAILURE, "the request signature does not match")


def verify_call(call: ApiCall, secret_key: str, now: float) -> None:
    """Verify a call with whichever scheme it was signed by (TC3 or v1)."""
    if call.tc3 is not None:
        verify_tc3(
            call.tc3,
            secret_key,
            method=call.method,
            path=call.path,
            raw_query=call.raw_query,
            headers=call.headers,
            body=call.body,
            timestamp=call.timestamp,
            now=now,
        )
    else:
        verify_v1(
            secret_key,
            method=call.method,
            host=call.host,
            path=call.path,
            params=call.v1_params,
            timestamp=call.timestamp,
            now=now,
        )
