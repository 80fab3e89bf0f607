"""How an RTMP ingest node is set up: its folders under the data folder, its node id and
hook token (kept there), nginx's settings and the user its workers run as, and whether
they can reach the record folder."""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from mixdown.ingest.nginx_config import APPLICATION, IngestSettings, nginx_config
from mixdown.service.config import ServiceConfig


@dataclass(frozen=True)
class IngestConfig:
    data_dir: Path
    rtmp_host: str
    rtmp_port: int
    #: Mixdown's own HTTP address, which nginx calls the hooks at.
    hooks_base: str
    #: Start and supervise nginx; False when the user runs it from ``mixdown ingest-config``.
    manage_nginx: bool = True
    #: The nginx binary; "" to look for it.
    nginx: str = ""
    tick_s: float = 1.0
    #: How long after a stop a segment may wait for its file before it is looked for, and
    #: then counted as lost.
    grace_s: float = 10.0

    @property
    def folder(self) -> Path:
        return self.data_dir / "ingest"

    @property
    def rtmp_url(self) -> str:
        host = "127.0.0.1" if self.rtmp_host in ("0.0.0.0", "::", "") else self.rtmp_host
        host = f"[{host}]" if ":" in host else host
        return f"rtmp://{host}:{self.rtmp_port}/{APPLICATION}"


def ingest_config(service: ServiceConfig) -> IngestConfig:
    """The ingest of ``mixdown serve --rtmp-port``: hooks at the service's own address."""
    assert service.rtmp_port is not None
    host = service.host if service.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return IngestConfig(
        data_dir=service.data_dir.absolute(),
        rtmp_host=service.rtmp_host or service.host,
        rtmp_port=service.rtmp_port,
        hooks_base=f"http://{host}:{service.port}",
        manage_nginx=service.manage_nginx,
        nginx=service.nginx,
    )


def ingest_settings(config: IngestConfig) -> IngestSettings:
    """The nginx configuration's settings: its folders under the data folder, a control
    port next to the RTMP one, the node's hook token."""
    return IngestSettings(
        prefix=config.folder / "nginx",
        record_dir=config.folder / "records",
        rtmp_host=config.rtmp_host,
        rtmp_port=config.rtmp_port,
        hooks_base=config.hooks_base,
        hook_token=kept_secret(config.folder / "hook-token"),
        control_port=config.rtmp_port + 1,
        user=worker_user(),
    )


def worker_user() -> str | None:
    """``user NAME GROUP`` of an nginx started by root, whose workers write the recordings:
    Debian's web server user, else nobody; None when not root (nginx keeps our user)."""
    if os.geteuid() != 0:
        return None
    for name in ("www-data", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return f"{name} {grp.getgrgid(entry.pw_gid).gr_name}"
    return None


def kept_secret(path: Path) -> str:
    """A random value kept in ``path`` (made once): the node's name and its hook token."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        value = secrets.token_hex(16)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(value)
        return value


def ingest_config_text(config: IngestConfig) -> str:
    """``mixdown ingest-config``: the configuration for an nginx the user runs."""
    return nginx_config(ingest_settings(config))


def unreachable(record_dir: Path, user: str) -> str:
    """Why nginx's workers (``user``) cannot reach the record folder, or "": a folder
    above it they may not pass through would leave every publish admitted and unrecorded."""
    name, _, _group = user.partition(" ")
    entry = pwd.getpwnam(name)
    groups = {entry.pw_gid, *(g.gr_gid for g in grp.getgrall() if name in g.gr_mem)}
    for folder in reversed(record_dir.absolute().parents):
        st = folder.stat()
        if st.st_uid == entry.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return (
                f"nginx's workers run as {name} and cannot reach {record_dir}: {folder} is "
                f"closed to them (chmod o+x {folder}, or run mixdown serve as another user)"
            )
    return ""
