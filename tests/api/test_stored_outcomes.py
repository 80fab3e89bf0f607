"""A finished row's outcome through the database: the typed result goes in as its JSON
document and comes back equal; a failure goes in the two error columns and comes back."""

from __future__ import annotations

from pathlib import Path

from mixdown.domain.outcome import Failure
from mixdown.domain.report import GenerationReport, Measured, Notice, OutputReport
from mixdown.domain.result import GenerationResult, OmittedDuration, VideoInfo
from mixdown.store import tasks
from mixdown.store.apps import create_app, find_app
from mixdown.store.database import Database
from mixdown.store.models import FINISHED
from mixdown.store.outcomes import failure_of, result_of
from mixdown.store.recordings import add_recording, finish_recording, recording_by_id
from mixdown.tiw import documents

VIDEO = VideoInfo(0, 2048, "mp4", 2000, "whiteboard_0.mp4", "0" * 32, 2, "", 160, 120)
REPORT = GenerationReport(
    (
        OutputReport(
            "whiteboard_0.mp4",
            2,
            "",
            "encode",
            2000,
            Measured(2000, 0, 0),
            (),
            (Notice("DurationMismatch", "1 s short", url="wb.mp4"),),
        ),
    )
)
RESULT = GenerationResult(1500, (OmittedDuration(1000, 1, 501),), (VIDEO,), REPORT)


def _database(tmp: Path) -> tuple[Database, str]:
    db = Database.sqlite_file(tmp / "db.sqlite")
    db.migrate()
    sdk_app_id = create_app(db, now_ms=0).sdk_app_id
    with db.transaction() as s:
        add_recording(
            s,
            task_id="rec",
            sdk_app_id=sdk_app_id,
            manifest={},
            room_id=1,
            group_id="1",
            record_user_id="",
            now_ms=0,
        )
        app = find_app(s, sdk_app_id)
        assert app is not None
        task_id = tasks.create_task(s, app, recording_id="rec", params={}, now_ms=0).task_id
    return db, task_id


def test_a_committed_result_reads_back_from_the_store_as_the_same_result(tmp_path: Path) -> None:
    db, task_id = _database(tmp_path)
    with db.transaction() as s:
        row = tasks.task_by_id(s, task_id)
        assert row is not None
        tasks.finish_task(row, RESULT, now_ms=5, output_token="tok")
    with db.transaction() as s:
        row = tasks.task_by_id(s, task_id)
        assert row is not None
        assert (row.status, row.output_token, failure_of(row)) == (FINISHED, "tok", None)
        assert row.result == documents.result_document(RESULT)
        assert result_of(row) == RESULT


def test_a_failed_task_stores_its_failure_and_no_result_or_folder(tmp_path: Path) -> None:
    db, task_id = _database(tmp_path)
    failure = Failure("FailedOperation.Media", "t.flv: truncated")
    with db.transaction() as s:
        row = tasks.task_by_id(s, task_id)
        assert row is not None
        tasks.finish_task(row, failure, now_ms=5, output_token="ignored")
    with db.transaction() as s:
        row = tasks.task_by_id(s, task_id)
        assert row is not None
        assert (row.error_code, row.error_message) == (failure.code, failure.message)
        assert failure_of(row) == failure
        assert (row.result, row.output_token, result_of(row)) == (None, None, None)


def test_an_imports_failure_reads_back_and_a_good_import_has_none(tmp_path: Path) -> None:
    db, _ = _database(tmp_path)
    failure = Failure("FailedOperation.Media", "wb.mp4: cannot read media")
    with db.transaction() as s:
        row = recording_by_id(s, "rec")
        assert row is not None
        assert failure_of(row) is None
        finish_recording(row, probes=None, stop_ms=None, now_ms=5, failure=failure)
    with db.transaction() as s:
        row = recording_by_id(s, "rec")
        assert row is not None and failure_of(row) == failure
        finish_recording(row, probes={}, stop_ms=9, now_ms=6)
        assert (row.error_code, row.error_message, failure_of(row)) == (None, None, None)
