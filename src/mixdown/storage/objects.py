"""The object store: what outputs and inputs need of a folder or an S3 bucket (DESIGN §5).

Keys follow ``storage.keys``. Every operation raises StorageError naming the store and the
key when the store fails, and InvalidParameterValue for a key that breaks the rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class ObjectStore(Protocol):
    #: Where the store is, for messages and logs: a folder path or ``s3://bucket/prefix``.
    location: str

    def put(self, key: str, source: Path) -> None:
        """Store the local file ``source`` at ``key``, replacing any object there.

        Atomic: a reader sees the old object or the whole new one, never part of it, and a
        put that fails leaves the key as it was.
        """
        ...

    def get(self, key: str, target: Path) -> None:
        """Write the object at ``key`` to the local file ``target`` (replaced whole)."""
        ...

    def exists(self, key: str) -> bool: ...

    def keys(self, prefix: str = "") -> list[str]:
        """Every key under ``prefix`` (whole segments, see ``key_prefix``), sorted."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object at ``key``; nothing happens when there is none."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object under ``prefix`` (whole segments); returns how many."""
        ...

    def copy(self, source_key: str, target_key: str) -> None:
        """Copy an object within the store (on S3 without the bytes passing through us)."""
        ...

    def download_url(self, key: str) -> str | None:
        """A URL that lets anyone holding it download ``key``, or None when the store has
        none (a folder: the API node serves those files itself)."""
        ...

    def media_url(self, key: str) -> str:
        """Where a job on any node reads ``key`` as media: ``s3://bucket/key`` or the file."""
        ...
