"""Which media the server may read (DESIGN §4.1, §7): local files only under the configured
ingest roots (no traversal, symlinks resolved), no private-network HTTP hosts unless
allowed. Callback URLs follow the same host rule."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from copy import deepcopy
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from mixdown.api import faults
from mixdown.api.faults import ApiError
from mixdown.errors import MediaError

Resolver = Callable[[str], list[str]]
_MAX_URL = 4096


def resolve_host(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class UrlPolicy:
    def __init__(
        self,
        ingest_roots: Sequence[Path] = (),
        *,
        allow_private: bool = False,
        resolver: Resolver = resolve_host,
    ) -> None:
        self.roots = tuple(Path(r).resolve() for r in ingest_roots)
        self.allow_private = allow_private
        self._resolve = resolver

    def host_refusal(self, host: str) -> str | None:
        """Why an HTTP host may not be contacted, or None when it may."""
        if self.allow_private:
            return None
        try:
            addresses = self._resolve(host)
        except (OSError, UnicodeError):
            return f"cannot resolve host {host!r}"
        if not addresses or not all(_is_public(a) for a in addresses):
            return (
                f"host {host!r} is on a private network "
                "(start the server with --allow-private-urls to allow it)"
            )
        return None

    def media_url(self, url: str, where: str) -> str:
        """The URL to read, local paths made absolute; ApiError naming ``where`` if refused."""
        if len(url) > _MAX_URL:
            raise ApiError(faults.INVALID_PARAMETER_VALUE, f"{where}: URL too long")
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            raise ApiError(faults.INVALID_PARAMETER_VALUE, f"{where}: malformed URL") from None
        scheme = parts.scheme.lower()
        if scheme in ("http", "https"):
            if not host:
                raise ApiError(faults.INVALID_PARAMETER_VALUE, f"{where}: {url!r} has no host")
            refusal = self.host_refusal(host)
            if refusal:
                raise ApiError(faults.INVALID_PARAMETER_VALUE, f"{where}: {refusal}")
            return url
        if scheme == "s3":
            return url
        if scheme == "file":
            return self._local(unquote(parts.path), where)
        if scheme and len(scheme) > 1:
            raise ApiError(
                faults.INVALID_PARAMETER_VALUE, f"{where}: unsupported URL scheme {scheme!r}"
            )
        return self._local(url, where)

    def _local(self, raw: str, where: str) -> str:
        if not self.roots:
            raise ApiError(
                faults.INVALID_PARAMETER_VALUE,
                f"{where}: local files are not allowed (the server has no --ingest-root)",
            )
        if "\0" in raw:
            raise ApiError(faults.INVALID_PARAMETER_VALUE, f"{where}: invalid path")
        path = Path(raw)
        candidates = (
            [path.resolve()] if path.is_absolute() else [(r / path).resolve() for r in self.roots]
        )
        inside = [c for c in candidates if any(r == c or r in c.parents for r in self.roots)]
        if not inside:
            raise ApiError(
                faults.INVALID_PARAMETER_VALUE, f"{where}: {raw!r} lies outside the ingest roots"
            )
        existing = [c for c in inside if c.exists()]
        return str((existing or inside)[0])

    def manifest(self, data: dict[str, Any]) -> dict[str, Any]:
        """A copy of an import request's manifest with every media URL checked and resolved."""
        out = deepcopy(data)
        for i, stream in enumerate(out.get("Streams") or []):
            for key in ("Segments", "SmallSegments"):
                for j, segment in enumerate(stream.get(key) or []):
                    if isinstance(segment.get("Url"), str) and segment["Url"]:
                        where = f"Streams[{i}].{key}[{j}].Url"
                        segment["Url"] = self.media_url(segment["Url"], where)
        self.params(out)
        return out

    def params(self, data: dict[str, Any]) -> None:
        """Check and resolve the filler image of ``Concat`` in place."""
        concat = data.get("Concat")
        if isinstance(concat, dict) and isinstance(concat.get("Image"), str) and concat["Image"]:
            concat["Image"] = self.media_url(concat["Image"], "Concat.Image")

    def callback_url(self, url: str) -> None:
        """Refuse a malformed or private callback URL ("" deletes and is always fine)."""
        if not url:
            return
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            host = None
        if host is None or parts.scheme not in ("http", "https") or len(url) > _MAX_URL:
            raise ApiError(faults.CALLBACK_ADDRESS, "Callback: must be an http:// or https:// URL")
        refusal = self.host_refusal(host)
        if refusal:
            raise ApiError(faults.INVALID_PARAMETER_VALUE, f"Callback: {refusal}")

    def fetch_guard(self, url: str) -> None:
        """For the media downloader, at fetch time and on every redirect: MediaError when an
        http(s) URL's host may not be contacted (local paths were checked at import)."""
        try:
            parts = urlsplit(url)
        except ValueError:
            raise MediaError(f"{url}: malformed URL") from None
        if parts.scheme.lower() not in ("http", "https"):
            return
        refusal = self.host_refusal(parts.hostname or "")
        if refusal:
            raise MediaError(f"{url}: {refusal}")

    def callback_guard(self, url: str) -> None:
        """For the dispatcher: ValueError when the URL's host is no longer allowed."""
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
        refusal = self.host_refusal(host)
        if refusal:
            raise ValueError(refusal)
