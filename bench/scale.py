"""One long class spread over a cluster's workers, against the same class rendered whole, in
one run.

    .venv/bin/python -m bench.scale [--minutes 60] [--chunk-seconds 60] [--database URL]

On the cached canonical class (``bench/inputs.py``), three rows:

* **single**: ``mixdown generate`` of the class, not chunked (the reference: its CPU, and
  its mix for the content check);
* **1 worker**: a real cluster (PostgreSQL, procrastinate, one ``serve --workers 0`` API
  node, a folder store) with one ``mixdown worker`` pinned to one core;
* **2 workers**: the same with two workers, each pinned to a core of its own.

For the cluster rows: the wall from CreateVideoGenerationTask to FINISHED, the CPU of the
worker process trees (ffmpeg included), each worker's peak RSS (its tree, sampled), and the
pieces' own times from the store. Then the speedup 1 → 2 workers, the CPU of the 2-worker
run against the single render's, the SSIM of its joined mix against the single render's,
and a model of the finish time for 4 to 32 workers from the measured piece, queue and
publishing times. Needs a PostgreSQL server (``--database``, a URL whose user may create
databases; default ``postgresql://postgres@127.0.0.1/postgres``).
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

from bench.chunks import SETTINGS_ENV, frame_ssim
from bench.inputs import ensure_inputs, ffmpeg_version
from bench.measure import machine, run_measured
from bench.scenario import make_scenario
from mixdown.settings import Settings

BENCH = Path(__file__).resolve().parent
MIX_VIDEO_TYPE = 3
TICK = os.sysconf("SC_CLK_TCK")
#: How often worker trees' memory is read.
SAMPLE_S = 0.5


# -- processes --------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def _cpu_s(pid: int) -> float:
    """CPU of a process and its waited-for children (ffmpeg runs are waited for)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / TICK


def _rss_mb(pids: Sequence[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


@dataclass
class Peak:
    """The largest RSS of each worker's tree, sampled while the class renders."""

    pids: list[int]
    mb: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        self.mb = [0.0] * len(self.pids)
        while not self.stop.wait(SAMPLE_S):
            for i, pid in enumerate(self.pids):
                self.mb[i] = max(self.mb[i], _rss_mb(_tree(pid)))


class Cluster:
    """An API node and pinned workers on a scratch database of ``server``."""

    def __init__(self, server: str, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.name = f"mixdown_bench_{uuid.uuid4().hex[:10]}"
        self._admin = create_engine(
            make_url(server).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
        )
        with self._admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = make_url(server).set(drivername="postgresql", database=self.name)
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def url_text(self) -> str:
        return self.url.render_as_string(hide_password=False)

    def mixdown(self, *args: str) -> str:
        argv = [sys.executable, "-m", "mixdown.cli", *args]
        return subprocess.run(argv, env=self.env, check=True, capture_output=True, text=True).stdout

    def start(self, *args: str, core: int | None = None, log: str) -> subprocess.Popen[bytes]:
        pin = (lambda: os.sched_setaffinity(0, {core})) if core is not None else None
        with (self.folder / log).open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "mixdown.cli", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                preexec_fn=pin,
            )
        self.procs.append(proc)
        return proc

    def rows(self, sql: str, **params: Any) -> list[Any]:
        engine = create_engine(self.url.set(drivername="postgresql+psycopg"))
        try:
            with engine.connect() as c:
                return list(c.execute(text(sql), params).all())
        finally:
            engine.dispose()

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        with self._admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._admin.dispose()


# -- the API, as a customer calls it ----------------------------------------------------------


def _client(port: int, creds: dict[str, Any]) -> Any:
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.tiw.v20190919 import tiw_client

    http = HttpProfile(endpoint=f"127.0.0.1:{port}", protocol="http", reqTimeout=60)
    cred = credential.Credential(creds["SecretId"], creds["SecretKey"])
    return tiw_client.TiwClient(cred, "ap-guangzhou", ClientProfile(httpProfile=http))


def _call(client: Any, action: str, params: dict[str, Any]) -> dict[str, Any]:
    reply: dict[str, Any] = client.call_json(action, params)["Response"]
    return reply


def _until(check: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            got = check()
        except Exception as exc:  # RequestLimitExceeded and the like: ask again
            if "RequestLimitExceeded" not in str(exc):
                raise
            got = None
        if got:
            return got
        time.sleep(0.5)
    raise TimeoutError(f"{what} took more than {timeout_s:.0f} s")


# -- rows -------------------------------------------------------------------------------------


def single(manifest: Path, out: Path, env: dict[str, str]) -> dict[str, Any]:
    argv = [sys.executable, "-m", "mixdown.cli", "generate", str(manifest), "--out", str(out)]
    sample = run_measured(argv, out.parent / "single.log", env=env)
    if sample.returncode != 0:
        raise RuntimeError(f"mixdown generate exited {sample.returncode}")
    return {"wall_s": sample.wall_s, "cpu_s": sample.cpu_s, "peak_rss_mb": sample.peak_rss_mb}


def cluster_row(
    server: str, inputs_dir: Path, manifest: Path, workers: int, folder: Path, env: dict[str, str]
) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        cluster = Cluster(server, folder, env)
        stack.callback(cluster.close)
        db = ("--database", cluster.url_text)
        creds = json.loads(
            cluster.mixdown("apps", "create", *db, "--data-dir", str(folder / "api"))
        )
        port = _free_port()
        api = ("serve", *db, "--workers", "0", "--port", str(port))
        cluster.start(
            *api, "--data-dir", str(folder / "api"), "--ingest-root", str(inputs_dir), log="api.log"
        )
        client = _client(port, creds)
        _until(lambda: _ready(port), 120, "the API node")
        storage = ("--storage", str(folder / "api" / "outputs"))
        pids = [
            cluster.start(
                "worker",
                *db,
                *storage,
                "--data-dir",
                str(folder / f"w{n}"),
                core=n,
                log=f"w{n}.log",
            ).pid
            for n in range(workers)
        ]
        params = json.loads(manifest.read_text(encoding="utf-8"))
        params["SdkAppId"] = creds["SdkAppId"]
        for stream in params["Streams"]:
            for seg in stream["Segments"]:
                seg["Url"] = str((manifest.parent / seg["Url"]).resolve())
        record = _call(client, "ImportOnlineRecord", params)["TaskId"]
        app = creds["SdkAppId"]
        _until(
            lambda: (
                _call(client, "DescribeOnlineRecord", {"SdkAppId": app, "TaskId": record})["Status"]
                == "FINISHED"
            ),
            3600,
            "the import",
        )
        cpu_before = [_cpu_s(pid) for pid in pids]
        peak = Peak(pids)
        sampler = threading.Thread(target=peak.run, daemon=True)
        sampler.start()
        started = time.monotonic()
        create = {"SdkAppId": app, "OnlineRecordTaskId": record, "MixStream": params["MixStream"]}
        task = _call(client, "CreateVideoGenerationTask", create)["TaskId"]
        done = _until(
            lambda: (
                (
                    d := _call(
                        client, "DescribeVideoGenerationTask", {"SdkAppId": app, "TaskId": task}
                    )
                )["Status"]
                == "FINISHED"
                and d
            ),
            6 * 3600,
            "the generation",
        )
        wall = time.monotonic() - started
        peak.stop.set()
        sampler.join()
        if "Error" in done:
            raise RuntimeError(f"the generation failed: {done['Error']}")
        cpu = sum(_cpu_s(pid) - before for pid, before in zip(pids, cpu_before, strict=True))
        pieces = cluster.rows(
            "SELECT p.name, p.created_ms, p.facts, t.finished_ms FROM task_pieces p "
            "JOIN generation_tasks t ON t.task_id = p.task_id WHERE p.task_id = :t",
            t=task,
        )
        mix = next(v for v in done["VideoInfoList"] if v["VideoType"] == MIX_VIDEO_TYPE)
        mix_path = folder / "mix.mp4"
        _fetch(mix["VideoUrl"], mix_path)
        return {
            "workers": workers,
            "wall_s": wall,
            "cpu_s": cpu,
            "worker_peak_rss_mb": peak.mb,
            "mix": str(mix_path),
            "times": _times(pieces),
        }


def _ready(port: int) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def _fetch(url: str, target: Path) -> None:
    import urllib.request

    with urllib.request.urlopen(url, timeout=600) as reply, target.open("wb") as out:
        while chunk := reply.read(1 << 20):
            out.write(chunk)


def _times(rows: Sequence[Any]) -> dict[str, Any]:
    """The pieces' render times and where the rest of the wall went."""
    runs = {name: facts["run_ms"] / 1000 for name, _c, facts, _f in rows}
    created = min(c for _n, c, _f, _d in rows)
    first_claim = min(facts["claimed_ms"] for _n, _c, facts, _f in rows)
    last_done = max(facts["claimed_ms"] + facts["run_ms"] for _n, _c, facts, _f in rows)
    finished = rows[0][3]
    return {
        "pieces": runs,
        "to_first_piece_s": (first_claim - created) / 1000,
        "publish_s": (finished - last_done) / 1000,
    }


# -- the model -------------------------------------------------------------------------------


def finish_time(runs: Sequence[float], workers: int, per_piece_s: float, fixed_s: float) -> float:
    """Longest piece first, each to the worker free soonest; plus the queue's cost per
    piece taken and the fixed start (planning, first fetch) and end (publishing)."""
    free = [0.0] * workers
    for run in sorted(runs, reverse=True):
        heapq.heappush(free, heapq.heappop(free) + run + per_piece_s)
    return max(free) + fixed_s


def model(row: dict[str, Any]) -> dict[str, Any]:
    times = row["times"]
    runs = list(times["pieces"].values())
    fixed = times["to_first_piece_s"] + times["publish_s"]
    # What the measured wall holds beyond the pieces' own time: the queue's per-piece cost.
    busy = finish_time(runs, row["workers"], 0.0, fixed)
    per_piece = max(0.0, (row["wall_s"] - busy) * row["workers"] / max(len(runs), 1))
    predicted = {w: finish_time(runs, w, per_piece, fixed) for w in (1, 2, 4, 8, 16, 32)}
    longest = max(times["pieces"], key=times["pieces"].__getitem__)
    return {
        "per_piece_queue_s": per_piece,
        "fixed_s": fixed,
        "predicted_wall_s": predicted,
        "longest_piece": [longest, times["pieces"][longest]],
        "floor_s": fixed + times["pieces"][longest] + per_piece,
    }


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=60)
    p.add_argument("--chunk-seconds", type=int, default=60)
    p.add_argument("--database", default="postgresql://postgres@127.0.0.1/postgres")
    p.add_argument("--cache-dir", type=Path, default=BENCH / ".cache")
    p.add_argument("--results-dir", type=Path, default=BENCH / "results")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("bench.scale needs two cores: one per worker")
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    env["MIXDOWN_CHUNK_SECONDS"] = str(args.chunk_seconds)
    ffmpeg = Settings.from_env(env).ffmpeg
    version = ffmpeg_version(ffmpeg)
    scenario = make_scenario("canonical", args.minutes)
    print(f"{scenario.name}: {scenario.total_ms / 1000:.0f} s of playback; {version}")
    inputs = ensure_inputs(scenario, args.cache_dir, ffmpeg)
    work = args.cache_dir / "runs" / f"scale-{scenario.name}-{time.strftime('%H%M%S')}"
    work.mkdir(parents=True)
    whole_env = {k: v for k, v in env.items() if k != "MIXDOWN_CHUNK_SECONDS"}
    reference = single(inputs.manifest, work / "single", whole_env)
    print(f"single: {reference['wall_s']:.1f} s wall, {reference['cpu_s']:.1f} CPU-s")
    rows = {}
    for workers in (1, 2):
        row = cluster_row(
            args.database, inputs.folder, inputs.manifest, workers, work / f"w{workers}", env
        )
        rows[workers] = row
        print(
            f"{workers} worker(s): {row['wall_s']:.1f} s wall, {row['cpu_s']:.1f} CPU-s, "
            f"peak RSS per worker {[round(mb) for mb in row['worker_peak_rss_mb']]} MB, "
            f"{len(row['times']['pieces'])} pieces"
        )
    single_mix = next((work / "single").glob("mix_*.mp4"))
    mean, worst, at = frame_ssim(ffmpeg, Path(rows[2]["mix"]), single_mix)
    speedup = rows[1]["wall_s"] / rows[2]["wall_s"]
    cpu_ratio = rows[2]["cpu_s"] / reference["cpu_s"]
    predicted = model(rows[2])
    print(f"\nspeedup 1 -> 2 workers: {speedup:.2f}x (target >= 1.8)")
    print(f"CPU 2 workers / single render: {cpu_ratio:.3f} (target <= 1.05)")
    print(f"SSIM joined mix vs single render's: mean {mean:.6f}, worst {worst:.6f} (frame {at})")
    print(
        f"peak RSS per worker: {max(max(r['worker_peak_rss_mb']) for r in rows.values()):.0f} MB"
        " (target <= 500)"
    )
    print("model (from the 2-worker run's pieces):")
    for w, s in predicted["predicted_wall_s"].items():
        print(f"  {w:>2} workers: {s:7.1f} s ({scenario.total_ms / 1000 / s:5.1f}x real time)")
    print(
        f"  floor: {predicted['floor_s']:.1f} s = start and publishing {predicted['fixed_s']:.1f} s"
        f" + the longest piece {predicted['longest_piece'][0]} "
        f"{predicted['longest_piece'][1]:.1f} s + queue {predicted['per_piece_queue_s']:.2f} s"
    )
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-scale-{args.minutes:g}.json"
    record = {
        "machine": machine(version),
        "scenario": scenario.describe(),
        "chunk_seconds": args.chunk_seconds,
        "single": reference,
        "rows": rows,
        "speedup": speedup,
        "cpu_ratio": cpu_ratio,
        "ssim": {"mean": mean, "worst": worst, "worst_frame": at},
        "model": predicted,
    }
    path.write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
