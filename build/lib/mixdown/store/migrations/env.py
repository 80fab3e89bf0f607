"""Alembic environment: runs on the connection that ``Database.migrate`` hands in."""

from __future__ import annotations

from alembic import context

from mixdown.store.job_queue import is_ours
from mixdown.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    include_name=is_ours,  # procrastinate's tables are installed, not modelled
)
with context.begin_transaction():
    context.run_migrations()
