"""A mix rendered once and as three chunks joined by stream copy: the same file in content.

The class (wall 0-6800, a pause 4400-5200, so 6000 ms of playback), on a small custom
canvas of four 160x120 slots, cut at 2000 and 4000:

* ``bob``: blue, 660 Hz, MP4 at 15 fps, whole class (through the pause): slot 1;
* ``carol``: purple, MP4, whole class, but a grey reconnect (3800-4300, picture and sound)
  takes over her stream across the second cut: her purple picture leaves at 3800 and comes
  back at 4300, the same file on both sides: slot 2;
* ``teacher``: red, 440 Hz, **FLV** (millisecond timestamps) starting 37 ms after the
  recording, so its frames fall between output frames; a white frame and a 1 kHz beep at
  wall 1037, 1970, 3037, 3970 and 5237 (after the pause): the frames at 1970 and 3970 are
  the ones each cut's first output frame shows, although they lie before the cut: slot 3;
* ``alice``: green, 550 Hz, MP4 at **10 fps**: joins 70 ms before the first cut, leaves
  50 ms before the second: slot 4.

Both renders are lossless, so a frame that differs means a different picture was drawn.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

import mediacheck as mc
from mediacheck import Piece
from mixdown.domain.geometry import Rect
from mixdown.domain.parameters import GenerationParams
from mixdown.domain.timing import Span
from mixdown.errors import RenderError
from mixdown.generation import probe_recording
from mixdown.input_files import load_manifest
from mixdown.planning.chunking import chunk_render
from mixdown.planning.plan import (
    AudioPlan,
    Clip,
    Input,
    OutputPlan,
    Placement,
    Plan,
    Render,
    VideoPlan,
)
from mixdown.planning.planner import plan_generation
from mixdown.render.assembly import check_parameter_sets, render_chunked
from mixdown.render.command import build_command
from mixdown.render.runner import run_ffmpeg
from mixdown.settings import Encoding, Settings
from mixdown.synth import ClipSpec
from mixdown.synth import run_ffmpeg as run_synth

pytestmark = pytest.mark.media

FRAME_MS = 1000 / 15
CUTS = (2000, 4000)
TEACHER_AT = 37
SYNC = (1000, 1933, 3000, 3933, 5200)  # the teacher's own times, on his frames
PLAYED = (1037, 1970, 3037, 3970, 4437)  # where they play (wall less the pause after it)
#: In seating order: present from the start by StreamId, then alice.
SLOTS = {
    name: (160 * i, 0, 160, 120) for i, name in enumerate(("bob", "carol", "teacher", "alice"))
}
CUSTOM = {
    "Canvas": {"LayoutParams": {"Width": 640, "Height": 120}, "BackgroundColor": "#101820"},
    "InputStreamList": [
        {"LayoutParams": {"X": x, "Y": y, "Width": w, "Height": h}} for x, y, w, h in SLOTS.values()
    ],
}


@dataclass(frozen=True)
class Renders:
    single: Path
    joined: Path
    chunks: int


def _spec(color: str, tone: int, length: int, **kw: Any) -> ClipSpec:
    return ClipSpec(duration_ms=length, color=color, tone_hz=tone, **kw)


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Renders:
    tmp = tmp_path_factory.mktemp("chunks")
    pieces = [
        Piece("bob", "bob.mp4", 0, _spec("#2E86C1", 660, 6800)),
        Piece("carol", "carol.mp4", 0, _spec("#8E44AD", 770, 6800)),
        Piece("carol", "carol-again.mp4", 3800, _spec("#7F8C8D", 880, 500)),
        Piece(
            "teacher",
            "teacher.flv",
            TEACHER_AT,
            _spec("#C0392B", 440, 6700, container="flv", flashes_ms=SYNC, beeps_ms=SYNC),
        ),
        Piece("alice", "alice.mp4", 1930, _spec("#27AE60", 550, 2020, fps=10)),
    ]
    manifest = mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=6800, pauses_ms=[(4400, 5200)],
        MixStream={"Enabled": True, "Custom": CUSTOM},
    )  # fmt: skip
    settings = Settings.from_env()
    encoding = replace(settings.encoding, preset="ultrafast", crf=0)
    recording = load_manifest(manifest)
    probes = probe_recording(recording, settings)
    plan = plan_generation(recording, GenerationParams(), probes, settings)
    (render,) = [r for r in plan.renders if r.outputs[0].video_type == 3]
    local = {i.url: i.url for i in plan.inputs}
    single = _render_once(ffmpeg, plan, render, local, tmp / "single", encoding)
    chunked = chunk_render(render, CUTS, encoding.fps)
    (tmp / "joined").mkdir()
    joined = render_chunked(ffmpeg, plan, chunked, local, tmp / "joined", encoding)
    return Renders(single, joined, len(chunked.chunks))


def _render_once(
    ffmpeg: str, plan: Plan, render: Render, local: dict[str, str], out: Path, encoding: Encoding
) -> Path:
    out.mkdir()
    cmd = build_command(ffmpeg, plan, render, local, out, encoding)
    run_ffmpeg(cmd.argv, render.duration)
    return cmd.temp_paths[0]


def _frames(path: Path) -> tuple[list[int], list[np.ndarray]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pts: list[int] = []
        pictures: list[np.ndarray] = []
        for frame in container.decode(stream):
            assert frame.pts is not None
            pts.append(frame.pts)
            pictures.append(frame.to_ndarray(format="rgb24"))
        return pts, pictures


def test_the_joined_file_has_the_single_renders_frames_and_timestamps(renders: Renders) -> None:
    assert renders.chunks == 3
    pts, _ = _frames(renders.single)
    joined_pts, _ = _frames(renders.joined)
    assert joined_pts == pts
    assert len(pts) == 90  # 6000 ms at 15 fps, from 0, constant rate
    steps = {b - a for a, b in itertools.pairwise(pts)}
    assert pts[0] == 0 and len(steps) == 1
    whole, joined = mc.probe_durations(renders.single), mc.probe_durations(renders.joined)
    assert whole["video_duration_ms"] == joined["video_duration_ms"]
    assert whole["duration_ms"] == joined["duration_ms"]


def test_every_frame_draws_the_same_picture_in_every_slot(renders: Renders) -> None:
    _, single = _frames(renders.single)
    _, joined = _frames(renders.joined)
    differ = []
    for k, (a, b) in enumerate(zip(single, joined, strict=True)):
        for name, (x, y, w, h) in SLOTS.items():
            patch_a = a[y : y + h, x : x + w].astype(int)
            patch_b = b[y : y + h, x : x + w].astype(int)
            mad = float(np.abs(patch_a - patch_b).mean())
            if mad > 0.0:
                differ.append(f"{name} at frame {k} ({k * FRAME_MS:.0f} ms): {mad:.2f}")
    assert not differ, differ[:8]


def test_slots_fill_and_empty_at_the_same_frames(renders: Renders) -> None:
    # alice is seen from her first frame after 1930 to 3950, across the first cut.
    region = mc.center_region(*SLOTS["alice"])
    seen = [
        [mc.color_distance(mc.mean_color(f, *region), "#27AE60") <= 14 for f in _frames(p)[1]]
        for p in (renders.single, renders.joined)
    ]
    assert seen[0] == seen[1]
    first, last = seen[0].index(True), len(seen[0]) - 1 - seen[0][::-1].index(True)
    assert abs(first * FRAME_MS - 1930) <= 2 * FRAME_MS + 100  # 10 fps: up to 100 ms late
    assert abs(last * FRAME_MS - 3950) <= FRAME_MS


def test_a_stream_that_drops_out_across_a_cut_leaves_and_returns_at_the_same_frames(
    renders: Renders,
) -> None:
    region = mc.center_region(*SLOTS["carol"])
    seen = [
        [mc.color_distance(mc.mean_color(f, *region), "#8E44AD") <= 14 for f in _frames(p)[1]]
        for p in (renders.single, renders.joined)
    ]
    assert seen[0] == seen[1]
    # Gone from 3800 (frame 57) to 4300 (frame 64.5), the second cut (frame 60) between.
    assert seen[1][56] and not any(seen[1][57:65]) and seen[1][65]


def test_the_teachers_flashes_are_at_the_same_frames_and_with_their_beeps(
    renders: Renders,
) -> None:
    region = SLOTS["teacher"]
    flashes = [mc.flash_times_ms(p, region) for p in (renders.single, renders.joined)]
    assert flashes[0] == flashes[1]
    assert len(flashes[1]) == len(PLAYED)
    assert all(abs(f - e) <= FRAME_MS for f, e in zip(flashes[1], PLAYED, strict=True))
    assert round(flashes[1][1] / FRAME_MS) == CUTS[0] * 15 // 1000  # on the cut
    assert round(flashes[1][3] / FRAME_MS) == CUTS[1] * 15 // 1000
    beeps = mc.beep_onsets_ms(renders.joined, 1000)
    assert len(beeps) == len(PLAYED)
    assert all(abs(b - f) <= FRAME_MS for b, f in zip(beeps, flashes[1], strict=True))


def test_the_audio_is_as_long_and_its_tones_come_at_the_same_times(renders: Renders) -> None:
    whole, joined = mc.probe_durations(renders.single), mc.probe_durations(renders.joined)
    assert whole["audio_duration_ms"] == joined["audio_duration_ms"]
    assert whole["audio_start_ms"] == joined["audio_start_ms"]
    assert mc.beep_onsets_ms(renders.single, 1000) == mc.beep_onsets_ms(renders.joined, 1000)
    a, _ = mc.audio_samples(renders.single)
    b, _ = mc.audio_samples(renders.joined)
    assert len(a) == len(b) and float(np.abs(a - b).max()) < 1e-3
    # alice (550 Hz) is heard only while she is there, cut or no cut.
    assert mc.tone_level_db(renders.joined, 2100, 3800, 550) > -35
    assert mc.tone_level_db(renders.joined, 4200, 5800, 550) < -55


def test_chunks_whose_parameter_sets_differ_are_not_joined(tmp_path: Path, ffmpeg: str) -> None:
    paths = []
    for profile in ("baseline", "high"):
        path = tmp_path / f"{profile}.mp4"
        argv = ["-f", "lavfi", "-i", "color=c=red:s=64x48:r=15:d=0.4", "-c:v", "libx264"]
        run_synth(ffmpeg, [*argv, "-profile:v", profile, "-pix_fmt", "yuv420p", str(path)])
        paths.append(path)
    check_parameter_sets(paths[:1] * 2)
    with pytest.raises(RenderError, match=r"high\.mp4: its H\.264 parameter sets differ"):
        check_parameter_sets(paths)


def test_a_chunk_that_fails_stops_the_run_and_leaves_nothing_behind(
    tmp_path: Path, ffmpeg: str
) -> None:
    clip = Clip(0, Span(0, 4_000), 0)
    tile = Placement(0, (clip,), Rect(0, 0, 64, 48), 0)
    output = OutputPlan(
        name="mix.mp4", format="mp4", video_type=3, user_id="u", play_time=0, duration=4_000,
        video=VideoPlan(64, 48, "#000000", "", (tile,)), audio=AudioPlan(((clip,),)),
    )  # fmt: skip
    render = Render((output,), 4_000)
    plan = Plan(4_000, (), (Input("gone.mp4", True, True),), (render,))
    chunked = chunk_render(render, [2_000], 15)
    local = {"gone.mp4": str(tmp_path / "gone.mp4")}
    with pytest.raises(RenderError, match="ffmpeg failed"):
        render_chunked(ffmpeg, plan, chunked, local, tmp_path / "out", Settings.from_env().encoding)
    assert list((tmp_path / "out").iterdir()) == []
