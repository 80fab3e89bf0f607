"""The database a cluster shares, through the real command line on PostgreSQL: URLs as users
write them, apps created in it, ``mixdown serve`` answering the SDK from it, and nodes that
start together migrating it exactly once.

Runs when ``MIXDOWN_TEST_POSTGRES_URL`` names a PostgreSQL server (as ``.ci/run`` sets it);
each test gets its own scratch database there (``scratch_url`` in conftest), so none touches
``test_postgres.py``'s.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import make_url, text
from tencentcloud.tiw.v20190919 import models

from mixdown.store.database import Database, head_revision
from mixdown.store.job_queue import is_ours
from mixdown.store.models import Base

from .conftest import PYTHON, ServerProcess, cli_create_app, sdk

SERVER_URL = os.environ.get("MIXDOWN_TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not SERVER_URL, reason="MIXDOWN_TEST_POSTGRES_URL is not set")

#: Nodes starting at once. With the migration lock taken out, 6 runs of 8 failed on a
#: 2-core machine (CREATE TABLE alembic_version: UniqueViolation in all nodes but one).
NODES = 8


def _mixdown(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "mixdown.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_nodes_starting_together_migrate_the_database_once(scratch_url: str) -> None:
    argv = [PYTHON, "-m", "mixdown.cli", "db", "upgrade", "--database", scratch_url]
    nodes = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(NODES)
    ]
    results = [(node.wait(timeout=120), *node.communicate()) for node in nodes]
    assert [(code, err) for code, _out, err in results] == [(0, "")] * NODES
    assert {out.strip() for _code, out, _err in results} == {head_revision()}
    db = Database.from_url(scratch_url)
    try:
        with db.engine.connect() as c:
            assert c.execute(text("SELECT version_num FROM alembic_version")).all() == [
                (head_revision(),)
            ]
            modelled = MigrationContext.configure(c, opts={"include_name": is_ours})
            assert compare_metadata(modelled, Base.metadata) == []
    finally:
        db.dispose()


def test_apps_created_in_postgres_are_listed_from_anywhere(
    scratch_url: str, tmp_path: Path
) -> None:
    created = _mixdown("apps", "create", "--database", scratch_url, "--task-concurrency", "2")
    assert created.returncode == 0, created.stderr
    app = json.loads(created.stdout)
    # The URL from the environment, another working folder: the same database all the same.
    listed = subprocess.run(
        [PYTHON, "-m", "mixdown.cli", "apps", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "MIXDOWN_DATABASE_URL": scratch_url},
    )
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["SdkAppId"], r["SecretId"], r["TaskConcurrency"]) for r in rows] == [
        (app["SdkAppId"], app["SecretId"], 2)
    ]
    assert list(tmp_path.iterdir()) == []  # no SQLite data folder made on the side


def test_serve_on_postgres_answers_the_sdk_with_apps_from_the_database(
    scratch_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    creds = cli_create_app(data, "--database", scratch_url)
    server = ServerProcess(data, "--database", scratch_url, "--allow-private-urls").start()
    try:
        client = sdk(server.port, creds)
        req = models.SetVideoGenerationTaskCallbackRequest()
        req.SdkAppId, req.Callback = creds.sdk_app_id, "http://127.0.0.1:9/cb"
        client.SetVideoGenerationTaskCallback(req)
        got = models.DescribeVideoGenerationTaskCallbackRequest()
        got.SdkAppId = creds.sdk_app_id
        assert client.DescribeVideoGenerationTaskCallback(got).Callback == "http://127.0.0.1:9/cb"
    finally:
        server.stop()
    assert not (data / "mixdown.db").exists()  # the folder keeps only outputs and the lock
    db = Database.from_url(scratch_url)
    try:
        with db.engine.connect() as c:
            stored = c.execute(text("SELECT url FROM callback_configs")).scalar_one()
    finally:
        db.dispose()
    assert stored == "http://127.0.0.1:9/cb"


def test_an_unreachable_postgres_stops_serve_with_one_line_and_no_password(
    tmp_path: Path,
) -> None:
    url = make_url(SERVER_URL).set(drivername="postgresql", password="s3cret", database="absent")
    done = _mixdown("serve", "--data-dir", str(tmp_path), "--database", url.render_as_string(False))
    assert done.returncode == 2
    assert done.stderr.startswith("mixdown: ResourceUnavailable: database URL postgresql://")
    assert ":***@" in done.stderr and "s3cret" not in done.stderr
    assert ": cannot connect: " in done.stderr and len(done.stderr.splitlines()) == 1
