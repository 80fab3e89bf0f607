"""Media downloads follow redirects only where the host policy allows the target: a URL that
passed the check at import time cannot redirect the worker to a private host.

Real HTTP on loopback. The policy's resolver treats 127.0.0.1 as a public host (so the first
URL is allowed, as a CDN's would be) and every other address as what it is."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mixdown.errors import MediaError
from mixdown.render.source import MediaSource
from mixdown.service.url_policy import UrlPolicy

BODY = b"not really media, but bytes to download"


def _resolver(host: str) -> list[str]:
    return ["93.184.216.34"] if host == "127.0.0.1" else [host]


class _Redirects(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        targets = {
            "/to-private": "http://127.0.0.2:9/secret",
            "/to-file": "file:///etc/passwd",
            "/to-ftp": "ftp://127.0.0.1/media.mp4",
            "/to-public": "/media.mp4",
        }
        if self.path in targets:
            self.send_response(302)
            self.send_header("Location", targets[self.path])
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirects)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _source(tmp_path: Path) -> MediaSource:
    guard = UrlPolicy(resolver=_resolver).fetch_guard
    return MediaSource(tmp_path / "work", 1_000_000, guard, timeout_s=10)


def test_a_redirect_to_a_private_host_is_refused_naming_both_urls(
    origin: str, tmp_path: Path
) -> None:
    with pytest.raises(MediaError) as err:
        _source(tmp_path).local(f"{origin}/to-private")
    assert err.value.code == "FailedOperation.Media"
    assert f"{origin}/to-private: redirected to a URL that is not allowed" in err.value.message
    assert "127.0.0.2" in err.value.message and "private network" in err.value.message
    assert list((tmp_path / "work").iterdir()) == [], "nothing half-downloaded is left"


@pytest.mark.parametrize("path", ["/to-file", "/to-ftp"])
def test_a_redirect_out_of_http_is_refused(origin: str, tmp_path: Path, path: str) -> None:
    with pytest.raises(MediaError) as err:
        _source(tmp_path).local(f"{origin}{path}")
    assert err.value.message.startswith(f"{origin}{path}: ")
    assert "not allowed" in err.value.message or "not http(s)" in err.value.message


def test_a_redirect_to_an_allowed_host_is_followed(origin: str, tmp_path: Path) -> None:
    path = _source(tmp_path).local(f"{origin}/to-public")
    assert path.read_bytes() == BODY


def test_a_url_whose_host_became_private_is_refused_at_fetch_time(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="private network"):
        _source(tmp_path).local("http://127.0.0.3:9/a.mp4")


def test_without_a_policy_the_cli_follows_redirects_as_before(origin: str, tmp_path: Path) -> None:
    # The CLI reads what its user names; only the service polices hosts.
    source = MediaSource(tmp_path / "work", 1_000_000, None, timeout_s=10)
    assert source.local(f"{origin}/to-public").read_bytes() == BODY
