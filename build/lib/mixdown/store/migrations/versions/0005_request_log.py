"""The rate limit's log: requests let through, for a sliding window shared by API nodes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "allowed_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("sdk_app_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "ix_allowed_requests_key_at", "allowed_requests", ["sdk_app_id", "action", "at_ms"]
    )


def downgrade() -> None:
    op.drop_index("ix_allowed_requests_key_at", "allowed_requests")
    op.drop_table("allowed_requests")
