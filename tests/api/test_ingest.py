"""Media the server may read: local files under ingest roots only, no private hosts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mixdown.api.faults import ApiError
from mixdown.service.url_policy import UrlPolicy


def public(_host: str) -> list[str]:
    return ["93.184.216.34"]


def private(_host: str) -> list[str]:
    return ["10.0.0.7"]


def refused(policy: UrlPolicy, url: str) -> str:
    with pytest.raises(ApiError) as err:
        policy.media_url(url, "Streams[0].Segments[0].Url")
    assert "Streams[0].Segments[0].Url" in err.value.message
    return err.value.code


def test_relative_paths_resolve_inside_the_ingest_root(tmp_path: Path) -> None:
    (tmp_path / "a.mp4").write_bytes(b"x")
    policy = UrlPolicy([tmp_path])
    assert policy.media_url("a.mp4", "u") == str((tmp_path / "a.mp4").resolve())
    assert policy.media_url(f"file://{tmp_path}/a.mp4", "u") == str((tmp_path / "a.mp4").resolve())


def test_paths_outside_the_roots_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.mp4").write_bytes(b"x")
    os.symlink(tmp_path / "secret.mp4", root / "link.mp4")
    policy = UrlPolicy([root])
    assert refused(policy, "../secret.mp4") == "InvalidParameterValue"
    assert refused(policy, str(tmp_path / "secret.mp4")) == "InvalidParameterValue"
    assert refused(policy, "file:///etc/passwd") == "InvalidParameterValue"
    assert refused(policy, "link.mp4") == "InvalidParameterValue"


def test_local_files_need_an_ingest_root() -> None:
    assert refused(UrlPolicy([]), "a.mp4") == "InvalidParameterValue"


def test_private_http_hosts_are_refused_unless_allowed() -> None:
    assert refused(UrlPolicy(resolver=private), "http://media.local/a.mp4") == (
        "InvalidParameterValue"
    )
    assert refused(UrlPolicy(), "http://127.0.0.1:9/a.mp4") == "InvalidParameterValue"
    assert refused(UrlPolicy(), "http://[::ffff:10.0.0.1]/a.mp4") == "InvalidParameterValue"
    assert UrlPolicy(resolver=public).media_url("https://cdn/a.mp4", "u") == "https://cdn/a.mp4"
    allowed = UrlPolicy(allow_private=True, resolver=private)
    assert allowed.media_url("http://media.local/a.mp4", "u") == "http://media.local/a.mp4"


def test_unknown_schemes_are_refused() -> None:
    assert refused(UrlPolicy(), "gopher://x/a.mp4") == "InvalidParameterValue"


def test_the_concat_image_follows_the_same_rules(tmp_path: Path) -> None:
    params = {"Concat": {"Enabled": True, "Image": "../x.png"}}
    with pytest.raises(ApiError) as err:
        UrlPolicy([tmp_path]).params(params)
    assert "Concat.Image" in err.value.message


def test_callback_urls_must_be_http_and_public() -> None:
    with pytest.raises(ApiError) as err:
        UrlPolicy(resolver=public).callback_url("ftp://x/y")
    assert err.value.code == "InvalidParameter.CallbackAddressFormatError"
    with pytest.raises(ApiError) as err:
        UrlPolicy().callback_url("http://127.0.0.1:8000/cb")
    assert err.value.code == "InvalidParameterValue"
    UrlPolicy(resolver=public).callback_url("https://example.com/cb")
    UrlPolicy().callback_url("")
