"""The object store in a local (or shared) folder: a key is a relative path under the root.

Writes go to a hidden file in the key's own folder and are renamed over the key when whole:
rename within one file system is atomic, so a reader never opens half a file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from mixdown.errors import InvalidParameterValue, StorageError
from mixdown.storage.keys import WRITING_MARK, key_prefix, object_key


class FolderStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def put(self, key: str, source: Path) -> None:
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"{self.location}: cannot write {key!r} ({_why(exc)})") from None
        _copy_whole(source, target, f"{self.location}: cannot write {key!r} from {source}")

    def get(self, key: str, target: Path) -> None:
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"{self.location}: no object {key!r}")
        _copy_whole(path, target, f"{self.location}: cannot read {key!r} into {target}")

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self, prefix: str = "") -> list[str]:
        stored = key_prefix(prefix)
        base = self._path(stored[:-1]) if stored else self.root
        found = []
        for folder, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if not d.startswith(WRITING_MARK)]
            rel = Path(folder).relative_to(self.root).as_posix()
            lead = "" if rel == "." else rel + "/"
            found += [lead + f for f in files if not f.startswith(WRITING_MARK)]
        return sorted(found)

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"{self.location}: cannot delete {key!r} ({_why(exc)})") from None

    def delete_prefix(self, prefix: str) -> int:
        stored = key_prefix(prefix)
        doomed = self.keys(stored)
        if not stored:  # the root itself stays: only what is in it goes
            for key in doomed:
                self.delete(key)
            return len(doomed)
        folder = self._path(stored[:-1])
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
        if folder.is_dir():
            raise StorageError(f"{self.location}: cannot delete everything under {stored!r}")
        return len(doomed)

    def copy(self, source_key: str, target_key: str) -> None:
        source = self._path(source_key)
        if not source.is_file():
            raise StorageError(f"{self.location}: no object {source_key!r} to copy")
        self.put(target_key, source)

    def download_url(self, key: str) -> str | None:
        object_key(key)
        return None

    def media_url(self, key: str) -> str:
        return str(self._path(key).absolute())

    def local_path(self, key: str) -> Path | None:
        """The file holding ``key``, to serve it as it is; None when there is none or the
        key breaks the rules (it may come from a request)."""
        try:
            path = self._path(key)
        except InvalidParameterValue:
            return None
        return path if path.is_file() else None

    def _path(self, key: str) -> Path:
        """The file of ``key``; refused when a link inside the root leads outside it."""
        path = self.root / object_key(key)
        root = self.root.resolve()
        resolved = path.resolve()
        if resolved != root and root not in resolved.parents:
            raise InvalidParameterValue(f"object key {key!r}: leads outside {self.location}")
        return path


def _copy_whole(source: Path, target: Path, failure: str) -> None:
    """Copy to a hidden file beside ``target``, then rename it over ``target``."""
    temp = ""
    try:
        fd, temp = tempfile.mkstemp(prefix=WRITING_MARK, dir=target.parent)
        with open(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
        os.replace(temp, target)
    except OSError as exc:
        if temp:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        raise StorageError(f"{failure} ({_why(exc)})") from None


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
