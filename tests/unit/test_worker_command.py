"""``mixdown worker`` needs the cluster's PostgreSQL database; without one it stops at once
with one line and exit status 2, leaving nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from mixdown.cli import main


@pytest.mark.parametrize("database", [[], ["--database", "sqlite:///elsewhere.db"]])
def test_a_worker_without_postgres_stops_with_one_line(
    database: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("MIXDOWN_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["worker", "--data-dir", str(tmp_path / "data"), *database]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mixdown: InvalidParameterValue: mixdown worker needs the cluster's ")
    assert len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
