"""Synthetic, deterministic class recordings for the benchmark, cached by recipe.

Every file is one ffmpeg run over ``lavfi`` sources with fixed seeds, encoded the way class
recorders do (reference/ffmpeg-performance.md §2): H.264 Main, no B-frames, 2 s GOP, CRF 23
capped by VBV; cameras add AAC 48 kHz mono 64 kb/s. The folder is keyed by a hash of the
scenario, every generation command and the ffmpeg version, so it is rebuilt only when the
recipe changes; a ``done.json`` written last marks a complete folder.

Pictures:

* whiteboard, canonical: a white board where a pen adds one 8x6 dash every 4 frames, line
  by line (``lagfun`` keeps the ink), and the board is cleared every ``page_ms`` (two white
  masks hide the ink the pen has not reached again on this page);
* whiteboard, dynamic: ``testsrc2``, full motion everywhere;
* cameras, 640x480 15 fps: three different moving test patterns with temporal noise (a
  sensor), each with its own tone; every 10 s of wall time all cameras flash one white frame
  and beep (1 kHz, 100 ms) together.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.scenario import (
    BOARD_SIZE,
    CAMERA_SIZE,
    FPS,
    ROOM_ID,
    START_EPOCH_MS,
    WHITEBOARD_ID,
    Scenario,
    Segment,
)

#: Bump when the recipe changes in a way the hashed commands do not show.
RECIPE_VERSION = 1
SYNC_PERIOD_S = 10
CAMERA_LOOKS: dict[str, tuple[str, int]] = {
    # stream id -> (moving picture, tone Hz)
    "teacher": ("testsrc2=s={size}:r={fps}", 440),
    "alice": ("testsrc=s={size}:r={fps}", 550),
    "bob": ("smptehdbars=s={size}:r={fps},hue=H=2*PI*t/20", 660),
}
VIDEO_CODEC = [
    "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-bf", "0",
    "-g", str(2 * FPS), "-crf", "23", "-pix_fmt", "yuv420p", "-threads:v", "2",
]  # fmt: skip
AUDIO_CODEC = ["-c:a", "aac", "-b:a", "64k", "-ac", "1", "-ar", "48000"]


@dataclass(frozen=True)
class ClassInputs:
    """A generated recording: its folder, manifest and scenario."""

    folder: Path
    manifest: Path
    scenario: Scenario
    generated_s: float

    def path(self, file: str) -> Path:
        return self.folder / file


def board_graph(scenario: Scenario) -> str:
    w, h = BOARD_SIZE
    size = f"{w}x{h}"
    if scenario.kind == "dynamic":
        return f"testsrc2=s={size}:r={FPS}"
    page = scenario.page_ms * FPS // 1000
    dash = f"floor(mod(n,{page})/4)"  # dashes drawn on this page so far
    row = f"floor({dash}*9/1150)"
    col = f"mod({dash}*9,1150)"
    return (
        f"color=c=black:s={size}:r={FPS}[bg];color=c=white:s=8x6:r={FPS}[pen];"
        f"[bg][pen]overlay=x='60+{col}':y='60+{row}*22':eval=frame:shortest=1,"
        "format=gray,lagfun=decay=1,negate[ink];"
        # The same pen path on every page: hide what this page has not reached yet.
        f"color=c=white:s={size}:r={FPS}[below];color=c=white:s={w}x8:r={FPS}[right];"
        f"[ink][below]overlay=x=0:y='81+{row}*22':eval=frame:shortest=1[half];"
        f"[half][right]overlay=x='69+{col}':y='59+{row}*22':eval=frame:shortest=1,"
        "format=yuv420p"
    )


def camera_graph(seg: Segment, seed: int) -> str:
    look, _ = CAMERA_LOOKS[seg.stream_id]
    w, h = CAMERA_SIZE
    offset = seg.start_ms * FPS // 1000  # frames since the recording start
    period = SYNC_PERIOD_S * FPS
    return (
        look.format(size=f"{w}x{h}", fps=FPS)
        + f",noise=alls=8:allf=t+u:all_seed={seed},format=yuv420p,"
        f"drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:"
        f"enable='eq(mod(n+{offset},{period}),0)'"
    )


def camera_sound(seg: Segment) -> str:
    _, tone = CAMERA_LOOKS[seg.stream_id]
    shift = seg.start_ms / 1000
    beep = f"lt(mod(t+{shift:.3f},{SYNC_PERIOD_S}),0.1)"
    expr = f"0.1*sin(2*PI*{tone}*t)+0.5*sin(2*PI*1000*t)*{beep}"
    return f"aevalsrc=exprs='{expr}':s=48000:c=mono"


def commands(scenario: Scenario) -> list[tuple[str, list[str]]]:
    """(file, ffmpeg arguments after the global options, output last) for each file."""
    out: list[tuple[str, list[str]]] = []
    for seed, seg in enumerate(scenario.segments, start=1):
        seconds = f"{seg.duration_ms / 1000:.3f}"
        fmt = "flv" if seg.file.endswith(".flv") else "mp4"
        if seg.stream_id == WHITEBOARD_ID:
            args = ["-f", "lavfi", "-i", board_graph(scenario), "-t", seconds, *VIDEO_CODEC]
            args += ["-maxrate", "1500k", "-bufsize", "3000k"]
        else:
            args = ["-f", "lavfi", "-i", camera_graph(seg, seed)]
            args += ["-f", "lavfi", "-i", camera_sound(seg), "-t", seconds]
            args += ["-map", "0:v", "-map", "1:a", *VIDEO_CODEC]
            args += ["-maxrate", "600k", "-bufsize", "1200k", *AUDIO_CODEC]
        if fmt == "mp4":
            args += ["-movflags", "+faststart"]
        out.append((seg.file, [*args, "-f", fmt]))
    return out


def manifest(scenario: Scenario) -> dict[str, Any]:
    """The DESIGN §4.1 manifest: Concat on, template 1, mp3 files wanted."""
    streams = [
        {
            "StreamId": sid,
            "Segments": [
                {"Url": s.file, "StartTime": START_EPOCH_MS + s.start_ms}
                for s in scenario.segments_of(sid)
            ],
        }
        for sid in scenario.stream_ids()
    ]
    lo, hi = scenario.pause
    return {
        "RoomId": ROOM_ID,
        "GroupId": str(ROOM_ID),
        "RecordStartTimeMs": START_EPOCH_MS,
        "RecordStopTimeMs": START_EPOCH_MS + scenario.length_ms,
        "Pauses": [{"PauseTime": START_EPOCH_MS + lo, "ResumeTime": START_EPOCH_MS + hi}],
        "Streams": streams,
        "Whiteboard": {},
        "Concat": {"Enabled": True},
        "MixStream": {"Enabled": True, "ModelId": 1},
        "RecordControl": {"Enabled": False},
        "AudioFileNeeded": True,
    }


def ffmpeg_version(ffmpeg: str) -> str:
    proc = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True, check=True)
    first = proc.stdout.splitlines()[0] if proc.stdout else "unknown"
    return first.split(" Copyright")[0]


def recipe_key(scenario: Scenario, ffmpeg: str) -> str:
    recipe = {
        "version": RECIPE_VERSION,
        "scenario": scenario.describe(),
        "commands": commands(scenario),
        "manifest": manifest(scenario),
        "ffmpeg": ffmpeg_version(ffmpeg),
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def ensure_inputs(scenario: Scenario, cache: Path, ffmpeg: str, log: Any = print) -> ClassInputs:
    """The cached recording for ``scenario``; generated first when missing or stale."""
    folder = cache / f"inputs-{scenario.name}-{recipe_key(scenario, ffmpeg)}"
    done = folder / "done.json"
    if done.is_file():
        info = json.loads(done.read_text(encoding="utf-8"))
        return ClassInputs(folder, folder / "manifest.json", scenario, float(info["seconds"]))
    for stale in cache.glob(f"inputs-{scenario.name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    started = time.monotonic()
    for file, args in commands(scenario):
        log(f"  generating {scenario.name}/{file} ...")
        argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
        proc = subprocess.run([*argv, str(partial / file)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"generating {file} failed: {proc.stderr.strip()[-800:]}")
    text = json.dumps(manifest(scenario), indent=2) + "\n"
    (partial / "manifest.json").write_text(text, encoding="utf-8")
    seconds = time.monotonic() - started
    record = {"seconds": round(seconds, 1), "scenario": scenario.describe()}
    (partial / "done.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    partial.rename(folder)
    return ClassInputs(folder, folder / "manifest.json", scenario, seconds)
