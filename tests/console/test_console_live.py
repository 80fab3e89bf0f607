"""A live recording on the console while it records: its timeline (the fragment the page
redraws every 2 s) shows a publish as an open bar as soon as it is admitted, closes it when
the publish ends, and shades a pause in progress. nginx is played by posting its hooks."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.conftest import Creds, InProcessServer, call, free_port, sdk
from api.fakes import FakeEngine
from mixdown.ingest.push_signature import grant
from mixdown.ingest.stream_name import StreamName
from mixdown.store.apps import find_app

ROOM = 5151


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[InProcessServer]:
    config = {"rtmp_port": free_port(), "manage_nginx": False, "auto_stop_min_s": 1}
    with InProcessServer(tmp_path / "data", FakeEngine(), **config) as server:
        yield server


@contextlib.contextmanager
def signed_in(srv: InProcessServer, creds: Creds) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=10) as web:
        sign_in(web, creds)
        yield web


def sign_in(web: httpx.Client, creds: Creds) -> None:
    form = web.get("/console/signin").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    done = web.post(
        "/console/signin",
        data={"csrf": csrf[1], "secret_id": creds.secret_id, "secret_key": creds.secret_key},
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/recordings"


def test_a_live_recordings_timeline_follows_its_publishes_and_pauses(srv: InProcessServer) -> None:
    creds = srv.new_app()
    client = sdk(srv.port, creds)
    start = {
        "SdkAppId": creds.sdk_app_id,
        "RoomId": ROOM,
        "RecordUserId": f"tic_record_user_{ROOM}_r",
        "RecordUserSig": "sig",
    }
    task_id = call(client, "StartOnlineRecord", start)["TaskId"]
    with signed_in(srv, creds) as web:
        follow(srv, creds, client, task_id, web)


def follow(
    srv: InProcessServer, creds: Creds, client: object, task_id: str, web: httpx.Client
) -> None:
    task = {"SdkAppId": creds.sdk_app_id, "TaskId": task_id}
    page = web.get(f"/console/recordings/{task_id}").text
    assert f'data-refresh="/console/recordings/{task_id}/timeline"' in page

    data = srv.service.config.data_dir
    token = (data / "ingest" / "hook-token").read_text().strip()
    name = StreamName(creds.sdk_app_id, ROOM, "alice")
    with srv.service.db.transaction() as s:
        app = find_app(s, creds.sdk_app_id)
        assert app is not None
        signed = grant(app.push_key, name, int(time.time()) + 60)
    hook = {"app": "live", "name": str(name), "clientid": "3"}
    publish = {**hook, "txTime": signed.tx_time, "txSecret": signed.tx_secret}
    base = f"/ingest/rtmp/{token}"
    assert web.post(f"{base}/publish", data=publish).status_code == 200

    fragment = web.get(f"/console/recordings/{task_id}/timeline").text
    assert 'data-stream="alice"' in fragment
    assert re.search(r'class="bar camera open"', fragment)

    call(client, "PauseOnlineRecord", task)
    assert 'class="pause"' in web.get(f"/console/recordings/{task_id}/timeline").text
    assert web.post(f"{base}/publish_done", data=hook).status_code == 200
    fragment = web.get(f"/console/recordings/{task_id}/timeline").text
    assert (
        'class="bar camera"' in fragment
        and "open" not in re.findall(r'class="bar[^"]*"', fragment)[0]
    )


def test_the_session_cookie_is_secure_behind_https(srv: InProcessServer) -> None:
    creds = srv.new_app()
    with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=10) as web:
        for proto, secure in (("http", False), ("https", True)):
            form = web.get("/console/signin").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form)
            assert csrf is not None
            fields = {"csrf": csrf[1], "secret_id": creds.secret_id, "secret_key": creds.secret_key}
            done = web.post("/console/signin", data=fields, headers={"X-Forwarded-Proto": proto})
            cookie = next(
                c for c in done.headers.get_list("set-cookie") if c.startswith("mixdown_console=")
            )
            assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
            assert ("secure" in cookie.lower().split("; ")) is secure, cookie
            web.cookies.clear()


def test_forms_and_hooks_with_any_characters_are_refused_not_crashed(
    srv: InProcessServer,
) -> None:
    creds = srv.new_app()
    with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=10) as web:
        web.get("/console/signin")
        forged = {"csrf": "\u00e9t\u00e9", "secret_id": creds.secret_id, "secret_key": "cl\u00e9"}
        assert web.post("/console/signin", data=forged).status_code == 403
        csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/console/signin").text)
        assert csrf is not None
        wrong = {"csrf": csrf[1], "secret_id": creds.secret_id, "secret_key": "cl\u00e9"}
        assert web.post("/console/signin", data=wrong).status_code == 401
        sign_in(web, creds)
        assert web.post("/console/recordings", data={"csrf": "\u00e9"}).status_code == 403
        hook = web.post("/ingest/rtmp/t\u00f6ken/publish", data={"app": "live", "name": "x"})
        assert hook.status_code == 403
