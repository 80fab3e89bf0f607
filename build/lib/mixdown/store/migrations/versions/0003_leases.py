"""Leases: the heartbeat a cluster worker writes while it runs an import or a generation.

Revision ID: 0003
Revises: 0002
Create Date: 2025-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("recordings", "generation_tasks"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("heartbeat_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    for table in ("recordings", "generation_tasks"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("heartbeat_ms")
