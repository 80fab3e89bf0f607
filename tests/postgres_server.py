"""A PostgreSQL server of one test's own (Debian's binaries, a temporary folder, a free
loopback port), so the test can stop and start it mid-task without touching the machine's.

PostgreSQL refuses to run as root: as root, the server runs as the ``postgres`` user,
which Debian's package creates.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Seconds pg_ctl waits for a start or stop (a busy CI machine is slow to fsync).
_PG_CTL_WAIT_S = 120


@dataclass(frozen=True)
class PostgresServer:
    bindir: Path
    folder: Path
    port: int
    #: The command prefix that runs a binary as the server's owner.
    as_owner: tuple[str, ...]

    @property
    def url(self) -> str:
        """A plain URL, as users write it (the project picks the driver)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
        self._pg_ctl("start", "-l", str(self.folder / "server.log"), "-o", options)

    def stop(self) -> None:
        """A fast shutdown: every session is ended at once, as in a restart."""
        self._pg_ctl("stop", "-m", "fast")

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def _pg_ctl(self, *argv: str) -> None:
        command = [*self.as_owner, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w"]
        command += ["-t", str(_PG_CTL_WAIT_S), *argv]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise AssertionError(f"pg_ctl {argv[0]} failed:\n{done.stderr}\n{self.log()[-3000:]}")


def postgres_server() -> Iterator[PostgresServer]:
    """The body of a fixture: a running server, stopped and removed afterwards; skipped
    where PostgreSQL's server binaries are not installed."""
    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    as_owner, owner = _owner()
    folder = Path(tempfile.mkdtemp(prefix="mixdown-pg-"))
    try:
        if owner is not None:
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        initdb = [*as_owner, str(bindir / "initdb"), "-D", str(folder / "data")]
        initdb += ["-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]
        done = subprocess.run(initdb, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise AssertionError(f"initdb failed:\n{done.stderr}")
        server = PostgresServer(bindir, folder, _free_port(), as_owner)
        server.start()
        try:
            yield server
        finally:
            subprocess.run(
                [*as_owner, str(bindir / "pg_ctl"), "-D", str(server.data), "stop", "-m", "i"],
                capture_output=True,
                check=False,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _bindir() -> Path | None:
    """initdb's folder: on the PATH, else Debian's newest /usr/lib/postgresql/<v>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def _owner() -> tuple[tuple[str, ...], pwd.struct_passwd | None]:
    if os.geteuid() != 0:
        return (), None
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root, and there is no postgres user to run PostgreSQL as")
    return ("runuser", "-u", "postgres", "--"), owner


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
