"""Helpers for the wire-level API tests: hand-signed raw requests (signed with the official
SDK's own ``tencentcloud.common.sign`` code) and checks of the reply envelope."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import httpx
from tencentcloud.common.sign import Sign

from .conftest import Creds

ACTION_VERSION = "2019-09-19"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def utc_date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def tc3_headers(
    creds: Creds,
    host: str,
    *,
    action: str | None = "DescribeOnlineRecordCallback",
    version: str | None = ACTION_VERSION,
    region: str | None = "ap-guangzhou",
    method: str = "POST",
    body: bytes = b"",
    query: str = "",
    content_type: str = JSON,
    timestamp: int | None = None,
    date: str | None = None,
    service: str = "tiw",
    signed_headers: tuple[str, ...] = ("content-type", "host"),
    extra: dict[str, str] | None = None,
    secret_key: str | None = None,
) -> dict[str, str]:
    """Headers of a TC3-HMAC-SHA256 request, signed exactly as the SDK signs (any knob can be
    turned to make it hostile). ``signed_headers`` are taken from the headers that are sent."""
    ts = int(time.time()) if timestamp is None else timestamp
    headers: dict[str, str] = {"Content-Type": content_type, "Host": host}
    if action is not None:
        headers["X-TC-Action"] = action
    if version is not None:
        headers["X-TC-Version"] = version
    if region is not None:
        headers["X-TC-Region"] = region
    headers["X-TC-Timestamp"] = str(ts)
    headers.update(extra or {})
    lower = {k.lower(): v for k, v in headers.items()}
    canonical_headers = "".join(f"{name}:{lower[name]}\n" for name in signed_headers)
    canonical = "\n".join(
        [
            method,
            "/",
            query if method == "GET" else "",
            canonical_headers,
            ";".join(signed_headers),
            hashlib.sha256(b"" if method == "GET" else body).hexdigest(),
        ]
    )
    day = date or utc_date(ts)
    scope = f"{day}/{service}/tc3_request"
    to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(ts), scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    signature = Sign.sign_tc3(secret_key or creds.secret_key, day, service, to_sign)
    headers["Authorization"] = (
        f"TC3-HMAC-SHA256 Credential={creds.secret_id}/{scope}, "
        f"SignedHeaders={';'.join(signed_headers)}, Signature={signature}"
    )
    return headers


_last_call = [0.0]
#: Spacing of hand-made calls: the server allows 20 calls a second per action and app.
PACE_S = 0.06


def pace() -> None:
    """Keep hand-made calls under the rate limit, so only the tests that mean to hit it do."""
    wait = _last_call[0] + PACE_S - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    _last_call[0] = time.monotonic()


def post_json(
    base_url: str, creds: Creds, body: bytes | dict[str, Any], **kw: Any
) -> httpx.Response:
    """A hand-signed TC3 JSON POST; ``body`` is sent byte for byte when it is bytes."""
    pace()
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    host = base_url.split("://", 1)[1]
    headers = tc3_headers(creds, host, body=raw, **kw)
    return httpx.post(base_url + "/", content=raw, headers=headers, timeout=30)


def v1_params(
    creds: Creds,
    host: str,
    params: dict[str, str],
    *,
    method: str = "GET",
    action: str = "DescribeOnlineRecordCallback",
    sign_method: str = "HmacSHA256",
    timestamp: int | None = None,
    region: str | None = "ap-guangzhou",
) -> dict[str, str]:
    """Every parameter of a v1 request, Signature included, signed as the SDK signs."""
    everything = dict(params)
    everything.update(
        {
            "Action": action,
            "Nonce": "4242",
            "Timestamp": str(int(time.time()) if timestamp is None else timestamp),
            "Version": ACTION_VERSION,
            "SecretId": creds.secret_id,
            "SignatureMethod": sign_method,
        }
    )
    if region is not None:
        everything["Region"] = region
    joined = "&".join(f"{k}={everything[k]}" for k in sorted(everything))
    everything["Signature"] = Sign.sign(creds.secret_key, f"{method}{host}/?{joined}", sign_method)
    return everything


def v1_get(base_url: str, creds: Creds, params: dict[str, str], **kw: Any) -> httpx.Response:
    pace()
    host = base_url.split("://", 1)[1]
    query = urlencode(v1_params(creds, host, params, **kw))
    return httpx.get(f"{base_url}/?{query}", timeout=30)


def envelope(reply: httpx.Response) -> dict[str, Any]:
    """The Response object of a reply that keeps the wire contract: HTTP 200, exactly
    ``application/json``, a JSON body ``{"Response": {..., "RequestId": "<uuid>"}}``."""
    assert reply.status_code == 200, (reply.status_code, reply.text[:300])
    assert reply.headers.get("content-type") == JSON, reply.headers.get("content-type")
    data = reply.json()
    assert isinstance(data, dict) and list(data) == ["Response"], data
    response: dict[str, Any] = data["Response"]
    request_id = response.get("RequestId")
    assert isinstance(request_id, str) and len(request_id) == 36, response
    return response


def error_code(reply: httpx.Response) -> str:
    """The error code of a reply that must be an error envelope."""
    response = envelope(reply)
    assert set(response) == {"Error", "RequestId"}, response
    error = response["Error"]
    assert set(error) == {"Code", "Message"}, error
    assert isinstance(error["Message"], str) and error["Message"], error
    code: str = error["Code"]
    return code


#: The longest a held request waits for its release: a test that fails before releasing it
#: does not leave the handler blocked for ever.
HOLD_LIMIT_S = 300.0


@dataclass
class Hold:
    """The first request of ``event_type``: kept (``arrived``), then left unanswered until
    ``release()``, as a receiver that is still thinking while its caller dies."""

    event_type: str
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()


class Receiver:
    """A callback endpoint on loopback that answers 200 and keeps what it was sent; with
    ``hold_first`` it holds back its answer to one request."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.holds: list[Hold] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = json.loads(raw)
                with receiver.lock:
                    receiver.posts.append(
                        {
                            "path": self.path,
                            "content_type": self.headers.get("Content-Type"),
                            "raw": raw,
                            "body": body,
                            "at": time.time(),
                        }
                    )
                hold = receiver._take_hold(body.get("EventType"))
                if hold is not None:
                    hold.released.wait(HOLD_LIMIT_S)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"error_code":0}')
                except OSError:  # the caller died while its request was held
                    if hold is None:
                        raise

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def hold_first(self, event_type: str) -> Hold:
        """Hold back the answer to the next request of ``event_type`` until released."""
        hold = Hold(event_type)
        with self.lock:
            self.holds.append(hold)
        return hold

    def _take_hold(self, event_type: object) -> Hold | None:
        with self.lock:
            for hold in self.holds:
                if hold.event_type == event_type and not hold.arrived.is_set():
                    hold.arrived.set()
                    return hold
        return None

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [p["body"] for p in self.posts]

    def of(self, event_type: str, task_id: str) -> list[dict[str, Any]]:
        return [
            b
            for b in self.bodies()
            if b["EventType"] == event_type and b["EventData"]["TaskId"] == task_id
        ]

    def close(self) -> None:
        for hold in self.holds:
            hold.release()
        self.server.shutdown()
        self.server.server_close()


class Blackhole:
    """A loopback port that completes TCP handshakes (the kernel's backlog) and never
    answers: a callback receiver that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hang"

    def close(self) -> None:
        self.sock.close()


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
