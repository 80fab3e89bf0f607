"""The parts of a cluster in tests: an API node with ``mixdown worker`` processes on one
PostgreSQL database, driven through the official SDK; the long class they render; the ffmpeg
processes workers start, found in ``/proc`` (Linux)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from attempts import kept_attempts
from mixdown.storage.connection import S3Settings
from mixdown.store.database import Database
from mixdown.synth import ClipSpec, make_clip
from seaweed import Seaweed

from .conftest import (
    LONG_MS,
    T0,
    Creds,
    MixdownProcess,
    ServerProcess,
    call,
    cli_create_app,
    sdk,
    wait_for,
)
from .wire_support import Receiver

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


ONE_LANE = {"MIXDOWN_RENDER_LANES": "1"}
#: A short lease: a killed worker's task is taken over within seconds.
SHORT_LEASE = {"MIXDOWN_LEASE_SECONDS": "3"}
FINISHED = "VideoGenerationFinished"


@dataclass
class Cluster:
    tmp: Path
    url: str
    media: Path
    creds: Creds
    api: ServerProcess
    receiver: Receiver
    workers: list[WorkerProcess]

    @property
    def client(self) -> Any:
        return sdk(self.api.port, self.creds)

    def worker(self, env: dict[str, str], *args: str) -> WorkerProcess:
        """A new worker (not started) writing its outputs where the API node serves them;
        ``args`` are more of its options."""
        n = len(self.workers)
        worker = WorkerProcess(
            self.tmp / f"worker{n}",
            self.url,
            "--storage",
            str(self.tmp / "api" / "outputs"),
            "--allow-private-urls",
            "--public-url",
            self.api.url,
            "--callback-retry-base",
            "0.2",
            *args,
            env=env,
        )
        self.workers.append(worker)
        return worker

    def rows(self, sql: str, **params: Any) -> list[Any]:
        """The rows a statement returns, committed."""
        db = Database.from_url(self.url)
        try:
            with db.engine.begin() as c:
                return list(c.execute(text(sql), params).all())
        finally:
            db.dispose()


@contextmanager
def running_cluster(tmp: Path, url: str, media: Path, api_workers: int = 0) -> Iterator[Cluster]:
    api_dir = tmp / "api"
    creds = cli_create_app(api_dir, "--database", url)
    receiver = Receiver()
    api = ServerProcess(
        api_dir,
        "--database",
        url,
        "--workers",
        str(api_workers),
        "--ingest-root",
        str(media),
        "--allow-private-urls",
    ).start()
    cluster = Cluster(tmp, url, media, creds, api, receiver, [])
    try:
        for kind in ("VideoGenerationTaskCallback", "OnlineRecordCallback"):
            call(
                cluster.client,
                f"Set{kind}",
                {"SdkAppId": creds.sdk_app_id, "Callback": receiver.url},
            )
        yield cluster
    finally:
        for worker in cluster.workers:
            worker.stop()
        api.stop()
        receiver.close()


def task_status(cluster: Cluster, noun: str, task_id: str) -> str:
    got = call(
        cluster.client, f"Describe{noun}", {"SdkAppId": cluster.creds.sdk_app_id, "TaskId": task_id}
    )
    return str(got["Status"])


def import_record(cluster: Cluster, params: dict[str, Any]) -> str:
    task_id: str = call(cluster.client, "ImportOnlineRecord", params)["TaskId"]
    return task_id


def wait_imported(cluster: Cluster, record_id: str) -> None:
    wait_for(
        lambda: task_status(cluster, "OnlineRecord", record_id) == "FINISHED", 60, "the import"
    )


def create_generation(cluster: Cluster, record_id: str, **params: Any) -> str:
    body = {"SdkAppId": cluster.creds.sdk_app_id, "OnlineRecordTaskId": record_id, **params}
    task_id: str = call(cluster.client, "CreateVideoGenerationTask", body)["TaskId"]
    return task_id


def wait_generated(cluster: Cluster, task_id: str, timeout_s: float = 90) -> dict[str, Any]:
    describe = {"SdkAppId": cluster.creds.sdk_app_id, "TaskId": task_id}
    done: dict[str, Any] = wait_for(
        lambda: (
            (d := call(cluster.client, "DescribeVideoGenerationTask", describe))["Status"]
            == "FINISHED"
            and d
        ),
        timeout_s,
        "the generation to finish",
    )
    return done


def long_recording(app: int) -> dict[str, Any]:
    return {
        "SdkAppId": app,
        "RoomId": 7,
        "RecordStartTimeMs": T0,
        "RecordStopTimeMs": T0 + LONG_MS,
        "Streams": [
            {"StreamId": "tic_record_user", "Segments": [{"Url": "wb.mp4", "StartTime": T0}]},
            {"StreamId": "teacher", "Segments": [{"Url": "cam.mp4", "StartTime": T0}]},
        ],
        "Whiteboard": {"Width": 320, "Height": 240},
        "MixStream": {"Enabled": True, "ModelId": 1},
    }


def rendering_worker(cluster: Cluster) -> tuple[WorkerProcess, set[int]]:
    """The worker running ffmpeg for this test now, and its ffmpeg processes."""

    def found() -> tuple[WorkerProcess, set[int]] | None:
        running = ffmpeg_processes(cluster.tmp)
        for worker in cluster.workers:
            mine = {pid for pid, parent in running.items() if parent == worker.pid}
            if mine:
                return worker, mine
        return None

    return wait_for(found, 60, "a worker to start ffmpeg", every_s=0.05)


def kill_a_rendering_worker(cluster: Cluster) -> None:
    """``kill -9`` the worker running ffmpeg now; its ffmpeg processes die with it."""
    victim, its_ffmpeg = rendering_worker(cluster)
    victim.kill9()
    wait_for(
        lambda: not its_ffmpeg & set(ffmpeg_processes(cluster.tmp)),
        10,
        "the killed worker's ffmpeg to die with it",
        every_s=0.05,
    )


def exactly_once(cluster: Cluster, task_id: str) -> None:
    """One committed result, one VideoGenerationFinished event, delivered once."""
    events = cluster.rows(
        "SELECT state FROM callback_deliveries WHERE task_id = :t AND event_type = :e",
        t=task_id,
        e=FINISHED,
    )
    assert len(events) == 1
    wait_for(lambda: cluster.receiver.of(FINISHED, task_id), 30, "the callback")
    assert len(cluster.receiver.of(FINISHED, task_id)) == 1
    outputs = cluster.tmp / "api" / "outputs"
    assert len([p for p in kept_attempts(outputs) if p.parent.name == task_id]) == 1
