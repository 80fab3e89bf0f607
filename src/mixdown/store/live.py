"""Live recordings' rows: started by StartOnlineRecord, paused and resumed, stopped; the
segments their RTMP publishes recorded; the ingest nodes recording them.

A live recording keeps its manifest as an import's (the same document, the same reader):
pauses are appended as they end, and the streams are written once, when the stopped
recording is sealed. From then on it is finished like an import (probed), and then by the
generation it runs with its own parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mixdown.store import deliveries
from mixdown.store.models import (
    LIVE,
    PAUSED,
    RECORD,
    RECORDING,
    STOPPED,
    IngestNode,
    LiveSegment,
    Recording,
)
from mixdown.store.recordings import add_recording
from mixdown.tiw import documents


def start_recording(
    s: Session,
    *,
    task_id: str,
    sdk_app_id: int,
    manifest: dict[str, Any],
    auto_stop_s: int,
    now_ms: int,
) -> Recording:
    """A RECORDING recording; ``manifest`` holds its identity and parameters, no streams."""
    row = add_recording(
        s,
        task_id=task_id,
        sdk_app_id=sdk_app_id,
        manifest={**manifest, "RecordStartTimeMs": now_ms, "Pauses": [], "Streams": []},
        room_id=manifest["RoomId"],
        group_id=manifest["GroupId"],
        record_user_id=manifest["RecordUserId"],
        now_ms=now_ms,
    )
    row.status, row.live, row.auto_stop_s, row.active_ms = RECORDING, True, auto_stop_s, now_ms
    return row


def live_recordings(s: Session, sdk_app_id: int | None = None) -> list[Recording]:
    """Recordings still taking media (RECORDING or PAUSED), oldest first."""
    query = select(Recording).where(Recording.status.in_(LIVE))
    if sdk_app_id is not None:
        query = query.where(Recording.sdk_app_id == sdk_app_id)
    return list(s.scalars(query.order_by(Recording.created_ms)))


def recording_in_room(s: Session, sdk_app_id: int, room_id: int) -> Recording | None:
    """The room's recording taking media: one per room at a time (reference §2.1)."""
    return s.scalar(
        select(Recording).where(
            Recording.sdk_app_id == sdk_app_id,
            Recording.room_id == room_id,
            Recording.status.in_(LIVE),
        )
    )


def locked(s: Session, task_id: str) -> Recording | None:
    """The recording, its row locked for the transaction: a stop by the API and one by a
    watchdog do not both happen."""
    return s.get(Recording, task_id, with_for_update=True, populate_existing=True)


def pause(row: Recording, now_ms: int) -> None:
    row.status, row.paused_ms = PAUSED, now_ms


def resume(row: Recording, now_ms: int) -> None:
    _end_pause(row, now_ms)
    row.status = RECORDING


def stop(row: Recording, reason: str, now_ms: int) -> None:
    """STOPPED (a pause in progress ends with it); sealed later, once its files are in."""
    stop_ms = max(now_ms, row.manifest["RecordStartTimeMs"] + 1)
    _end_pause(row, stop_ms)
    row.status, row.stop_ms, row.finish_reason = STOPPED, stop_ms, reason
    row.manifest = {**row.manifest, "RecordStopTimeMs": stop_ms}


def _end_pause(row: Recording, now_ms: int) -> None:
    began, row.paused_ms = row.paused_ms, None
    if began is not None and now_ms > began:
        pauses = [*row.manifest["Pauses"], {"PauseTime": began, "ResumeTime": now_ms}]
        row.manifest = {**row.manifest, "Pauses": pauses}


# --- segments ---------------------------------------------------------------------------


def open_segment(
    s: Session,
    row: Recording,
    *,
    stream_id: str,
    stream_name: str,
    node_id: str,
    client_id: str,
    now_ms: int,
) -> LiveSegment:
    segment = LiveSegment(
        recording_id=row.task_id,
        stream_id=stream_id,
        stream_name=stream_name,
        node_id=node_id,
        client_id=client_id,
        publish_ms=now_ms,
        closed_ms=None,
        path=None,
        start_ms=None,
        lost=None,
    )
    s.add(segment)
    return segment


def publishing(s: Session, node_id: str, stream_name: str) -> LiveSegment | None:
    """The segment ``stream_name`` is publishing on the node now, if any."""
    return s.scalar(
        select(LiveSegment).where(
            LiveSegment.node_id == node_id,
            LiveSegment.stream_name == stream_name,
            LiveSegment.closed_ms.is_(None),
        )
    )


def segment_of(s: Session, node_id: str, client_id: str, stream_name: str) -> LiveSegment | None:
    """The node's latest segment of this connection and name."""
    return s.scalar(
        select(LiveSegment)
        .where(
            LiveSegment.node_id == node_id,
            LiveSegment.client_id == client_id,
            LiveSegment.stream_name == stream_name,
        )
        .order_by(LiveSegment.publish_ms.desc(), LiveSegment.id.desc())
        .limit(1)
    )


def close_segment(s: Session, segment: LiveSegment, now_ms: int) -> None:
    """The publish ended: the room was seen with a stream until now."""
    if segment.closed_ms is not None:
        return
    segment.closed_ms = now_ms
    row = s.get(Recording, segment.recording_id)
    if row is not None:
        row.active_ms = max(row.active_ms or 0, now_ms)


def segments(s: Session, recording_id: str) -> list[LiveSegment]:
    return list(
        s.scalars(
            select(LiveSegment)
            .where(LiveSegment.recording_id == recording_id)
            .order_by(LiveSegment.publish_ms, LiveSegment.id)
        )
    )


def open_segment_count(s: Session, recording_id: str) -> int:
    return (
        s.scalar(
            select(func.count())
            .select_from(LiveSegment)
            .where(LiveSegment.recording_id == recording_id, LiveSegment.closed_ms.is_(None))
        )
        or 0
    )


def node_segments_unresolved(s: Session, node_id: str) -> list[LiveSegment]:
    """The node's segments still open or without their file, oldest first."""
    return list(
        s.scalars(
            select(LiveSegment)
            .where(
                LiveSegment.node_id == node_id,
                (LiveSegment.closed_ms.is_(None)) | (LiveSegment.path.is_(None)),
                LiveSegment.lost.is_(None),
            )
            .order_by(LiveSegment.publish_ms)
        )
    )


def node_segments_to_hand_off(s: Session, node_id: str, local_prefix: str) -> list[LiveSegment]:
    """The node's finished segments whose file is still in its own record folder."""
    return list(
        s.scalars(
            select(LiveSegment).where(
                LiveSegment.node_id == node_id,
                LiveSegment.closed_ms.is_not(None),
                LiveSegment.lost.is_(None),
                LiveSegment.path.startswith(local_prefix, autoescape=True),
            )
        )
    )


def unsealed_recordings(s: Session) -> list[Recording]:
    """Stopped live recordings whose segments are not yet in their manifest."""
    return list(
        s.scalars(
            select(Recording)
            .where(Recording.live, Recording.status == STOPPED, Recording.sealed_ms.is_(None))
            .order_by(Recording.created_ms)
        )
    )


@dataclass(frozen=True)
class SealedSegment:
    url: str
    start_ms: int


def seal(row: Recording, found: dict[str, list[SealedSegment]], *, lost: int, now_ms: int) -> None:
    """Write the streams (stream id -> its segments, in order) into the manifest."""
    streams = [
        {
            "StreamId": stream_id,
            "Segments": [{"Url": seg.url, "StartTime": seg.start_ms} for seg in kept],
        }
        for stream_id, kept in found.items()
        if kept
    ]
    row.manifest = {**row.manifest, "Streams": streams}
    row.exception_cnt, row.sealed_ms = lost, now_ms


# --- ingest nodes -----------------------------------------------------------------------


def node_seen(s: Session, node_id: str, *, rtmp_url: str, problem: str, now_ms: int) -> None:
    node = s.get(IngestNode, node_id)
    if node is None:
        s.add(IngestNode(node_id=node_id, rtmp_url=rtmp_url, problem=problem, heartbeat_ms=now_ms))
    else:
        node.rtmp_url, node.problem, node.heartbeat_ms = rtmp_url, problem, now_ms


def ingest_nodes(s: Session, *, since_ms: int) -> list[IngestNode]:
    """Nodes seen since ``since_ms``, those able to record first."""
    rows = s.scalars(select(IngestNode).where(IngestNode.heartbeat_ms >= since_ms))
    return sorted(rows, key=lambda node: (node.problem != "", node.node_id))


def announce(s: Session, row: Recording, event_type: str, now_ms: int) -> None:
    """Queue OnlineRecordStarted or OnlineRecordStopped of the recording."""
    deliveries.enqueue(
        s,
        sdk_app_id=row.sdk_app_id,
        kind=RECORD,
        event_type=event_type,
        task_id=row.task_id,
        event_data=documents.record_lifecycle(row.task_id, row.room_id, row.record_user_id),
        now_ms=now_ms,
    )
