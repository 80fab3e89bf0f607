"""Manifest URLs -> local files: paths, file://, http(s):// and s3:// (downloaded,
size-capped). s3:// URLs are read with the worker's own S3 client, when it is given one,
and tried again while S3 is unreachable, as the caller's retry says."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPMessage
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol, TypeVar
from urllib.parse import unquote, urlparse

from mixdown.errors import MediaError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: Raises MediaError when a URL may not be read (the server checks hosts, also on redirects).
UrlPolicy = Callable[[str], None]
T = TypeVar("T")


class Retrying(Protocol):
    """Tries an S3 call again while S3 is unreachable (``storage.retry.Retry``)."""

    def call(self, attempt: Callable[[], T], what: str) -> T: ...

    def gave_up(self, exc: BaseException) -> str:
        """What a failure's message adds when it was retried to the end."""
        ...


class Once:
    """No retry: each call is tried once."""

    def call(self, attempt: Callable[[], T], what: str) -> T:
        return attempt()

    def gave_up(self, exc: BaseException) -> str:
        return ""


ONCE = Once()


@dataclass(frozen=True)
class Reach:
    """What a generation may read besides local files: the host policy checked on every
    download and redirect (the service's), and the S3 client for ``s3://`` media with how
    long its calls are tried again through an outage."""

    policy: UrlPolicy | None = None
    s3: S3Client | None = None
    s3_retry: Retrying = ONCE

    def source(self, work_dir: Path, max_bytes: int) -> MediaSource:
        return MediaSource(work_dir, max_bytes, self.policy, s3=self.s3, s3_retry=self.s3_retry)


class MediaSource:
    def __init__(
        self,
        work_dir: Path,
        max_bytes: int,
        policy: UrlPolicy | None = None,
        timeout_s: float = 60.0,
        s3: S3Client | None = None,
        s3_retry: Retrying | None = None,
    ) -> None:
        self.work_dir = work_dir
        self.max_bytes = max_bytes
        self.policy = policy
        self.timeout_s = timeout_s
        #: The object store's client (``S3Store.client``) or one made of the AWS settings.
        self.s3 = s3
        self.s3_retry = s3_retry or ONCE
        self._cache: dict[str, Path] = {}

    def local(self, url: str) -> Path:
        if url not in self._cache:
            if self.policy is not None:
                self.policy(url)
            self._cache[url] = self._fetch(url)
        return self._cache[url]

    def _fetch(self, url: str) -> Path:
        parsed = urlparse(url)
        scheme = parsed.scheme.lower()
        if scheme in ("http", "https"):
            return self._download(url)
        if scheme == "s3":
            return self._s3_object(url)
        path = Path(unquote(parsed.path)) if scheme == "file" else Path(url)
        if not path.is_file():
            raise MediaError(f"{url}: no such file")
        return path

    def _target(self, url: str) -> Path:
        """Where a downloaded ``url`` goes: one name per URL, its suffix kept for ffmpeg."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        suffix = Path(urlparse(url).path).suffix[:8]
        return self.work_dir / (hashlib.sha256(url.encode()).hexdigest()[:24] + suffix)

    def _download(self, url: str) -> Path:
        target = self._target(url)
        request = urllib.request.Request(url, headers={"User-Agent": "mixdown"})
        opener = urllib.request.build_opener(_CheckedRedirects(url, self.policy))
        try:
            with (
                opener.open(request, timeout=self.timeout_s) as resp,
                target.open("wb") as out,
            ):
                copied = _copy_capped(resp, out, self.max_bytes)
        except MediaError:
            target.unlink(missing_ok=True)
            raise
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if isinstance(exc, urllib.error.HTTPError):
                exc.close()  # an error response still holds its connection
            target.unlink(missing_ok=True)
            reason = getattr(exc, "reason", None) or exc
            raise MediaError(f"{url}: download failed ({reason})") from None
        if copied < 0:
            target.unlink(missing_ok=True)
            raise MediaError(f"{url}: larger than the {self.max_bytes} byte limit")
        return target

    def _s3_object(self, url: str) -> Path:
        client = self.s3
        if client is None:
            raise MediaError(f"{url}: s3:// URLs need S3 storage settings, none are configured")
        bucket, _, key = url[len("s3://") :].partition("/")
        if not bucket or not key:
            raise MediaError(f"{url}: not an s3://bucket/key URL")
        from botocore.exceptions import BotoCoreError, ClientError

        target = self._target(url)
        try:
            copied = self.s3_retry.call(
                lambda: _s3_copy(client, bucket, key, target, self.max_bytes), url
            )
        except (BotoCoreError, ClientError, OSError) as exc:
            target.unlink(missing_ok=True)
            reason = _s3_reason(exc) + self.s3_retry.gave_up(exc)
            raise MediaError(f"{url}: download failed ({reason})") from None
        if copied < 0:
            target.unlink(missing_ok=True)
            raise MediaError(f"{url}: larger than the {self.max_bytes} byte limit")
        return target

    def close(self) -> None:
        shutil.rmtree(self.work_dir, ignore_errors=True)


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only where the policy allows the first URL: a public URL that
    redirects to a private host is refused like the private URL itself."""

    def __init__(self, url: str, policy: UrlPolicy | None) -> None:
        super().__init__()
        self._url = url
        self._policy = policy

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        refusal = self._refusal(newurl)
        if refusal:
            fp.close()  # the redirect's own response: urllib closes it only when it follows
            raise MediaError(f"{self._url}: {refusal}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)

    def _refusal(self, newurl: str) -> str:
        if urlparse(newurl).scheme.lower() not in ("http", "https"):
            return f"redirected to {newurl!r}, which is not http(s)"
        if self._policy is not None:
            try:
                self._policy(newurl)
            except MediaError as refused:
                return f"redirected to a URL that is not allowed ({refused.message})"
        return ""


def _s3_copy(client: S3Client, bucket: str, key: str, target: Path, max_bytes: int) -> int:
    """One try at the object: its size, or -1 when over the cap. A try that fails midway is
    started over: the target is opened afresh."""
    answer = client.get_object(Bucket=bucket, Key=key)
    with contextlib.closing(answer["Body"]) as body:
        # The stated size refuses a large object before a byte of it is read; the count
        # while copying holds even where a server misstates it.
        if answer.get("ContentLength", 0) > max_bytes:
            return -1
        with target.open("wb") as out:
            return _copy_capped(body, out, max_bytes)


def _copy_capped(src: object, dst: object, limit: int) -> int:
    """Copy in chunks; -1 when ``limit`` is exceeded."""
    total = 0
    read = src.read  # type: ignore[attr-defined]
    write = dst.write  # type: ignore[attr-defined]
    while chunk := read(1 << 20):
        total += len(chunk)
        if total > limit:
            return -1
        write(chunk)
    return total


def _s3_reason(exc: Exception) -> str:
    """S3's error code (NoSuchKey, AccessDenied...) or the client's own message; neither
    ever holds the credentials."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
        return "no such object" if code in ("NoSuchKey", "404") else code or "error"
    return str(exc) or type(exc).__name__
