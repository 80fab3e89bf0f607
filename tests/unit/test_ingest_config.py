"""The generated nginx configuration: what it records and asks, and that a real nginx with
the RTMP module accepts it (where both are installed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mixdown.ingest.nginx_config import MODULE, IngestSettings, nginx_config


def _settings(tmp_path: Path) -> IngestSettings:
    return IngestSettings(
        prefix=tmp_path / "nginx",
        record_dir=tmp_path / "records",
        rtmp_host="127.0.0.1",
        rtmp_port=19350,
        hooks_base="http://127.0.0.1:8080/",
        hook_token="t0ken",
        control_port=19351,
    )


def test_every_publish_is_recorded_to_its_own_file_and_admitted_by_mixdown(
    tmp_path: Path,
) -> None:
    text = nginx_config(_settings(tmp_path))
    for line in (
        "listen 127.0.0.1:19350;",
        "record all;",
        f"record_path {tmp_path / 'records'};",
        "record_unique on;",
        "on_publish http://127.0.0.1:8080/ingest/rtmp/t0ken/publish;",
        "on_record_done http://127.0.0.1:8080/ingest/rtmp/t0ken/record_done;",
        "deny play all;",
        "listen 127.0.0.1:19351;",
    ):
        assert line in text
    assert "user " not in text  # only when started by root


def test_a_real_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists() or not MODULE.exists():
        pytest.skip("nginx with the RTMP module is not installed")
    settings = _settings(tmp_path)
    for folder in (settings.prefix / "logs", settings.prefix / "temp", settings.record_dir):
        folder.mkdir(parents=True)
    conf = settings.prefix / "nginx.conf"
    conf.write_text(nginx_config(settings), encoding="utf-8")
    argv = [nginx, "-t", "-p", str(settings.prefix), "-c", str(conf), "-g", "daemon off;"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
