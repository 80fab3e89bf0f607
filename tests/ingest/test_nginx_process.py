"""The nginx supervisor, against the real nginx with the RTMP module (skipped without it).

Most tests push nothing: their hooks point where nothing listens, so nginx would refuse a
publish. The one that pushes (with ffmpeg) gets hooks that admit everything.
Every test ends its nginx, workers included; the ``settings`` fixture checks it.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mixdown.errors import ResourceUnavailable
from mixdown.ingest.nginx_config import IngestSettings
from mixdown.ingest.nginx_process import STOP_TIMEOUT_S, NginxIngest, NginxMissing, find_nginx

#: Generous: a busy CI machine may be slow to start nginx.
DEADLINE_S = 20.0

#: A ``mixdown serve`` in a process of its own: it starts the ingest, then waits to be killed.
ABANDONING_SERVE = """
import json, signal, sys
from pathlib import Path
from mixdown.ingest.nginx_config import IngestSettings
from mixdown.ingest.nginx_process import NginxIngest

fields = json.loads(sys.argv[1])
fields.update(prefix=Path(fields["prefix"]), record_dir=Path(fields["record_dir"]))
fields["module"] = Path(fields["module"])
NginxIngest(IngestSettings(**fields)).start()
print("started", flush=True)
signal.pause()
"""


@pytest.fixture
def nginx() -> Path:
    try:
        return find_nginx()
    except NginxMissing as e:
        pytest.skip(f"needs nginx with the RTMP module: {e.message}")


@pytest.fixture
def base() -> Iterator[Path]:
    """A folder nginx's workers can reach as another user (pytest's tmp_path is root's only)."""
    folder = Path(tempfile.mkdtemp(prefix="mixdown-ingest-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


@pytest.fixture
def settings(base: Path, nginx: Path) -> Iterator[IngestSettings]:
    settings = IngestSettings(
        prefix=base / "nginx",
        record_dir=base / "records",
        rtmp_host="127.0.0.1",
        rtmp_port=_free_port(),
        # Nothing listens there: nginx would refuse every publish, and none is made.
        hooks_base=f"http://127.0.0.1:{_free_port()}",
        hook_token="token",
        control_port=_free_port(),
        user=_worker_user(),
    )
    try:
        yield settings
        _wait_until(lambda: not _ours(settings) and not _accepts(settings.rtmp_port))
    finally:
        _kill_leftovers(settings)


@pytest.fixture
def supervise(settings: IngestSettings) -> Iterator[Callable[[], NginxIngest]]:
    """Makes supervisors of ``settings``; each is stopped at the end."""
    made: list[NginxIngest] = []

    def make() -> NginxIngest:
        made.append(NginxIngest(settings))
        return made[-1]

    try:
        yield make
    finally:
        for supervisor in made:
            supervisor.stop()


def test_started_nginx_takes_connections_and_a_stopped_one_is_gone(
    settings: IngestSettings, supervise: Callable[[], NginxIngest]
) -> None:
    ingest = supervise()
    ingest.start()
    pid = ingest.pid
    assert pid is not None
    assert ingest.running()
    assert _accepts(settings.rtmp_port)
    assert int((settings.prefix / "nginx.pid").read_text()) == pid
    if os.geteuid() == 0:
        # nginx's workers write the recordings, as the configured user.
        assert settings.record_dir.stat().st_uid == pwd.getpwnam("nobody").pw_uid

    ingest.stop()
    assert not _accepts(settings.rtmp_port)
    assert not _living(pid)
    assert not ingest.running()
    assert ingest.pid is None
    ingest.stop()  # twice is harmless


def test_a_killed_nginx_is_started_again_and_its_orphaned_workers_are_ended(
    settings: IngestSettings, supervise: Callable[[], NginxIngest]
) -> None:
    ingest = supervise()
    ingest.start()
    killed = ingest.pid
    assert killed is not None
    # The workers outlive a killed master, holding the ports: they must go too.
    assert _group(killed) != [killed]
    os.kill(killed, signal.SIGKILL)

    _wait_until(lambda: ingest.pid not in (None, killed) and ingest.running())
    _wait_until(lambda: _accepts(settings.rtmp_port))
    assert _group(killed) == []


def test_an_abandoned_nginx_is_adopted_and_keeps_running(
    settings: IngestSettings, supervise: Callable[[], NginxIngest]
) -> None:
    survivor = _abandon_a_started_nginx(settings)

    ingest = supervise()
    ingest.start()
    assert ingest.pid == survivor
    assert ingest.running()
    assert _accepts(settings.rtmp_port)

    ingest.stop()
    _wait_until(lambda: not _living(survivor))
    assert not _accepts(settings.rtmp_port)


def test_an_abandoned_nginx_of_another_config_is_replaced(
    settings: IngestSettings, nginx: Path
) -> None:
    stale = _abandon_a_started_nginx(settings)

    ingest = NginxIngest(replace(settings, hook_token="another"), nginx=nginx)
    try:
        ingest.start()
        assert ingest.pid not in (None, stale)
        assert not _living(stale)
        assert _group(stale) == []
        assert _accepts(settings.rtmp_port)
    finally:
        ingest.stop()


def test_without_the_rtmp_module_nginx_is_missing_and_the_packages_are_named(
    tmp_path: Path,
) -> None:
    with pytest.raises(NginxMissing, match="libnginx-mod-rtmp") as raised:
        find_nginx(tmp_path / "ngx_rtmp_module.so")
    assert "nginx-light" in raised.value.message


def test_a_config_nginx_refuses_is_reported_with_its_message_and_not_installed(
    settings: IngestSettings, nginx: Path, tmp_path: Path
) -> None:
    bogus = tmp_path / "ngx_rtmp_module.so"
    bogus.write_bytes(b"not a module")
    ingest = NginxIngest(replace(settings, module=bogus), nginx=nginx)

    with pytest.raises(ResourceUnavailable, match="nginx refuses") as raised:
        ingest.start()
    assert "dlopen" in raised.value.message
    assert not (settings.prefix / "nginx.conf").exists()
    assert ingest.pid is None
    assert not _accepts(settings.rtmp_port)


def test_dropping_a_stream_nobody_publishes_drops_nothing(
    supervise: Callable[[], NginxIngest],
) -> None:
    ingest = supervise()
    assert not ingest.drop_publisher("nobody-publishes")  # nginx does not even answer

    ingest.start()
    # nginx answers 200 with the number of sessions it dropped: "0".
    assert not ingest.drop_publisher("nobody publishes/this?")


def test_a_dropped_publish_and_one_ended_by_stop_are_recorded_and_reported(
    settings: IngestSettings, nginx: Path, ffmpeg: str
) -> None:
    with _hooks() as (hooks_base, calls):
        ingest = NginxIngest(replace(settings, hooks_base=hooks_base), nginx=nginx)
        ingest.start()
        try:
            with _push(ffmpeg, settings, "lesson") as encoder:
                _wait_until(lambda: _recorded(settings, "lesson"))
                assert ingest.drop_publisher("lesson")
                encoder.wait(timeout=DEADLINE_S)
            _wait_until(lambda: calls.count("record_done") == 1)

            with _push(ffmpeg, settings, "second"):
                _wait_until(lambda: _recorded(settings, "second"))
                began = time.monotonic()
                ingest.stop()
                # Not the SIGKILL after the timeout: the publish was ended, nginx quit.
                assert time.monotonic() - began < STOP_TIMEOUT_S / 2
        finally:
            ingest.stop()
        _wait_until(lambda: calls.count("record_done") == 2)
    assert calls.count("publish") == calls.count("publish_done") == 2


@contextmanager
def _hooks() -> Iterator[tuple[str, list[str]]]:
    """Mixdown's hooks, admitting every publish: the base URL, and the hooks called."""
    calls: list[str] = []

    class Admit(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            calls.append(self.path.rsplit("/", 1)[-1])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Admit)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", calls
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def _push(ffmpeg: str, settings: IngestSettings, name: str) -> Iterator[subprocess.Popen[bytes]]:
    """An encoder pushing a test picture to stream ``name`` until it is dropped."""
    url = f"rtmp://127.0.0.1:{settings.rtmp_port}/live/{name}"
    source = ["-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"]
    encode = ["-c:v", "libx264", "-preset", "ultrafast", "-f", "flv", url]
    encoder = subprocess.Popen(
        [ffmpeg, "-loglevel", "error", *source, *encode],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield encoder
    finally:
        encoder.kill()
        encoder.wait()


def _recorded(settings: IngestSettings, name: str) -> bool:
    """True once nginx has written some of a publish of ``name``."""
    return any(f.stat().st_size > 0 for f in settings.record_dir.glob(f"{name}-*.flv"))


def _abandon_a_started_nginx(settings: IngestSettings) -> int:
    """Starts nginx from a process that is then killed by SIGKILL; nginx's pid."""
    fields = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(settings).items()}
    serve = subprocess.Popen(
        [sys.executable, "-c", ABANDONING_SERVE, json.dumps(fields)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stdout is not None
        assert serve.stdout.readline().strip() == "started"
    finally:
        serve.kill()
        serve.communicate()
    pid = int((settings.prefix / "nginx.pid").read_text())
    assert _living(pid)
    return pid


def _worker_user() -> str | None:
    """The user nginx's workers run as when the tests run as root.

    Named with its group: nginx takes a lone user name for a group name too, and Debian
    has no group "nobody".
    """
    if os.geteuid() != 0:
        return None
    group = grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
    return f"nobody {group}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def _living(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def _group(pgid: int) -> list[int]:
    """The living processes of process group ``pgid``."""
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    return sorted(p for p in pids if (s := _stat(p)) and s[0] not in "ZX" and int(s[2]) == pgid)


def _ours(settings: IngestSettings) -> list[int]:
    """nginx masters started with this test's config."""
    conf = f"-c {settings.prefix / 'nginx.conf'} "
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if conf in f"{cmdline} " and _living(int(proc.name)):
            found.append(int(proc.name))
    return found


def _kill_leftovers(settings: IngestSettings) -> None:
    """Kills what a failed test left running: the masters of its config and their workers."""
    for pid in _ours(settings):
        for member in _group(pid):
            os.kill(member, signal.SIGKILL)


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.05)
