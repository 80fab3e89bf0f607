"""The web console: its sessions, the failed sign-ins that slow down guessing, and the
previous SecretKey of a rotated key, valid for a grace period.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(
            sa.Column("previous_secret_key", sa.String(128), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("previous_key_until_ms", sa.BigInteger(), nullable=True))
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("secret_id", sa.String(64), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "console_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_console_failures_key_at", "console_failures", ["key", "at_ms"])


def downgrade() -> None:
    op.drop_index("ix_console_failures_key_at", "console_failures")
    op.drop_table("console_failures")
    op.drop_table("console_sessions")
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("previous_key_until_ms")
        batch.drop_column("previous_secret_key")
