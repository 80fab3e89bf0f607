"""Live recording under test: ``mixdown serve --rtmp-port`` with the real nginx it runs,
apps with their PushKey, signed push URLs, and ffmpeg pushing known media in real time."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tencentcloud.tiw.v20190919 import tiw_client

from api.conftest import PYTHON, Creds, ServerProcess, call, free_port, sdk, wait_for
from mixdown.errors import MixdownError
from mixdown.ingest.nginx_process import find_nginx
from mixdown.ingest.push_signature import grant
from mixdown.ingest.stream_name import StreamName
from mixdown.synth import ClipSpec, make_clip


def nginx_missing() -> str:
    """Why the live tests cannot run here ("" when they can)."""
    try:
        find_nginx()
    except MixdownError as exc:
        return exc.message
    return ""


needs_nginx = pytest.mark.skipif(bool(nginx_missing()), reason=nginx_missing() or "-")


@dataclass(frozen=True)
class LiveApp:
    creds: Creds
    push_key: str

    @property
    def sdk_app_id(self) -> int:
        return self.creds.sdk_app_id


def create_live_app(data_dir: Path) -> LiveApp:
    done = subprocess.run(
        [PYTHON, "-m", "mixdown.cli", "apps", "create", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(done.stdout)
    creds = Creds(data["SdkAppId"], data["SecretId"], data["SecretKey"])
    return LiveApp(creds, data["PushKey"])


class LiveServer(ServerProcess):
    """``mixdown serve --rtmp-port`` on free ports; AutoStopTimeout may go down to 1 s."""

    def __init__(
        self,
        data_dir: Path,
        *args: str,
        env: dict[str, str] | None = None,
        rtmp_port: int | None = None,
    ) -> None:
        self.rtmp_port = rtmp_port or free_port()
        super().__init__(
            data_dir,
            "--rtmp-port",
            str(self.rtmp_port),
            "--auto-stop-min",
            "1",
            "--allow-private-urls",
            *args,
            env=env,
        )

    def again(self) -> LiveServer:
        """A server for this one's data folder, HTTP and RTMP ports, once it is gone: nginx's
        configuration names both ports (the hooks' address, the listen port), so only the
        same ones let the new server adopt the nginx still recording."""
        # Its extra arguments follow the five that LiveServer adds.
        twin = LiveServer(self.data_dir, *self.args[5:], env=self.env, rtmp_port=self.rtmp_port)
        twin.port, twin.log_path = self.port, self.log_path
        return twin

    def client(self, app: LiveApp) -> tiw_client.TiwClient:
        return sdk(self.port, app.creds)

    def push_url(
        self, app: LiveApp, room_id: int, stream_id: str, *, valid_s: int = 600, key: str = ""
    ) -> str:
        name = StreamName(app.sdk_app_id, room_id, stream_id)
        query = grant(key or app.push_key, name, int(time.time()) + valid_s).query()
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live/{name}?{query}"


@dataclass(frozen=True)
class Clip:
    """A synthetic clip in FLV (H.264 + AAC, as encoders push), ready to push."""

    path: Path
    spec: ClipSpec


def flv_clip(folder: Path, name: str, ffmpeg: str, **spec: Any) -> Clip:
    clip = ClipSpec(container="flv", **spec)
    path = folder / f"{name}.flv"
    if not path.exists():
        make_clip(clip, path, ffmpeg)
    return Clip(path, clip)


class Push:
    """ffmpeg pushing a clip in real time, as an encoder would."""

    def __init__(self, ffmpeg: str, clip: Clip, url: str) -> None:
        # Real time with no initial burst: ffmpeg's -re first sends half a second at once
        # (a burst of 0 means that default too), which no live encoder does, and the push
        # would run ahead of the wall clock.
        argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-readrate", "1"]
        argv += ["-readrate_initial_burst", "0.001", "-i", str(clip.path)]
        argv += ["-c", "copy", "-f", "flv", url]
        self.started = time.time()
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait(self, timeout_s: float = 120) -> int:
        return self.proc.wait(timeout=timeout_s)

    def error(self) -> str:
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")

    def kill(self) -> None:
        """The encoder dies (network drop): the publish ends without a goodbye."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def __enter__(self) -> Push:
        return self

    def __exit__(self, *_exc: object) -> None:
        """Ended, and its pipe closed, however the test went."""
        self.kill()
        assert self.proc.stderr is not None
        self.proc.stderr.close()


def start_recording(client: tiw_client.TiwClient, app: LiveApp, room_id: int, **extra: Any) -> str:
    params = {
        "SdkAppId": app.sdk_app_id,
        "RoomId": room_id,
        "RecordUserId": f"tic_record_user_{room_id}_rec",
        "RecordUserSig": "unused-here",
        **extra,
    }
    return str(call(client, "StartOnlineRecord", params)["TaskId"])


def describe(client: tiw_client.TiwClient, app: LiveApp, task_id: str) -> dict[str, Any]:
    return call(client, "DescribeOnlineRecord", {"SdkAppId": app.sdk_app_id, "TaskId": task_id})


def wait_finished(
    client: tiw_client.TiwClient, app: LiveApp, task_id: str, timeout_s: float = 180
) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def finished() -> bool:
        found.update(describe(client, app, task_id))
        return bool(found["Status"] == "FINISHED")

    wait_for(finished, timeout_s, f"recording {task_id} to finish", every_s=0.5)
    return found


@dataclass
class Served:
    server: LiveServer
    app: LiveApp


@contextlib.contextmanager
def passable_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder for a live server's data folder.

    Started by root, nginx records as www-data, who must pass through every folder above the
    record folder (``mixdown serve`` refuses to record otherwise): pytest's own temporary
    folders are root's alone (0700). This one is passable, and the server's and nginx's logs
    are copied to ``tmp_path`` when it goes."""
    if os.geteuid() != 0:
        yield tmp_path
        return
    root = Path(tempfile.mkdtemp(prefix="mixdown-live-"))
    root.chmod(0o711)
    try:
        yield root
    finally:
        for log in [*root.glob("*.log"), *root.glob("*/ingest/nginx/logs/*")]:
            with contextlib.suppress(OSError):
                shutil.copy(log, tmp_path / log.name)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def served(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """A started live server with one app, in a passable folder; stopped with its nginx."""
    with passable_folder(tmp_path) as folder:
        data = folder / "data"
        app = create_live_app(data)
        server = LiveServer(data, *args, env=env)
        try:
            server.start()
            yield Served(server, app)
        finally:
            server.stop()
            kill_left_nginx(data)


def kill_left_nginx(data_dir: Path) -> None:
    """End an nginx a killed serve left running (its pid file is in the data folder)."""
    pid_file = data_dir / "ingest" / "nginx" / "nginx.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
