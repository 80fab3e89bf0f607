"""Pieces: a generation attempt spread over a cluster's workers, one row per piece.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generation_tasks") as batch:
        batch.add_column(sa.Column("work", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("pieces_left", sa.Integer(), nullable=True))
    op.create_table(
        "task_pieces",
        sa.Column(
            "task_id",
            sa.String(32),
            sa.ForeignKey("generation_tasks.task_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("attempt_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("heartbeat_ms", sa.BigInteger(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("task_pieces")
    with op.batch_alter_table("generation_tasks") as batch:
        batch.drop_column("pieces_left")
        batch.drop_column("work")
