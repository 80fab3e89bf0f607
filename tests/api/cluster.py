"""The parts of a cluster in tests: ``mixdown worker`` processes, and the ffmpeg processes they
start, found in ``/proc`` (Linux)."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx

from .conftest import PYTHON, free_port, wait_for


class WorkerProcess:
    """``mixdown worker`` as a child process; ready once its ``/healthz`` answers 200."""

    def __init__(
        self, data_dir: Path, database_url: str, *args: str, env: dict[str, str] | None = None
    ) -> None:
        self.data_dir, self.database_url, self.args = data_dir, database_url, args
        self.env = env or {}
        self.metrics_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"worker-{self.metrics_port}.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def start(self, timeout_s: float = 60) -> WorkerProcess:
        argv = [
            PYTHON,
            "-m",
            "mixdown.cli",
            "worker",
            "--database",
            self.database_url,
            "--data-dir",
            str(self.data_dir),
            "--metrics-port",
            str(self.metrics_port),
            *self.args,
        ]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **self.env}
            )

        def healthy() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited:\n{self.log()}")
            try:
                url = f"http://127.0.0.1:{self.metrics_port}/healthz"
                return httpx.get(url, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout_s, "the worker to become healthy")
        return self

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


def ffmpeg_processes(folder: Path) -> dict[int, int]:
    """Running (not zombie) ffmpeg processes whose command line names ``folder``: pid →
    parent pid."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:  # it ended while we looked
            continue
        # stat: "pid (comm) state ppid ...": comm may hold spaces, so split after ")".
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        names_ffmpeg = bool(argv) and b"ffmpeg" in Path(os.fsdecode(argv[0])).name.encode()
        if names_ffmpeg and state != "Z" and any(str(folder).encode() in a for a in argv):
            found[int(entry.name)] = int(ppid)
    return found


def metric(text: str, name: str, **labels: str) -> float:
    """One sample of a Prometheus text exposition."""
    wanted = name + (
        "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else ""
    )
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {wanted} in:\n{text}")
