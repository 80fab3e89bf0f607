"""The command line's own help and version, and where its service commands find the
database (no media; SQLite files and a closed loopback port, no PostgreSQL server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mixdown.cli import main
from mixdown.service.commands import callback_timeout
from mixdown.store.database import head_revision


def _exit_output(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    return capsys.readouterr().out


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    out = _exit_output(["--version"], capsys)
    assert out.startswith("mixdown ") and out.strip() != "mixdown unknown"


def test_help_describes_the_tool_for_its_users_and_lists_every_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = _exit_output(["--help"], capsys)
    assert "finished videos" in out and "``" not in out
    for command in ("generate", "demo", "serve", "apps", "db"):
        assert command in out, command


def test_serve_help_shows_the_database_flag_with_its_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = " ".join(_exit_output(["serve", "--help"], capsys).split())
    assert "--database URL" in out and "postgresql://USER[:PASSWORD]@HOST[:PORT]/DB" in out
    assert "(default: $MIXDOWN_DATABASE_URL, else SQLite mixdown.db in --data-dir)" in out


def _app_ids(argv: list[str], capsys: pytest.CaptureFixture[str]) -> list[int]:
    assert main(["apps", "list", *argv]) == 0
    return [row["SdkAppId"] for row in json.loads(capsys.readouterr().out)]


def test_apps_live_in_the_database_the_environment_names_unless_the_flag_names_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shared, other = f"sqlite:///{tmp_path / 'shared.db'}", f"sqlite:///{tmp_path / 'other.db'}"
    monkeypatch.setenv("MIXDOWN_DATABASE_URL", shared)
    data_dir = ["--data-dir", str(tmp_path / "data")]
    assert main(["apps", "create", "--sdk-app-id", "1400000007", *data_dir]) == 0
    assert main(["apps", "create", "--sdk-app-id", "1400000008", "--database", other]) == 0
    capsys.readouterr()
    assert _app_ids([], capsys) == [1400000007]
    assert _app_ids(["--database", other], capsys) == [1400000008]
    assert not (tmp_path / "data").exists()  # the URL, not the data folder, held the app
    assert _app_ids(["--database", "", *data_dir], capsys) == []  # '' picks the data folder


def test_db_upgrade_migrates_the_data_folder_database_and_prints_its_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MIXDOWN_DATABASE_URL", raising=False)
    assert main(["db", "upgrade", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == head_revision() + "\n"
    assert (tmp_path / "mixdown.db").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("command", [["apps", "create"], ["apps", "list"], ["db", "upgrade"]])
def test_a_bad_database_url_is_refused_in_one_line_without_its_password(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*command, "--data-dir", str(tmp_path), "--database", "mysql://mix:s3cret@db/x"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("mixdown: InvalidParameterValue: database URL mysql://mix:***@db/x: ")
    assert "s3cret" not in err and len(err.splitlines()) == 1


def test_serve_stops_on_a_bad_database_url_with_exit_2_and_one_line(tmp_path: Path) -> None:
    # A process of its own: serve sets up logging and the umask of the process it runs in.
    done = subprocess.run(
        [sys.executable, "-m", "mixdown.cli", "serve", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MIXDOWN_DATABASE_URL": "postgres://mix:s3cret@db:port/x"},
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "mixdown: InvalidParameterValue: database URL postgres://mix:***@db:port/x: expected "
        "postgresql://USER[:PASSWORD]@HOST[:PORT]/DB or sqlite:///PATH\n"
    )


def test_an_unreachable_database_is_one_line_naming_it_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://mix:s3cret@127.0.0.1:1/mixdown"  # port 1: nothing listens
    assert main(["apps", "list", "--database", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "mixdown: ResourceUnavailable: database URL postgresql://mix:***@127.0.0.1:1/mixdown: "
        "cannot connect: "
    )
    assert "s3cret" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("command", ["serve", "worker"])
@pytest.mark.parametrize("value", ["0", "-1", "121", "nan", "inf", "soon"])
def test_a_callback_timeout_outside_0_to_120_seconds_is_refused_before_anything_starts(
    command: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--callback-timeout", value])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --callback-timeout: '{value}': must be seconds, more than 0" in err


def test_a_callback_timeout_is_read_as_seconds() -> None:
    assert callback_timeout("2.5") == 2.5
    assert callback_timeout("120") == 120.0
