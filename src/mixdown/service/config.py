"""How one ``mixdown serve`` is configured (from its command line), and the database
setting every service command shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: Sets ``--database`` for every command, so the nodes of a cluster need no flag for it.
DATABASE_URL_ENV = "MIXDOWN_DATABASE_URL"


def database_setting(flag: str | None, env: Mapping[str, str]) -> str:
    """The database URL: the flag, else the environment, else "" (SQLite in the data folder).
    An empty flag still wins: ``--database ''`` picks the data folder whatever is exported."""
    value = env.get(DATABASE_URL_ENV, "") if flag is None else flag
    return value.strip()


@dataclass(frozen=True)
class ServiceConfig:
    #: Output files, the lock of this server and, unless ``database_url`` names another,
    #: the SQLite database.
    data_dir: Path
    #: The database (``postgresql://`` or ``sqlite:///``); "" for SQLite in the data folder.
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    ingest_roots: tuple[Path, ...] = ()
    allow_private_urls: bool = False
    workers: int = 1
    #: Base of output download URLs; default ``http://HOST:PORT``.
    public_url: str = ""
    #: First callback retry delay; doubles on each failure (DESIGN §4.3).
    callback_retry_base_s: float = 5.0
    #: Largest accepted request body (TC3 allows 10 MB).
    max_body_bytes: int = 10 * 1024 * 1024

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "mixdown.db"

    @property
    def outputs_dir(self) -> Path:
        return self.data_dir / "outputs"
