"""What only S3 has: download URLs (presigned or public), and credentials that can be wrong."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from mixdown.errors import StorageError
from mixdown.storage.connection import S3Settings
from mixdown.storage.s3 import S3Store
from seaweed import Seaweed
from storage.backends import s3_backend


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        data: bytes = answer.read()
        return data


def _status(url: str) -> int:
    with pytest.raises(urllib.error.HTTPError) as refused:
        _fetch(url)
    refused.value.close()
    return refused.value.code


def test_a_presigned_url_downloads_the_object_with_plain_http(
    seaweed: Seaweed, tmp_path: Path
) -> None:
    store = s3_backend(seaweed, url_expiry_s=900).store
    (tmp_path / "v.mp4").write_bytes(b"\x00video bytes\xff" * 1000)
    store.put("out/tok/class 1.mp4", tmp_path / "v.mp4")
    url = store.download_url("out/tok/class 1.mp4")
    assert url is not None
    assert _fetch(url) == (tmp_path / "v.mp4").read_bytes()


def test_a_presigned_url_carries_the_configured_expiry_under_its_signature(
    seaweed: Seaweed, tmp_path: Path
) -> None:
    store = s3_backend(seaweed, url_expiry_s=900).store
    (tmp_path / "v.mp4").write_bytes(b"v")
    store.put("v.mp4", tmp_path / "v.mp4")
    url = store.download_url("v.mp4")
    assert url is not None
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert query["X-Amz-Expires"] == ["900"]
    # The expiry is signed: a URL stretched to live longer is refused.
    query["X-Amz-Expires"] = ["604800"]
    stretched = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    assert _status(stretched) == 403


def test_an_object_of_a_private_bucket_needs_the_signature(
    seaweed: Seaweed, tmp_path: Path
) -> None:
    store = s3_backend(seaweed).store
    (tmp_path / "v.mp4").write_bytes(b"v")
    store.put("v.mp4", tmp_path / "v.mp4")
    url = store.download_url("v.mp4")
    assert url is not None
    assert _status(url.partition("?")[0]) == 403


def test_a_public_base_url_gives_plain_urls_under_it(seaweed: Seaweed, tmp_path: Path) -> None:
    client = S3Settings.from_env(seaweed.env()).client()
    # The anonymous identity may read this bucket, as a CDN in front of it would.
    base = f"{seaweed.endpoint}/{seaweed.public_bucket}/"
    store = S3Store(client, seaweed.public_bucket, "pub", public_base_url=base)
    (tmp_path / "v.mp4").write_bytes(b"public bytes")
    store.put("tok/a b.mp4", tmp_path / "v.mp4")
    url = store.download_url("tok/a b.mp4")
    assert url == f"{base}pub/tok/a%20b.mp4"
    assert _fetch(url) == b"public bytes"


@pytest.mark.parametrize(
    ("key_id", "secret"), [("MIXDOWNTESTKEY", "wrong-secret-123"), ("NOSUCHKEY", "whatever-456")]
)
def test_wrong_credentials_fail_naming_bucket_and_key_but_not_the_credentials(
    seaweed: Seaweed, tmp_path: Path, key_id: str, secret: str
) -> None:
    env = seaweed.env(AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret)
    store = S3Store(S3Settings.from_env(env).client(), seaweed.bucket, "creds")
    (tmp_path / "v.mp4").write_bytes(b"v")
    for call in (
        lambda: store.put("a.mp4", tmp_path / "v.mp4"),
        lambda: store.get("a.mp4", tmp_path / "back"),
        lambda: store.exists("a.mp4"),
        lambda: store.keys(),
    ):
        with pytest.raises(StorageError, match="credentials were refused") as failed:
            call()
        assert f"s3://{seaweed.bucket}/creds/" in failed.value.message
        assert secret not in str(failed.value)
        assert key_id not in str(failed.value)


def test_a_missing_bucket_is_named(seaweed: Seaweed, tmp_path: Path) -> None:
    client = S3Settings.from_env(seaweed.env()).client()
    store = S3Store(client, "no-such-bucket-here")
    (tmp_path / "v.mp4").write_bytes(b"v")
    with pytest.raises(StorageError, match=r"s3://no-such-bucket-here/a\.mp4: read failed"):
        store.get("a.mp4", tmp_path / "back")
    with pytest.raises(StorageError, match=r"s3://no-such-bucket-here/a\.mp4: write from"):
        store.put("a.mp4", tmp_path / "v.mp4")
    with pytest.raises(StorageError, match=r"s3://no-such-bucket-here/"):
        store.keys()
