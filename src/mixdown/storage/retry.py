"""Riding out a passing S3 outage: which failures are worth another try, and for how long.

A worker that loses S3 for a minute (a restart, a network blip, a throttled bucket) should
finish its task once S3 is back, not fail it at once. Every call to S3 (the output store's
and the ``s3://`` media reads) goes through ``Retry.call``: a transient failure is tried
again, with doubling pauses, until the window is spent; then the last failure is raised
for the caller to report as it always has. A failure S3 answered for good (refused
credentials, a missing key or bucket) and a local file's error are raised at once.

boto3 wraps some failures: an upload's ClientError in S3UploadFailedError (as its implicit
context), a download's last error in RetriesExceededError (``last_exception``); the whole
chain is looked at.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

_log = logging.getLogger("mixdown.storage")
T = TypeVar("T")

#: How long S3 calls are retried unless configured (MIXDOWN_S3_RETRY_SECONDS).
DEFAULT_RETRY_S = 300
#: Pauses between rounds double from the first to the cap.
FIRST_PAUSE_S = 0.5
MAX_PAUSE_S = 10.0

#: S3's answers that mean "busy or broken for now", not "no".
_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "BadGateway",
        "GatewayTimeout",
    }
)


@dataclass(frozen=True)
class Retry:
    """How long to keep trying an S3 call through transient failures (0: try once)."""

    window_s: float = DEFAULT_RETRY_S
    first_pause_s: float = FIRST_PAUSE_S
    max_pause_s: float = MAX_PAUSE_S
    #: Injected by unit tests, which never wait for real.
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def call(self, attempt: Callable[[], T], what: str) -> T:
        """``attempt()``'s value once it succeeds; its failure when that is not transient
        or the window is spent. ``what`` (an ``s3://`` URL) names the object in the logs."""
        deadline = self.clock() + self.window_s
        pause = self.first_pause_s
        while True:
            try:
                return attempt()
            except Exception as exc:
                cause = transient_cause(exc)
                left = deadline - self.clock()
                if cause is None or left <= 0:
                    raise
                wait = min(pause, left)
                _log.warning(
                    "S3 unreachable; retrying",
                    extra={"key": what, "reason": said(cause), "in_s": round(wait, 2)},
                )
                self.sleep(wait)
                pause = min(pause * 2, self.max_pause_s)

    def gave_up(self, exc: BaseException) -> str:
        """What a failure's message adds when it was retried for the whole window."""
        if self.window_s > 0 and transient_cause(exc) is not None:
            return f"; still failing after retrying for {self.window_s:g} s"
        return ""


def transient_cause(exc: BaseException) -> BaseException | None:
    """The failure in ``exc``'s chain that makes it worth another try, or None.

    An S3 error code decides: the first one found in the chain is S3's own answer."""
    for link in chain(exc):
        code = error_code(link)
        if code:
            return link if _transient_code(link, code) else None
        if _transient_failure(link):
            return link
    return None


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: its cause, its context, a transfer's last exception."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        link = todo.pop(0)
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        last = getattr(link, "last_exception", None)
        todo += [e for e in (link.__cause__, link.__context__, last) if e is not None]


def error_code(exc: BaseException) -> str:
    """S3's error code when ``exc`` is S3's answer (a ClientError), else ""."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def said(exc: BaseException) -> str:
    """A failure in a few words: S3's error code, or the client's message (neither ever
    holds the credentials)."""
    code = error_code(exc)
    if code:
        return code
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _transient_code(exc: BaseException, code: str) -> bool:
    from botocore.exceptions import ClientError

    assert isinstance(exc, ClientError)
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return code in _TRANSIENT_CODES or status >= 500 or (code.isdigit() and int(code) >= 500)


def _transient_failure(exc: BaseException) -> bool:
    """The connection failed or timed out: S3 (or the way to it) is away for now. A local
    file's OSError is not one: only a socket's errors are."""
    import botocore.exceptions as boto
    from urllib3.exceptions import ProtocolError

    if isinstance(exc, boto.SSLError):  # a certificate that does not verify stays that way
        return False
    return isinstance(
        exc,
        boto.ConnectionError  # refused, connect time-out, proxy
        | boto.HTTPClientError  # closed or reset, read time-out, a body cut off
        | boto.IncompleteReadError
        | ProtocolError
        | ConnectionError
        | TimeoutError,
    )
