"""Manifest URLs -> local files: paths, file://, http(s):// (downloaded, size-capped)."""

from __future__ import annotations

import hashlib
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from http.client import HTTPMessage
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlparse

from mixdown.errors import MediaError

#: Raises MediaError when a URL may not be read (the server checks hosts, also on redirects).
UrlPolicy = Callable[[str], None]


class MediaSource:
    def __init__(
        self,
        work_dir: Path,
        max_bytes: int,
        policy: UrlPolicy | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.work_dir = work_dir
        self.max_bytes = max_bytes
        self.policy = policy
        self.timeout_s = timeout_s
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
            raise MediaError(f"{url}: s3:// URLs need S3 storage settings, none are configured")
        path = Path(unquote(parsed.path)) if scheme == "file" else Path(url)
        if not path.is_file():
            raise MediaError(f"{url}: no such file")
        return path

    def _download(self, url: str) -> Path:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        suffix = Path(urlparse(url).path).suffix[:8]
        target = self.work_dir / (hashlib.sha256(url.encode()).hexdigest()[:24] + suffix)
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
