"""A generation task end to end with the in-memory engine: commit, failure, crash recovery."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from attempts import kept_attempts, scratch_attempts
from mixdown.domain.media import MediaInfo
from mixdown.domain.parameters import GenerationParams
from mixdown.domain.recording import Recording
from mixdown.domain.result import GenerationResult
from mixdown.errors import MediaError
from mixdown.jobs.context import JobContext
from mixdown.jobs.importer import ImportJob
from mixdown.jobs.pipeline import GenerationJob
from mixdown.storage.folder import FolderStore
from mixdown.storage.outputs import Attempt, Outputs
from mixdown.store import deliveries, tasks
from mixdown.store.apps import create_app, find_app
from mixdown.store.callback_configs import set_target
from mixdown.store.database import Database
from mixdown.store.models import FINISHED, GENERATION, PROCESSING, RECORD, GenerationTask
from mixdown.store.recordings import add_recording, recording_by_id
from mixdown.store.tasks import create_task

from .fakes import FakeEngine, manifest


class Misnaming(FakeEngine):
    """Renders as the fake does, then names ``url`` as its one output."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def generate(
        self,
        recording: Recording,
        params: GenerationParams,
        out_dir: Path,
        *,
        probes: Mapping[str, MediaInfo],
        progress: Callable[[float], None],
        cancel: threading.Event,
    ) -> GenerationResult:
        done = super().generate(
            recording, params, out_dir, probes=probes, progress=progress, cancel=cancel
        )
        (out_dir / "folder").mkdir()
        (out_dir.parent / "escape.mp4").write_bytes(b"outside")
        return replace(done, videos=(replace(done.videos[0], url=self.url),))


class World:
    def __init__(self, tmp: Path, engine: FakeEngine) -> None:
        self.db = Database.sqlite_file(tmp / "db.sqlite")
        self.db.migrate()
        self.outputs = Outputs(FolderStore(tmp / "outputs"), tmp / "scratch", "http://127.0.0.1:1")
        self.ctx = JobContext(self.db, self.outputs, engine)
        #: Jobs queued by the jobs under test: (kind, key).
        self.deferred: list[tuple[str, str]] = []
        self.app = create_app(self.db, now_ms=0).sdk_app_id
        with self.db.transaction() as s:
            set_target(s, self.app, GENERATION, url="http://127.0.0.1:1/cb", key="k")
            set_target(s, self.app, RECORD, url="http://127.0.0.1:1/cb", key="k")
            data = {**manifest(), "TaskId": "rec", "SdkAppId": self.app}
            add_recording(
                s,
                task_id="rec",
                sdk_app_id=self.app,
                manifest=data,
                room_id=42,
                group_id="42",
                record_user_id="",
                now_ms=0,
            )
        ImportJob(self.ctx, lambda kind, key: self.deferred.append((kind, key)))("rec")

    def new_task(self) -> str:
        with self.db.transaction() as s:
            app = find_app(s, self.app)
            assert app is not None
            return create_task(s, app, recording_id="rec", params={}, now_ms=0).task_id

    def task(self, task_id: str) -> GenerationTask:
        with self.db.transaction() as s:
            row = tasks.task_by_id(s, task_id)
            assert row is not None
            return row


def test_an_import_is_probed_and_finished_with_its_event(tmp_path: Path) -> None:
    world = World(tmp_path, FakeEngine())
    with world.db.transaction() as s:
        row = recording_by_id(s, "rec")
        assert row is not None and row.status == FINISHED and row.error_code is None
        assert row.probes and row.stop_ms == 1_700_000_002_000
    assert [d.event_type for d in deliveries.states(world.db, "rec")] == ["OnlineRecordFinished"]


def test_a_bad_media_file_fails_the_import_naming_it(tmp_path: Path) -> None:
    world = World(tmp_path, FakeEngine(bad_url="wb.mp4"))
    with world.db.transaction() as s:
        row = recording_by_id(s, "rec")
        assert row is not None and row.status == FINISHED
        assert row.error_code == "FailedOperation.Media" and "wb.mp4" in (row.error_message or "")


def test_a_finished_task_commits_only_its_final_outputs(tmp_path: Path) -> None:
    world = World(tmp_path, FakeEngine())
    task_id = world.new_task()
    GenerationJob(world.ctx)(task_id)
    row = world.task(task_id)
    assert row.status == FINISHED and row.error_code is None and row.progress == 100
    assert row.result is not None and row.output_token is not None
    assert row.result["VideoInfoList"][0]["VideoUrl"] == "whiteboard_0.mp4"
    assert row.result["VideoInfoList"][0]["VideoSize"] == len(b"fake video rec")
    folders = kept_attempts(tmp_path / "outputs")
    assert [f.name for f in folders] == [row.output_token]
    assert [p.name for p in folders[0].iterdir()] == ["whiteboard_0.mp4"]
    assert scratch_attempts(tmp_path / "scratch") == []
    events = [d.event_type for d in deliveries.states(world.db, task_id)]
    assert events == ["VideoGenerationStarted", "VideoGenerationFinished"]


def test_a_failed_task_keeps_its_code_and_message_and_no_files(tmp_path: Path) -> None:
    world = World(tmp_path, FakeEngine(fail=MediaError("t.flv: truncated")))
    task_id = world.new_task()
    GenerationJob(world.ctx)(task_id)
    row = world.task(task_id)
    assert (row.status, row.error_code, row.error_message) == (
        FINISHED,
        "FailedOperation.Media",
        "t.flv: truncated",
    )
    assert row.output_token is None
    assert kept_attempts(tmp_path / "outputs") == []
    assert scratch_attempts(tmp_path / "scratch") == []


def test_an_interrupted_attempt_is_swept_and_the_task_rerun(tmp_path: Path) -> None:
    world = World(tmp_path, FakeEngine())
    task_id = world.new_task()
    with world.db.transaction() as s:  # a crash mid-render left this behind
        tasks.claim(s, task_id, attempt_id="dead", now_ms=0)
    dead = Attempt(world.app, task_id, "dead-token")
    world.outputs.attempt_dir(dead).joinpath("partial.mp4").write_bytes(b"half")
    world.outputs.sweep_scratch()
    assert tasks.unfinished_tasks(world.db) == [task_id]
    GenerationJob(world.ctx)(task_id)
    row = world.task(task_id)
    assert row.status == FINISHED and row.attempts == 2
    assert [f.name for f in kept_attempts(tmp_path / "outputs")] == [row.output_token]
    assert scratch_attempts(tmp_path / "scratch") == []
    # The dead attempt announced the start; the re-run only announces the end.
    events = [d.event_type for d in deliveries.states(world.db, task_id)]
    assert events == ["VideoGenerationFinished"]


def test_a_superseded_attempt_cannot_commit(tmp_path: Path) -> None:
    gate = threading.Event()
    engine = FakeEngine(gate=gate)
    world = World(tmp_path, engine)
    task_id = world.new_task()
    runner = threading.Thread(target=GenerationJob(world.ctx), args=(task_id,))
    runner.start()
    for _ in range(200):
        if engine.generated:
            break
        threading.Event().wait(0.02)
    with world.db.transaction() as s:  # another worker took the task over
        tasks.claim(s, task_id, attempt_id="newer", now_ms=0)
    gate.set()
    runner.join(timeout=30)
    row = world.task(task_id)
    assert row.status == PROCESSING and row.attempt_id == "newer"
    assert kept_attempts(tmp_path / "outputs") == []
    assert scratch_attempts(tmp_path / "scratch") == []


def test_a_task_interrupted_too_often_fails_with_a_reason(tmp_path: Path) -> None:
    world = World(tmp_path, FakeEngine())
    task_id = world.new_task()
    for n in range(world.ctx.max_attempts):
        with world.db.transaction() as s:
            tasks.claim(s, task_id, attempt_id=f"crash{n}", now_ms=0)
    GenerationJob(world.ctx)(task_id)
    row = world.task(task_id)
    assert row.status == FINISHED and row.error_code == "FailedOperation.Record"
    assert "interrupted" in (row.error_message or "")


def test_shutdown_leaves_a_running_task_for_the_restart(tmp_path: Path) -> None:
    gate = threading.Event()
    engine = FakeEngine(gate=gate)
    world = World(tmp_path, engine)
    task_id = world.new_task()
    runner = threading.Thread(target=GenerationJob(world.ctx), args=(task_id,))
    runner.start()
    for _ in range(200):
        if engine.generated:
            break
        threading.Event().wait(0.02)
    world.ctx.stopping.set()
    runner.join(timeout=30)
    assert world.task(task_id).status == PROCESSING
    assert kept_attempts(tmp_path / "outputs") == []
    assert scratch_attempts(tmp_path / "scratch") == []


@pytest.mark.parametrize("url", ["../escape.mp4", "folder", "absent.mp4", ""])
def test_an_output_that_is_not_a_file_inside_the_attempt_folder_fails_the_task(
    tmp_path: Path, url: str
) -> None:
    world = World(tmp_path, Misnaming(url))
    task_id = world.new_task()
    GenerationJob(world.ctx)(task_id)
    row = world.task(task_id)
    assert (row.status, row.error_code, row.output_token) == (
        FINISHED,
        "FailedOperation.Record",
        None,
    )
    assert row.error_message == f"output {url!r} is missing"


def test_a_committed_url_is_the_files_path_inside_the_attempt_folder(tmp_path: Path) -> None:
    world = World(tmp_path, Misnaming("./folder/../whiteboard_0.mp4"))
    task_id = world.new_task()
    GenerationJob(world.ctx)(task_id)
    row = world.task(task_id)
    assert row.result is not None and row.error_code is None
    assert row.result["VideoInfoList"][0]["VideoUrl"] == "whiteboard_0.mp4"
