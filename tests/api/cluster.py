"""The parts of a cluster in tests: ``mixdown worker`` processes, and the ffmpeg processes they
start, found in ``/proc`` (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

from mixdown.storage.connection import S3Settings
from mixdown.synth import ClipSpec, make_clip
from seaweed import Seaweed

from .conftest import MixdownProcess

#: The cameras of the S3 tests' class: bob blue with a 660 Hz tone, the teacher red with
#: 440 Hz and the sync flashes and beeps.
BLUE, RED = "#2E86C1", "#C0392B"


class WorkerProcess(MixdownProcess):
    """``mixdown worker`` with ``/metrics`` and ``/healthz`` on a free loopback port."""

    command = "worker"

    def __init__(
        self, data_dir: Path, database_url: str, *args: str, env: dict[str, str] | None = None
    ) -> None:
        super().__init__(data_dir, *args, env=env)
        self.database_url = database_url

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    @property
    def healthz_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"

    def start(self, timeout_s: float = 60) -> WorkerProcess:
        argv = ["--database", self.database_url, "--data-dir", str(self.data_dir)]
        argv += ["--metrics-port", str(self.port), *self.args]
        self.launch(argv, self.healthz_url, timeout_s)
        return self


def upload_cameras(
    folder: Path, seaweed: Seaweed, ffmpeg: str, length_ms: int, sync_ms: tuple[int, ...]
) -> str:
    """Make the class's two cameras in ``folder`` and upload them: the ``s3://`` folder
    that holds ``bob.mp4`` and ``teacher.mp4``."""
    client = S3Settings.from_env(seaweed.env()).client()
    specs = {
        "bob": ClipSpec(duration_ms=length_ms, color=BLUE, tone_hz=660),
        "teacher": ClipSpec(
            duration_ms=length_ms, color=RED, tone_hz=440, flashes_ms=sync_ms, beeps_ms=sync_ms
        ),
    }
    for name, spec in specs.items():
        make_clip(spec, folder / f"{name}.mp4", ffmpeg)
        client.upload_file(
            str(folder / f"{name}.mp4"), seaweed.bucket, f"media/{folder.name}/{name}.mp4"
        )
    return f"s3://{seaweed.bucket}/media/{folder.name}"


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
