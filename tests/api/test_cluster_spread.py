"""One class spread over several workers: its mixed video cut into chunks that different
workers render, joined by stream copy, published once (real processes, real PostgreSQL);
a worker killed during a chunk costs that chunk, not the class.

The class: 9 s; ``bob`` (blue, 660 Hz) and ``teacher`` (red, 440 Hz, a white flash and a
1 kHz beep at 2200, 4600 and 7000) on a 320x120 custom canvas. With 2 s chunks its mix is
four chunks and a sound piece, beside the two per-stream videos.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import mediacheck as mc
from mixdown.synth import ClipSpec, make_clip

from .cluster import (
    LONG_MS,
    ONE_LANE,
    SHORT_LEASE,
    Cluster,
    WorkerProcess,
    create_generation,
    exactly_once,
    import_record,
    kill_a_rendering_worker,
    long_recording,
    metric,
    running_cluster,
    wait_generated,
    wait_imported,
)
from .conftest import T0, call, wait_for

pytestmark = pytest.mark.media

LENGTH_MS = 9000
SYNC_MS = (2200, 4600, 7000)
CHUNKS = {"MIXDOWN_CHUNK_SECONDS": "2"}
CUSTOM = {
    "Canvas": {"LayoutParams": {"Width": 320, "Height": 120}},
    "InputStreamList": [
        {"LayoutParams": {"X": x, "Y": 0, "Width": 160, "Height": 120}, "InputStreamId": sid}
        for sid, x in (("bob", 0), ("teacher", 160))
    ],
}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    root = tmp_path_factory.mktemp("spread-media")
    bob = ClipSpec(duration_ms=LENGTH_MS, color="#2E86C1", tone_hz=660)
    teacher = ClipSpec(
        duration_ms=LENGTH_MS,
        color="#C0392B",
        tone_hz=440,
        flashes_ms=SYNC_MS,
        beeps_ms=SYNC_MS,
    )
    make_clip(bob, root / "bob.mp4", ffmpeg)
    make_clip(teacher, root / "teacher.mp4", ffmpeg)
    return root


@pytest.fixture
def cluster(tmp_path: Path, scratch_url: str, media: Path) -> Iterator[Cluster]:
    with running_cluster(tmp_path, scratch_url, media) as made:
        yield made


def test_a_class_mix_is_rendered_in_chunks_by_several_workers_and_joined_once(
    cluster: Cluster,
) -> None:
    workers = [cluster.worker(SHORT_LEASE | CHUNKS).start() for _ in range(3)]
    app = cluster.creds.sdk_app_id
    record = {
        "SdkAppId": app,
        "RoomId": 9,
        "RecordStartTimeMs": T0,
        "RecordStopTimeMs": T0 + LENGTH_MS,
        "Streams": [
            {"StreamId": sid, "Segments": [{"Url": f"{sid}.mp4", "StartTime": T0}]}
            for sid in ("bob", "teacher")
        ],
    }
    record_id = import_record(cluster, record)
    wait_imported(cluster, record_id)
    task_id = create_generation(cluster, record_id, MixStream={"Enabled": True, "Custom": CUSTOM})
    done = wait_generated(cluster, task_id, timeout_s=120)

    pieces = sorted(
        n for (n,) in cluster.rows("SELECT name FROM task_pieces WHERE task_id = :t", t=task_id)
    )
    chunks = [n for n in pieces if ".chunk" in n]
    assert len(chunks) == 4 and any(n.endswith(".audio.mp4") for n in pieces)
    counts = [
        metric(
            httpx.get(w.metrics_url, timeout=10).text,
            "mixdown_job_duration_seconds_count",
            kind="piece",
        )
        for w in workers
    ]
    assert sum(counts) == len(pieces) and sum(1 for c in counts if c > 0) >= 2, counts

    mix = next(v for v in done["VideoInfoList"] if v["VideoType"] == 3)
    assert abs(mix["VideoDuration"] - LENGTH_MS) <= 70 and (mix["Width"], mix["Height"]) == (
        320,
        120,
    )
    path = cluster.tmp / "mix.mp4"
    got = httpx.get(mix["VideoUrl"], timeout=30)
    assert got.status_code == 200 and len(got.content) == mix["VideoSize"]
    path.write_bytes(got.content)
    left, right = mc.center_region(0, 15, 160, 105), mc.center_region(160, 15, 160, 105)
    for t in (500, 3000, 5000, 8500):  # inside each chunk
        frame = mc.frame_at(path, t)
        mc.assert_color(mc.mean_color(frame, *left), "#2E86C1", what=f"bob at {t}")
        mc.assert_color(mc.mean_color(frame, *right), "#C0392B", what=f"teacher at {t}")
    flashes, beeps = mc.flash_times_ms(path, right), mc.beep_onsets_ms(path, 1000)
    assert len(flashes) == len(beeps) == len(SYNC_MS), (flashes, beeps)
    for flash, beep, want in zip(flashes, beeps, SYNC_MS, strict=True):
        assert abs(flash - want) <= 1000 / 15 and abs(beep - want) <= 1000 / 15
    assert mc.frame_times_ms(path)[-1] >= LENGTH_MS - 2 * 1000 / 15

    exactly_once(cluster, task_id)
    # The pieces' own files are gone once published: only the final outputs are kept.
    kept = [p for p in (cluster.tmp / "api" / "outputs").rglob("*") if p.is_file()]
    assert sorted(p.name for p in kept) == sorted(
        v["VideoUrl"].rsplit("/", 1)[1] for v in done["VideoInfoList"]
    )
    status = call(
        cluster.client, "DescribeVideoGenerationTask", {"SdkAppId": app, "TaskId": task_id}
    )
    assert status["Progress"] == 100


@pytest.fixture
def long(tmp_path: Path, scratch_url: str, long_media: Path) -> Iterator[Cluster]:
    with running_cluster(tmp_path, scratch_url, long_media) as made:
        yield made


def test_a_worker_killed_during_a_chunk_costs_that_chunk_only(long: Cluster) -> None:
    for _ in range(2):
        long.worker(SHORT_LEASE | CHUNKS | ONE_LANE).start()
    record_id = import_record(long, long_recording(long.creds.sdk_app_id))
    wait_imported(long, record_id)
    task_id = create_generation(long, record_id)

    kill_a_rendering_worker(long)
    done = wait_generated(long, task_id, timeout_s=180)

    exactly_once(long, task_id)
    runs = dict(long.rows("SELECT name, runs FROM task_pieces WHERE task_id = :t", t=task_id))
    assert sum(1 for n in runs if ".chunk" in n) >= 12  # the mix and the whiteboard, in chunks
    assert sorted(runs.values())[-1] == 2 and sum(r == 2 for r in runs.values()) <= 2
    [(attempts,)] = long.rows("SELECT attempts FROM generation_tasks WHERE task_id = :t", t=task_id)
    assert attempts == 1
    mix = next(v for v in done["VideoInfoList"] if v["VideoType"] == 3)
    assert abs(mix["VideoDuration"] - LONG_MS) <= 70
    path = long.tmp / "mix.mp4"
    path.write_bytes(httpx.get(mix["VideoUrl"], timeout=30).content)
    times = mc.frame_times_ms(path)
    steps = [b - a for a, b in itertools.pairwise(times)]
    assert max(steps) < 2 * 1000 / 15, "no frame is missing at a seam"


def _publishing_worker(cluster: Cluster) -> WorkerProcess:
    """The worker publishing now: its scratch folder holds the publishing's files."""

    def found() -> WorkerProcess | None:
        for worker in cluster.workers:
            if any((worker.data_dir / "scratch").glob("publish-*")):
                return worker
        return None

    publishing: WorkerProcess = wait_for(found, 120, "a worker to publish", every_s=0.01)
    return publishing


def test_a_worker_killed_while_publishing_is_replaced_and_the_task_published_once(
    long: Cluster,
) -> None:
    for _ in range(2):
        long.worker(SHORT_LEASE | CHUNKS).start()
    record_id = import_record(long, long_recording(long.creds.sdk_app_id))
    wait_imported(long, record_id)
    task_id = create_generation(long, record_id)

    _publishing_worker(long).kill9()
    done = wait_generated(long, task_id, timeout_s=120)

    exactly_once(long, task_id)
    assert len(done["VideoInfoList"]) == 3 and done["Progress"] == 100
    mix = next(v for v in done["VideoInfoList"] if v["VideoType"] == 3)
    got = httpx.get(mix["VideoUrl"], timeout=30)
    assert got.status_code == 200 and len(got.content) == mix["VideoSize"]
    # The killed publishing left nothing behind: only the final files, no parts.
    kept = [p for p in (long.tmp / "api" / "outputs").rglob("*") if p.is_file()]
    assert sorted(p.name for p in kept) == sorted(
        v["VideoUrl"].rsplit("/", 1)[1] for v in done["VideoInfoList"]
    )


def test_without_a_chunk_length_a_class_is_cut_for_the_workers_there_are(long: Cluster) -> None:
    for _ in range(3):
        long.worker(SHORT_LEASE).start()
    record_id = import_record(long, long_recording(long.creds.sdk_app_id))
    wait_imported(long, record_id)
    task_id = create_generation(long, record_id)
    done = wait_generated(long, task_id, timeout_s=120)

    # 24 s over three workers: chunks of the shortest length, 10 s (two each).
    names = {n for (n,) in long.rows("SELECT name FROM task_pieces WHERE task_id = :t", t=task_id)}
    assert {n for n in names if n.startswith("mix_") and ".chunk" in n} == {
        "mix_7_1.chunk000.mp4",
        "mix_7_1.chunk001.mp4",
    }
    mix = next(v for v in done["VideoInfoList"] if v["VideoType"] == 3)
    assert abs(mix["VideoDuration"] - LONG_MS) <= 70
