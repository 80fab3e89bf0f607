"""A camera whose picture and sound arrive as two files (DESIGN §1: overlaps per track).

The class (4 s, no pause), wall time = playback time. ``cam`` is delivered as

* ``cam.mkv``: video only (H.264 in Matroska), red, 500-3500, white flashes at 1500, 2500;
* ``cam.mka``: audio only (Opus in Matroska), starting 500 ms later: 1000-3500, a 440 Hz
  tone with 1 kHz beeps at 1500 and 2500 (with the flashes).

The audio file starts later, but carries no picture: the red picture must stay for the whole
video file, and the tone must be heard from the audio file's start. Checked in the template-1
mix (``cam`` takes the first small slot), in the per-stream video with Concat, and in the
one video that the two files make without Concat.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import mediacheck as mc
from mediacheck import Generated
from mixdown.synth import ClipSpec, audio_source, run_ffmpeg, video_graph

pytestmark = pytest.mark.media

FRAME_MS = 1000 / 15
#: The Opus file's last packet ends 1 ms after the video file: a 3001 ms video at 15 fps
#: has 46 frames (3067 ms).
ROUNDING_MS = FRAME_MS + 1
LENGTH_MS = 4000
VIDEO_AT, VIDEO_MS = 500, 3000
AUDIO_AT, AUDIO_MS = 1000, 2500
SYNC = (1500, 2500)  # wall ms of each flash and beep
TONE_HZ, BEEP_HZ = 440, 1000
CAM, BACKGROUND = "#C0392B", "#34363B"
SLOT_1 = (8, 8, 320, 240)  # template 1's first small slot (DESIGN §3)
PICTURE = ClipSpec(
    duration_ms=VIDEO_MS, color=CAM, has_audio=False, flashes_ms=tuple(t - VIDEO_AT for t in SYNC)
)
SOUND = ClipSpec(
    duration_ms=AUDIO_MS, has_video=False, tone_hz=TONE_HZ, beep_hz=BEEP_HZ,
    beeps_ms=tuple(t - AUDIO_AT for t in SYNC),
)  # fmt: skip
X264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-bf", "0")
OPUS = ("-c:a", "libopus", "-b:a", "64k", "-ar", "48000", "-ac", "1")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    folder = tmp_path_factory.mktemp("tracks") / "in"
    folder.mkdir()
    graph = video_graph(PICTURE)
    run_ffmpeg(
        ffmpeg, ["-f", "lavfi", "-i", graph, *X264, "-f", "matroska", str(folder / "cam.mkv")]
    )
    source = audio_source(SOUND)
    run_ffmpeg(
        ffmpeg, ["-f", "lavfi", "-i", source, *OPUS, "-f", "matroska", str(folder / "cam.mka")]
    )
    data = {
        "RoomId": mc.ROOM_ID,
        "RecordStartTimeMs": mc.START_MS,
        "RecordStopTimeMs": mc.START_MS + LENGTH_MS,
        "Streams": [{"StreamId": "cam", "Segments": [
            {"Url": "cam.mkv", "StartTime": mc.START_MS + VIDEO_AT},
            {"Url": "cam.mka", "StartTime": mc.START_MS + AUDIO_AT},
        ]}],
        "Concat": {"Enabled": True},
        "MixStream": {"Enabled": True, "ModelId": 1},
    }  # fmt: skip
    path = folder / "manifest.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cls(manifest: Path) -> Generated:
    return mc.generate(manifest, manifest.parent.parent / "out")


@pytest.fixture(scope="module")
def pieces(manifest: Path) -> Generated:
    params: dict[str, Any] = {"Concat": {"Enabled": False}, "MixStream": {"Enabled": False}}
    return mc.generate(manifest, manifest.parent.parent / "out-pieces", params)


def _assert_picture(path: Path, region: mc.Region, times: list[int], color: str) -> None:
    for t, frame in zip(times, mc.frames_at(path, times), strict=True):
        mc.assert_color(mc.mean_color(frame, *region), color, what=f"{path.name} at {t} ms")


def _assert_sound(path: Path, audio_at: float, sync: list[float], region: mc.Region) -> None:
    """The tone starts with the audio file; each beep comes with its flash."""
    (onset,) = mc.beep_onsets_ms(path, TONE_HZ)
    assert abs(onset - audio_at) <= FRAME_MS, (onset, audio_at)
    assert mc.tone_level_db(path, audio_at - 400, audio_at - 50, TONE_HZ) < -55
    flashes = mc.flash_times_ms(path, region)
    beeps = mc.beep_onsets_ms(path, BEEP_HZ)
    assert len(flashes) == len(beeps) == len(sync), (flashes, beeps)
    for flash, beep, want in zip(flashes, beeps, sync, strict=True):
        assert abs(flash - beep) <= FRAME_MS, (flash, beep)
        assert abs(flash - want) <= FRAME_MS, (flash, want)


def test_the_mix_shows_the_camera_in_its_slot_for_the_whole_video_file(cls: Generated) -> None:
    mix = cls.path(cls.one(3))
    region = mc.center_region(*SLOT_1)
    _assert_picture(mix, region, [200, 3800], BACKGROUND)
    _assert_picture(mix, region, [700, 1200, 2000, 3000, 3400], CAM)


def test_the_mix_plays_the_audio_file_from_its_start_with_beeps_on_the_flashes(
    cls: Generated,
) -> None:
    _assert_sound(cls.path(cls.one(3)), AUDIO_AT, list(SYNC), mc.center_region(*SLOT_1))


def test_the_per_stream_video_shows_the_picture_throughout_with_the_audio_files_sound(
    cls: Generated,
) -> None:
    info = cls.one(0, "cam")
    assert abs(info["VideoPlayTime"] - VIDEO_AT) <= FRAME_MS
    assert abs(info["VideoDuration"] - VIDEO_MS) <= ROUNDING_MS
    path = cls.path(info)
    whole = mc.center_region(0, 0, info["Width"], info["Height"])
    _assert_picture(path, whole, [200, 700, 1500, 2500, 2900], CAM)
    _assert_sound(path, AUDIO_AT - VIDEO_AT, [t - VIDEO_AT for t in SYNC], whole)


def test_without_concat_the_two_files_make_one_video_with_picture_and_sound(
    pieces: Generated,
) -> None:
    info = pieces.one(0, "cam")
    assert abs(info["VideoPlayTime"] - VIDEO_AT) <= FRAME_MS
    assert abs(info["VideoDuration"] - VIDEO_MS) <= ROUNDING_MS
    path = pieces.path(info)
    whole = mc.center_region(0, 0, info["Width"], info["Height"])
    _assert_picture(path, whole, [200, 700, 1500, 2500, 2900], CAM)
    _assert_sound(path, AUDIO_AT - VIDEO_AT, [t - VIDEO_AT for t in SYNC], whole)
