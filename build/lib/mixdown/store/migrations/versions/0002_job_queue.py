"""The cluster's job queue: procrastinate's schema, on PostgreSQL only.

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-01
"""

from __future__ import annotations

from alembic import op

from mixdown.store import job_queue

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    job_queue.install(op.get_bind())


def downgrade() -> None:
    # Left in place: the queue may hold other applications' jobs, and dropping it loses work.
    pass
