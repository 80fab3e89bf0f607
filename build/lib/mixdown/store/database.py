"""The database handle: engine, transactions and migrations.

On SQLite every transaction starts with ``BEGIN IMMEDIATE``, so read-check-write sequences
(the task-concurrency limit) are serialised without relying on row locks SQLite lacks; on
PostgreSQL the same code takes ``SELECT ... FOR UPDATE`` row locks instead.

Nodes of a cluster may start together: on PostgreSQL the migration runs under an advisory
lock, so one node upgrades the schema and the others find it already at the newest revision.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from mixdown.errors import ResourceUnavailable
from mixdown.store.database_url import SQLITE, driver_url, masked

MIGRATIONS = Path(__file__).with_name("migrations")
#: The advisory lock held while migrating: "mixdown" in ASCII, then 1. A key no other
#: application sharing the PostgreSQL database is likely to take.
MIGRATION_LOCK = 0x6D6978646F776E01
#: Seconds to wait for PostgreSQL to accept a connection: an unreachable host should fail a
#: start, not hang it.
CONNECT_TIMEOUT_S = 10


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine: Engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}
            )
            _serialise_sqlite(self.engine)
        else:
            has_timeout = "connect_timeout" in make_url(url).query
            connect_args = {} if has_timeout else {"connect_timeout": CONNECT_TIMEOUT_S}
            self.engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @staticmethod
    def from_url(url: str) -> Database:
        """The database a user's URL names (``postgresql://``, ``postgres://`` or
        ``sqlite:///PATH``), checked to answer; the error names the URL, password masked."""
        parsed = driver_url(url)
        try:
            if parsed.drivername == SQLITE:
                return Database.sqlite_file(Path(str(parsed.database)))
            database = Database(parsed.render_as_string(hide_password=False))
            with database.engine.connect():
                return database
        except (OSError, DBAPIError) as exc:
            raise ResourceUnavailable(
                f"database URL {masked(url)}: cannot connect: {_reason(exc, parsed.password)}"
            ) from None

    @staticmethod
    def sqlite_file(path: Path) -> Database:
        """A SQLite database file readable by this user only (it holds secrets)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
        os.chmod(path, 0o600)
        return Database(f"sqlite:///{path}")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (on PostgreSQL, one node at a time)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Held until this transaction ends, i.e. after the new schema is committed:
                # a node that waited for it then sees the schema at head and does nothing.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def revision(self) -> str | None:
        """The schema's Alembic revision; None before the first migration."""
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()


def head_revision() -> str:
    """The newest schema revision this version of Mixdown migrates to."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def _reason(exc: BaseException, password: str | None) -> str:
    """The driver's own first line (SQLAlchemy adds the statement and a link), with the
    password taken out should the driver quote it."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    return lines[0].replace(password, "***") if password else lines[0]


def _serialise_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, issue BEGIN (the documented pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
