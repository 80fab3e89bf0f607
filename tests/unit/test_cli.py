"""The command line's own help and version (no media)."""

from __future__ import annotations

import pytest

from mixdown.cli import main


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
    for command in ("generate", "demo", "serve", "apps"):
        assert command in out, command
