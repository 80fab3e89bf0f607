"""One contract for every object store: a folder and S3 (a real SeaweedFS) behave alike."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from mixdown.errors import InvalidParameterValue, StorageError
from storage.backends import MIB, PART, Backend, folder_backend, s3_backend


@pytest.fixture(params=["folder", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "folder":
        return folder_backend(tmp_path / "objects")
    return s3_backend(request.getfixturevalue("seaweed"))


def _file(folder: Path, name: str, size: int, seed: int = 0) -> Path:
    path = folder / name
    path.write_bytes(random.Random(seed).randbytes(size))
    return path


def test_a_put_object_reads_back_byte_for_byte(backend: Backend, tmp_path: Path) -> None:
    # Past the part size, so S3 takes it as a multipart upload.
    source = _file(tmp_path, "big.mp4", PART + 3 * MIB + 17)
    backend.store.put("outputs/tok/big.mp4", source)
    backend.store.get("outputs/tok/big.mp4", tmp_path / "back.mp4")
    assert (tmp_path / "back.mp4").read_bytes() == source.read_bytes()
    assert backend.store.exists("outputs/tok/big.mp4")


def test_a_second_put_replaces_the_object_whole(backend: Backend, tmp_path: Path) -> None:
    backend.store.put("a.txt", _file(tmp_path, "long", 5000, seed=1))
    backend.store.put("a.txt", _file(tmp_path, "short", 10, seed=2))
    backend.store.get("a.txt", tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == (tmp_path / "short").read_bytes()


def test_a_put_that_fails_midway_leaves_the_old_object_and_no_trace(
    backend: Backend, tmp_path: Path
) -> None:
    old = _file(tmp_path, "old", 1000, seed=3)
    backend.store.put("clip.mp4", old)
    with backend.failing_midway():
        with pytest.raises(StorageError, match=r"clip\.mp4"):
            backend.store.put("clip.mp4", _file(tmp_path, "new", 2 * PART + MIB, seed=4))
        with pytest.raises(StorageError, match=r"fresh\.mp4"):
            backend.store.put("fresh.mp4", tmp_path / "new")
    backend.store.get("clip.mp4", tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == old.read_bytes()
    assert not backend.store.exists("fresh.mp4")
    assert backend.store.keys() == ["clip.mp4"]
    assert backend.leftovers() == []


@pytest.mark.parametrize("unreadable", ["missing.mp4", "a-folder"])
def test_a_put_from_an_unreadable_file_stores_nothing(
    backend: Backend, tmp_path: Path, unreadable: str
) -> None:
    (tmp_path / "a-folder").mkdir()
    with pytest.raises(StorageError, match=r"x/clip\.mp4"):
        backend.store.put("x/clip.mp4", tmp_path / unreadable)
    assert not backend.store.exists("x/clip.mp4")
    assert backend.store.keys() == []
    assert backend.leftovers() == []


def test_keys_lists_whole_segments_under_a_prefix(backend: Backend, tmp_path: Path) -> None:
    source = _file(tmp_path, "f", 10)
    for key in ("a/1.mp4", "a/2/x.mp3", "ab/3.mp4", "b.json"):
        backend.store.put(key, source)
    assert backend.store.keys() == ["a/1.mp4", "a/2/x.mp3", "ab/3.mp4", "b.json"]
    assert backend.store.keys("a") == ["a/1.mp4", "a/2/x.mp3"]
    assert backend.store.keys("a/") == ["a/1.mp4", "a/2/x.mp3"]
    assert backend.store.keys("a/2") == ["a/2/x.mp3"]
    assert backend.store.keys("b.json") == []
    assert backend.store.keys("nothing/here") == []


def test_delete_prefix_removes_that_prefix_and_nothing_beside_it(
    backend: Backend, tmp_path: Path
) -> None:
    source = _file(tmp_path, "f", 10)
    for key in ("att/1/a.mp4", "att/1/deep/b.mp4", "att/10/c.mp4", "att/1.mp4"):
        backend.store.put(key, source)
    assert backend.store.delete_prefix("att/1") == 2
    assert backend.store.keys() == ["att/1.mp4", "att/10/c.mp4"]
    assert backend.store.delete_prefix("att/1") == 0
    assert backend.store.delete_prefix("") == 2
    assert backend.store.keys() == []


def test_delete_removes_one_object_and_ignores_a_missing_one(
    backend: Backend, tmp_path: Path
) -> None:
    source = _file(tmp_path, "f", 10)
    backend.store.put("d/one", source)
    backend.store.put("d/two", source)
    backend.store.delete("d/one")
    backend.store.delete("d/one")
    backend.store.delete("never/was")
    assert backend.store.keys() == ["d/two"]
    assert not backend.store.exists("d/one")


def test_copy_makes_an_independent_object(backend: Backend, tmp_path: Path) -> None:
    backend.store.put("parts/a.mp4", _file(tmp_path, "v1", 3000, seed=5))
    backend.store.copy("parts/a.mp4", "final/a.mp4")
    backend.store.put("parts/a.mp4", _file(tmp_path, "v2", 10, seed=6))
    backend.store.get("final/a.mp4", tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == (tmp_path / "v1").read_bytes()


def test_copying_or_getting_a_missing_object_names_it(backend: Backend, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"no/such\.mp4"):
        backend.store.copy("no/such.mp4", "b.mp4")
    with pytest.raises(StorageError, match=r"no/such\.mp4"):
        backend.store.get("no/such.mp4", tmp_path / "back")
    assert not (tmp_path / "back").exists()
    assert not backend.store.exists("b.mp4")


BAD_KEYS = ["", "/abs.mp4", "a//b.mp4", "dir/", "../up.mp4", "a/../b.mp4", "./a.mp4",
            "a\nb.mp4", "a/.~writing-x", "x" * 1025]  # fmt: skip


@pytest.mark.parametrize("key", BAD_KEYS)
def test_every_operation_refuses_a_key_that_breaks_the_rules(
    backend: Backend, tmp_path: Path, key: str
) -> None:
    source = _file(tmp_path, "f", 10)
    backend.store.put("good.mp4", source)
    calls: list[Callable[[], object]] = [
        lambda: backend.store.put(key, source),
        lambda: backend.store.get(key, tmp_path / "back"),
        lambda: backend.store.exists(key),
        lambda: backend.store.delete(key),
        lambda: backend.store.copy(key, "other.mp4"),
        lambda: backend.store.copy("good.mp4", key),
        lambda: backend.store.download_url(key),
    ]
    for call in calls:
        with pytest.raises(InvalidParameterValue, match="object key"):
            call()
    assert backend.store.keys() == ["good.mp4"]


@pytest.mark.parametrize("prefix", ["/abs", "a//b", "../up", "a/../b"])
def test_listing_and_deleting_refuse_a_prefix_that_breaks_the_rules(
    backend: Backend, prefix: str
) -> None:
    with pytest.raises(InvalidParameterValue, match="key prefix"):
        backend.store.keys(prefix)
    with pytest.raises(InvalidParameterValue, match="key prefix"):
        backend.store.delete_prefix(prefix)
