"""``mixdown demo``: synthesise a short class recording and generate its videos.

The class lasts 30 s of wall time with a pause from 15 s to 18 s (so 27 s of playback):

* ``tic_record_user``: the whiteboard, a pale board with a sliding mark;
* ``teacher``: red, 440 Hz tone, present throughout;
* ``alice``: green, 550 Hz tone, joins late (at 8 s);
* ``bob``: blue, 660 Hz tone, leaves at 10 s and comes back at 20 s (the second piece is FLV).

Every camera flashes white and beeps at the same instants, so A/V sync is visible in the
outputs. The inputs and ``manifest.json`` go to ``OUT/inputs``, the generated videos and
``result.json`` to ``OUT/output``, and a 3x3 contact sheet of the mixed video to
``OUT/contact-sheet.png``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mixdown.errors import InternalError
from mixdown.generation import generate_from_manifest
from mixdown.render.progress import Progress
from mixdown.settings import Settings
from mixdown.synth import ClipSpec, make_clip, run_ffmpeg
from mixdown.tiw import documents

START_MS = 1_700_000_000_000
LENGTH_MS = 30_000
PAUSE_MS = (15_000, 18_000)
ROOM_ID = 1253
MIX_VIDEO_TYPE = 3
#: Fonts tried for the contact sheet's time stamps; without one the sheet has no text.
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
)


@dataclass(frozen=True)
class DemoPiece:
    """One synthetic segment: which stream, where it starts in wall time, what it holds."""

    stream_id: str
    url: str
    offset_ms: int
    spec: ClipSpec


@dataclass(frozen=True)
class DemoReport:
    """What the demo made, and where."""

    manifest: Path
    result_json: Path
    contact_sheet: Path | None
    outputs: tuple[Path, ...]
    total_time_ms: int

    def describe(self) -> dict[str, Any]:
        """Where everything is, as JSON-ready data (what ``mixdown demo`` prints)."""
        return {
            "manifest": str(self.manifest),
            "result": str(self.result_json),
            "contact_sheet": str(self.contact_sheet) if self.contact_sheet else None,
            "total_time_ms": self.total_time_ms,
            "outputs": [str(p) for p in self.outputs],
        }


def _camera(color: str, tone_hz: int, length_ms: int, first_flash_ms: int) -> ClipSpec:
    # Flash and beep every 3 s, on the wall-clock grid, so every camera flashes together.
    sync = tuple(range(first_flash_ms, length_ms - 200, 3000))
    return ClipSpec(
        duration_ms=length_ms, width=320, height=240, fps=15, color=color, tone_hz=tone_hz,
        flashes_ms=sync, beeps_ms=sync, gop_frames=30,
    )  # fmt: skip


def demo_pieces() -> tuple[DemoPiece, ...]:
    """The recording's segments (offsets are wall-clock ms after the recording start)."""
    bob_again = replace(_camera("#2E86C1", 660, 10_000, 2000), container="flv")
    board = ClipSpec(
        duration_ms=LENGTH_MS,
        width=640,
        height=480,
        fps=15,
        color="#EEEEE6",
        gop_frames=30,
        has_audio=False,
    )
    return (
        DemoPiece("tic_record_user", "whiteboard.mp4", 0, board),
        DemoPiece("teacher", "teacher.mp4", 0, _camera("#C0392B", 440, LENGTH_MS, 1000)),
        DemoPiece("alice", "alice.mp4", 8000, _camera("#27AE60", 550, LENGTH_MS - 8000, 2000)),
        DemoPiece("bob", "bob-1.mp4", 0, _camera("#2E86C1", 660, 10_000, 1000)),
        DemoPiece("bob", "bob-2.flv", 20_000, bob_again),
    )


def demo_manifest(pieces: tuple[DemoPiece, ...]) -> dict[str, Any]:
    """The DESIGN §4.1 manifest of ``pieces`` (relative URLs)."""
    streams: dict[str, list[dict[str, Any]]] = {}
    for piece in pieces:
        segment = {"Url": piece.url, "StartTime": START_MS + piece.offset_ms}
        streams.setdefault(piece.stream_id, []).append(segment)
    return {
        "RoomId": ROOM_ID,
        "GroupId": str(ROOM_ID),
        "RecordStartTimeMs": START_MS,
        "RecordStopTimeMs": START_MS + LENGTH_MS,
        "Pauses": [{"PauseTime": START_MS + PAUSE_MS[0], "ResumeTime": START_MS + PAUSE_MS[1]}],
        "Streams": [{"StreamId": sid, "Segments": segs} for sid, segs in streams.items()],
        "Whiteboard": {},
        "Concat": {"Enabled": True},
        "MixStream": {"Enabled": True, "ModelId": 1},
        "RecordControl": {"Enabled": False},
        "AudioFileNeeded": True,
    }


def write_inputs(folder: Path, ffmpeg: str, progress: Progress | None = None) -> Path:
    """Synthesise the demo's media and manifest into ``folder``; returns the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    pieces = demo_pieces()
    for i, piece in enumerate(pieces):
        make_clip(piece.spec, folder / piece.url, ffmpeg)
        if progress:
            progress((i + 1) / len(pieces))
    manifest = folder / "manifest.json"
    manifest.write_text(json.dumps(demo_manifest(pieces), indent=2) + "\n", encoding="utf-8")
    return manifest


def run_demo(out_dir: Path, settings: Settings, progress: Progress | None = None) -> DemoReport:
    """Synthesise the recording, generate from it, and draw a contact sheet of the mix."""

    def part(lo: float, hi: float) -> Progress | None:
        if progress is None:
            return None
        report = progress
        return lambda f: report(lo + (hi - lo) * min(max(f, 0.0), 1.0))

    manifest = write_inputs(out_dir / "inputs", settings.ffmpeg, part(0.0, 0.1))
    output = out_dir / "output"
    result = generate_from_manifest(manifest, None, output, settings, progress=part(0.1, 0.95))
    tiw = documents.result(result)
    infos: list[dict[str, Any]] = list(tiw["VideoInfoList"])
    sheet = None
    mix = next((v for v in infos if v.get("VideoType") == MIX_VIDEO_TYPE), None)
    if mix is not None:
        sheet = contact_sheet(
            output / mix["VideoUrl"], int(mix["VideoDuration"]), out_dir / "contact-sheet.png",
            settings.ffmpeg,
        )  # fmt: skip
    if progress:
        progress(1.0)
    return DemoReport(
        manifest=manifest,
        result_json=output / "result.json",
        contact_sheet=sheet,
        outputs=tuple(output / v["VideoUrl"] for v in infos),
        total_time_ms=int(tiw["TotalTime"]),
    )


def contact_sheet(
    video: Path | str,
    duration_ms: int,
    path: Path,
    ffmpeg: str,
    grid: int = 3,
    tile_width: int = 440,
) -> Path:
    """A ``grid``x``grid`` sheet of frames at evenly spaced times, each stamped with its time;
    ``video`` is a file or a URL ffmpeg reads.

    One ffmpeg run: one fast seek per tile, ``xstack`` to assemble. Without a usable font the
    stamps are left out.
    """
    count = grid * grid
    times = [duration_ms * (i + 0.5) / count for i in range(count)]
    font = next((f for f in FONT_FILES if Path(f).is_file()), None)
    inputs: list[str] = []
    for t in times:
        inputs += ["-ss", f"{t / 1000:.3f}", "-i", str(video)]
    try:
        run_ffmpeg(ffmpeg, [*inputs, *_sheet_output(times, grid, tile_width, font, path)])
    except InternalError:
        if font is None:
            raise
        # A font that this ffmpeg build cannot load: a sheet without stamps is still useful.
        run_ffmpeg(ffmpeg, [*inputs, *_sheet_output(times, grid, tile_width, None, path)])
    return path


def _sheet_output(
    times: list[float], grid: int, tile_width: int, font: str | None, path: Path
) -> list[str]:
    chains: list[str] = []
    for i, t in enumerate(times):
        chain = f"[{i}:v]scale={tile_width}:-2"
        if font is not None:
            chain += (
                f",drawtext=fontfile='{font}':text='{t / 1000:.1f} s':x=10:y=10:fontsize=28"
                ":fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6"
            )
        chains.append(f"{chain}[t{i}]")
    layout = "|".join(_cell(i % grid, i // grid) for i in range(len(times)))
    tiles = "".join(f"[t{i}]" for i in range(len(times)))
    graph = ";".join(chains) + f";{tiles}xstack=inputs={len(times)}:layout={layout}[sheet]"
    return ["-filter_complex", graph, "-map", "[sheet]", "-frames:v", "1", "-update", "1",
            str(path)]  # fmt: skip


def _cell(col: int, row: int) -> str:
    """xstack position of a tile: offsets in multiples of the first tile's size."""
    x = "+".join(["w0"] * col) or "0"
    y = "+".join(["h0"] * row) or "0"
    return f"{x}_{y}"
