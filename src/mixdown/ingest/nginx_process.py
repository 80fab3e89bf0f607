"""Supervises the one nginx that records RTMP pushes.

nginx runs in a session of its own, so it outlives a killed ``mixdown serve``: the next
supervisor finds it by its pid file and command line and adopts it instead of cutting the
classes it is recording short. A watch thread starts nginx again when it dies.

An nginx master killed by SIGKILL leaves its workers running, still holding the ports; they
share the master's process group (its session), which is how they are found and ended.
"""

from __future__ import annotations

import grp
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlencode

from mixdown.errors import ResourceUnavailable
from mixdown.ingest.nginx_config import APPLICATION, MODULE, IngestSettings, nginx_config

#: The Debian packages that provide nginx with the RTMP module.
PACKAGES = "nginx-light libnginx-mod-rtmp"
#: Where Debian puts nginx; ``/usr/sbin`` is not on every user's PATH.
DEBIAN_NGINX = Path("/usr/sbin/nginx")
#: A graceful stop (publishes end, files are closed) gets this long before SIGKILL.
STOP_TIMEOUT_S = 10.0
#: nginx listens within a second; a busy machine gets more.
READY_TIMEOUT_S = 10.0
WATCH_INTERVAL_S = 0.5
#: Restarts of an nginx that keeps dying back off up to this delay.
MAX_RESTART_DELAY_S = 30.0
#: An nginx that stayed up this long since the last restart died by accident, not by its
#: setup: the backoff starts over.
STABLE_S = 60.0
CONTROL_TIMEOUT_S = 2.0

_log = logging.getLogger("mixdown.ingest")


class NginxMissing(ResourceUnavailable):
    """nginx, or its RTMP module, is not installed."""


def find_nginx(module: Path = MODULE, binary: Path | None = None) -> Path:
    """The nginx binary (``binary`` when given); raises ``NginxMissing`` without it or
    without the RTMP module."""
    if binary is not None:
        nginx, where = binary, f"the nginx binary {binary}"
    else:
        found = shutil.which("nginx")
        nginx = Path(found) if found else DEBIAN_NGINX
        where = "the nginx binary (not on PATH nor at /usr/sbin/nginx)"
    if not os.access(nginx, os.X_OK):
        raise NginxMissing(_missing(where))
    if not module.is_file():
        raise NginxMissing(_missing(f"the RTMP module {module}"))
    return nginx


def _missing(what: str) -> str:
    return (
        f"live recording needs nginx with the RTMP module, and {what} is missing: install "
        f"the Debian packages {PACKAGES} (apt-get install {PACKAGES})"
    )


@dataclass(frozen=True)
class _Master:
    """The running nginx master: our child, or one adopted from a previous supervisor."""

    pid: int
    child: subprocess.Popen[bytes] | None


class NginxIngest:
    """Starts, watches, adopts and stops the nginx of one ``IngestSettings``."""

    def __init__(
        self, settings: IngestSettings, *, nginx: Path | None = None, restart_delay_s: float = 1.0
    ) -> None:
        # nginx reads relative paths against its prefix: the config must name absolute ones.
        self._settings = replace(
            settings, prefix=settings.prefix.absolute(), record_dir=settings.record_dir.absolute()
        )
        self._nginx = nginx
        self._restart_delay_s = restart_delay_s
        self._master: _Master | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        master = self._master
        return master.pid if master else None

    def running(self) -> bool:
        master = self._master
        return master is not None and self._alive(master)

    def start(self) -> None:
        """Starts nginx (or adopts the one still running) and waits until it takes pushes."""
        if self._thread is not None:
            return  # started already: the watch thread keeps it running
        self._stopping.clear()
        self._prepare_folders()
        unchanged = self._install_config()
        self._give_to_user()
        survivor = self._survivor() if unchanged else None
        if survivor is not None:
            _log.info("adopting the running nginx (pid %d): it keeps recording", survivor)
            self._master = _Master(survivor, None)
        else:
            self._end_stale()
            self._spawn()
        try:
            self._wait_ready()
        except ResourceUnavailable:
            self._end_master()
            raise
        self._thread = threading.Thread(target=self._watch, name="nginx-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ends every publish and stops nginx: gracefully (SIGQUIT), by SIGKILL after a while.

        Call it while Mixdown still answers the hooks of the publishes it ends.
        """
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.running():
            # SIGQUIT alone waits for the publishers to leave, and they do not: ending their
            # publishes first closes the files (nginx reports them) and nginx quits at once.
            self._drop({"app": APPLICATION})
        self._end_master()

    def drop_publisher(self, name: str) -> bool:
        """Drops the publishers of stream ``name``; True when nginx dropped one.

        nginx answers 200 with the number of sessions it dropped as the body (``0`` when
        nobody publishes ``name``, or even for an unknown application), so the count is
        the answer, not the status. Never raises: nginx not answering is False too.
        """
        return self._drop({"app": APPLICATION, "name": name}) > 0

    def _drop(self, query: dict[str, str]) -> int:
        """How many publishers nginx dropped (without ``name``: all of the app's); 0 on errors."""
        url = f"{self._settings.control_url}/drop/publisher?{urlencode(query)}"
        # Loopback: an http_proxy from the environment must not carry it.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(url, timeout=CONTROL_TIMEOUT_S) as response:
                body: bytes = response.read(64)
            return int(body.strip() or b"0")
        except (OSError, ValueError):
            return 0

    # Paths.

    @property
    def _conf(self) -> Path:
        return self._settings.prefix / "nginx.conf"

    @property
    def _logs(self) -> Path:
        return self._settings.prefix / "logs"

    # Setting up.

    def _prepare_folders(self) -> None:
        s = self._settings
        for folder in (self._logs, s.prefix / "temp", s.record_dir):
            folder.mkdir(parents=True, exist_ok=True)

    def _install_config(self) -> bool:
        """Writes nginx.conf once nginx accepts it; True when it is what was there already."""
        text = nginx_config(self._settings)
        unchanged = self._conf.is_file() and self._conf.read_text() == text
        # Tested under another name, so a refused config never replaces a working one.
        candidate = self._conf.with_name("nginx.conf.new")
        candidate.write_text(text)
        self._test_config(candidate)
        candidate.replace(self._conf)
        return unchanged

    def _test_config(self, conf: Path) -> None:
        command = [*self._command(conf), "-t"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise ResourceUnavailable(f"nginx cannot test its configuration {conf}: {e}") from e
        if done.returncode != 0:
            raise ResourceUnavailable(
                f"nginx refuses its configuration {conf}: {done.stderr.strip()}"
            )

    def _give_to_user(self) -> None:
        """Hands the folders nginx's workers write to the user they run as (root only)."""
        s = self._settings
        if os.geteuid() != 0 or not s.user:
            return
        # nginx's own reading of ``user NAME [GROUP]``: no group is the group named NAME.
        name, _, group = s.user.partition(" ")
        uid = pwd.getpwnam(name).pw_uid
        gid = grp.getgrnam(group.strip() or name).gr_gid
        for folder in (s.record_dir, s.prefix / "temp"):
            os.chown(folder, uid, gid)

    def _command(self, conf: Path) -> list[str]:
        if self._nginx is None:
            self._nginx = find_nginx(self._settings.module)
        prefix = str(self._settings.prefix)
        return [str(self._nginx), "-p", prefix, "-c", str(conf), "-g", "daemon off;"]

    # Finding what a previous supervisor left.

    def _recorded_pid(self) -> int | None:
        try:
            return int((self._settings.prefix / "nginx.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def _survivor(self) -> int | None:
        """The pid of an nginx master of our config still running, if any."""
        pid = self._recorded_pid()
        if pid is None or not _runs_conf(pid, self._conf):
            return None
        return pid if "master process" in _cmdline(pid) else None

    def _end_stale(self) -> None:
        """Ends a previous nginx of ours (another config, or its workers orphaned)."""
        pid = self._recorded_pid()
        if pid is not None:
            _end_group(pid, self._conf)

    # Running.

    def _spawn(self) -> None:
        with (self._logs / "nginx.out").open("ab") as out:
            # A session of its own: nginx outlives a killed parent, and its group holds
            # its workers.
            child = subprocess.Popen(
                self._command(self._conf),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._master = _Master(child.pid, child)

    def _alive(self, master: _Master) -> bool:
        if master.child is not None:
            return master.child.poll() is None
        return _runs_conf(master.pid, self._conf)

    def _wait_ready(self) -> None:
        s = self._settings
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and not self._stopping.is_set():
            master = self._master
            if master is None or not self._alive(master):
                break
            if _accepts(_dial_host(s.rtmp_host), s.rtmp_port):
                return
            time.sleep(0.1)
        raise ResourceUnavailable(
            f"nginx does not accept RTMP connections on {s.rtmp_host}:{s.rtmp_port}: "
            f"{self._log_tail()}"
        )

    def _log_tail(self) -> str:
        for name in ("error.log", "nginx.out"):
            tail = _tail(self._logs / name)
            if tail:
                return f"{name} ends with: {tail}"
        return "nginx logged nothing"

    def _end_master(self) -> None:
        master, self._master = self._master, None
        if master is not None:
            self._end(master)

    def _end(self, master: _Master) -> None:
        _end_group(master.pid, self._conf)
        if master.child is not None:
            master.child.wait()

    # Watching.

    def _watch(self) -> None:
        delay = self._restart_delay_s
        up_since = time.monotonic()
        while not self._stopping.wait(WATCH_INTERVAL_S):
            master = self._master
            if master is None or self._alive(master):
                continue
            if time.monotonic() - up_since >= STABLE_S:
                delay = self._restart_delay_s
            _log.warning("nginx (pid %d) died; starting it again in %.1f s", master.pid, delay)
            if self._stopping.wait(delay):
                return
            self._restart(master)
            up_since = time.monotonic()
            delay = min(delay * 2, MAX_RESTART_DELAY_S)

    def _restart(self, dead: _Master) -> None:
        try:
            # Its orphaned workers still hold the ports, and may still record: their
            # publishes end cleanly first (the encoders push again to the new nginx).
            self._drop({"app": APPLICATION})
            self._end(dead)
            if self._stopping.is_set():
                return
            self._spawn()
            self._wait_ready()
        except (OSError, ResourceUnavailable) as e:
            _log.warning("nginx did not start again: %s", e)
            # Ends what did start, so the next round sees it dead and tries again.
            if self._master is not None:
                self._end(self._master)


# Processes, from /proc.


def _stat(pid: int) -> tuple[str, str, int] | None:
    """(command name, state, process group) of ``pid``; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The name is in parentheses and may hold anything: the fields follow the last ")".
    head, _, rest = text.rpartition(")")
    fields = rest.split()
    return head.partition("(")[2], fields[0], int(fields[2])


def _living(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[1] not in ("Z", "X")


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    # nginx rewrites its title to "nginx: master process <argv joined by spaces>".
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def _runs_conf(pid: int, conf: Path) -> bool:
    """True when ``pid`` is a living nginx started with ``-c conf`` (not a reused pid)."""
    stat = _stat(pid)
    if stat is None or stat[0] != "nginx" or stat[1] in ("Z", "X"):
        return False
    return f" -c {conf} " in f" {_cmdline(pid)} "


def _group(leader: int) -> list[int]:
    """The living nginx processes of the process group ``leader`` leads (or led)."""
    members: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(int(entry.name))
        if stat and stat[0] == "nginx" and stat[1] not in ("Z", "X") and stat[2] == leader:
            members.append(int(entry.name))
    return members


def _end_group(leader: int, conf: Path) -> None:
    """Ends the nginx master ``leader`` of ``conf`` and its workers, even orphaned ones.

    SIGQUIT first: publishes end and files are closed. A pid that another process holds
    now is left alone.
    """
    if _living(leader) and not _runs_conf(leader, conf):
        return
    _signal([leader] if _living(leader) else _group(leader), signal.SIGQUIT)
    if _wait_gone(leader, STOP_TIMEOUT_S):
        return
    _log.warning("nginx (pid %d) did not stop in %.0f s; killing it", leader, STOP_TIMEOUT_S)
    _signal(_group(leader), signal.SIGKILL)
    _wait_gone(leader, STOP_TIMEOUT_S)


def _signal(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, sig)


def _wait_gone(leader: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while _living(leader) or _group(leader):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


# Network and logs.


def _dial_host(host: str) -> str:
    """Where to connect to reach a server listening on ``host`` (any address: loopback)."""
    host = host.strip("[]")
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _tail(path: Path, lines: int = 5) -> str:
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - 4096))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return " | ".join(text.strip().splitlines()[-lines:])
