"""The data folder of one service: its lock and, by default, its database."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from mixdown.errors import MixdownError
from mixdown.store.database import Database


def open_database(data_dir: Path, url: str = "") -> Database:
    """The service's database migrated to the newest schema: the one ``url`` names, else the
    data folder's SQLite file, private to this user."""
    db = Database.from_url(url) if url else _folder_database(data_dir)
    db.migrate()
    return db


def _folder_database(data_dir: Path) -> Database:
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(data_dir, 0o700)
    return Database.sqlite_file(data_dir / "mixdown.db")


def lock_data_dir(data_dir: Path) -> int:
    """Hold the data folder for this process: two services on one folder would sweep each
    other's attempt folders. The OS drops the lock when the process dies, even by kill -9."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(data_dir / "serve.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise MixdownError(
            f"{data_dir}: another mixdown serve is using this data folder", code="ResourceInUse"
        ) from None
    return fd
