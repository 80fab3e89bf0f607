"""A 3-minute class: audio and video stay within one frame to the end (DESIGN §2: "in sync
to within one frame across the whole recording ... no drift").

Cheap content (160x120, 10 fps, no moving mark, 5 s GOPs), a flash + beep every 20 s:

* ``ann``: FLV (millisecond timestamps), 0-180 s, 1 kHz beeps;
* ``bob``: MP4 whose audio starts 300 ms after its video inside the file, joins at 7 s,
  until 177 s, 2 kHz beeps.

A pause 90-95 s cuts both, so the per-stream videos (Concat) are spliced: GOPs copied, the
frames around the cut re-encoded, the copied AAC packets laid on a 1024-sample grid.
Flashes on the playback timeline: ann 20, 40, 60, 80, 95, 115, 135, 155 s; bob 27, 47, 67,
87, 102, 122, 142, 162 s. Mix: a 320x120 Custom canvas, ann left, bob right.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

import mediacheck as mc
from mediacheck import Generated, Piece
from mixdown.synth import ClipSpec

pytestmark = pytest.mark.media

FRAME_MS = 1000 / 15
#: AAC priming in FLV (no edit list) puts the sound up to 21 ms after its picture.
PRIMING_MS = 22
ANN = [20_000, 40_000, 60_000, 80_000, 95_000, 115_000, 135_000, 155_000]
BOB = [t + 7000 for t in ANN]
SLOTS = {"ann": (0, 0, 160, 120), "bob": (160, 0, 160, 120)}
CUSTOM = {
    "Canvas": {"LayoutParams": {"Width": 320, "Height": 120}},
    "InputStreamList": [
        {"LayoutParams": {"X": x, "Y": y, "Width": w, "Height": h}} for x, y, w, h in SLOTS.values()
    ],
}


def _spec(length: int, color: str, tone: int, beep: int, **kw: object) -> ClipSpec:
    return ClipSpec(
        duration_ms=length, fps=10, color=color, tone_hz=tone, beep_hz=beep,
        sync_period_ms=20_000, moving_mark=False, gop_frames=50, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.fixture(scope="module")
def cls(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    tmp = tmp_path_factory.mktemp("adv-long")
    pieces = [
        Piece("ann", "ann.flv", 0, _spec(180_000, "#C0392B", 440, 1000, container="flv")),
        Piece("bob", "bob.mp4", 7000, _spec(170_000, "#2E86C1", 660, 2000, audio_offset_ms=300)),
    ]
    manifest = mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=180_000, pauses_ms=[(90_000, 95_000)],
        Concat={"Enabled": True}, MixStream={"Enabled": True, "Custom": CUSTOM},
    )  # fmt: skip
    return mc.generate(manifest, tmp / "out")


@functools.cache
def _samples(path: Path) -> tuple[np.ndarray, float]:
    return mc.audio_samples(path)


def beep_onsets(path: Path, freq_hz: float, floor: float = 0.03) -> list[float]:
    """``mediacheck.beep_onsets_ms`` with a running-sum envelope (minutes of audio, fast)."""
    signal, origin = _samples(path)
    n = np.arange(len(signal))
    mixed = signal * np.exp(-2j * np.pi * freq_hz * n / mc.SAMPLE_RATE)
    width = mc.SAMPLE_RATE // 100
    sums = np.concatenate([[0], np.cumsum(mixed)])
    lo = np.clip(n - width // 2, 0, len(signal))
    hi = np.clip(n - width // 2 + width, 0, len(signal))
    env = 2 * np.abs((sums[hi] - sums[lo]) / width)
    loud = (env >= max(floor, float(env.max()) / 2)).astype(np.int8)
    steps = np.diff(np.concatenate([[0], loud, [0]]))
    rises, falls = np.flatnonzero(steps == 1), np.flatnonzero(steps == -1)
    onsets: list[float] = []
    last_fall = -(10**9)
    for rise, fall in zip(rises, falls, strict=True):
        if rise - last_fall > 0.04 * mc.SAMPLE_RATE:
            onsets.append(origin + rise * 1000 / mc.SAMPLE_RATE)
        last_fall = int(fall)
    return onsets


#: A spliced stream's audio packets land on a 1024-sample grid, so each clip's sound may sit
#: up to half a packet (10.7 ms at 48 kHz) from its picture: a step at a cut, never a drift.
HALF_AAC_PACKET_MS = 1024 / 2 / 48


def _assert_synced(
    flashes: list[float], beeps: list[float], expected: list[int], step_ms: float = 0
) -> None:
    assert len(flashes) == len(beeps) == len(expected), (flashes, beeps)
    offsets = [beep - flash for flash, beep in zip(flashes, beeps, strict=True)]
    for flash, offset, want in zip(flashes, offsets, expected, strict=True):
        assert abs(flash - want) <= FRAME_MS, ("flash", flash, want)
        assert abs(offset) <= FRAME_MS, ("beep - flash", flash, offset)
    # No drift: the last event is as far off as the first (less the one step a cut may add).
    assert abs(offsets[-1] - offsets[0]) <= 5 + step_ms, offsets
    # Between cuts the offset holds still.
    after_cut = [o for f, o in zip(expected, offsets, strict=True) if f > 90_000]
    assert max(after_cut) - min(after_cut) <= 5, offsets


def test_the_mix_spans_the_playback_time_in_both_tracks(cls: Generated) -> None:
    mix = cls.one(3)
    assert cls.result["TotalTime"] == 175_000
    assert abs(mix["VideoDuration"] - 175_000) <= FRAME_MS
    probed = mc.probe_durations(cls.path(mix))
    assert abs(probed["video_duration_ms"] - 175_000) <= FRAME_MS  # type: ignore[operator]
    assert abs(probed["audio_duration_ms"] - 175_000) <= FRAME_MS  # type: ignore[operator]


@pytest.mark.parametrize(
    ("sid", "beep_hz", "expected"), [("ann", 1000, ANN), ("bob", 2000, BOB)], ids=["flv", "mp4"]
)
def test_flashes_and_beeps_stay_in_sync_to_the_end_of_the_mix(
    cls: Generated, sid: str, beep_hz: int, expected: list[int]
) -> None:
    mix = cls.path(cls.one(3))
    flashes = mc.flash_times_ms(mix, mc.center_region(*SLOTS[sid]))
    _assert_synced(flashes, beep_onsets(mix, beep_hz), expected)


@pytest.mark.parametrize(
    ("sid", "beep_hz", "expected"),
    [("ann", 1000, ANN), ("bob", 2000, [t - 7000 for t in BOB])],
    ids=["flv", "mp4"],
)
def test_flashes_and_beeps_stay_in_sync_to_the_end_of_each_streams_video(
    cls: Generated, sid: str, beep_hz: int, expected: list[int]
) -> None:
    info = cls.one(0, sid)
    path = cls.path(info)
    flashes = mc.flash_times_ms(path, mc.center_region(0, 0, info["Width"], info["Height"]))
    _assert_synced(flashes, beep_onsets(path, beep_hz), expected, 2 * HALF_AAC_PACKET_MS)
