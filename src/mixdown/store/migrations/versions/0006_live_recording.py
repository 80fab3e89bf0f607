"""Live recording: each app's push key, a recording's live state, the segments its pushes
recorded, and the ingest nodes that record them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BIG = sa.BigInteger()


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("push_key", sa.String(64), nullable=False, server_default=""))
    apps = sa.table("apps", sa.column("sdk_app_id", _BIG), sa.column("push_key", sa.String))
    bind = op.get_bind()
    # Apps made before live recording get a push key of their own, as new apps do.
    for (sdk_app_id,) in bind.execute(sa.select(apps.c.sdk_app_id)).all():
        bind.execute(
            apps.update()
            .where(apps.c.sdk_app_id == sdk_app_id)
            .values(push_key=secrets.token_hex(16))
        )
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("live", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("auto_stop_s", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("paused_ms", _BIG, nullable=True))
        batch.add_column(sa.Column("active_ms", _BIG, nullable=True))
        batch.add_column(sa.Column("finish_reason", sa.String(16), nullable=True))
        batch.add_column(sa.Column("sealed_ms", _BIG, nullable=True))
        batch.add_column(sa.Column("generation_id", sa.String(32), nullable=True))
        batch.add_column(
            sa.Column("exception_cnt", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "live_segments",
        sa.Column("id", _BIG.with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column(
            "recording_id",
            sa.String(32),
            sa.ForeignKey("recordings.task_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("stream_id", sa.String(64), nullable=False),
        sa.Column("stream_name", sa.String(160), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("publish_ms", _BIG, nullable=False),
        sa.Column("closed_ms", _BIG, nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("start_ms", _BIG, nullable=True),
        sa.Column("lost", sa.Text(), nullable=True),
    )
    op.create_index("ix_live_segments_recording_id", "live_segments", ["recording_id"])
    op.create_table(
        "ingest_nodes",
        sa.Column("node_id", sa.String(64), primary_key=True),
        sa.Column("rtmp_url", sa.Text(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False, server_default=""),
        sa.Column("heartbeat_ms", _BIG, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ingest_nodes")
    op.drop_index("ix_live_segments_recording_id", "live_segments")
    op.drop_table("live_segments")
    with op.batch_alter_table("recordings") as batch:
        for column in (
            "live",
            "auto_stop_s",
            "paused_ms",
            "active_ms",
            "finish_reason",
            "sealed_ms",
            "generation_id",
            "exception_cnt",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("push_key")
