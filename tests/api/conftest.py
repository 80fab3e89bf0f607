"""Servers for the API tests: a real ``mixdown serve`` process, or the same service in this
process with an in-memory engine; and the official SDK pointed at them over loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, make_url, text
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.tiw.v20190919 import tiw_client

from mixdown.api.app import create_app as create_http_app
from mixdown.console.pages import console_routes
from mixdown.jobs.engine import Engine
from mixdown.service.config import ServiceConfig
from mixdown.service.node import Service
from mixdown.settings import Settings
from mixdown.store.apps import create_app

T = TypeVar("T")
PYTHON = sys.executable


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    """The SDK honours proxy variables; these tests only ever talk to 127.0.0.1."""
    with pytest.MonkeyPatch.context() as mp:
        for name in (
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ):
            mp.delenv(name, raising=False)
        mp.setenv("NO_PROXY", "127.0.0.1,localhost")
        yield


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: The server's limit is 20 calls/s per action and app (DESIGN §4.3); a poll that sends a
#: few calls per probe stays under it at this pace, however slow the machine is.
POLL_EVERY_S = 0.2


def wait_for(
    probe: Callable[[], T | None], timeout_s: float, what: str, every_s: float = POLL_EVERY_S
) -> T:
    """Poll ``probe`` until it returns something truthy; bounded.

    A ``RequestLimitExceeded`` answer is what a real client retries after a pause, so it
    counts as "not yet" (with a longer pause) rather than as a failure."""
    deadline = time.monotonic() + timeout_s
    while True:
        pause = every_s
        try:
            value = probe()
        except TencentCloudSDKException as exc:
            if exc.get_code() != "RequestLimitExceeded":
                raise
            value, pause = None, max(every_s, 1.0)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(pause)


@dataclass(frozen=True)
class Creds:
    sdk_app_id: int
    secret_id: str
    secret_key: str


def sdk(
    port: int,
    creds: Creds,
    *,
    method: str = "POST",
    sign: str = "TC3-HMAC-SHA256",
    secret_key: str | None = None,
) -> tiw_client.TiwClient:
    profile = ClientProfile(
        httpProfile=HttpProfile(
            endpoint=f"127.0.0.1:{port}", protocol="http", reqMethod=method, reqTimeout=30
        ),
        signMethod=sign,
    )
    cred = credential.Credential(creds.secret_id, secret_key or creds.secret_key)
    return tiw_client.TiwClient(cred, "ap-guangzhou", profile)


def cli_create_app(data_dir: Path, *args: str) -> Creds:
    done = subprocess.run(
        [PYTHON, "-m", "mixdown.cli", "apps", "create", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(done.stdout)
    return Creds(data["SdkAppId"], data["SecretId"], data["SecretKey"])


class MixdownProcess:
    """A ``mixdown`` command as a child process, its output in a log beside its data folder,
    ready once its ``/healthz`` answers 200."""

    #: The subcommand, and what the messages call it.
    command = ""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.data_dir, self.args = data_dir, args
        #: Added to this process's environment (AWS settings, say).
        self.env = env or {}
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{self.command}-{self.port}.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def launch(self, argv: list[str], health_url: str, timeout_s: float) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [PYTHON, "-m", "mixdown.cli", self.command, *argv],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
            )

        def healthy() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.command} exited:\n{self.log()}")
            try:
                return httpx.get(health_url, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout_s, f"{self.command} to become healthy", every_s=0.2)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self) -> None:
        """SIGTERM, without waiting."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class ServerProcess(MixdownProcess):
    """``mixdown serve`` on a free loopback port."""

    command = "serve"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 90) -> ServerProcess:
        argv = ["--port", str(self.port), "--data-dir", str(self.data_dir), *self.args]
        self.launch(argv, f"{self.url}/healthz", timeout_s)
        return self


class InProcessServer:
    """The same service and HTTP app under uvicorn in a thread, with an injected engine."""

    def __init__(self, data_dir: Path, engine: Engine, **config: Any) -> None:
        self.port = free_port()
        cfg = ServiceConfig(data_dir=data_dir, port=self.port, **config)
        self.service = Service(cfg, Settings.from_env(), engine=engine)
        self.server = uvicorn.Server(
            uvicorn.Config(
                create_http_app(self.service, pages=console_routes(self.service)),
                host="127.0.0.1",
                port=self.port,
                log_config=None,
                access_log=False,
                lifespan="on",
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> InProcessServer:
        self.thread.start()
        wait_for(lambda: self.service.ready.is_set(), 30, "the in-process server")
        wait_for(lambda: self.server.started, 30, "uvicorn")
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def new_app(self, task_concurrency: int = 4) -> Creds:
        cred = create_app(
            self.service.db, now_ms=int(time.time() * 1000), task_concurrency=task_concurrency
        )
        return Creds(cred.sdk_app_id, cred.secret_id, cred.secret_key)


def call(client: tiw_client.TiwClient, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """An action by name (extensions and raw parameters); the Response object."""
    response: dict[str, Any] = client.call_json(action, params)["Response"]
    return response


def os_environ_without_proxies() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


T0 = 1_700_000_000_000
#: Long enough to catch a generation while it renders (a few seconds, its renders one after
#: another), short enough for a quick test.
LONG_MS = 24_000


@pytest.fixture(scope="session")
def long_media(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    """The long class's media: a blue whiteboard, a red camera with a 440 Hz tone."""
    from mixdown.synth import ClipSpec, make_clip

    root = tmp_path_factory.mktemp("long-media")
    make_clip(
        ClipSpec(duration_ms=LONG_MS, color="#3366CC", has_audio=False), root / "wb.mp4", ffmpeg
    )
    make_clip(ClipSpec(duration_ms=LONG_MS, color="#CC3333", tone_hz=440), root / "cam.mp4", ffmpeg)
    return root


@pytest.fixture(scope="session")
def ingest_root(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    """Short real media (4 s whiteboard, 4 s camera with sound) and one broken file."""
    from mixdown.synth import ClipSpec, make_clip

    root = tmp_path_factory.mktemp("ingest")
    make_clip(ClipSpec(duration_ms=4000, color="#3366CC", has_audio=False), root / "wb.mp4", ffmpeg)
    make_clip(ClipSpec(duration_ms=4000, color="#CC3333", tone_hz=440), root / "cam.mp4", ffmpeg)
    (root / "broken.mp4").write_bytes(b"\x00\x01 this is not a video " * 200)
    return root


def small_recording(sdk_app_id: int, **extra: Any) -> dict[str, Any]:
    """ImportOnlineRecord parameters of the 4 s class in ``ingest_root``."""
    return {
        "SdkAppId": sdk_app_id,
        "RoomId": 42,
        "RecordStartTimeMs": T0,
        "RecordStopTimeMs": T0 + 4000,
        "Streams": [
            {"StreamId": "tic_record_user", "Segments": [{"Url": "wb.mp4", "StartTime": T0}]},
            {"StreamId": "teacher", "Segments": [{"Url": "cam.mp4", "StartTime": T0}]},
        ],
        "Whiteboard": {"Width": 320, "Height": 240},
        **extra,
    }


@pytest.fixture
def scratch_url() -> Iterator[str]:
    """A new, empty PostgreSQL database on ``MIXDOWN_TEST_POSTGRES_URL``'s server, named the way
    users write it: ``postgresql://`` without a driver. Dropped afterwards, connections and all."""
    server_url = os.environ.get("MIXDOWN_TEST_POSTGRES_URL", "")
    if not server_url:
        pytest.skip("MIXDOWN_TEST_POSTGRES_URL is not set")
    name = f"mixdown_scratch_{uuid.uuid4().hex[:12]}"
    server = make_url(server_url)
    admin = create_engine(server.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(drivername="postgresql", database=name).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
