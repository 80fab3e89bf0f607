"""s3:// segment URLs are read with the worker's S3 client (the store's), size-capped."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from mixdown.errors import MediaError
from mixdown.render.source import MediaSource
from mixdown.storage.s3 import S3Store
from seaweed import Seaweed
from storage.backends import s3_backend


@pytest.fixture
def store(seaweed: Seaweed) -> S3Store:
    store = s3_backend(seaweed).store
    assert isinstance(store, S3Store)
    return store


def _segment(store: S3Store, tmp_path: Path, key: str, size: int) -> str:
    """Stores ``size`` bytes at ``key``; returns the segment's s3:// URL."""
    (tmp_path / "upload").write_bytes(random.Random(size).randbytes(size))
    store.put(key, tmp_path / "upload")
    return f"s3://{store.bucket}/{store.prefix}{key}"


def test_an_s3_segment_is_read_into_a_local_file(store: S3Store, tmp_path: Path) -> None:
    url = _segment(store, tmp_path, "rec/teacher/0.flv", 3 << 20)
    source = MediaSource(tmp_path / "work", max_bytes=10 << 20, s3=store.client)
    local = source.local(url)
    assert local.suffix == ".flv"
    assert local.read_bytes() == (tmp_path / "upload").read_bytes()
    assert source.local(url) == local


def test_an_s3_segment_over_the_size_cap_is_refused_and_not_kept(
    store: S3Store, tmp_path: Path
) -> None:
    url = _segment(store, tmp_path, "rec/big.mp4", 100_001)
    source = MediaSource(tmp_path / "work", max_bytes=100_000, s3=store.client)
    with pytest.raises(MediaError, match="larger than the 100000 byte limit"):
        source.local(url)
    assert list((tmp_path / "work").iterdir()) == []


def test_a_missing_s3_segment_is_named(store: S3Store, tmp_path: Path) -> None:
    url = f"s3://{store.bucket}/{store.prefix}rec/none.mp4"
    source = MediaSource(tmp_path / "work", max_bytes=1 << 20, s3=store.client)
    with pytest.raises(MediaError, match=r"rec/none\.mp4: download failed \(no such object\)"):
        source.local(url)


def test_an_s3_url_without_a_key_is_refused(store: S3Store, tmp_path: Path) -> None:
    source = MediaSource(tmp_path / "work", max_bytes=1 << 20, s3=store.client)
    with pytest.raises(MediaError, match="not an s3://bucket/key URL"):
        source.local(f"s3://{store.bucket}/")


def test_without_s3_settings_an_s3_url_fails_clearly(tmp_path: Path) -> None:
    source = MediaSource(tmp_path / "work", max_bytes=1 << 20)
    with pytest.raises(MediaError, match="need S3 storage settings, none are configured"):
        source.local("s3://media/rec/0.mp4")
