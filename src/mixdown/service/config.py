"""How one ``mixdown serve`` is configured (from its command line), and the database
setting every service command shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: Set ``--database`` and ``--storage`` for every command, so the nodes of a cluster need
#: no flags for them.
DATABASE_URL_ENV = "MIXDOWN_DATABASE_URL"
STORAGE_URL_ENV = "MIXDOWN_STORAGE_URL"
#: The nginx an RTMP ingest runs, when not the one on PATH (or Debian's).
NGINX_ENV = "MIXDOWN_NGINX"


def setting(flag: str | None, env: Mapping[str, str], name: str) -> str:
    """A flag's value, else the environment variable ``name``, else "" (the data folder).
    An empty flag still wins: ``--database ''`` picks the data folder whatever is exported."""
    value = env.get(name, "") if flag is None else flag
    return value.strip()


def database_setting(flag: str | None, env: Mapping[str, str]) -> str:
    """The database URL; "" for SQLite in the data folder."""
    return setting(flag, env, DATABASE_URL_ENV)


#: The longest callback time-out accepted: a receiver slower than this is broken, and the
#: delivery's lease (longer still) keeps an event from other nodes that long after a crash.
CALLBACK_TIMEOUT_MAX_S = 120.0


@dataclass(frozen=True)
class ServiceConfig:
    #: Output files, the lock of this server and, unless ``database_url`` names another,
    #: the SQLite database.
    data_dir: Path
    #: The database (``postgresql://`` or ``sqlite:///``); "" for SQLite in the data folder.
    database_url: str = ""
    #: Where outputs are kept (``s3://bucket/prefix`` or a folder); "" for the data folder.
    storage_url: str = ""
    #: Base URL of a public (CDN) bucket: download URLs are it plus the key, not presigned.
    public_base_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    ingest_roots: tuple[Path, ...] = ()
    allow_private_urls: bool = False
    workers: int = 1
    #: Base of output download URLs; default ``http://HOST:PORT``.
    public_url: str = ""
    #: First callback retry delay; doubles on each failure (DESIGN §4.3).
    callback_retry_base_s: float = 5.0
    #: How long one callback attempt may take; the delivery's lease follows from it.
    callback_timeout_s: float = 10.0
    #: Largest accepted request body (TC3 allows 10 MB).
    max_body_bytes: int = 10 * 1024 * 1024
    #: The RTMP port pushes are recorded from (live recording); None: no ingest here.
    rtmp_port: int | None = None
    #: Where the RTMP port listens; "" for ``host``.
    rtmp_host: str = ""
    #: Start and supervise nginx; False for one the user runs (``mixdown ingest-config``).
    manage_nginx: bool = True
    #: The nginx binary (``MIXDOWN_NGINX``); "" to look on PATH and in /usr/sbin.
    nginx: str = ""
    #: The shortest AutoStopTimeout accepted (TIW: 300 s; tests and demos use less).
    auto_stop_min_s: int = 300

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

    @property
    def storage(self) -> str:
        """The store's location: ``storage_url``, else the data folder's outputs."""
        return self.storage_url or str(self.outputs_dir)

    @property
    def scratch_dir(self) -> Path:
        """Where attempts render before their files go to the store."""
        return self.data_dir / "scratch"
