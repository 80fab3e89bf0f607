"""Apps, callback configs, recordings, generation tasks, callback deliveries.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _app_fk() -> sa.Column[int]:
    return sa.Column(
        "sdk_app_id",
        sa.BigInteger(),
        sa.ForeignKey("apps.sdk_app_id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("sdk_app_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("secret_id", sa.String(64), nullable=False, unique=True),
        sa.Column("secret_key", sa.String(128), nullable=False),
        sa.Column("task_concurrency", sa.Integer(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "callback_configs",
        sa.Column(
            "sdk_app_id",
            sa.BigInteger(),
            sa.ForeignKey("apps.sdk_app_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
    )
    op.create_table(
        "recordings",
        sa.Column("task_id", sa.String(32), primary_key=True),
        _app_fk(),
        sa.Column("room_id", sa.BigInteger(), nullable=False),
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("record_user_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("probes", sa.JSON(), nullable=True),
        sa.Column("stop_ms", sa.BigInteger(), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("finished_ms", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_recordings_app_status", "recordings", ["sdk_app_id", "status"])
    op.create_table(
        "generation_tasks",
        sa.Column("task_id", sa.String(32), primary_key=True),
        _app_fk(),
        sa.Column(
            "recording_id",
            sa.String(32),
            sa.ForeignKey("recordings.task_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("output_token", sa.String(64), nullable=True, unique=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=True),
        sa.Column("finished_ms", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_generation_tasks_app_status", "generation_tasks", ["sdk_app_id", "status"])
    op.create_index("ix_generation_tasks_recording_id", "generation_tasks", ["recording_id"])
    op.create_table(
        "callback_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _app_fk(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("task_id", sa.String(32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("event_time", sa.BigInteger(), nullable=False),
        sa.Column("event_data", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("delivered_ms", sa.BigInteger(), nullable=True),
    )
    op.create_index(
        "ix_callback_deliveries_due", "callback_deliveries", ["state", "next_attempt_ms"]
    )


def downgrade() -> None:
    op.drop_table("callback_deliveries")
    op.drop_table("generation_tasks")
    op.drop_table("recordings")
    op.drop_table("callback_configs")
    op.drop_table("apps")
