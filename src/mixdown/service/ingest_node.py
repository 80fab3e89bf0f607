"""An RTMP ingest node: nginx records the pushes, this node answers its hooks and watches
the live recordings.

- ``on_publish`` admits a push to a recording room with a valid signature and opens a
  segment; ``on_publish_done`` and ``on_record_done`` close it and give it its file.
- A watchdog, every ``tick_s``: says the node is alive (StartOnlineRecord refuses to start
  without one), stops recordings that are due (AUTO, FORCE_STOP), drops the publishers of
  stopped recordings, finds the files of publishes whose end went unreported (Mixdown was
  down), and seals a stopped recording once every segment has its file, queueing its probe.
- In a cluster, a second loop hands each finished file to the store, where the workers read
  it (a long upload never holds up the watchdog).

Media is never silently lost: a segment without a file after ``grace_s`` is counted in the
recording's ExceptionCnt and logged with its stream.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from sqlalchemy.orm import Session

from mixdown.errors import MixdownError
from mixdown.ingest import push_signature, record_file
from mixdown.ingest.nginx_config import APPLICATION
from mixdown.ingest.nginx_process import NginxIngest, find_nginx
from mixdown.ingest.stop_rule import LiveState, due_stop
from mixdown.ingest.stream_name import StreamName
from mixdown.service.ingest_setup import IngestConfig, ingest_settings, kept_secret, unreachable
from mixdown.storage.objects import ObjectStore
from mixdown.store import live
from mixdown.store.apps import find_app
from mixdown.store.database import Database
from mixdown.store.models import LIVE, LiveSegment, Recording
from mixdown.tiw import documents

_log = logging.getLogger("mixdown.ingest")

#: The hooks nginx calls: ``/ingest/rtmp/<token>/<event>``.
PUBLISH, PUBLISH_DONE, RECORD_DONE = "publish", "publish_done", "record_done"
HOOKS = (PUBLISH, PUBLISH_DONE, RECORD_DONE)


class IngestNode:
    def __init__(
        self,
        config: IngestConfig,
        db: Database,
        *,
        probe: Callable[[str], None],
        notify: Callable[[], None],
        store: ObjectStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``store``: where finished files go for the workers of a cluster; None when the
        jobs run in this process and read them here."""
        self.config, self._db, self._store = config, db, store
        self._probe, self._notify, self._clock = probe, notify, clock
        self.settings = ingest_settings(config)
        self._local_prefix = str(self.settings.record_dir.absolute()) + os.sep
        self.node_id = kept_secret(config.folder / "node-id")[:16]
        self._nginx: NginxIngest | None = None
        self.problem = ""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- life -------------------------------------------------------------------------

    def start(self) -> None:
        self.settings.record_dir.mkdir(parents=True, exist_ok=True)
        if self.settings.user:
            # The workers reach the record folder through the private data folder: they may
            # pass through it (not list it); its files stay the service's own.
            for folder in (self.config.data_dir, self.config.folder):
                os.chmod(folder, 0o711)
            if self.config.manage_nginx:  # an nginx of your own: its user is yours to set
                self.problem = unreachable(self.settings.record_dir, self.settings.user)
            if self.problem:
                _log.error("RTMP ingest unavailable", extra={"reason": self.problem})
        if self.config.manage_nginx and not self.problem:
            try:
                binary = Path(self.config.nginx) if self.config.nginx else None
                nginx = find_nginx(self.settings.module, binary)
                self._nginx = NginxIngest(self.settings, nginx=nginx)
                self._nginx.start()
            except MixdownError as exc:
                # serve still runs; StartOnlineRecord answers this reason.
                self._nginx, self.problem = None, exc.message
                _log.error("RTMP ingest unavailable", extra={"reason": exc.message})
        self._tick()
        self._loop("ingest-watchdog", self._tick)
        if self._store is not None:
            # Uploads take as long as the files: on their own thread, a long one never
            # delays a due stop.
            self._loop("ingest-handoff", self._hand_off)
        _log.info("RTMP ingest ready", extra={"url": self.config.rtmp_url, "node": self.node_id})

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        if self._nginx is not None:
            self._nginx.stop()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # --- hooks ------------------------------------------------------------------------

    def hook(self, event: str, token: str, form: Mapping[str, str]) -> str:
        """Answer one nginx hook: "" to admit or acknowledge it, else why it is refused."""
        # As bytes: a path may hold any character, compare_digest takes only ASCII strings.
        known = secrets.compare_digest(token.encode(), self.settings.hook_token.encode())
        if not known or event not in HOOKS:
            return "unknown hook"
        name = StreamName.parse(form.get("name", ""))
        if name is None or form.get("app") != APPLICATION:
            return "the stream name is not <SdkAppId>_<RoomId>_<StreamId> in /live"
        client_id = form.get("clientid", "")[:32]
        with self._db.transaction() as s:
            if event == PUBLISH:
                why = self._admit(s, name, client_id, form)
            else:
                why = self._publish_ended(s, event, name, client_id, form)
        if why and event == PUBLISH:
            _log.warning("push refused", extra={"stream": str(name)[:160], "reason": why})
        return why

    def _admit(self, s: Session, name: StreamName, client_id: str, form: Mapping[str, str]) -> str:
        app = find_app(s, name.sdk_app_id)
        if app is None:
            return f"SdkAppId {name.sdk_app_id} does not exist"
        now_ms = self._now_ms()
        why = push_signature.refusal(
            app.push_key, name, form.get("txTime", ""), form.get("txSecret", ""), now_ms // 1000
        )
        if why:
            return why
        row = live.recording_in_room(s, name.sdk_app_id, name.room_id)
        if row is None:
            return f"room {name.room_id} is not recording"
        if live.publishing(s, self.node_id, str(name)) is not None:
            return f"{name} is publishing already"
        live.open_segment(
            s,
            row,
            stream_id=name.stream_id,
            stream_name=str(name),
            node_id=self.node_id,
            client_id=client_id,
            now_ms=now_ms,
        )
        _log.info("push admitted", extra={"task_id": row.task_id, "stream": name.stream_id})
        return ""

    def _publish_ended(
        self, s: Session, event: str, name: StreamName, client_id: str, form: Mapping[str, str]
    ) -> str:
        segment = live.segment_of(s, self.node_id, client_id, str(name))
        if segment is None:
            return ""  # a refused publish's end, or one already reconciled
        if event == PUBLISH_DONE:
            live.close_segment(s, segment, self._now_ms())
            return ""
        path = record_file.recorded(self.settings.record_dir, str(name), form.get("path", ""))
        if path is None:
            _log.warning("record_done names no recording", extra={"stream": str(name)})
            return "not a recording of this stream"
        _file_found(segment, path)
        return ""

    # --- the watchdog -----------------------------------------------------------------

    def _loop(self, name: str, step: Callable[[], None]) -> None:
        """Run ``step`` every ``tick_s`` on a thread of its own until stopped."""

        def run() -> None:
            while not self._stop.wait(self.config.tick_s):
                try:
                    step()
                except Exception:  # the database or the store may be away: next time
                    _log.exception("ingest step failed", extra={"step": name})

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _tick(self) -> None:
        now_ms = self._now_ms()
        with self._db.transaction() as s:
            live.node_seen(
                s, self.node_id, rtmp_url=self.config.rtmp_url, problem=self.problem, now_ms=now_ms
            )
        self._stop_due(now_ms)
        self._reconcile(now_ms)
        self._seal_stopped(now_ms)

    def _stop_due(self, now_ms: int) -> None:
        stopped = False
        with self._db.transaction() as s:
            for row in live.live_recordings(s):
                reason = due_stop(self._state(s, row), now_ms)
                if reason is None:
                    continue
                locked = live.locked(s, row.task_id)
                if locked is None or locked.status not in LIVE:
                    continue
                live.stop(locked, reason, now_ms)
                live.announce(s, locked, documents.RECORD_STOPPED, now_ms)
                _log.info("recording stopped", extra={"task_id": row.task_id, "reason": reason})
                stopped = True
        if stopped:
            self._notify()

    @staticmethod
    def _state(s: Session, row: Recording) -> LiveState:
        start = int(row.manifest["RecordStartTimeMs"])
        return LiveState(
            start_ms=start,
            paused_ms=row.paused_ms,
            active_ms=row.active_ms or start,
            auto_stop_s=row.auto_stop_s or 300,
            streams_open=live.open_segment_count(s, row.task_id),
        )

    def _reconcile(self, now_ms: int) -> None:
        """This node's segments whose end or file went unreported: a publish that ended
        while Mixdown was down, a stopped recording's publishers still connected."""
        with self._db.transaction() as s:
            for segment in live.node_segments_unresolved(s, self.node_id):
                row = s.get(Recording, segment.recording_id)
                stopped = row is not None and row.status not in LIVE
                self._resolve(s, segment, stopped, row.stop_ms if row else None, now_ms)

    def _resolve(
        self, s: Session, segment: LiveSegment, stopped: bool, stop_ms: int | None, now_ms: int
    ) -> None:
        path = Path(segment.path) if segment.path else None
        path = path or record_file.find(
            self.settings.record_dir, segment.stream_name, segment.publish_ms
        )
        writing = path is not None and record_file.being_written(path)
        if stopped and segment.closed_ms is None and (writing or path is None):
            self._drop(segment.stream_name)
        waited_ms = now_ms - (stop_ms or now_ms)
        if path is not None and not writing:
            _file_found(segment, path)
            # Ended unreported (Mixdown was down): the room was active until its last write.
            live.close_segment(s, segment, int(path.stat().st_mtime * 1000))
        elif stopped and waited_ms > self.config.grace_s * 1000 * (3 if writing else 1):
            segment.closed_ms = segment.closed_ms or now_ms
            if path is None:
                segment.lost = "nginx wrote no file for this publish"
                _log.error("segment without media", extra=_about(segment))
            else:  # still locked long after the stop: what is there is used
                _file_found(segment, path)
                _log.warning("segment still written after the stop", extra=_about(segment))

    def _drop(self, stream_name: str) -> None:
        if self._nginx is not None:
            self._nginx.drop_publisher(stream_name)

    def _hand_off(self) -> None:
        """In a cluster, finished files go to the store, where any worker reads them."""
        if self._store is None:
            return
        with self._db.transaction() as s:
            pending = [
                (seg.id, seg.path or "", _handoff_key(seg))
                for seg in live.node_segments_to_hand_off(s, self.node_id, self._local_prefix)
            ]
        for segment_id, path, key in pending:
            self._store.put(key, Path(path))
            with self._db.transaction() as s:
                segment = s.get(LiveSegment, segment_id)
                if segment is not None:
                    segment.path = self._store.media_url(key)
            Path(path).unlink(missing_ok=True)  # the store holds it now

    def _ready(self, segment: LiveSegment) -> bool:
        """Whether the segment can go into the manifest: lost, or its file is in place."""
        if segment.lost is not None:
            return True
        if segment.path is None or segment.closed_ms is None:
            return False
        return self._store is None or not segment.path.startswith(self._local_prefix)

    def _seal_stopped(self, now_ms: int) -> None:
        sealed: list[str] = []
        with self._db.transaction() as s:
            for unsealed in live.unsealed_recordings(s):
                # Locked: the ingest nodes of a cluster seal a recording once between them.
                row = live.locked(s, unsealed.task_id)
                if row is None or row.sealed_ms is not None:
                    continue
                found = live.segments(s, row.task_id)
                if not all(self._ready(seg) for seg in found):
                    continue
                streams: dict[str, list[live.SealedSegment]] = {}
                for seg in found:
                    if seg.lost is None and seg.path is not None:
                        start = seg.start_ms if seg.start_ms is not None else seg.publish_ms
                        streams.setdefault(seg.stream_id, []).append(
                            live.SealedSegment(seg.path, start)
                        )
                lost = sum(1 for seg in found if seg.lost is not None)
                live.seal(row, streams, lost=lost, now_ms=now_ms)
                sealed.append(row.task_id)
        for task_id in sealed:
            _log.info("recording sealed", extra={"task_id": task_id})
            self._probe(task_id)


def _file_found(segment: LiveSegment, path: Path) -> None:
    segment.path = str(path)
    segment.start_ms = segment.publish_ms + _first_sample_ms(path)


def _about(segment: LiveSegment) -> dict[str, str]:
    return {"task_id": segment.recording_id, "stream": segment.stream_id}


def _handoff_key(segment: LiveSegment) -> str:
    return f"ingest/{segment.recording_id}/{Path(segment.path or '').name}"


def _first_sample_ms(path: Path) -> int:
    try:
        return record_file.first_timestamp_ms(path)
    except OSError:
        return 0
