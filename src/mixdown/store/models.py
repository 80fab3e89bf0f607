"""Tables. Times are integer epoch milliseconds; JSON columns hold TIW-shaped documents."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Recording statuses (reference §3.14); an import is STOPPED while its media is probed, a
# live recording RECORDING or PAUSED until it stops.
RECORDING, PAUSED, STOPPED, FINISHED = "RECORDING", "PAUSED", "STOPPED", "FINISHED"
LIVE = (RECORDING, PAUSED)
# Generation task statuses.
QUEUED, PROCESSING = "QUEUED", "PROCESSING"
UNFINISHED = (QUEUED, PROCESSING)
# Callback kinds and delivery states.
RECORD, GENERATION = "record", "generation"
PENDING, DELIVERED, GAVE_UP = "pending", "delivered", "gave_up"


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, int: BigInteger}


class App(Base):
    __tablename__ = "apps"

    sdk_app_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    secret_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_key: Mapped[str] = mapped_column(String(128))
    task_concurrency: Mapped[int] = mapped_column(Integer)
    created_ms: Mapped[int]
    #: Signs RTMP push URLs (``ingest.push_signature``); not the API key.
    push_key: Mapped[str] = mapped_column(String(64), default="")
    #: The key a rotation replaced, still accepted until ``previous_key_until_ms``.
    previous_secret_key: Mapped[str] = mapped_column(String(128), default="")
    previous_key_until_ms: Mapped[int | None] = mapped_column(default=None)


class CallbackConfig(Base):
    __tablename__ = "callback_configs"

    sdk_app_id: Mapped[int] = mapped_column(
        ForeignKey("apps.sdk_app_id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    url: Mapped[str] = mapped_column(Text, default="")
    key: Mapped[str] = mapped_column(String(64), default="")


class Recording(Base):
    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_app_status", "sdk_app_id", "status"),)

    task_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sdk_app_id: Mapped[int] = mapped_column(ForeignKey("apps.sdk_app_id", ondelete="CASCADE"))
    room_id: Mapped[int]
    group_id: Mapped[str] = mapped_column(String(128))
    record_user_id: Mapped[str] = mapped_column(String(128), default="")
    status: Mapped[str] = mapped_column(String(16))
    #: The manifest as imported, local paths resolved (DESIGN §4.1).
    manifest: Mapped[dict[str, Any]]
    #: ``{segment url: MediaInfo.to_json()}`` once probed.
    probes: Mapped[dict[str, Any] | None]
    #: The stop time, resolved from the media when the manifest leaves it out.
    stop_ms: Mapped[int | None]
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_ms: Mapped[int]
    finished_ms: Mapped[int | None]
    #: Written every few seconds while a cluster worker probes it (``jobs.lease``).
    heartbeat_ms: Mapped[int | None] = mapped_column(default=None)
    #: Started by StartOnlineRecord (media pushed over RTMP), not imported.
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_stop_s: Mapped[int | None] = mapped_column(Integer, default=None)
    #: When the pause in progress began.
    paused_ms: Mapped[int | None] = mapped_column(default=None)
    #: The last time the room was seen with no stream (or the start): AutoStopTimeout
    #: counts from it.
    active_ms: Mapped[int | None] = mapped_column(default=None)
    finish_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    #: When the stopped recording's segments were written into its manifest.
    sealed_ms: Mapped[int | None] = mapped_column(default=None)
    #: The generation a stopped live recording runs with its own parameters.
    generation_id: Mapped[str | None] = mapped_column(String(32), default=None)
    #: Segments whose media was lost (TIW's ExceptionCnt).
    exception_cnt: Mapped[int] = mapped_column(Integer, default=0)


class LiveSegment(Base):
    """One RTMP publish of a live recording, recorded by one ingest node to one file."""

    __tablename__ = "live_segments"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    recording_id: Mapped[str] = mapped_column(
        ForeignKey("recordings.task_id", ondelete="CASCADE"), index=True
    )
    stream_id: Mapped[str] = mapped_column(String(64))
    #: ``<SdkAppId>_<RoomId>_<StreamId>``: nginx's name for the publish and its file.
    stream_name: Mapped[str] = mapped_column(String(160))
    node_id: Mapped[str] = mapped_column(String(64))
    #: nginx's id of the publishing connection, unique on its node while it runs.
    client_id: Mapped[str] = mapped_column(String(32))
    publish_ms: Mapped[int]
    closed_ms: Mapped[int | None]
    #: The recorded file (``on_record_done``, or found by name after a crash); once handed
    #: to a cluster's store, where workers read it (``s3://…``).
    path: Mapped[str | None] = mapped_column(Text)
    #: The wall-clock time of its first sample: the publish's time plus the file's first
    #: timestamp, known with the file.
    start_ms: Mapped[int | None]
    #: Why the segment's media is missing, when it is.
    lost: Mapped[str | None] = mapped_column(Text)


class IngestNode(Base):
    """A ``mixdown serve --rtmp-port`` that records pushes, as last seen."""

    __tablename__ = "ingest_nodes"

    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rtmp_url: Mapped[str] = mapped_column(Text)
    #: Why it cannot record ("" when it can): nginx missing, say.
    problem: Mapped[str] = mapped_column(Text, default="")
    heartbeat_ms: Mapped[int]


class GenerationTask(Base):
    __tablename__ = "generation_tasks"
    __table_args__ = (Index("ix_generation_tasks_app_status", "sdk_app_id", "status"),)

    task_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sdk_app_id: Mapped[int] = mapped_column(ForeignKey("apps.sdk_app_id", ondelete="CASCADE"))
    recording_id: Mapped[str] = mapped_column(
        ForeignKey("recordings.task_id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    #: The task's own parameter objects, TIW-shaped (recording defaults apply to the rest).
    params: Mapped[dict[str, Any]]
    progress: Mapped[int] = mapped_column(Integer, default=0)
    #: The current attempt; only that attempt may commit a result.
    attempt_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Folder of the committed outputs, also the unguessable part of their URLs.
    output_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: ``tiw.documents.result_document`` with VideoUrl relative to the output folder
    #: (written and read in ``store.outcomes``).
    result: Mapped[dict[str, Any] | None]
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_ms: Mapped[int]
    started_ms: Mapped[int | None]
    finished_ms: Mapped[int | None]
    #: Written every few seconds while a cluster worker runs it (``jobs.lease``).
    heartbeat_ms: Mapped[int | None] = mapped_column(default=None)
    #: A cluster's attempt spread over workers: its plan, work graph and output token
    #: (``jobs.spread``); None while the task runs (or ran) in one piece.
    work: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    #: Pieces of ``work`` not yet done; the publishing starts when it reaches 0.
    pieces_left: Mapped[int | None] = mapped_column(Integer, default=None)


class TaskPiece(Base):
    """One piece of a spread attempt (``store.pieces``)."""

    __tablename__ = "task_pieces"

    task_id: Mapped[str] = mapped_column(
        ForeignKey("generation_tasks.task_id", ondelete="CASCADE"), primary_key=True
    )
    attempt_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    #: Runs started: a run whose worker died is followed by another.
    runs: Mapped[int] = mapped_column(Integer, default=0)
    #: The current run; only it may record the piece done.
    run_id: Mapped[str | None] = mapped_column(String(64))
    heartbeat_ms: Mapped[int | None]
    created_ms: Mapped[int]
    #: What the done run wrote: its files' keys, how it rendered, what ffmpeg said.
    facts: Mapped[dict[str, Any] | None]


class AllowedRequest(Base):
    """A request the rate limit let through, by the database's clock: the cluster's sliding
    window (``store.request_log``)."""

    __tablename__ = "allowed_requests"
    __table_args__ = (Index("ix_allowed_requests_key_at", "sdk_app_id", "action", "at_ms"),)

    #: 64 bits where ids keep growing (PostgreSQL); SQLite's rowid is 64 bits already.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    sdk_app_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(64))
    at_ms: Mapped[int]


class CallbackDelivery(Base):
    __tablename__ = "callback_deliveries"
    __table_args__ = (Index("ix_callback_deliveries_due", "state", "next_attempt_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sdk_app_id: Mapped[int] = mapped_column(ForeignKey("apps.sdk_app_id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    event_type: Mapped[str] = mapped_column(String(64))
    task_id: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    #: Unix seconds the event happened (the envelope's Timestamp).
    event_time: Mapped[int]
    event_data: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_ms: Mapped[int]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_ms: Mapped[int]
    delivered_ms: Mapped[int | None]


class ConsoleSession(Base):
    """A signed-in console user: the SecretId whose apps they see (``store.console``)."""

    __tablename__ = "console_sessions"

    #: sha256 of the cookie's token: a copy of the database does not sign anyone in.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_id: Mapped[str] = mapped_column(String(64))
    #: The token every state-changing form carries.
    csrf: Mapped[str] = mapped_column(String(64))
    created_ms: Mapped[int]
    expires_ms: Mapped[int]


class ConsoleFailure(Base):
    """A failed console sign-in, by client address and by SecretId."""

    __tablename__ = "console_failures"
    __table_args__ = (Index("ix_console_failures_key_at", "key", "at_ms"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    key: Mapped[str] = mapped_column(String(160))
    at_ms: Mapped[int]
