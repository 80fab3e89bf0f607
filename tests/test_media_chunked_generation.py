"""A generation whose mixed video is cut into chunks (``MIXDOWN_CHUNK_SECONDS``): the chunks
render apart and are joined by stream copy, and the mix shows and plays what the whole
render does, frame for frame in time.

The class: 7 s on a 320x120 custom canvas. ``bob`` (blue, 660 Hz) sits left for the whole
class; ``teacher`` (red, 440 Hz) sits right from 1000, with a white flash and a 1 kHz beep
at playback 2200, 2400, 4600 and 6000, near and across the cuts (about 2333 and 4666 ms).
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

import mediacheck as mc
from mediacheck import Generated, Piece
from mixdown.synth import ClipSpec

pytestmark = pytest.mark.media

FRAME_MS = 1000 / 15
BLUE, RED = "#2E86C1", "#C0392B"
SYNC_MS = [2200, 2400, 4600, 6000]
CUSTOM = {
    "Canvas": {"LayoutParams": {"Width": 320, "Height": 120}},
    "InputStreamList": [
        {"LayoutParams": {"X": x, "Y": 0, "Width": 160, "Height": 120}, "InputStreamId": sid}
        for sid, x in (("bob", 0), ("teacher", 160))
    ],
}


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> tuple[Generated, Generated]:
    """The same class generated whole and in chunks of 2 s of playback."""
    tmp = tmp_path_factory.mktemp("chunked")
    teacher_sync = tuple(t - 1000 for t in SYNC_MS)
    pieces = [
        Piece("bob", "bob.mp4", 0, ClipSpec(duration_ms=7000, color=BLUE, tone_hz=660)),
        Piece(
            "teacher",
            "teacher.mp4",
            1000,
            ClipSpec(
                duration_ms=6000,
                color=RED,
                tone_hz=440,
                flashes_ms=teacher_sync,
                beeps_ms=teacher_sync,
            ),
        ),
    ]
    manifest = mc.write_recording(
        tmp / "class",
        ffmpeg,
        pieces,
        length_ms=7000,
        MixStream={"Enabled": True, "Custom": CUSTOM},
    )
    whole = mc.generate(manifest, tmp / "whole")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MIXDOWN_CHUNK_SECONDS", "2")
        chunked = mc.generate(manifest, tmp / "chunked")
    return whole, chunked


def test_the_chunked_mix_lasts_and_is_listed_as_the_whole_one(
    both: tuple[Generated, Generated],
) -> None:
    whole, chunked = both
    a, b = whole.one(3), chunked.one(3)
    assert b["VideoUrl"] == a["VideoUrl"] and b["VideoDuration"] == a["VideoDuration"] == 7000
    assert (b["Width"], b["Height"]) == (320, 120)
    assert mc.frame_times_ms(chunked.path(b)) == mc.frame_times_ms(whole.path(a))
    # Only the finished files and result.json: no chunk or sound part is left behind.
    names = sorted(p.name for p in chunked.out.iterdir())
    assert names == sorted(p.name for p in whole.out.iterdir())


def _keyframes_ms(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        base = float(stream.time_base)
        return [
            round(float(p.pts) * base * 1000)
            for p in container.demux(stream)
            if p.pts is not None and p.is_keyframe
        ]


def test_each_chunk_starts_with_a_keyframe_where_it_was_cut(
    both: tuple[Generated, Generated],
) -> None:
    whole, chunked = both
    assert len(_keyframes_ms(whole.path(whole.one(3)))) == 1
    keys = _keyframes_ms(chunked.path(chunked.one(3)))
    assert len(keys) == 3 and keys[0] == 0
    assert all(abs(k - want) < 400 for k, want in zip(keys[1:], (2333, 4666), strict=True))


def test_the_chunked_mix_draws_the_same_pictures(both: tuple[Generated, Generated]) -> None:
    whole, chunked = both
    a, b = whole.path(whole.one(3)), chunked.path(chunked.one(3))
    times = [float(t) for t in range(0, 7000, 250)]
    for t, x, y in zip(times, mc.frames_at(a, times), mc.frames_at(b, times), strict=True):
        diff = np.abs(x.astype(int) - y.astype(int)).mean()
        assert diff < 6, f"frames at {t} ms differ by {diff:.1f} on average"
    left, right = mc.center_region(0, 15, 160, 105), mc.center_region(160, 15, 160, 105)
    mc.assert_color(mc.mean_color(mc.frame_at(b, 3000), *left), BLUE, what="bob")
    mc.assert_color(mc.mean_color(mc.frame_at(b, 3000), *right), RED, what="teacher")


def test_flashes_and_beeps_keep_their_times_across_the_cuts(
    both: tuple[Generated, Generated],
) -> None:
    _, chunked = both
    mix = chunked.path(chunked.one(3))
    right = mc.center_region(160, 15, 160, 105)
    flashes, beeps = mc.flash_times_ms(mix, right), mc.beep_onsets_ms(mix, 1000)
    assert len(flashes) == len(beeps) == len(SYNC_MS), (flashes, beeps)
    for flash, beep, want in zip(flashes, beeps, SYNC_MS, strict=True):
        assert abs(flash - want) <= FRAME_MS and abs(beep - want) <= FRAME_MS


def test_the_report_says_the_chunked_mix_was_encoded(both: tuple[Generated, Generated]) -> None:
    _, chunked = both
    report = chunked.result["GenerationReport"]
    mix = next(o for o in report["Outputs"] if o["FileName"] == chunked.one(3)["VideoUrl"])
    assert mix["Method"] == "encode"


