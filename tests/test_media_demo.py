"""``mixdown demo``: the README's "run it" command makes a class and its videos (§4.2)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import mediacheck as mc
from mixdown.cli import main

pytestmark = pytest.mark.media

SLOTS = [(x, 8, 320, 240) for x in (8, 336, 664, 992)]
TEACHER, ALICE, BOB = "#C0392B", "#27AE60", "#2E86C1"
BACKGROUND = "#34363B"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo")
    capture = out / "stdout.json"

    with mc.fast_preset(), capture.open("w") as sink, contextlib.redirect_stdout(sink):
        code = main(["demo", "--out", str(out)])
    assert code == 0
    return out, json.loads(capture.read_text(encoding="utf-8"))


def test_demo_prints_where_the_manifest_result_and_contact_sheet_are(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    out, report = demo
    assert Path(report["manifest"]) == out / "inputs" / "manifest.json"
    result = json.loads(Path(report["result"]).read_text(encoding="utf-8"))
    assert result["TotalTime"] == report["total_time_ms"] == 27_000
    assert len(result["OmittedDurations"]) == 1
    assert all(Path(p).is_file() for p in report["outputs"])
    with Image.open(report["contact_sheet"]) as sheet:
        assert sheet.size[0] >= 3 * 320 and sheet.size[1] >= 3 * 240


def test_demo_generates_every_kind_of_output(demo: tuple[Path, dict[str, Any]]) -> None:
    _, report = demo
    result = json.loads(Path(report["result"]).read_text(encoding="utf-8"))
    kinds = sorted({(v["VideoType"], v["UserId"]) for v in result["VideoInfoList"]})
    cameras = [(0, "alice"), (0, "bob"), (0, "teacher")]
    audio = [(4, "alice"), (4, "bob"), (4, "teacher")]
    assert kinds == sorted([*cameras, (2, ""), (3, "tic_mixstream_1253_1"), *audio])
    alice = next(v for v in result["VideoInfoList"] if v["UserId"] == "alice")
    assert abs(alice["VideoPlayTime"] - 8000) <= 67


def test_demo_mix_shows_the_late_joiner_and_the_returning_user(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    _, report = demo
    result = json.loads(Path(report["result"]).read_text(encoding="utf-8"))
    mix = Path(report["result"]).parent / next(
        v["VideoUrl"] for v in result["VideoInfoList"] if v["VideoType"] == 3
    )
    # bob and teacher start together (StreamId order), alice joins at 8 s, bob is away
    # 10-20 s wall (10-17 s playback, the pause is 15-18 s) and returns to slot 1.
    expected = {
        5000: [BOB, TEACHER, BACKGROUND, BACKGROUND],
        12000: [BACKGROUND, TEACHER, ALICE, BACKGROUND],
        20000: [BOB, TEACHER, ALICE, BACKGROUND],
    }
    frames = mc.frames_at(mix, list(expected))
    for frame, (t, colors) in zip(frames, expected.items(), strict=True):
        for slot, color in zip(SLOTS, colors, strict=True):
            got = mc.mean_color(frame, *mc.center_region(*slot))
            mc.assert_color(got, color, what=f"slot at x {slot[0]}, {t} ms")
