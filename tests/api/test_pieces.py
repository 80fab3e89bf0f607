"""A spread task's pieces in the store: each counted once, by its current run of the
task's current attempt; the last one counted is the one that starts the publishing."""

from __future__ import annotations

from pathlib import Path

from mixdown.jobs.spread import PieceJob, Work
from mixdown.planning.plan import Plan
from mixdown.planning.work import work_graph
from mixdown.settings import Settings
from mixdown.store import pieces, tasks
from mixdown.store.job_rows import lapsed_publishing, lapsed_tasks
from mixdown.store.pieces import PieceKey
from unit.test_chunking import FPS, clip, mix

from .fakes import FakeEngine
from .test_pipeline import World

NAMES = ["mix.chunk000.mp4", "mix.chunk001.mp4", "mix.audio.mp4"]
WORK = {"graph": {"pieces": [{"name": n} for n in NAMES]}}


def spread(world: World, attempt_id: str = "a1") -> tuple[str, list[PieceKey]]:
    task_id = world.new_task()
    with world.db.transaction() as s:
        tasks.claim(s, task_id, attempt_id=attempt_id, now_ms=1000)
        task = tasks.task_by_id(s, task_id)
        assert task is not None
        keys = pieces.fan_out(s, task, NAMES, WORK, now_ms=1000)
    return task_id, keys


def test_the_last_piece_done_is_counted_once_and_progress_follows(tmp_path: Path) -> None:
    world = World(tmp_path, FakeEngine())
    task_id, keys = spread(world)
    lefts = []
    for n, key in enumerate(keys):
        with world.db.transaction() as s:
            assert pieces.claim(s, key, f"run{n}", now_ms=2000) is not None
        with world.db.transaction() as s:
            lefts.append(pieces.finish(s, key, f"run{n}", {"files": {}}, now_ms=3000))
        with world.db.transaction() as s:  # a duplicate finish of the same run counts nothing
            assert pieces.finish(s, key, f"run{n}", {"files": {}}, now_ms=3000) is None
    assert lefts == [2, 1, 0]
    assert world.task(task_id).progress == 99
    with world.db.transaction() as s:
        assert sorted(pieces.done(s, task_id, "a1")) == sorted(NAMES)
        assert pieces.claim(s, keys[0], "late", now_ms=4000) is None  # done: nothing to do


def test_a_superseded_run_or_attempt_counts_nothing(tmp_path: Path) -> None:
    world = World(tmp_path, FakeEngine())
    task_id, keys = spread(world)
    with world.db.transaction() as s:
        pieces.claim(s, keys[0], "first", now_ms=2000)
    with world.db.transaction() as s:  # the first run's worker seemed dead: a second run
        pieces.claim(s, keys[0], "second", now_ms=9000)
    with world.db.transaction() as s:
        assert pieces.finish(s, keys[0], "first", {}, now_ms=9500) is None
        assert pieces.finish(s, keys[0], "second", {}, now_ms=9500) == 2
    with world.db.transaction() as s:  # the task is claimed again: the old pieces are void
        tasks.claim(s, task_id, attempt_id="a2", now_ms=10_000)
    with world.db.transaction() as s:
        assert pieces.claim(s, keys[1], "stale", now_ms=10_500) is None


def test_pieces_nobody_renews_lapse_and_the_task_itself_does_not(tmp_path: Path) -> None:
    world = World(tmp_path, FakeEngine())
    task_id, keys = spread(world)
    with world.db.transaction() as s:
        pieces.claim(s, keys[0], "run", now_ms=2000)
    pieces.renew(world.db, str(keys[0]), now_ms=8000)
    lapsed = pieces.lapsed(world.db, before_ms=5000)
    assert sorted(lapsed) == sorted([str(keys[1]), str(keys[2])])  # the renewed one is held
    assert task_id not in lapsed_tasks(world.db, before_ms=10**12)  # spread: pieces own it
    assert lapsed_publishing(world.db, before_ms=10**12) == []  # pieces still to do


def test_a_piece_whose_workers_keep_dying_fails_its_task_with_a_reason(tmp_path: Path) -> None:
    world = World(tmp_path, FakeEngine())
    render = mix(9_000, (0, (clip(0, 9_000, 0),)))
    plan = Plan(total_time=9_000, omitted=(), inputs=(), renders=(render,))
    work = Work(plan, work_graph(plan, 3_000, FPS), "tok")
    task_id = world.new_task()
    with world.db.transaction() as s:
        tasks.claim(s, task_id, attempt_id="a1", now_ms=1000)
        task = tasks.task_by_id(s, task_id)
        assert task is not None
        names = [p.name for p in work.graph.pieces]
        keys = pieces.fan_out(s, task, names, work.to_json(), now_ms=1000)
    for n in range(world.ctx.max_attempts):  # each run's worker died mid-render
        with world.db.transaction() as s:
            pieces.claim(s, keys[0], f"dead{n}", now_ms=2000 + n)
    deferred: list[tuple[str, str]] = []
    PieceJob(world.ctx, lambda kind, key: deferred.append((kind, key)), Settings("ffmpeg"))(
        str(keys[0])
    )
    row = world.task(task_id)
    assert row.status == "FINISHED" and row.error_code == "FailedOperation.Record"
    assert f"{keys[0].name}: gave up after 3 interrupted runs" == row.error_message
    assert deferred == []
