"""The cluster's job queue as the database holds it: procrastinate's tables, functions and
types, installed next to ours on PostgreSQL (SQLite has no queue: its jobs run in-process).

The schema is installed by an Alembic revision, so it comes under the same advisory lock as
every migration and exactly once per database. procrastinate is pinned: a new version whose
schema changes needs a revision that applies its migration files.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

#: Every object of procrastinate's schema starts with this (tables, types, functions).
PREFIX = "procrastinate_"


def install(connection: Connection) -> bool:
    """Create procrastinate's schema unless it is there already; True when it was created."""
    if connection.dialect.name != "postgresql":
        return False
    if connection.scalar(text("SELECT to_regclass('procrastinate_jobs')")) is not None:
        return False  # installed by hand (``procrastinate schema --apply``) before Mixdown
    from procrastinate.schema import SchemaManager

    # Straight to the driver's cursor, in this same transaction: with no parameters, psycopg
    # sends the script as it is (several statements, its `%` signs left alone).
    cursor = connection.connection.cursor()
    try:
        cursor.execute(SchemaManager.get_schema())
    finally:
        cursor.close()
    return True


def is_ours(name: str | None, type_: str, _parent: object = None) -> bool:
    """Whether a database object belongs to Mixdown's own models, for Alembic's comparisons:
    procrastinate's tables are not in ``Base.metadata`` and must not read as strays."""
    return type_ == "schema" or not (name or "").startswith(PREFIX)
