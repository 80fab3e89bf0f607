"""Files shaped like real recorders' output, checked in every output they feed (DESIGN §1-§3).

Three short classes (3 s; template 1, Concat, mp3 files), each camera in its own slot (all
start at 0, so StreamId order), each flashing white and beeping (its own beep frequency)
at known times over a quiet tone of its own (-20 dBFS). The files come from
``recorders.py``:

* ``shapes``: ``a-live-webm`` VP8 + Opus WebM as a live WebRTC recorder writes it (no
  Duration); ``b-late-ts`` MPEG-TS whose audio starts 700 ms after its video;
  ``c-mono-44k`` H.264 + 44.1 kHz mono AAC; ``d-phone`` a 480x640 portrait picture stored
  640x480 with a 90° display matrix;
* ``vfr``: frames 33-100 ms apart with jitter, as WebRTC writes them: ``a-vfr-mkv``
  (H.264 + Opus in Matroska) and ``b-vfr-flv`` (H.264 + AAC in FLV, what the RTMP ingest
  records);
* ``cuts``: 4 s files cut after 40 % of their bytes: ``a-cut-mp4`` (faststart: its moov
  claims 4 s), ``b-cut-fmp4`` (fragmented, cut inside a fragment's media), ``c-cut-ts``.

Times are checked within one output frame (67 ms); where the file starts with an AAC
priming packet (FLV, MPEG-TS) the picture lies 21 ms after the StartTime (as in
test_media_mix), which is added.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

import mediacheck as mc
import recorders as rec
from mediacheck import Generated
from mixdown.synth import ClipSpec, make_clip

pytestmark = pytest.mark.media

FRAME_MS = 1000 / 15
PRIMING_MS = 22
LENGTH_MS = 3000
BACKGROUND = "#34363B"
BLACK = "#000000"
TONE_DB = -20.0  # synth's tone amplitude 0.1
#: Template 1's small slots, in order (DESIGN §3).
SLOTS = [(x, 8, 320, 240) for x in (8, 336, 664, 992)]
CAMERA = (0, 0, 160, 120)

Maker = Callable[[ClipSpec, Path, str], Path]


@dataclass(frozen=True)
class Cam:
    """One camera stream: its file, how it is made and what it contains."""

    sid: str
    name: str
    make: Maker
    color: str
    tone_hz: int
    beep_hz: int
    sync_ms: tuple[int, ...]
    spec: dict[str, Any] = field(default_factory=dict)
    #: Added to time tolerances: an AAC priming packet before the picture.
    lead_ms: float = 0
    #: Where its audio starts in the file (ms after the video).
    audio_at_ms: int = 0

    def clip(self) -> ClipSpec:
        return ClipSpec(
            **{
                "duration_ms": LENGTH_MS, "color": self.color, "tone_hz": self.tone_hz,
                "beep_hz": self.beep_hz, "beep_amplitude": 0.3, "flashes_ms": self.sync_ms,
                "beeps_ms": self.sync_ms, **self.spec,
            }
        )  # fmt: skip


def _synth(spec: ClipSpec, path: Path, ffmpeg: str) -> Path:
    return make_clip(spec, path, ffmpeg)


def _flv(spec: ClipSpec, path: Path, ffmpeg: str) -> Path:
    return rec.make_vfr(spec, path, ffmpeg, "flv")


def _cut(kind: rec.Truncation) -> Maker:
    return lambda spec, path, ffmpeg: rec.make_truncated(spec, path, ffmpeg, kind, 0.4)


RED, BLUE, ORANGE, PURPLE, TEAL = "#C0392B", "#2E86C1", "#E67E22", "#8E44AD", "#16A085"
LATE_TS = {"container": "ts", "audio_offset_ms": 700}
PORTRAIT = {"width": 480, "height": 640, "moving_mark": False}
CUT = {"duration_ms": 4000}
CLASSES: dict[str, list[Cam]] = {
    "shapes": [
        Cam("a-live-webm", "live.webm", rec.make_live_webm, RED, 300, 1000, (600, 2000)),
        Cam("b-late-ts", "late.ts", _synth, BLUE, 400, 1400, (1000, 2200), LATE_TS,
            audio_at_ms=700),
        Cam("c-mono-44k", "mono.mp4", rec.make_mono_44k, ORANGE, 500, 1800, (800, 1800)),
        Cam("d-phone", "phone.mp4", rec.make_rotated_phone, PURPLE, 600, 2200, (1200, 2400),
            PORTRAIT),
    ],
    "vfr": [
        Cam("a-vfr-mkv", "vfr.mkv", rec.make_vfr, TEAL, 300, 1000, (1000, 2200), {"fps": 30}),
        Cam("b-vfr-flv", "vfr.flv", _flv, RED, 400, 1400, (600, 1800), {"fps": 30},
            lead_ms=PRIMING_MS),
    ],
    "cuts": [
        Cam("a-cut-mp4", "cut.mp4", _cut("mp4"), RED, 400, 1400, (400,), CUT),
        Cam("b-cut-fmp4", "cut-frag.mp4", _cut("fmp4"), BLUE, 500, 1800, (600,), CUT),
        Cam("c-cut-ts", "cut.ts", _cut("ts"), ORANGE, 600, 2200, (800,), CUT,
            lead_ms=PRIMING_MS),
    ],
}  # fmt: skip
CAMS = {c.sid: c for cams in CLASSES.values() for c in cams}
CLASS_OF = {c.sid: name for name, cams in CLASSES.items() for c in cams}
SLOT = {c.sid: SLOTS[i] for cams in CLASSES.values() for i, c in enumerate(cams)}
PORTRAIT_SLOT_PICTURE = (70, 0, 180, 240)  # 480x640 fitted into 320x240, within the slot


#: Bugs these tests found (see each test).
@dataclass(frozen=True)
class Class:
    """A generated class and its input files."""

    done: Generated
    inputs: dict[str, Path]

    def path(self, video_type: int, sid: str | None = None) -> Path:
        return self.done.path(self.done.one(video_type, sid))


def _class(folder: Path, ffmpeg: str, cams: list[Cam]) -> Class:
    (folder / "in").mkdir(parents=True)
    inputs = {c.sid: c.make(c.clip(), folder / "in" / c.name, ffmpeg) for c in cams}
    manifest = {
        "RoomId": mc.ROOM_ID,
        "RecordStartTimeMs": mc.START_MS,
        "RecordStopTimeMs": mc.START_MS + LENGTH_MS,
        "Streams": [
            {"StreamId": c.sid, "Segments": [{"Url": c.name, "StartTime": mc.START_MS}]}
            for c in cams
        ],
        "Concat": {"Enabled": True},
        "MixStream": {"Enabled": True, "ModelId": 1},
        "AudioFileNeeded": True,
    }
    path = folder / "in" / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return Class(mc.generate(path, folder / "out"), inputs)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Class:
    return _class(tmp_path_factory.mktemp("recorders-shapes"), ffmpeg, CLASSES["shapes"])


@pytest.fixture(scope="module")
def vfr(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Class:
    return _class(tmp_path_factory.mktemp("recorders-vfr"), ffmpeg, CLASSES["vfr"])


@pytest.fixture(scope="module")
def cuts(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Class:
    return _class(tmp_path_factory.mktemp("recorders-cuts"), ffmpeg, CLASSES["cuts"])


def _of(request: pytest.FixtureRequest, sid: str) -> Class:
    cls: Class = request.getfixturevalue(CLASS_OF[sid])
    return cls


def _sids(*classes: str) -> list[str]:
    return [c.sid for name in classes for c in CLASSES[name]]


def _below_mark(x: int, y: int, w: int, h: int) -> mc.Region:
    """The middle of a picture, below synth's moving mark and the phone's green band."""
    return mc.center_region(x, y + h // 8, w, h - h // 8)


def _picture_in_slot(sid: str) -> mc.Region:
    x, y, w, h = SLOT[sid]
    if sid == "d-phone":
        px, py, pw, ph = PORTRAIT_SLOT_PICTURE
        return _below_mark(x + px, y + py, pw, ph)
    return _below_mark(x, y, w, h)


def _assert_times(found: list[float], cam: Cam, what: str, shift: float = 0) -> None:
    """``found`` (moved by ``shift``) are ``cam``'s flash/beep times, within a frame."""
    moved = [t + shift for t in found]
    assert len(moved) == len(cam.sync_ms), (what, moved, cam.sync_ms)
    for got, want in zip(moved, cam.sync_ms, strict=True):
        assert abs(got - want) <= FRAME_MS + cam.lead_ms, (what, moved, cam.sync_ms)


def _readable_end_ms(path: Path, kind: str) -> float:
    """Where a track of an input ends, as its packets say (the file's own timeline)."""
    probed = mc.probe_durations(path)
    return float(probed[f"{kind}_start_ms"] or 0) + float(probed[f"{kind}_duration_ms"] or 0)


# --- The generators make what they claim (the generation report reuses them) ---


def test_a_live_webm_has_vp8_and_opus_and_no_duration_in_its_header(shapes: Class) -> None:
    path = shapes.inputs["a-live-webm"]
    with av.open(str(path)) as container:
        assert not container.duration, container.duration
        codecs = sorted(s.codec_context.name for s in container.streams)
    assert codecs == ["opus", "vp8"]
    assert rec.container_view(path).readable_ms == pytest.approx(LENGTH_MS, abs=FRAME_MS)


def test_the_late_ts_audio_starts_700_ms_after_its_video_in_the_file(shapes: Class) -> None:
    probed = mc.probe_durations(shapes.inputs["b-late-ts"])
    assert probed["video_start_ms"] == pytest.approx(0, abs=1)
    # AAC priming puts the first timestamp 21 ms before the first real sample.
    assert probed["audio_start_ms"] == pytest.approx(700 - 21.3, abs=2)


def test_the_44k_file_has_one_44100_hz_aac_channel(shapes: Class) -> None:
    with av.open(str(shapes.inputs["c-mono-44k"])) as container:
        ctx = container.streams.audio[0].codec_context
        assert (ctx.name, ctx.sample_rate, ctx.channels) == ("aac", 44100, 1)


def test_the_phone_video_is_stored_landscape_with_a_90_degree_display_matrix(
    shapes: Class,
) -> None:
    with av.open(str(shapes.inputs["d-phone"])) as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height, frame.rotation) == (640, 480, 90)


@pytest.mark.parametrize("sid", _sids("vfr"))
def test_the_vfr_files_have_frames_10_to_30_fps_apart_and_their_flashes_on_time(
    vfr: Class, sid: str
) -> None:
    path = vfr.inputs[sid]
    gaps = np.diff(mc.frame_times_ms(path))
    assert 20 <= gaps.min() < 40 and 90 < gaps.max() <= 110, (gaps.min(), gaps.max())
    assert len(set(np.round(gaps).tolist())) > 10  # irregular, not a few fixed rates
    _assert_times(mc.flash_times_ms(path, _below_mark(*CAMERA)), CAMS[sid], "flashes")


@pytest.mark.parametrize(
    ("sid", "claims_more"), [("a-cut-mp4", True), ("b-cut-fmp4", False), ("c-cut-ts", False)]
)
def test_each_truncated_file_holds_less_than_it_was_written_with(
    cuts: Class, sid: str, claims_more: bool
) -> None:
    """How PyAV sees the cut files: the faststart MP4's moov still claims 4 s; for the
    fragmented MP4 and the MPEG-TS libavformat estimates the duration from what is there.
    Every one ends on a torn packet (``is_corrupt``)."""
    path = cuts.inputs[sid]
    view = rec.container_view(path)
    assert 1000 < view.readable_ms < 2500, view
    assert view.header_ms is not None and view.demux_error is None, view
    assert (view.header_ms > view.readable_ms + 1000) == claims_more, view
    with av.open(str(path)) as container:
        assert any(p.is_corrupt for p in container.demux()), "no torn packet"


# --- The mix: every camera in its template slot, on time ---


@pytest.mark.parametrize("sid", _sids("shapes", "vfr"))
def test_each_recorder_shape_fills_its_template_slot_with_its_picture(
    request: pytest.FixtureRequest, sid: str
) -> None:
    frame = mc.frame_at(_of(request, sid).path(3), 1500)
    x, y, w, _ = SLOT[sid]
    color = CAMS[sid].color
    mc.assert_color(mc.mean_color(frame, *_picture_in_slot(sid)), color)
    if sid == "d-phone":
        # Portrait 480x640 fitted into 320x240: 180x240 at x + 70, black bars beside it;
        # upright, its green band is at the top.
        mc.assert_color(mc.mean_color(frame, x + 100, y + 4, 120, 20), rec.UP_MARK, what="top")
        mc.assert_color(mc.mean_color(frame, x + 100, y + 200, 120, 36), color, what="bottom")
        mc.assert_color(mc.mean_color(frame, x + 4, y + 20, 60, 200), BLACK, what="left bar")
        mc.assert_color(mc.mean_color(frame, x + 256, y + 20, 60, 200), BLACK, what="right")
    else:
        # A 4:3 picture fills its whole slot: its edges are the camera's, not bars.
        mc.assert_color(mc.mean_color(frame, x + 2, y + 100, 8, 100), color, what="left")
        mc.assert_color(mc.mean_color(frame, x + w - 10, y + 100, 8, 100), color, what="right")
    # Below the slots: the template's background.
    mc.assert_color(mc.mean_color(frame, 100, 252, 800, 2), BACKGROUND, what="canvas")


@pytest.mark.parametrize("sid", _sids("shapes", "vfr"))
def test_each_recorder_shape_flashes_and_beeps_on_time_in_the_mix(
    request: pytest.FixtureRequest, sid: str
) -> None:
    mix = _of(request, sid).path(3)
    _assert_times(mc.flash_times_ms(mix, _picture_in_slot(sid)), CAMS[sid], "flashes")
    _assert_times(mc.beep_onsets_ms(mix, CAMS[sid].beep_hz), CAMS[sid], "beeps")


def test_a_late_audio_track_is_silent_in_the_mix_until_it_starts(shapes: Class) -> None:
    mix = shapes.path(3)
    assert mc.tone_level_db(mix, 50, 620, 400) < -55
    assert mc.tone_level_db(mix, 800, 2900, 400) > -30


def test_the_mix_is_48_khz_stereo_and_a_44k_mono_tone_is_as_loud_as_a_48k_one_in_both_channels(
    shapes: Class,
) -> None:
    mix = shapes.path(3)
    with av.open(str(mix)) as container:
        ctx = container.streams.audio[0].codec_context
        assert (ctx.name, ctx.sample_rate, ctx.channels) == ("aac", 48000, 2)
    mono44 = mc.channel_tone_levels_db(mix, 200, 2800, 500)
    mono48 = mc.channel_tone_levels_db(mix, 200, 2800, 600)  # the phone: 48 kHz mono AAC
    # A mono microphone summed into the stereo mix keeps its level in each channel.
    assert mono44 == [pytest.approx(TONE_DB, abs=1.0)] * 2, mono44
    assert abs(mono44[0] - mono48[0]) <= 0.5, (mono44, mono48)


@pytest.mark.parametrize("name", ["vfr", "cuts"])
def test_the_mix_is_a_constant_15_fps_whatever_the_inputs_frame_timing(
    request: pytest.FixtureRequest, name: str
) -> None:
    cls: Class = request.getfixturevalue(name)
    gaps = np.diff(mc.frame_times_ms(cls.path(3)))
    assert np.allclose(gaps, FRAME_MS, atol=1), (gaps.min(), gaps.max())


@pytest.mark.parametrize("sid", _sids("cuts"))
def test_a_truncated_camera_plays_in_its_slot_until_its_data_ends_then_the_slot_is_empty(
    cuts: Class, sid: str
) -> None:
    cam = CAMS[sid]
    mix = cuts.path(3)
    region = _picture_in_slot(sid)
    video_end = _readable_end_ms(cuts.inputs[sid], "video")
    audio_end = _readable_end_ms(cuts.inputs[sid], "audio")
    during, after = mc.frames_at(mix, [video_end - 200, video_end + 250])
    mc.assert_color(mc.mean_color(during, *region), cam.color, what="before the end")
    mc.assert_color(mc.mean_color(after, *region), BACKGROUND, what="after the end")
    _assert_times(mc.flash_times_ms(mix, region), cam, "flashes")
    _assert_times(mc.beep_onsets_ms(mix, cam.beep_hz), cam, "beeps")
    assert mc.tone_level_db(mix, 100, audio_end - 100, cam.tone_hz) > -30
    assert mc.tone_level_db(mix, audio_end + 100, LENGTH_MS - 50, cam.tone_hz) < -55


# --- Per-stream videos ---


@pytest.mark.parametrize("sid", _sids("shapes", "vfr"))
def test_each_recorder_shape_gets_its_own_video_with_its_picture_and_beeps_on_time(
    request: pytest.FixtureRequest, sid: str
) -> None:
    cls, cam = _of(request, sid), CAMS[sid]
    info = cls.done.one(0, sid)
    path = cls.done.path(info)
    size = (480, 640) if sid == "d-phone" else (160, 120)
    assert (info["Width"], info["Height"]) == size
    assert info["VideoPlayTime"] == 0
    assert abs(info["VideoDuration"] - LENGTH_MS) <= FRAME_MS + cam.lead_ms
    region = _below_mark(0, 0, *size)
    frame = mc.frame_at(path, 1500)
    assert frame.shape == (size[1], size[0], 3)
    mc.assert_color(mc.mean_color(frame, *region), cam.color)
    _assert_times(mc.flash_times_ms(path, region), cam, "flashes")
    _assert_times(mc.beep_onsets_ms(path, cam.beep_hz), cam, "beeps")


def test_a_rotated_phone_video_is_stored_upright_in_its_own_video(shapes: Class) -> None:
    path = shapes.path(0, "d-phone")
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
    # Upright as stored: no display matrix left for a player to apply a second time.
    assert (frame.width, frame.height, frame.rotation) == (480, 640, 0)
    rgb = mc.frame_at(path, 1500)
    mc.assert_color(mc.mean_color(rgb, 100, 10, 280, 50), rec.UP_MARK, what="top band")
    mc.assert_color(mc.mean_color(rgb, 100, 560, 280, 60), PURPLE, what="bottom")


def test_a_late_audio_track_starts_700_ms_into_its_own_video(shapes: Class) -> None:
    path = shapes.path(0, "b-late-ts")
    assert mc.tone_level_db(path, 50, 620, 400) < -55
    assert mc.tone_level_db(path, 800, 2900, 400) == pytest.approx(TONE_DB, abs=1.5)


def test_a_44k_mono_track_keeps_its_level_in_every_channel_of_its_own_video(
    shapes: Class,
) -> None:
    """Every channel: README lets a copied per-stream video keep its source's mono AAC."""
    levels = mc.channel_tone_levels_db(shapes.path(0, "c-mono-44k"), 200, 2800, 500)
    assert levels == [pytest.approx(TONE_DB, abs=1.0)] * len(levels), levels


def _method(cls: Class, sid: str) -> str:
    """How the generation report says the camera's own video was made."""
    name = cls.done.one(0, sid)["VideoUrl"]
    outputs = cls.done.result["GenerationReport"]["Outputs"]
    method: str = next(o["Method"] for o in outputs if o["FileName"] == name)
    return method


def test_a_44k_mono_track_is_48_khz_aac_unless_its_video_is_a_copy(shapes: Class) -> None:
    # A copied (remuxed or spliced) video keeps its source's AAC as it is (README);
    # an encoded one is 48 kHz.
    copied = _method(shapes, "c-mono-44k") in ("remux", "splice")
    with av.open(str(shapes.path(0, "c-mono-44k"))) as container:
        ctx = container.streams.audio[0].codec_context
        assert (ctx.name, ctx.sample_rate) == ("aac", 44100 if copied else 48000)


@pytest.mark.parametrize("sid", ["a-vfr-mkv", "b-vfr-flv"])
def test_a_vfr_camera_gets_its_own_video_at_15_fps_or_with_its_own_timing_when_copied(
    vfr: Class, sid: str
) -> None:
    path = vfr.path(0, sid)
    times = mc.frame_times_ms(path)
    if _method(vfr, sid) == "encode":
        gaps = np.diff(times)
        assert np.allclose(gaps, FRAME_MS, atol=1), (gaps.min(), gaps.max())
    else:  # a copy keeps every source frame where it was (README: copies keep their timing)
        source = mc.frame_times_ms(vfr.inputs[sid])
        lead = [t for t in times if t < source[0] - 1]  # a filler before the first frame
        assert np.allclose(times[len(lead) :], source, atol=1), (times[:5], source[:5])


@pytest.mark.parametrize("sid", ["a-cut-mp4", "b-cut-fmp4", "c-cut-ts"])
def test_a_truncated_camera_gets_its_own_video_of_what_can_be_read(cuts: Class, sid: str) -> None:
    cam = CAMS[sid]
    info = cuts.done.one(0, sid)
    path = cuts.done.path(info)
    video_end = _readable_end_ms(cuts.inputs[sid], "video")
    assert info["VideoPlayTime"] == 0
    assert abs(info["VideoDuration"] - video_end) <= FRAME_MS + cam.lead_ms, video_end
    region = _below_mark(*CAMERA)
    mc.assert_color(mc.mean_color(mc.frame_at(path, video_end - 200), *region), cam.color)
    _assert_times(mc.flash_times_ms(path, region), cam, "flashes")
    # The strict decode: the content checks below read audio, which a torn packet breaks.
    assert mc.decode_errors(path) == []
    _assert_times(mc.beep_onsets_ms(path, cam.beep_hz), cam, "beeps")


@pytest.mark.parametrize("sid", ["a-cut-mp4", "b-cut-fmp4", "c-cut-ts"])
def test_every_output_made_from_a_truncated_camera_carries_a_truncation_warning(
    cuts: Class, sid: str
) -> None:
    # The faststart MP4's header claims the whole 4 s; the fragmented MP4 and the TS
    # estimate theirs from what is there, so only their torn packets tell the cut.
    names = {info["VideoUrl"] for info in [*cuts.done.infos(user_id=sid), cuts.done.one(3)]}
    outputs = [o for o in cuts.done.result["GenerationReport"]["Outputs"] if o["FileName"] in names]
    assert len(outputs) == 3  # its video, its mp3, the mix
    for output in outputs:
        cut = [w for w in output["Warnings"] if w["Code"] == "SourceTruncated"]
        found = [w for w in cut if w["StreamId"] == sid]
        assert len(found) == 1, output["Warnings"]
        if output["VideoType"] != 3:  # the mix also carries the other cameras' cuts
            assert cut == found
        claims = "header claims 4.0 s" if sid == "a-cut-mp4" else "packet(s) are torn"
        assert claims in found[0]["Message"], found[0]["Message"]


@pytest.mark.parametrize("sid", ["a-cut-mp4", "b-cut-fmp4", "c-cut-ts"])
def test_every_output_made_from_a_truncated_camera_decodes_without_errors(
    cuts: Class, sid: str
) -> None:
    outputs = [*cuts.done.infos(user_id=sid), cuts.done.one(3)]
    errors = {info["VideoUrl"]: mc.decode_errors(cuts.done.path(info)) for info in outputs}
    assert not any(errors.values()), errors


# --- mp3 files ---


@pytest.mark.parametrize("sid", list(CAMS))
def test_each_recorder_shape_gets_an_mp3_with_its_tone_and_beeps_on_time(
    request: pytest.FixtureRequest, sid: str
) -> None:
    cls, cam = _of(request, sid), CAMS[sid]
    info = cls.done.one(4, sid)
    path = cls.done.path(info)
    play = info["VideoPlayTime"]
    _assert_times(mc.beep_onsets_ms(path, cam.beep_hz), cam, "beeps", shift=play)
    audio_end = min(LENGTH_MS, _readable_end_ms(cls.inputs[sid], "audio"))
    lo, hi = cam.audio_at_ms + 100 - play, audio_end - 100 - play
    assert mc.tone_level_db(path, lo, hi, cam.tone_hz) == pytest.approx(TONE_DB, abs=1.5)
    if cam.audio_at_ms:
        assert mc.tone_level_db(path, 50 - play, cam.audio_at_ms - 80 - play, cam.tone_hz) < -55
