"""The live recording's commands: ``mixdown ingest-config`` prints the configuration of the
data folder's ingest (its record folder, its hook token), ``mixdown push-url`` a URL the
ingest admits, and ``apps create`` / ``apps list`` the app's PushKey."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from mixdown.cli import main
from mixdown.ingest.push_signature import refusal
from mixdown.ingest.stream_name import StreamName


def test_ingest_config_names_the_data_folders_records_and_hook_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    assert (
        main(["ingest-config", "--data-dir", str(data), "--port", "9090", "--rtmp-port", "1936"])
        == 0
    )
    text = capsys.readouterr().out
    token = (data / "ingest" / "hook-token").read_text().strip()
    assert len(token) == 32
    assert "listen 127.0.0.1:1936;" in text
    assert f"record_path {(data / 'ingest' / 'records').absolute()};" in text
    assert f"on_publish http://127.0.0.1:9090/ingest/rtmp/{token}/publish;" in text
    # The same folder gives the same token: a running nginx keeps working.
    assert main(["ingest-config", "--data-dir", str(data), "--rtmp-port", "1936"]) == 0
    assert f"/ingest/rtmp/{token}/publish;" in capsys.readouterr().out


def test_push_url_is_signed_with_the_push_key_until_its_expiry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["push-url", "--push-key", "k3y", "--sdk-app-id", "1400000001", "--room-id", "1203"]
    argv += ["--stream-id", "tic_record_user_1203_a", "--rtmp-url", "rtmp://host:1935/live/"]
    assert main([*argv, "--valid-for", "600"]) == 0
    url = urlsplit(capsys.readouterr().out.strip())
    assert (url.scheme, url.netloc, url.path) == (
        "rtmp",
        "host:1935",
        "/live/1400000001_1203_tic_record_user_1203_a",
    )
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    name = StreamName(1400000001, 1203, "tic_record_user_1203_a")
    now = int(time.time())
    assert refusal("k3y", name, query["txTime"], query["txSecret"], now) == ""
    assert refusal("other", name, query["txTime"], query["txSecret"], now) != ""
    assert refusal("k3y", name, query["txTime"], query["txSecret"], now + 601) != ""


def test_push_url_refuses_ids_that_make_no_stream_name(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["push-url", "--push-key", "k", "--sdk-app-id", "1", "--room-id", "2"]
    assert main([*argv, "--stream-id", "../etc"]) == 2
    assert "stream name" in capsys.readouterr().err


def test_apps_print_their_push_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["apps", "create", *data]) == 0
    created = json.loads(capsys.readouterr().out)
    assert len(created["PushKey"]) == 32 and created["PushKey"] != created["SecretKey"]
    assert main(["apps", "list", *data]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["PushKey"] == created["PushKey"] and "SecretKey" not in listed
