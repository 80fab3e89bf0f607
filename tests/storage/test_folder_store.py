"""What only the folder store has: a root that nothing may leave, and no download URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mixdown.errors import InvalidParameterValue
from mixdown.storage.folder import FolderStore
from mixdown.storage.keys import WRITING_MARK


def test_a_link_inside_the_root_cannot_lead_a_key_outside_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    root = tmp_path / "root"
    root.mkdir()
    (root / "door").symlink_to(outside)
    store = FolderStore(root)
    with pytest.raises(InvalidParameterValue, match="leads outside"):
        store.get("door/secret.txt", tmp_path / "back")
    with pytest.raises(InvalidParameterValue, match="leads outside"):
        store.put("door/planted.txt", outside / "secret.txt")
    with pytest.raises(InvalidParameterValue, match="leads outside"):
        store.delete_prefix("door")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_a_folder_store_has_no_download_urls(tmp_path: Path) -> None:
    assert FolderStore(tmp_path).download_url("a/b.mp4") is None


def test_files_still_being_written_are_not_keys(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    (tmp_path / "tok").mkdir()
    (tmp_path / "tok" / "a.mp4").write_bytes(b"a")
    (tmp_path / "tok" / f"{WRITING_MARK}x1y2").write_bytes(b"half")
    assert store.keys() == ["tok/a.mp4"]
    assert store.delete_prefix("tok") == 1
    assert not (tmp_path / "tok").exists()


def test_deleting_everything_keeps_the_root_folder(tmp_path: Path) -> None:
    store = FolderStore(tmp_path / "root")
    (tmp_path / "f").write_bytes(b"f")
    store.put("a/b.mp4", tmp_path / "f")
    assert store.delete_prefix("") == 1
    assert (tmp_path / "root").is_dir()
    assert store.keys() == []
