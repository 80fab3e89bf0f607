"""Checks of the mix's audio (DESIGN §2.3: sum of every selected stream, no level
jumps, a limiter against clipping, none with ``MixStream.DisableAudio``).

One 8 s class on a small Custom canvas (two 160x120 spare slots), every tone a mono sine:

* ``quiet``: camera, 440 Hz at amplitude 0.05 (-26 dBFS), the whole class;
* ``joiner``: camera, 660 Hz at 0.1 (-20 dBFS), present 1500-3500 only;
* ``voice``: audio only, 880 Hz at 0.1, the whole class (takes no slot, must be heard);
* ``muted``: camera, 990 Hz at 0.1, the whole class, ``DisableAudio`` through a
  ``StreamControls`` prefix ("mut"): its picture stays, its tone goes everywhere;
* ``loud0``..``loud5``: audio only, six tones at 0.5 each (-6 dBFS), all together 5000-6500:
  their sum peaks near 3.0 full scale, so only the limiter keeps the mix from clipping.

The same recording is generated a second time with a params ``MixStream`` that sets
``DisableAudio``: the mix has no audio track, every other output keeps its sound.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mediacheck as mc
from mediacheck import Generated, Piece
from mixdown.synth import ClipSpec

pytestmark = pytest.mark.media

QUIET_HZ, JOINER_HZ, VOICE_HZ, MUTED_HZ = 440, 660, 880, 990
LOUD_HZ = (300, 500, 700, 1100, 1300, 1500)
QUIET_DB = 20 * float(np.log10(0.05))  # -26.0 dBFS: the level recorded in the file
TONE_DB = -20.0  # amplitude 0.1
HEARD, SILENT = -35.0, -55.0
#: Windows of playback time (ms): quiet + voice alone, joiner present, alone again, the six
#: loud streams present, alone again after them.
BEFORE, WITH_JOINER, AFTER = (200, 1300), (1700, 3300), (3700, 4800)
LOUD, AFTER_LOUD = (5200, 6300), (6800, 7800)
RED, GREEN, BLUE = "#C0392B", "#27AE60", "#2E86C1"
SLOTS = [(0, 0, 160, 120), (160, 0, 160, 120)]
CUSTOM = {
    "Canvas": {"LayoutParams": {"Width": 320, "Height": 120}},
    "InputStreamList": [
        {"LayoutParams": {"X": x, "Y": y, "Width": w, "Height": h}} for x, y, w, h in SLOTS
    ],
}


MUTE = {"StreamId": "mut", "DisableAudio": True}


def _cam(color: str, tone: int, amplitude: float, length: int) -> ClipSpec:
    return ClipSpec(
        duration_ms=length, color=color, tone_hz=tone, tone_amplitude=amplitude, moving_mark=False
    )


def _voice(tone: int, amplitude: float, length: int) -> ClipSpec:
    return ClipSpec(duration_ms=length, has_video=False, tone_hz=tone, tone_amplitude=amplitude)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    tmp = tmp_path_factory.mktemp("adv-audio")
    pieces = [
        Piece("quiet", "quiet.mp4", 0, _cam(RED, QUIET_HZ, 0.05, 8000)),
        Piece("joiner", "joiner.mp4", 1500, _cam(GREEN, JOINER_HZ, 0.1, 2000)),
        Piece("voice", "voice.mp4", 0, _voice(VOICE_HZ, 0.1, 8000)),
        Piece("muted", "muted.mp4", 0, _cam(BLUE, MUTED_HZ, 0.1, 8000)),
    ]
    pieces += [
        Piece(f"loud{i}", f"loud{i}.mp4", 5000, _voice(hz, 0.5, 1500))
        for i, hz in enumerate(LOUD_HZ)
    ]
    return mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=8000, AudioFileNeeded=True,
        MixStream={"Enabled": True, "Custom": CUSTOM},
        RecordControl={"Enabled": True, "StreamControls": [MUTE]},
    )  # fmt: skip


@pytest.fixture(scope="module")
def cls(manifest: Path) -> Generated:
    return mc.generate(manifest, manifest.parent.parent / "out")


@pytest.fixture(scope="module")
def silent_mix(manifest: Path) -> Generated:
    params = {"MixStream": {"Enabled": True, "DisableAudio": True, "Custom": CUSTOM}}
    return mc.generate(manifest, manifest.parent.parent / "out-silent-mix", params)


@pytest.fixture(scope="module")
def mix(cls: Generated) -> Path:
    return cls.path(cls.one(3))


def _level(path: Path, window: tuple[int, int], hz: float) -> float:
    return mc.tone_level_db(path, window[0], window[1], hz)


def test_a_steady_speakers_level_does_not_move_when_a_second_user_joins_or_leaves(
    mix: Path,
) -> None:
    for hz in (QUIET_HZ, VOICE_HZ):
        before, during, after = (_level(mix, w, hz) for w in (BEFORE, WITH_JOINER, AFTER))
        assert abs(during - before) <= 0.5, (hz, before, during)
        assert abs(after - before) <= 0.5, (hz, before, after)
    assert _level(mix, WITH_JOINER, JOINER_HZ) > HEARD
    assert _level(mix, BEFORE, JOINER_HZ) < SILENT
    assert _level(mix, AFTER, JOINER_HZ) < SILENT


def test_the_limiter_lets_go_after_six_loud_streams_so_a_quiet_one_recovers_its_level(
    mix: Path,
) -> None:
    """The limiter may duck the quiet tone while the loud ones play, but not afterwards."""
    before, after = _level(mix, BEFORE, QUIET_HZ), _level(mix, AFTER_LOUD, QUIET_HZ)
    assert abs(after - before) <= 0.5, (before, after)


def test_six_loud_streams_together_never_clip_and_are_each_still_heard(mix: Path) -> None:
    signal, _ = mc.audio_samples(mix)
    assert float(np.abs(signal).max()) <= 1.0, "the mix clips"
    # Integer wrap-around turns a peak into a jump of about two full scales between
    # neighbouring samples; these tones (<= 1.5 kHz) move at most ~0.3 per sample.
    assert float(np.abs(np.diff(signal)).max()) < 0.5, "wrap-around distortion"
    with_loud = [_level(mix, LOUD, hz) for hz in LOUD_HZ]
    assert min(with_loud) > -25, with_loud
    # The six tones carry nearly all the energy in that window: no broadband distortion.
    lo, hi = (round(t * mc.SAMPLE_RATE / 1000) for t in LOUD)
    window = signal[lo:hi]
    tonal = sum((10 ** (db / 20)) ** 2 / 2 for db in with_loud)
    assert tonal >= 0.8 * float(np.mean(window**2)), (tonal, float(np.mean(window**2)))


def test_a_single_quiet_mono_microphone_is_heard_in_the_mix_at_its_recorded_level(
    mix: Path,
) -> None:
    """DESIGN says the mix is the *sum* of the streams; a mono microphone summed into a
    stereo mix keeps its amplitude in each channel (what a listener expects: the class
    sounds as loud as it was recorded)."""
    assert abs(_level(mix, BEFORE, QUIET_HZ) - QUIET_DB) <= 0.5


def test_an_audio_only_streams_own_file_is_as_loud_as_a_cameras_recorded_at_the_same_level(
    cls: Generated,
) -> None:
    """``voice`` (audio only, re-encoded) and ``joiner`` (one whole segment, stream-copied)
    were recorded at the same amplitude; a user expects their own videos to be equally loud
    whatever internal shortcut produced them (DESIGN is silent on levels here)."""
    voice = mc.tone_level_db(cls.path(cls.one(0, "voice")), 200, 1800, VOICE_HZ)
    joiner = mc.tone_level_db(cls.path(cls.one(0, "joiner")), 200, 1800, JOINER_HZ)
    assert abs(voice - TONE_DB) <= 0.5, voice
    assert abs(joiner - TONE_DB) <= 0.5, joiner


def test_an_audio_only_stream_is_heard_in_the_mix_and_takes_no_slot(cls: Generated) -> None:
    mix = cls.path(cls.one(3))
    assert _level(mix, (200, 7800), VOICE_HZ) > HEARD
    # quiet and muted (the cameras present from the start, StreamId order) fill both slots.
    frame = mc.frame_at(mix, 1000)
    mc.assert_color(mc.mean_color(frame, *mc.center_region(*SLOTS[0])), BLUE, what="slot 1")
    mc.assert_color(mc.mean_color(frame, *mc.center_region(*SLOTS[1])), RED, what="slot 2")


def test_disable_audio_of_one_stream_removes_only_its_tone_from_the_mix(cls: Generated) -> None:
    mix = cls.path(cls.one(3))
    assert _level(mix, (200, 7800), MUTED_HZ) < SILENT
    for hz in (QUIET_HZ, VOICE_HZ):
        assert _level(mix, (200, 7800), hz) > HEARD, hz
    muted = cls.one(0, "muted")
    assert mc.probe_durations(cls.path(muted))["audio_start_ms"] is None, "muted kept audio"
    frame = mc.frame_at(cls.path(muted), 1000)
    mc.assert_color(mc.mean_color(frame, *mc.center_region(0, 0, 160, 120)), BLUE)
    # Its sound is dropped everywhere: no mp3 for it, one for each stream that has audio.
    users = sorted(v["UserId"] for v in cls.infos(4))
    assert users == sorted(["quiet", "joiner", "voice", *(f"loud{i}" for i in range(6))])


def test_mix_stream_disable_audio_leaves_the_mix_without_an_audio_track_only(
    silent_mix: Generated,
) -> None:
    mix = silent_mix.path(silent_mix.one(3))
    probed = mc.probe_durations(mix)
    assert probed["audio_start_ms"] is None, "the mix has an audio track"
    assert abs(probed["video_duration_ms"] - 8000) <= 1000 / 15  # type: ignore[operator]
    quiet = silent_mix.path(silent_mix.one(4, "quiet"))
    assert mc.tone_level_db(quiet, 200, 7800, QUIET_HZ) > HEARD
    joiner = silent_mix.path(silent_mix.one(0, "joiner"))
    assert mc.tone_level_db(joiner, 200, 1800, JOINER_HZ) > HEARD
