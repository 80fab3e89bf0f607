"""Where a generation's files go: rendered in a local scratch folder per attempt, then kept in
the object store under ``<SdkAppId>/<TaskId>/<token>/<name>``.

The token is the attempt's own: a late or duplicate attempt writes under another token and
can never overwrite the files of the one that committed. The objects become visible (linked
from Describe and callbacks) only once the task commits that token with its final state;
the objects of every other attempt of the task are then removed.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from mixdown.errors import StorageError
from mixdown.storage.folder import FolderStore
from mixdown.storage.objects import ObjectStore

_log = logging.getLogger("mixdown.storage")


@dataclass(frozen=True)
class Attempt:
    """One attempt at a task's outputs."""

    sdk_app_id: int
    task_id: str
    token: str

    @property
    def prefix(self) -> str:
        return f"{self.sdk_app_id}/{self.task_id}/{self.token}"

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"


class Outputs:
    def __init__(self, store: ObjectStore, scratch: Path, base_url: str) -> None:
        self.store = store
        self.scratch = scratch
        #: Base of the API node's ``/files`` route, for a store that has no URLs of its own.
        self.base_url = base_url.rstrip("/")

    def attempt_dir(self, attempt: Attempt) -> Path:
        """A new, empty local folder to render the attempt into."""
        self.scratch.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.scratch / attempt.token
        path.mkdir(mode=0o700)
        return path

    def keep(self, attempt: Attempt, files: Iterable[Path]) -> None:
        """Store each file under the attempt's key (each object whole or not at all), then
        drop the scratch folder."""
        for path in files:
            self.store.put(attempt.key(path.name), path)
        self.drop_scratch(attempt)

    def discard(self, attempt: Attempt) -> None:
        """Remove whatever the attempt wrote, locally and in the store.

        Best effort: it follows a failure, often the store's own (S3 away past the retry
        window), and must not replace that failure as the task's reason. Objects left are
        never linked; should another attempt of the task commit, it removes them."""
        self.drop_scratch(attempt)
        try:
            self.store.delete_prefix(attempt.prefix)
        except StorageError as exc:
            _log.warning(
                "attempt's files not removed",
                extra={"task_id": attempt.task_id, "reason": exc.message},
            )

    def drop_scratch(self, attempt: Attempt) -> None:
        shutil.rmtree(self.scratch / attempt.token, ignore_errors=True)

    def sweep_scratch(self) -> int:
        """Remove every scratch folder (at start: no attempt of this process runs yet)."""
        if not self.scratch.is_dir():
            return 0
        folders = [p for p in self.scratch.iterdir()]
        for path in folders:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        return len(folders)

    def keep_only(self, committed: Attempt) -> int:
        """Remove the objects of the task's other attempts (dead, late or failed ones)."""
        removed = 0
        task = f"{committed.sdk_app_id}/{committed.task_id}"
        tokens = {key.split("/")[2] for key in self.store.keys(task) if key.count("/") >= 3}
        for token in tokens - {committed.token}:
            removed += self.store.delete_prefix(f"{task}/{token}")
        return removed

    def link(self, sdk_app_id: int, task_id: str, token: str, name: str) -> str:
        """Where a committed file is downloaded: the store's own URL (presigned, fresh at
        every call, or behind a CDN), else the API node's ``/files/<token>/<name>``."""
        attempt = Attempt(sdk_app_id, task_id, token)
        url = self.store.download_url(attempt.key(name))
        if url is not None:
            return url
        return f"{self.base_url}/files/{attempt.token}/{quote(name)}"

    def local_file(self, attempt: Attempt, name: str) -> Path | None:
        """The committed file on this machine, for the ``/files`` route; None when the
        store is not a folder or holds no such file."""
        if not isinstance(self.store, FolderStore):
            return None
        for candidate in (attempt.key(name), f"{attempt.token}/{name}"):
            # The second: where a data folder of an earlier version keeps its outputs.
            path = self.store.local_path(candidate)
            if path is not None:
                return path
        return None
