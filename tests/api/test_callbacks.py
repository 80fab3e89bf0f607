"""Callback bodies are signed as TIW signs them and delivered at least once, with backoff."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from mixdown.callbacks.dispatcher import CallbackDispatcher, RetryPolicy
from mixdown.callbacks.envelope import callback_body, sign
from mixdown.store import deliveries
from mixdown.store.apps import create_app
from mixdown.store.callback_configs import set_target
from mixdown.store.database import Database
from mixdown.store.models import DELIVERED, GAVE_UP, GENERATION, CallbackDelivery


def test_the_published_sign_example_is_reproduced() -> None:
    assert sign("Xz4ZgayTr7rMgWQrH", 1588040109) == "a2dabb362a9b811c0e26953a6276a41c"
    assert sign("", 1588040109) == ""


def test_the_body_has_the_tiw_envelope() -> None:
    body = callback_body(
        sdk_app_id=7, event_type="E", event_data={"TaskId": "t"}, event_time=10, now_s=20, key="k"
    )
    assert body == {
        "Timestamp": 10,
        "SdkAppId": 7,
        "ExpireTime": 320,
        "Sign": hashlib.md5(b"k320").hexdigest(),
        "EventType": "E",
        "EventData": {"TaskId": "t"},
    }


class FlakySender:
    """Answers ``replies`` in order (an int status or an exception), then 200."""

    def __init__(self, replies: list[Any]) -> None:
        self.replies = replies
        self.bodies: list[dict[str, Any]] = []
        self.times: list[float] = []
        self.done = threading.Event()

    def post(self, url: str, body: bytes, timeout_s: float) -> int:
        self.bodies.append(json.loads(body))
        self.times.append(time.monotonic())
        reply = self.replies.pop(0) if self.replies else 200
        if isinstance(reply, Exception):
            raise reply
        if reply == 200:
            self.done.set()
        return int(reply)


def _world(tmp_path: Path) -> tuple[Database, int]:
    db = Database.sqlite_file(tmp_path / "db.sqlite")
    db.migrate()
    app = create_app(db, now_ms=0).sdk_app_id
    with db.transaction() as s:
        set_target(s, app, GENERATION, url="http://127.0.0.1:9/cb", key="secret")
        deliveries.enqueue(
            s,
            sdk_app_id=app,
            kind=GENERATION,
            event_type="VideoGenerationFinished",
            task_id="t1",
            event_data={"TaskId": "t1"},
            now_ms=int(time.time() * 1000),
        )
    return db, app


def _wait(predicate: Any, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_failed_deliveries_are_retried_with_growing_delays_until_accepted(tmp_path: Path) -> None:
    db, app = _world(tmp_path)
    sender = FlakySender([500, httpx.ReadTimeout("slow"), 404])
    dispatcher = CallbackDispatcher(db, sender=sender, policy=RetryPolicy(base_s=0.1), poll_s=0.02)
    dispatcher.start()
    try:
        _wait(lambda: deliveries.states(db, "t1")[0].state == DELIVERED)
    finally:
        dispatcher.stop()
    state = deliveries.states(db, "t1")[0]
    assert state.attempts == 4
    gaps = [b - a for a, b in zip(sender.times, sender.times[1:], strict=False)]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19 and gaps[2] >= 0.39
    for body in sender.bodies:
        assert body["SdkAppId"] == app and body["EventType"] == "VideoGenerationFinished"
        assert body["Sign"] == hashlib.md5(f"secret{body['ExpireTime']}".encode()).hexdigest()


def test_delivery_gives_up_once_the_retry_window_is_over(tmp_path: Path) -> None:
    db, _ = _world(tmp_path)
    sender = FlakySender([500] * 100)
    policy = RetryPolicy(base_s=0.05, window_s=0.3)
    dispatcher = CallbackDispatcher(db, sender=sender, policy=policy, poll_s=0.02)
    dispatcher.start()
    try:
        _wait(lambda: deliveries.states(db, "t1")[0].state == GAVE_UP)
    finally:
        dispatcher.stop()
    assert deliveries.states(db, "t1")[0].last_error == "HTTP 500"


def test_a_refused_url_is_abandoned_at_once(tmp_path: Path) -> None:
    db, _ = _world(tmp_path)

    def guard(_url: str) -> None:
        raise ValueError("host is on a private network")

    dispatcher = CallbackDispatcher(db, sender=FlakySender([]), url_guard=guard, poll_s=0.02)
    dispatcher.start()
    try:
        _wait(lambda: deliveries.states(db, "t1")[0].state == GAVE_UP)
    finally:
        dispatcher.stop()


def test_a_delivery_is_leased_for_longer_than_one_attempt_may_take() -> None:
    # time-out → lease: plus as much again, at least 5 s, at most 30 s
    for timeout_s, lease_s in ((1, 6), (4, 9), (10, 20), (30, 60), (120, 150)):
        assert RetryPolicy(timeout_s=timeout_s).lease_s == lease_s


class LeaseWitness:
    """A sender that reads, while it sends, until when its delivery is hidden from others."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.seen: list[tuple[float, int]] = []
        self.done = threading.Event()

    def post(self, url: str, body: bytes, timeout_s: float) -> int:
        with self.db.transaction() as s:
            row = s.scalars(select(CallbackDelivery)).one()
            self.seen.append((timeout_s, row.next_attempt_ms))
        self.done.set()
        return 200


def test_an_attempt_uses_the_policys_time_out_and_is_hidden_for_its_lease(tmp_path: Path) -> None:
    db, _ = _world(tmp_path)
    now = time.time() + 1
    sender = LeaseWitness(db)
    policy = RetryPolicy(timeout_s=4)
    dispatcher = CallbackDispatcher(db, sender=sender, policy=policy, clock=lambda: now)
    dispatcher.start()
    try:
        assert sender.done.wait(20)
    finally:
        dispatcher.stop()
    assert sender.seen == [(4, int(now * 1000) + 9000)]
