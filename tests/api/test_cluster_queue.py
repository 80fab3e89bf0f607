"""The cluster's queue, leases and sweeper on a real PostgreSQL, in this process: a job waits
once however often it is deferred, the sweeper defers again exactly the work nobody holds,
a dead worker's job is closed in the queue's books, and the dispatchers of several nodes send
each callback once.

Runs when ``MIXDOWN_TEST_POSTGRES_URL`` names a PostgreSQL server; each test has its own
scratch database (``scratch_url``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from mixdown.callbacks.dispatcher import CallbackDispatcher, HttpSender
from mixdown.jobs.cluster_queue import QUEUE, ClusterQueue
from mixdown.jobs.kinds import GENERATION, IMPORT, JobKind
from mixdown.jobs.lease import held
from mixdown.jobs.sweeper import Sweeper
from mixdown.settings import Leases
from mixdown.store import deliveries, job_rows
from mixdown.store.apps import create_app, find_app
from mixdown.store.callback_configs import set_target
from mixdown.store.database import Database
from mixdown.store.models import GenerationTask
from mixdown.store.recordings import add_recording
from mixdown.store.tasks import create_task

from .conftest import wait_for
from .wire_support import Receiver

LEASE = Leases(lease_s=60)
NOW_S = 1_000_000.0


@pytest.fixture
def db(scratch_url: str) -> Iterator[Database]:
    database = Database.from_url(scratch_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def queue(db: Database) -> Iterator[ClusterQueue]:
    opened = ClusterQueue(db).open()
    yield opened
    opened.close()


def _nothing(_key: str) -> None:
    return None


KINDS = (
    JobKind(
        IMPORT,
        _nothing,
        job_rows.renew_recording,
        job_rows.lapsed_recordings,
        job_rows.recording_failed,
    ),
    JobKind(GENERATION, _nothing, job_rows.renew_task, job_rows.lapsed_tasks, job_rows.task_failed),
)


def _app_with_recording(db: Database, now_ms: int) -> int:
    app_id = create_app(db, now_ms=now_ms, task_concurrency=10).sdk_app_id
    with db.transaction() as s:
        add_recording(
            s,
            task_id="rec",
            sdk_app_id=app_id,
            manifest={},
            room_id=1,
            group_id="1",
            record_user_id="",
            now_ms=now_ms,
        )
    return app_id


def _task(db: Database, app_id: int, now_ms: int) -> str:
    with db.transaction() as s:
        app = find_app(s, app_id)
        assert app is not None
        task_id: str = create_task(s, app, recording_id="rec", params={}, now_ms=now_ms).task_id
    return task_id


def test_a_job_deferred_again_while_it_waits_waits_once(queue: ClusterQueue) -> None:
    queue.defer(GENERATION, "t1")
    queue.defer(GENERATION, "t1")
    queue.defer(IMPORT, "t1")  # another kind, another job
    assert queue.depth() == {GENERATION: 1, IMPORT: 1}
    assert queue.waiting(GENERATION, ["t1", "t2"]) == {"t1"}


def test_the_sweeper_defers_only_work_whose_lease_lapsed_and_whose_job_is_not_waiting(
    db: Database, queue: ClusterQueue
) -> None:
    lapsed_ms = int((NOW_S - 2 * LEASE.lease_s) * 1000)
    app_id = _app_with_recording(db, now_ms=lapsed_ms)  # an import accepted, never queued
    abandoned = _task(db, app_id, lapsed_ms)  # its worker died
    held_now = _task(db, app_id, lapsed_ms)  # a worker renews it
    waiting = _task(db, app_id, lapsed_ms)  # never run, its job waits
    job_rows.renew_task(db, abandoned, lapsed_ms)
    job_rows.renew_task(db, held_now, int(NOW_S * 1000) - 1000)
    queue.defer(GENERATION, waiting)
    sweeper = Sweeper(db, queue, KINDS, LEASE, clock=lambda: NOW_S)

    assert sweeper.sweep() == 2
    assert queue.waiting(GENERATION, [abandoned, held_now, waiting]) == {abandoned, waiting}
    assert queue.waiting(IMPORT, ["rec"]) == {"rec"}
    assert sweeper.sweep() == 0  # what it deferred now waits
    assert queue.depth() == {GENERATION: 2, IMPORT: 1}


def test_a_job_left_doing_by_a_dead_worker_is_closed_in_the_queue(
    db: Database, queue: ClusterQueue
) -> None:
    queue.defer(GENERATION, "t1")
    with db.engine.begin() as c:
        worker = c.execute(text("SELECT worker_id FROM procrastinate_register_worker_v1()"))
        worker_id = worker.scalar_one()
        c.execute(
            text("SELECT id FROM procrastinate_fetch_job_v2(ARRAY[:q]::varchar[], :w)"),
            {"q": QUEUE, "w": worker_id},
        )
        c.execute(
            text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")
        )
    live = queue.close_stalled(7200)
    dead = queue.close_stalled(60)
    with db.engine.connect() as c:
        status = c.execute(text("SELECT status FROM procrastinate_jobs")).scalar_one()
    assert (live, dead, status) == (0, 1, "failed")


def test_a_held_lease_is_renewed_from_the_start_until_the_job_returns(db: Database) -> None:
    app_id = _app_with_recording(db, now_ms=0)
    task_id = _task(db, app_id, 0)
    beats = iter(range(1, 1_000_000))

    def heartbeat() -> int | None:
        with db.transaction() as s:
            row = s.get(GenerationTask, task_id)
            assert row is not None
            return row.heartbeat_ms

    with held(lambda: job_rows.renew_task(db, task_id, next(beats)), every_s=0.05):
        assert heartbeat() == 1  # before the job does anything
        wait_for(lambda: (heartbeat() or 0) > 2, 10, "the lease to be renewed", every_s=0.05)
    assert not [t for t in threading.enumerate() if t.name.endswith("-heartbeat")]


def test_the_dispatchers_of_several_nodes_send_each_callback_once(scratch_url: str) -> None:
    nodes = [Database.from_url(scratch_url) for _ in range(3)]
    nodes[0].migrate()
    receiver = Receiver()
    app_id = create_app(nodes[0], now_ms=0).sdk_app_id
    with nodes[0].transaction() as s:
        set_target(s, app_id, "generation", url=receiver.url, key="k")
        for n in range(30):
            deliveries.enqueue(
                s,
                sdk_app_id=app_id,
                kind="generation",
                event_type="VideoGenerationFinished",
                task_id=f"t{n}",
                event_data={"TaskId": f"t{n}"},
                now_ms=0,
            )
    senders = [HttpSender() for _ in nodes]
    dispatchers = [
        CallbackDispatcher(db, sender=sender, poll_s=0.05)
        for db, sender in zip(nodes, senders, strict=True)
    ]
    try:
        for dispatcher in dispatchers:
            dispatcher.start()
        wait_for(lambda: deliveries.backlog(nodes[0]) == 0, 60, "every callback to be sent")
    finally:
        for dispatcher, sender in zip(dispatchers, senders, strict=True):
            dispatcher.stop()
            sender.close()
        receiver.close()
        for db in nodes:
            db.dispose()
    sent = sorted(body["EventData"]["TaskId"] for body in receiver.bodies())
    assert sent == sorted(f"t{n}" for n in range(30))
