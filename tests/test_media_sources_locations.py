"""Where media comes from and how a run ends: relative and http:// filler images and segments,
broken files, a long-GOP MPEG-TS read from its middle, cancellation and progress (§1, §2, §4, §7).
"""

from __future__ import annotations

import functools
import http.server
import itertools
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import mediacheck as mc
from mediacheck import Generated, Piece
from mixdown.cli import main
from mixdown.domain.parameters import GenerationParams
from mixdown.errors import Cancelled
from mixdown.generation import generate
from mixdown.input_files import load_manifest
from mixdown.planning.plan import Plan
from mixdown.render.executor import Published, execute
from mixdown.settings import Settings
from mixdown.synth import ClipSpec, make_clip, make_image

pytestmark = pytest.mark.media

FRAME_MS = 1000 / 15
PRIMING_MS = 22
BLUE, ORANGE, PURPLE, TEAL, RED = "#2E86C1", "#E67E22", "#8E44AD", "#16A085", "#C0392B"
BLACK = "#000000"
PICTURE = mc.center_region(0, 15, 160, 105)  # of a 160x120 camera, below the moving mark


# --- Concat.Image and segment Urls: relative paths and http:// on the loopback ---


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A folder served over http://127.0.0.1 (loopback only), and its base URL."""
    folder = tmp_path_factory.mktemp("robust-web")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def gappy(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str, served: tuple[Path, str]) -> Path:
    """``cam``: a local file 0-1000 and a file over http at 2000-3000: a gap 1000-2000.

    The manifest's Concat.Image is ``fill.png`` (orange), relative to the manifest."""
    web, base = served
    tmp = tmp_path_factory.mktemp("robust-images")
    folder = tmp / "in"
    spec = ClipSpec(duration_ms=1000, color=BLUE, tone_hz=440)
    make_clip(spec, folder / "a.mp4", ffmpeg)
    make_clip(spec, web / "b.mp4", ffmpeg)
    make_image(folder / "fill.png", ORANGE, 160, 120, ffmpeg)
    # Next to the params files mediacheck.generate writes (the out folder's parent).
    make_image(tmp / "params-fill.png", PURPLE, 160, 120, ffmpeg)
    make_image(web / "web-fill.png", TEAL, 160, 120, ffmpeg)
    rgba = np.zeros((120, 160, 4), np.uint8)
    rgba[:, :80] = (0xE6, 0x7E, 0x22, 255)  # opaque orange left half
    rgba[:, 80:] = (255, 255, 255, 0)  # transparent (white) right half
    Image.fromarray(rgba, "RGBA").save(tmp / "alpha.png")
    manifest = {
        "RoomId": mc.ROOM_ID,
        "RecordStartTimeMs": mc.START_MS,
        "RecordStopTimeMs": mc.START_MS + 3000,
        "Streams": [{"StreamId": "cam", "Segments": [
            {"Url": "a.mp4", "StartTime": mc.START_MS},
            {"Url": f"{base}/b.mp4", "StartTime": mc.START_MS + 2000},
        ]}],
        "Concat": {"Enabled": True, "Image": "fill.png"},
    }  # fmt: skip
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return path


def _gap_and_after(done: Generated) -> tuple[np.ndarray, np.ndarray]:
    info = done.one(0, "cam")
    assert info["VideoPlayTime"] == 0
    assert abs(info["VideoDuration"] - 3000) <= FRAME_MS + PRIMING_MS
    gap, after = mc.frames_at(done.path(info), [1500, 2500])
    return gap, after


def test_a_relative_concat_image_in_the_manifest_fills_gaps_and_an_http_segment_plays(
    gappy: Path,
) -> None:
    done = mc.generate(gappy, gappy.parent.parent / "out-manifest")
    gap, after = _gap_and_after(done)
    mc.assert_color(mc.mean_color(gap, *PICTURE), ORANGE, what="gap")
    mc.assert_color(mc.mean_color(after, *PICTURE), BLUE, what="segment over http")
    path = done.path(done.one(0, "cam"))
    assert mc.tone_level_db(path, 2100, 2900, 440) > -26
    assert mc.tone_level_db(path, 1100, 1900, 440) < -55


def test_a_relative_concat_image_in_a_params_file_is_taken_from_the_params_folder(
    gappy: Path,
) -> None:
    params = {"Concat": {"Enabled": True, "Image": "params-fill.png"}}
    done = mc.generate(gappy, gappy.parent.parent / "out-params", params)
    gap, _ = _gap_and_after(done)
    mc.assert_color(mc.mean_color(gap, *PICTURE), PURPLE, what="gap")


def test_a_concat_image_over_http_fills_gaps(gappy: Path, served: tuple[Path, str]) -> None:
    params = {"Concat": {"Enabled": True, "Image": f"{served[1]}/web-fill.png"}}
    out = gappy.parent.parent / "out-http"
    done = mc.generate(gappy, out, params)
    gap, _ = _gap_and_after(done)
    mc.assert_color(mc.mean_color(gap, *PICTURE), TEAL, what="gap")
    assert sorted(p.name for p in out.iterdir()) == ["camera_cam_0.mp4", "result.json"]


def test_transparent_parts_of_a_concat_image_show_black(gappy: Path) -> None:
    """DESIGN: gaps show Concat.Image "fitted on black"; a logo with transparency shows black
    where it is transparent, as any player or editor composites it."""
    params = {"Concat": {"Enabled": True, "Image": "alpha.png"}}
    done = mc.generate(gappy, gappy.parent.parent / "out-alpha", params)
    gap, _ = _gap_and_after(done)
    mc.assert_color(mc.mean_color(gap, 10, 20, 60, 80), ORANGE, what="opaque half")
    mc.assert_color(mc.mean_color(gap, 90, 20, 60, 80), BLACK, what="transparent half")


@pytest.mark.parametrize("kind", ["relative", "file", "http"])
def test_the_plan_printed_by_plan_only_is_the_plan_that_runs_and_names_the_image_by_its_url(
    gappy: Path,
    served: tuple[Path, str],
    kind: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Concat.Image stays a URL in the plan, as segment URLs do; only the executor sees the
    local copy, so --plan-only shows what a real run renders."""
    folder = gappy.parent.parent
    image, color = {
        "relative": (str(gappy.parent / "fill.png"), ORANGE),  # the manifest's own, resolved
        "file": ((folder / "params-fill.png").as_uri(), PURPLE),
        "http": (f"{served[1]}/web-fill.png", TEAL),
    }[kind]
    argv = ["generate", str(gappy)]
    if kind != "relative":
        params = folder / f"plan-{kind}-params.json"
        params.write_text(json.dumps({"Concat": {"Enabled": True, "Image": image}}), "utf-8")
        argv += ["--params", str(params)]
    assert main([*argv, "--plan-only"]) == 0
    printed = json.loads(capsys.readouterr().out)
    ran: list[Plan] = []

    def spy(plan: Plan, *args: Any) -> list[Published]:
        ran.append(plan)
        return execute(plan, *args)

    monkeypatch.setattr("mixdown.generation.execute", spy)
    out = folder / f"out-plan-{kind}"
    with mc.fast_preset():
        assert main([*argv, "--out", str(out)]) == 0
    (plan,) = ran
    assert Plan.from_json(printed) == plan
    videos = [o.video for r in plan.renders for o in r.outputs if o.video is not None]
    assert videos and all(v.image == image for v in videos)
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    gap, _ = _gap_and_after(Generated(out, result))
    mc.assert_color(mc.mean_color(gap, *PICTURE), color, what="gap")


# --- Broken files ---


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    """4 s cameras (flash+beep at 1000) cut at 60 %: a faststart MP4 and an MPEG-TS; an empty
    file and a text file named .mp4."""
    folder = tmp_path_factory.mktemp("robust-broken")
    for container in ("mp4", "ts"):
        spec = ClipSpec(
            duration_ms=4000, color=RED, tone_hz=440, container=container, flashes_ms=(1000,),
            beeps_ms=(1000,),
        )  # fmt: skip
        whole = make_clip(spec, folder / f"whole.{container}", ffmpeg).read_bytes()
        (folder / f"cut.{container}").write_bytes(whole[: len(whole) * 6 // 10])
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("Lesson 3 notes: bring the worksheet.\n" * 20)
    return folder


def _manifest(folder: Path, name: str, url: str, **extra: Any) -> Path:
    data = {
        "RoomId": mc.ROOM_ID,
        "RecordStartTimeMs": mc.START_MS,
        "RecordStopTimeMs": mc.START_MS + 4000,
        "Streams": [{"StreamId": "cam", "Segments": [{"Url": url, "StartTime": mc.START_MS}]}],
        **extra,
    }
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("container", ["mp4", "ts"])
def test_a_truncated_file_generates_what_can_be_decoded(broken: Path, container: str) -> None:
    manifest = _manifest(
        broken, f"cut-{container}.json", f"cut.{container}", Concat={"Enabled": True},
        MixStream={"Enabled": True, "Custom": {
            "Canvas": {"LayoutParams": {"Width": 160, "Height": 120}},
            "InputStreamList": [{"LayoutParams": {"X": 0, "Y": 0, "Width": 160, "Height": 120}}],
        }},
    )  # fmt: skip
    done = mc.generate(manifest, broken / f"out-{container}")
    camera = done.one(0, "cam")
    assert 1500 < camera["VideoDuration"] < 3500, camera
    own = done.path(camera)
    mc.assert_color(mc.mean_color(mc.frame_at(own, 500), *PICTURE), RED)
    assert mc.flash_times_ms(own, PICTURE) != []
    mix = done.path(done.one(3))
    assert abs(mc.probe_durations(mix)["video_duration_ms"] - 4000) <= FRAME_MS  # type: ignore[operator]
    (flash,) = mc.flash_times_ms(mix, PICTURE)
    (beep,) = mc.beep_onsets_ms(mix, 1000)
    assert abs(flash - 1000) <= FRAME_MS + PRIMING_MS and abs(beep - flash) <= FRAME_MS
    # After the cut: the slot is empty (black) and the camera silent.
    mc.assert_color(mc.mean_color(mc.frame_at(mix, 3800), *PICTURE), BLACK, what="after the cut")
    assert mc.tone_level_db(mix, 3700, 3950, 440) < -55


@pytest.mark.parametrize(
    "container",
    [
        "mp4",
        "ts",
    ],
)
def test_every_output_made_from_a_truncated_file_decodes_cleanly(
    broken: Path, container: str
) -> None:
    """DESIGN §1 allows truncated segments; what is generated from one is a finished file
    that a strict decoder reads without errors (the torn tail is left out, not copied)."""
    manifest = _manifest(broken, f"clean-{container}.json", f"cut.{container}",
                         Concat={"Enabled": True}, AudioFileNeeded=True)  # fmt: skip
    done = mc.generate(manifest, broken / f"out-clean-{container}")
    for info in done.infos():
        assert mc.decode_errors(done.path(info)) == [], info["VideoUrl"]


@pytest.mark.parametrize("name", ["empty.mp4", "notes.mp4"])
def test_an_empty_or_text_file_is_refused_with_one_line_naming_it(
    broken: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _manifest(broken, f"bad-{name}.json", name)
    code = main(["generate", str(manifest), "--out", str(broken / f"out-{name}")])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and name in lines[0] and "Traceback" not in err, err


# --- A long-GOP MPEG-TS read from its middle (the part after a long pause) ---


@pytest.mark.parametrize(
    "container",
    [
        "mp4",
        "ts",
    ],
)
def test_a_piece_after_a_long_pause_in_a_long_gop_file_keeps_its_pictures_in_sync(
    tmp_path: Path, ffmpeg: str, container: str
) -> None:
    """One 20 s file with a keyframe every 6 s (a screen share, an HLS recording), flashing
    and beeping every 2 s; the class is paused 2000-14500 and Concat is off, so the piece
    after the pause is its own video starting 14.5 s into the file: flashes at 1500, 3500."""
    spec = ClipSpec(
        duration_ms=20000, color=RED, tone_hz=440, sync_period_ms=2000, container=container,
        gop_frames=90, moving_mark=False,
    )  # fmt: skip
    manifest = mc.write_recording(
        tmp_path / "in", ffmpeg, [Piece("cam", f"long.{container}", 0, spec)],
        length_ms=20000, pauses_ms=[(2000, 14500)], Concat={"Enabled": False},
    )  # fmt: skip
    done = mc.generate(manifest, tmp_path / "out")
    after = max(done.infos(0, "cam"), key=lambda v: v["VideoPlayTime"])
    assert abs(after["VideoPlayTime"] - 2000) <= FRAME_MS
    path = done.path(after)
    mc.assert_color(mc.mean_color(mc.frame_at(path, 500), *PICTURE), RED, what="at 500")
    flashes = mc.flash_times_ms(path, PICTURE)
    beeps = mc.beep_onsets_ms(path, 1000)
    assert len(flashes) == 2 and len(beeps) == 2, (flashes, beeps)
    for flash, beep, want in zip(flashes, beeps, (1500, 3500), strict=True):
        assert abs(flash - want) <= FRAME_MS + PRIMING_MS and abs(beep - flash) <= FRAME_MS


# --- Cancellation and progress through mixdown.generation.generate ---


@pytest.fixture(scope="module")
def lesson(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    """6 s: a whiteboard and a camera; a Custom mix, Concat, mp3 files: four renders."""
    tmp = tmp_path_factory.mktemp("robust-cancel")
    board = ClipSpec(duration_ms=6000, width=320, height=240, color="#EEEEE6", has_audio=False)
    pieces = [
        Piece("tic_record_user", "board.mp4", 0, board),
        Piece("cam", "cam.mp4", 0, ClipSpec(duration_ms=6000, tone_hz=440)),
    ]
    custom = {
        "Canvas": {"LayoutParams": {"Width": 320, "Height": 240}},
        "InputStreamList": [{"LayoutParams": {"X": 0, "Y": 0, "Width": 160, "Height": 120}}],
    }
    return mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=6000, Concat={"Enabled": True},
        MixStream={"Enabled": True, "Custom": custom}, AudioFileNeeded=True,
    )  # fmt: skip


def _everything_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_cancelling_once_progress_starts_stops_quickly_and_leaves_nothing(
    lesson: Path, tmp_path: Path
) -> None:
    cancel = threading.Event()
    set_at: list[float] = []

    def progress(fraction: float) -> None:
        if fraction > 0 and not cancel.is_set():
            set_at.append(time.monotonic())
            cancel.set()

    out = tmp_path / "out"
    with mc.fast_preset(), pytest.raises(Cancelled):
        generate(
            load_manifest(lesson), GenerationParams(), out, Settings.from_env(),
            progress=progress, cancel=cancel,
        )  # fmt: skip
    assert set_at, "no progress was reported before the end"
    assert time.monotonic() - set_at[0] < 3.0
    assert _everything_in(out) == []


def test_cancelling_after_the_first_output_is_written_leaves_no_output_either(
    lesson: Path, tmp_path: Path
) -> None:
    """DESIGN §7: a cancelled run leaves no half-written output visible. A mix without its
    per-stream videos is a half-written result: nothing of the run may stay in ``out``."""
    out = tmp_path / "out"
    cancel = threading.Event()

    def progress(fraction: float) -> None:
        # A second render has begun once files of two outputs exist, finished or not.
        if len([p for p in out.iterdir() if p.is_file()]) >= 2:
            cancel.set()

    with mc.fast_preset(), pytest.raises(Cancelled):
        generate(
            load_manifest(lesson), GenerationParams(), out, Settings.from_env(),
            progress=progress, cancel=cancel,
        )  # fmt: skip
    assert _everything_in(out) == []


def test_progress_rises_monotonically_from_within_zero_to_one_and_ends_at_one(
    lesson: Path, tmp_path: Path
) -> None:
    seen: list[float] = []
    with mc.fast_preset():
        result = generate(
            load_manifest(lesson), GenerationParams(), tmp_path / "out", Settings.from_env(),
            progress=seen.append,
        )  # fmt: skip
    assert len(result.videos) == 4  # mix, whiteboard, camera and its mp3
    assert seen and seen[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in seen), seen
    assert all(b >= a for a, b in itertools.pairwise(seen)), seen
