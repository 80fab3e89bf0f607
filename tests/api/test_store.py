"""The store: migrations match the models, secrets stay private, the limit holds under races."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mixdown.errors import MixdownError
from mixdown.service.data_folder import lock_data_dir, open_database
from mixdown.store.apps import create_app, find_app, list_apps
from mixdown.store.database import Database
from mixdown.store.models import Base, GenerationTask
from mixdown.store.recordings import add_recording
from mixdown.store.tasks import create_task


def test_the_migration_builds_exactly_the_models(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    db.migrate()  # a second run is a no-op
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_the_database_and_data_folder_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = open_database(data)
    create_app(db, now_ms=0)
    for path in data.iterdir():
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_apps_get_increasing_ids_and_list_without_secrets(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    first = create_app(db, now_ms=0)
    second = create_app(db, now_ms=0, task_concurrency=2)
    assert second.sdk_app_id == first.sdk_app_id + 1
    assert first.secret_key != second.secret_key and len(first.secret_key) == 32
    listed = list_apps(db)
    assert [a.sdk_app_id for a in listed] == [first.sdk_app_id, second.sdk_app_id]
    assert not hasattr(listed[0], "secret_key")


def _setup(db: Database, limit: int) -> int:
    app = create_app(db, now_ms=0, task_concurrency=limit)
    with db.transaction() as s:
        add_recording(
            s,
            task_id="rec",
            sdk_app_id=app.sdk_app_id,
            manifest={},
            room_id=1,
            group_id="1",
            record_user_id="",
            now_ms=0,
        )
    return app.sdk_app_id


def test_concurrent_creates_never_pass_the_limit(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    sdk_app_id = _setup(db, limit=3)
    outcomes: list[str] = []
    start = threading.Barrier(12)

    def create() -> None:
        start.wait(timeout=10)
        try:
            with db.transaction() as s:
                app = find_app(s, sdk_app_id)
                assert app is not None
                time.sleep(0.01)  # widen the window between the count and the insert
                create_task(s, app, recording_id="rec", params={}, now_ms=0)
            outcomes.append("ok")
        except MixdownError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=create) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes).count("ok") == 3
    assert outcomes.count("LimitExceeded.TaskConcurrency") == 9
    with db.transaction() as s:
        assert s.query(GenerationTask).count() == 3


def test_one_data_folder_serves_one_process_at_a_time(tmp_path: Path) -> None:
    fd = lock_data_dir(tmp_path)
    with pytest.raises(MixdownError) as err:
        lock_data_dir(tmp_path)
    assert "another mixdown process" in err.value.message
    os.close(fd)
    os.close(lock_data_dir(tmp_path))
