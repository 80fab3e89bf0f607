"""Chunked rendering against one render of the mix, measured in one run.

    .venv/bin/python -m bench.chunks [--minutes 10] [--chunks 2] [--cores 2]

On the cached canonical class (``bench/inputs.py``), two rows, each a fresh process that
probes, plans and renders only the mix through Mixdown's own modules:

* **single**: the mix render as ``mixdown generate`` runs it (one ffmpeg);
* **chunked**: the same render cut by ``planning/chunking`` into ``--chunks`` chunks, which
  ``render/assembly`` renders in parallel ffmpeg processes (the audio, mixed once, in one
  more), then joins by stream copy.

For each: wall, CPU (the whole process tree), the largest process's peak RSS, and the
largest sum of the tree's RSS seen at once (sampled; parallel processes add up). Then the
ratio chunked/single and a content check of the joined file against the single one: frame
count and timestamps, durations, parameter sets, and SSIM (``ffmpeg -lavfi ssim``): the
mean and the worst frame, where a frame drawn wrong at a cut would show.

``--worker single|chunked MANIFEST OUT`` is the row itself (what gets measured).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import av

from bench.inputs import ensure_inputs, ffmpeg_version
from bench.measure import Sample, machine, run_measured
from bench.scenario import make_scenario
from mixdown.domain.parameters import GenerationParams
from mixdown.generation import probe_recording
from mixdown.input_files import load_manifest
from mixdown.planning.chunking import chunk_render, cut_points
from mixdown.planning.plan import Plan, Render
from mixdown.planning.planner import plan_generation
from mixdown.render.assembly import render_chunked
from mixdown.render.command import build_command
from mixdown.render.runner import run_ffmpeg
from mixdown.settings import Settings

BENCH = Path(__file__).resolve().parent
MIX_VIDEO_TYPE = 3
SETTINGS_ENV = ("MIXDOWN_PRESET", "MIXDOWN_CRF")


# -- the rows (run in their own process) ----------------------------------------------------


def _mix(manifest: Path, settings: Settings) -> tuple[Plan, Render]:
    recording = load_manifest(manifest)
    probes = probe_recording(recording, settings)
    plan = plan_generation(recording, GenerationParams(), probes, settings)
    renders = [r for r in plan.renders if r.outputs[0].video_type == MIX_VIDEO_TYPE]
    if not renders:
        raise SystemExit("chunks: the plan has no mix (MixStream not enabled?)")
    return plan, renders[0]


def worker(mode: str, manifest: Path, out: Path, chunks: int) -> None:
    settings = Settings.from_env()
    out.mkdir(parents=True, exist_ok=True)
    plan, render = _mix(manifest, settings)
    local = {i.url: i.url for i in plan.inputs}  # the manifest's paths are local
    if mode == "single":
        cmd = build_command(settings.ffmpeg, plan, render, local, out, settings.encoding)
        run_ffmpeg(cmd.argv, render.duration)
        temp = cmd.temp_paths[0]
    else:
        cuts = cut_points(render, chunks, settings.encoding.fps)
        print(f"cuts: {list(cuts)}", flush=True)
        chunked = chunk_render(render, cuts, settings.encoding.fps)
        temp = render_chunked(settings.ffmpeg, plan, chunked, local, out, settings.encoding)
    os.replace(temp, out / "mix.mp4")


# -- measuring ------------------------------------------------------------------------------


class TreeRss:
    """The largest sum of RSS over this process's descendants, sampled every 0.1 s."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak_mb = max(self.peak_mb, _descendants_rss_kb(os.getpid()) / 1024)


def _descendants_rss_kb(root: int) -> int:
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parent.items() if ppid in frontier} - tree
        tree |= frontier
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total


def measure(name: str, argv: list[str], out: Path, env: dict[str, str]) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with TreeRss() as tree:
        sample: Sample = run_measured(argv, out.parent / f"{name}.log", env=env)
    if sample.returncode:
        log = (out.parent / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        raise SystemExit(f"{name} failed (exit {sample.returncode}):\n{log[-1500:]}")
    share = sample.others_share
    print(
        f"  {name}: {sample.wall_s:.1f} s wall, {sample.cpu_s:.1f} s CPU, "
        f"{sample.peak_rss_mb:.0f} MB largest process, {tree.peak_mb:.0f} MB tree, "
        f"others {'?' if share is None else f'{share * 100:.0f} %'}",
        flush=True,
    )
    return {**sample.to_json(), "tree_peak_rss_mb": round(tree.peak_mb, 1)}


# -- content --------------------------------------------------------------------------------


def packets(path: Path) -> dict[str, Any]:
    """Video packet timestamps and the tracks' durations, from demuxing (no decode)."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = next(iter(container.streams.audio), None)
        pts = sorted(p.pts for p in container.demux(video) if p.pts is not None)
        return {
            "frames": len(pts),
            "pts": pts,
            "video_s": float((video.duration or 0) * video.time_base) if video.time_base else 0.0,
            "audio_s": (
                float((audio.duration or 0) * audio.time_base)
                if audio is not None and audio.time_base
                else None
            ),
            "extradata": (video.codec_context.extradata or b"").hex(),
        }


def frame_ssim(ffmpeg: str, distorted: Path, reference: Path) -> tuple[float, float, int]:
    """SSIM frame by frame: (mean, worst, worst frame's index). A wrong frame at a cut
    hardly moves the mean; it shows as the worst."""
    stats = distorted.with_suffix(".ssim.txt")
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error"]
    argv += ["-i", str(distorted), "-i", str(reference)]
    argv += ["-lavfi", f"[0:v][1:v]ssim=stats_file={stats}:shortest=1", "-f", "null", "-"]
    subprocess.run(argv, check=True, capture_output=True)
    scores = [
        float(field.split(":")[1])
        for line in stats.read_text(encoding="utf-8").splitlines()
        for field in line.split()
        if field.startswith("All:")
    ]
    worst = min(range(len(scores)), key=scores.__getitem__)
    return sum(scores) / len(scores), scores[worst], worst


def content(ffmpeg: str, single: Path, joined: Path) -> dict[str, Any]:
    a, b = packets(single), packets(joined)
    started = time.monotonic()
    mean, worst, at = frame_ssim(ffmpeg, joined, single)
    return {
        "frames": [a["frames"], b["frames"]],
        "same_timestamps": a["pts"] == b["pts"],
        "video_s": [a["video_s"], b["video_s"]],
        "audio_s": [a["audio_s"], b["audio_s"]],
        "same_parameter_sets": a["extradata"] == b["extradata"],
        "ssim": round(mean, 6),
        "worst_frame_ssim": round(worst, 6),
        "worst_frame": at,
        "ssim_s": round(time.monotonic() - started, 1),
    }


# -- command line ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0, help="class length (0.5: a smoke)")
    p.add_argument("--chunks", type=int, default=2)
    p.add_argument("--cores", type=int, help="pin everything to this many CPUs")
    p.add_argument("--cache-dir", type=Path, default=BENCH / ".cache")
    p.add_argument("--results-dir", type=Path, default=BENCH / "results")
    p.add_argument("--worker", nargs=3, metavar=("MODE", "MANIFEST", "OUT"))
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        mode, manifest, out = args.worker
        worker(mode, Path(manifest), Path(out), args.chunks)
        return 0
    if args.cores:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    ffmpeg = Settings.from_env(env).ffmpeg
    version = ffmpeg_version(ffmpeg)
    host = machine(version)
    scenario = make_scenario("canonical", args.minutes)
    print(f"{scenario.name}: {scenario.total_ms / 1000:.0f} s of playback; {version}")
    inputs = ensure_inputs(scenario, args.cache_dir, ffmpeg)
    work = args.cache_dir / "runs" / f"chunks-{scenario.name}"
    me = [sys.executable, "-m", "bench.chunks", "--chunks", str(args.chunks)]
    rows = {}
    for mode in ("single", "chunked"):
        out = work / mode
        argv = [*me, "--worker", mode, str(inputs.manifest), str(out)]
        rows[mode] = measure(mode, argv, out, env)
    check = content(ffmpeg, work / "single" / "mix.mp4", work / "chunked" / "mix.mp4")
    media_s = scenario.total_ms / 1000
    one, many = rows["single"], rows["chunked"]
    print(f"\n{'row':<10} {'wall s':>7} {'CPU s':>7} {'RSS MB':>7} {'tree MB':>8} {'RTF':>6}")
    for name, row in rows.items():
        print(
            f"{name:<10} {row['wall_s']:>7.1f} {row['cpu_s']:>7.1f} {row['peak_rss_mb']:>7.0f} "
            f"{row['tree_peak_rss_mb']:>8.0f} {media_s / row['wall_s']:>5.1f}x"
        )
    print(
        f"\nchunked/single: wall {many['wall_s'] / one['wall_s']:.2f}, "
        f"CPU {many['cpu_s'] / one['cpu_s']:.2f}, "
        f"tree RSS {many['tree_peak_rss_mb'] / max(one['tree_peak_rss_mb'], 1):.2f}"
    )
    print(
        f"content: frames {check['frames'][0]} / {check['frames'][1]}, same timestamps "
        f"{check['same_timestamps']}, video {check['video_s'][0]:.3f} / {check['video_s'][1]:.3f}"
        f" s, audio {check['audio_s'][0]} / {check['audio_s'][1]} s, same SPS/PPS "
        f"{check['same_parameter_sets']}, SSIM joined vs single {check['ssim']} "
        f"(worst frame {check['worst_frame']}: {check['worst_frame_ssim']})"
    )
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = args.results_dir / f"{stamp}-chunks-{args.minutes:g}.json"
    record = {"machine": host, "scenario": scenario.describe(), "chunks": args.chunks}
    record.update(rows=rows, content=check)
    path.write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
