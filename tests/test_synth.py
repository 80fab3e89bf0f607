"""synth.py makes clips whose content is what the spec says, and mediacheck can tell."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mediacheck as mc
from mixdown.demo import LENGTH_MS, PAUSE_MS, START_MS, demo_manifest, demo_pieces
from mixdown.synth import ClipSpec, make_clip, make_image

FRAME_MS = 1000 / 15
W, H = 160, 120
CENTRE = mc.center_region(0, H // 8, W, H - H // 8)


def _clip(tmp: Path, ffmpeg: str, name: str, **kw: object) -> Path:
    spec = ClipSpec(duration_ms=2000, width=W, height=H, **kw)  # type: ignore[arg-type]
    return make_clip(spec, tmp / name, ffmpeg)


@pytest.fixture(scope="module")
def sync_clips(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> dict[str, Path]:
    """Flash and beep at 1000 ms, in each container, with and without an audio offset."""
    tmp = tmp_path_factory.mktemp("synth")
    out = {}
    for container in ("mp4", "flv", "ts"):
        for offset in (0, 500):
            out[f"{container}-{offset}"] = _clip(
                tmp, ffmpeg, f"sync{offset}.{container}", color="#3366CC", tone_hz=440,
                flashes_ms=(1000,), beeps_ms=(1000,), audio_offset_ms=offset, container=container,
            )  # fmt: skip
    return out


pytestmark = pytest.mark.media


@pytest.mark.parametrize("name", ["mp4-0", "flv-0", "ts-0", "mp4-500", "flv-500", "ts-500"])
def test_flash_and_beep_at_one_second_are_found_within_one_frame_of_it(
    sync_clips: dict[str, Path], name: str
) -> None:
    path = sync_clips[name]
    flashes = mc.flash_times_ms(path)
    beeps = mc.beep_onsets_ms(path, 1000)
    assert len(flashes) == 1 and len(beeps) == 1
    # FLV and MPEG-TS put AAC priming (21 ms) before the picture; the content stays in sync.
    assert abs(flashes[0] - 1000) <= 25
    assert abs(beeps[0] - 1000) <= 25
    assert abs(flashes[0] - beeps[0]) <= FRAME_MS / 2


@pytest.mark.parametrize("container", ["mp4", "flv", "ts"])
def test_audio_offset_starts_the_audio_stream_later_than_the_video(
    sync_clips: dict[str, Path], container: str
) -> None:
    plain = mc.probe_durations(sync_clips[f"{container}-0"])
    late = mc.probe_durations(sync_clips[f"{container}-500"])
    assert late["video_start_ms"] == pytest.approx(0, abs=1)
    assert late["audio_start_ms"] is not None
    # One AAC frame (21.3 ms) of priming sits before the first real sample.
    assert 500 - 22 <= late["audio_start_ms"] <= 500 + 1
    assert abs(plain["audio_start_ms"] - plain["video_start_ms"]) <= 22  # type: ignore[operator]


def test_audio_offset_is_a_timestamp_shift_not_leading_silence(sync_clips: dict[str, Path]) -> None:
    late = sync_clips["mp4-500"]
    first_audio_ms = mc.audio_samples(late)[1]
    assert first_audio_ms >= 470
    assert mc.tone_level_db(late, 600, 900, 440) == pytest.approx(-20, abs=1.5)


def test_centre_colour_equals_the_spec_colour(sync_clips: dict[str, Path]) -> None:
    for name, path in sync_clips.items():
        frame = mc.frame_at(path, 500)
        mc.assert_color(mc.mean_color(frame, *CENTRE), "#3366CC", tol=6, what=name)


def test_frame_at_shows_the_last_frame_at_or_before_the_time(sync_clips: dict[str, Path]) -> None:
    path = sync_clips["mp4-0"]
    white = [mc.is_white(mc.mean_color(mc.frame_at(path, t), *CENTRE)) for t in (990, 1000, 1070)]
    assert white == [False, True, False]
    batch = mc.frames_at(path, [1070, 1000, 990])
    assert [mc.is_white(mc.mean_color(f, *CENTRE)) for f in batch] == [False, True, False]


def test_tone_is_heard_at_its_frequency_and_not_at_others(sync_clips: dict[str, Path]) -> None:
    path = sync_clips["mp4-0"]
    assert mc.tone_level_db(path, 100, 900, 440) == pytest.approx(-20, abs=1.5)
    assert mc.tone_level_db(path, 100, 900, 660) < -50
    assert mc.tone_level_db(path, 1000, 1100, 1000) > -10  # the beep
    assert mc.tone_level_db(path, 1300, 1900, 1000) < -50


def test_durations_match_the_spec(sync_clips: dict[str, Path]) -> None:
    info = mc.probe_durations(sync_clips["mp4-0"])
    assert info["frames"] == 30
    assert info["video_duration_ms"] == pytest.approx(2000, abs=FRAME_MS)
    assert info["audio_duration_ms"] == pytest.approx(2000, abs=22)
    assert info["duration_ms"] == pytest.approx(2000, abs=22)


def test_moving_mark_stays_in_the_top_band(tmp_path: Path, ffmpeg: str) -> None:
    path = _clip(tmp_path, ffmpeg, "mark.mp4", color="#E0E0E0", has_audio=False)
    first, later = mc.frames_at(path, [0, 1500])
    band = slice(0, H // 8)
    assert np.abs(first[band].astype(int) - later[band].astype(int)).max() > 100
    assert np.array_equal(first[H // 8 + 2 :], later[H // 8 + 2 :])


def test_a_negative_offset_starts_the_video_after_the_audio(tmp_path: Path, ffmpeg: str) -> None:
    path = _clip(
        tmp_path, ffmpeg, "early.mp4", flashes_ms=(1000,), beeps_ms=(1000,), audio_offset_ms=-300
    )
    info = mc.probe_durations(path)
    assert info["audio_start_ms"] == pytest.approx(0, abs=1)
    assert info["video_start_ms"] == pytest.approx(300, abs=2)
    (flash,) = mc.flash_times_ms(path)
    (beep,) = mc.beep_onsets_ms(path, 1000)
    assert flash == pytest.approx(1300, abs=2)
    assert beep == pytest.approx(1300, abs=10)


def test_a_clip_may_lack_audio_or_video(tmp_path: Path, ffmpeg: str) -> None:
    silent = mc.probe_durations(_clip(tmp_path, ffmpeg, "silent.flv", has_audio=False))
    blind = mc.probe_durations(_clip(tmp_path, ffmpeg, "blind.mp4", has_video=False, tone_hz=300))
    assert silent["audio_start_ms"] is None and silent["frames"] == 30
    assert blind["video_start_ms"] is None and blind["frames"] == 0
    assert blind["audio_duration_ms"] == pytest.approx(2000, abs=22)


def test_make_image_writes_a_solid_picture(tmp_path: Path, ffmpeg: str) -> None:
    path = make_image(tmp_path / "filler.png", "#FF8800", 64, 48, ffmpeg)
    with Image.open(path) as image:
        assert image.size == (64, 48)
        assert image.convert("RGB").getpixel((32, 24)) == pytest.approx((255, 136, 0), abs=3)


def test_a_spec_with_a_bad_colour_no_track_or_an_off_grid_flash_is_refused() -> None:
    with pytest.raises(ValueError):
        ClipSpec(color="blue")
    with pytest.raises(ValueError):
        ClipSpec(has_video=False, has_audio=False)
    with pytest.raises(ValueError, match="frame grid"):
        ClipSpec(fps=15, flashes_ms=(1500,))  # frame 22.5


def test_demo_manifest_has_relative_urls_a_pause_and_a_late_joiner() -> None:
    manifest = demo_manifest(demo_pieces())
    streams = {s["StreamId"]: s["Segments"] for s in manifest["Streams"]}
    assert set(streams) == {"tic_record_user", "teacher", "alice", "bob"}
    assert all(not Path(g["Url"]).is_absolute() for s in streams.values() for g in s)
    assert streams["alice"][0]["StartTime"] > START_MS
    assert len(streams["bob"]) == 2
    assert manifest["RecordStopTimeMs"] - manifest["RecordStartTimeMs"] == LENGTH_MS
    (pause,) = manifest["Pauses"]
    assert pause["ResumeTime"] - pause["PauseTime"] == PAUSE_MS[1] - PAUSE_MS[0]
    assert manifest["Concat"] == {"Enabled": True}
    assert manifest["MixStream"] == {"Enabled": True, "ModelId": 1}
    assert manifest["AudioFileNeeded"] is True


def test_periodic_sync_flashes_and_beeps_at_every_multiple_of_the_period(
    tmp_path: Path, ffmpeg: str
) -> None:
    spec = ClipSpec(duration_ms=5000, sync_period_ms=2000, audio_offset_ms=400, tone_hz=440)
    path = make_clip(spec, tmp_path / "periodic.mp4", ffmpeg)
    flashes, beeps = mc.flash_times_ms(path), mc.beep_onsets_ms(path, 1000)
    assert flashes == pytest.approx([2000, 4000], abs=1)
    assert beeps == pytest.approx([2000, 4000], abs=10)
