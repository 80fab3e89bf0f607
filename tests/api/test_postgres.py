"""The same models, migration and race-free limit on PostgreSQL (the distributed store).

Runs when ``MIXDOWN_TEST_POSTGRES_URL`` names an empty scratch database, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/mixdown_test``, and psycopg is installed.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.orm import Session

from mixdown.domain.outcome import Failure
from mixdown.errors import MixdownError
from mixdown.store import deliveries, tasks
from mixdown.store.apps import create_app, find_app
from mixdown.store.callback_configs import set_target
from mixdown.store.database import Database
from mixdown.store.job_queue import is_ours
from mixdown.store.models import GENERATION, Base
from mixdown.store.recordings import add_recording
from mixdown.store.tasks import create_task

URL = os.environ.get("MIXDOWN_TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="MIXDOWN_TEST_POSTGRES_URL is not set")


@pytest.fixture
def db() -> Iterator[Database]:
    pytest.importorskip("psycopg")
    database = Database(URL)
    with database.engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    database.migrate()
    yield database
    database.dispose()


def test_the_migration_builds_exactly_the_models_on_postgres(db: Database) -> None:
    with db.engine.connect() as connection:
        modelled = MigrationContext.configure(connection, opts={"include_name": is_ours})
        assert compare_metadata(modelled, Base.metadata) == []


def test_concurrent_creates_never_pass_the_limit_on_postgres(db: Database) -> None:
    app_id = create_app(db, now_ms=0, task_concurrency=3).sdk_app_id
    with db.transaction() as s:
        _recording(s, app_id)
    outcomes: list[str] = []
    start = threading.Barrier(12)

    def create() -> None:
        start.wait(timeout=10)
        try:
            with db.transaction() as s:
                app = find_app(s, app_id)
                assert app is not None
                create_task(s, app, recording_id="rec", params={}, now_ms=0)
            outcomes.append("ok")
        except MixdownError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=create) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcomes.count("ok") == 3
    assert outcomes.count("LimitExceeded.TaskConcurrency") == 9


def test_deliveries_are_leased_once_on_postgres(db: Database) -> None:
    app_id = create_app(db, now_ms=0).sdk_app_id
    with db.transaction() as s:
        set_target(s, app_id, GENERATION, url="http://127.0.0.1:9/cb", key="k")
        deliveries.enqueue(
            s,
            sdk_app_id=app_id,
            kind=GENERATION,
            event_type="VideoGenerationStarted",
            task_id="t",
            event_data={"TaskId": "t"},
            now_ms=1000,
        )
    first = deliveries.lease_due(db, now_ms=2000, limit=5, lease_ms=60_000)
    again = deliveries.lease_due(db, now_ms=2000, limit=5, lease_ms=60_000)
    assert [d.task_id for d in first] == ["t"] and again == []
    assert first[0].key == "k" and first[0].event_data == {"TaskId": "t"}


def test_a_task_two_pieces_fail_at_once_is_concluded_once_on_postgres(db: Database) -> None:
    """The first to take the running attempt holds it until it commits its verdict; the
    second waits for that, then finds the task concluded (one verdict, one callback)."""
    app_id = create_app(db, now_ms=0).sdk_app_id
    with db.transaction() as s:
        _recording(s, app_id)
        app = find_app(s, app_id)
        assert app is not None
        task_id = create_task(s, app, recording_id="rec", params={}, now_ms=0).task_id
    with db.transaction() as s:
        assert tasks.claim(s, task_id, attempt_id="a1", now_ms=1000) is not None
    holding, second_found = threading.Event(), []

    def second() -> None:
        holding.wait(timeout=30)
        with db.transaction() as s:
            second_found.append(tasks.current_attempt(s, task_id, "a1"))

    other = threading.Thread(target=second)
    other.start()
    with db.transaction() as s:
        first = tasks.current_attempt(s, task_id, "a1")
        assert first is not None
        holding.set()
        _wait_until_a_session_waits_for_a_lock(db)
        tasks.finish_task(first, Failure("FailedOperation.Storage", "s3://b/k"), now_ms=2000)
    other.join(timeout=30)
    assert second_found == [None]


def _wait_until_a_session_waits_for_a_lock(db: Database) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 30
    while True:
        with db.engine.connect() as c:
            if c.scalar(query):
                return
        assert time.monotonic() < deadline, "the second never waited for the first's lock"
        time.sleep(0.02)


def _recording(s: Session, app_id: int) -> None:
    """A recording "rec" of the app, to create tasks from."""
    add_recording(
        s,
        task_id="rec",
        sdk_app_id=app_id,
        manifest={"RoomId": 1},
        room_id=1,
        group_id="1",
        record_user_id="",
        now_ms=0,
    )
