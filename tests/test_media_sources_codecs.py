"""Inputs a real class throws at the engine: codecs, containers, frame rates, rotation, sizes.

DESIGN §1: a segment is "any container/codec ffmpeg reads", may have a variable frame rate,
and every output keeps audio and video within one frame (66 ms at 15 fps). One recording
(3.2 s, no pause) holds one camera per kind of input, each in its own reserved slot of a
Custom 4x4 canvas of 160x120 slots; every camera flashes white and beeps (its own beep
frequency) at known times, so sync is measured in the mix and in each per-stream video.

* ``vfr``: 15 fps for 2 s then 30 fps, every timestamp jittered by up to 12 ms, written
  with ``-fps_mode vfr`` (what a phone or WebRTC recorder produces);
* ``fps25``, ``fps30b`` (H.264 with B-frames), ``aac441`` (44.1 kHz stereo AAC),
  ``narrow8k`` (8 kHz mono AAC), ``surround`` (5.1 AAC in Matroska, a file name with a
  space and an accent), ``opusmkv`` (Opus in Matroska), ``mp3mp4`` (MP3 in MP4), ``vp8``
  (VP8 + Vorbis in WebM), ``vp9`` (VP9 + Opus in WebM), ``hevc`` (H.265 + AAC in MP4),
  ``hevc10`` (10-bit H.265, as recent phones record);
* ``rot90`` / ``rot270``: a landscape phone picture with a display matrix (``-display_rotation
  90`` / ``-90``) and a green marker on its right edge: shown upright, the marker is at the
  top (90, counter-clockwise) or at the bottom (-90).

A 30 fps one-frame event can be dropped by the conversion to 15 fps (half the frames go), so
the 30 fps flashes last two frames. Sizes: a second recording puts odd, tiny, very wide and
portrait pictures into template 1 (FillMode 0: black bars, the slot background's default)
and into Custom FillMode 1 slots.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mediacheck as mc
from mediacheck import Generated
from mixdown.synth import ClipSpec, audio_source, run_ffmpeg, video_graph

pytestmark = pytest.mark.media

FRAME_MS = 1000 / 15
LENGTH_MS = 3200
RED, GREEN = "#C0392B", "#00FF00"
X264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-bf", "0")
VPX = ("-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-pix_fmt", "yuv420p")
X265 = ("-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-tag:v", "hvc1")
X265_10 = ("-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le", "-tag:v", "hvc1")


@dataclass(frozen=True)
class Variant:
    """How one camera file is encoded."""

    ext: str
    fps: int = 15
    #: 30 fps: a flash must last two frames to survive the conversion to 15 fps.
    two_frame_flashes: bool = False
    vfilter: str = ""
    vcodec: tuple[str, ...] = X264
    acodec: tuple[str, ...] = ("-c:a", "aac")
    rate: int = 48000
    channels: int = 1


VARIANTS: dict[str, Variant] = {
    "vfr": Variant(
        "mp4",
        fps=30,
        two_frame_flashes=True,
        # 15 fps for 2 s (every other frame), then 30 fps; jitter of up to 12 ms.
        vfilter="select='if(lt(t,2),not(mod(n,2)),1)',setpts='PTS+0.012*sin(N*1.7)/TB'",
        vcodec=(*X264, "-fps_mode", "vfr", "-enc_time_base:v", "1:90000"),
    ),
    "fps25": Variant("mp4", fps=25),
    "fps30b": Variant(
        "mp4",
        fps=30,
        two_frame_flashes=True,
        vcodec=("-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-pix_fmt", "yuv420p"),
    ),
    "aac441": Variant("mp4", rate=44100, channels=2),
    "narrow8k": Variant("mp4", rate=8000),
    "surround": Variant("mkv", channels=6),
    "opusmkv": Variant("mkv", acodec=("-c:a", "libopus")),
    "mp3mp4": Variant("mp4", acodec=("-c:a", "libmp3lame"), rate=44100),
    "vp8": Variant("webm", vcodec=("-c:v", "libvpx", *VPX), acodec=("-c:a", "libvorbis")),
    "vp9": Variant("webm", vcodec=("-c:v", "libvpx-vp9", *VPX), acodec=("-c:a", "libopus")),
    "hevc": Variant("mp4", vcodec=(*X265, "-x265-params", "log-level=error")),
    "hevc10": Variant(
        "mp4",
        vcodec=(*X265_10, "-x265-params", "log-level=error"),
    ),
}
#: Beep frequencies: multiples of 100 Hz, 200 Hz apart (separable by mediacheck.envelope).
BEEPS = {sid: 1000 + 200 * i for i, sid in enumerate(VARIANTS)}
#: Flash+beep times, on the 15, 25 and 30 fps grids; the first before 2000 ms (the 15 fps
#: part of ``vfr``), the second after it. Staggered so that at most three beep at once
#: (their sum stays below the mix's limiter).
SYNC = {sid: (400 + 200 * (i % 5), 2000 + 200 * (i % 5)) for i, sid in enumerate(VARIANTS)}
ROTATIONS = {"rot90": 90, "rot270": -90}
STREAMS = [*VARIANTS, *ROTATIONS]
SLOT_W, SLOT_H = 160, 120
SLOTS = {
    sid: ((i % 4) * SLOT_W, (i // 4) * SLOT_H, SLOT_W, SLOT_H) for i, sid in enumerate(STREAMS)
}
#: File names: one with a space and a non-ASCII letter, as users name their uploads.
NAMES = {sid: f"{sid}.{v.ext}" for sid, v in VARIANTS.items()} | {"surround": "5.1 café.mkv"}


def make_variant(spec: ClipSpec, v: Variant, path: Path, ffmpeg: str) -> Path:
    """``spec``'s picture and sound (mediacheck's synth graphs), encoded as ``v`` says."""
    graph = video_graph(spec) + (f",{v.vfilter}" if v.vfilter else "")
    args = ["-f", "lavfi", "-i", graph, "-f", "lavfi", "-i", audio_source(spec)]
    args += ["-map", "0:v", *v.vcodec, "-map", "1:a", *v.acodec]
    args += ["-ar", str(v.rate), "-ac", str(v.channels), str(path)]
    run_ffmpeg(ffmpeg, args)
    return path


def _custom(slots: dict[str, tuple[int, int, int, int]], width: int, height: int) -> Any:
    return {
        "Canvas": {"LayoutParams": {"Width": width, "Height": height}},
        "InputStreamList": [
            {"LayoutParams": {"X": x, "Y": y, "Width": w, "Height": h}, "InputStreamId": sid}
            for sid, (x, y, w, h) in slots.items()
        ],
    }


def _write_manifest(folder: Path, files: dict[str, str], length_ms: int, **params: Any) -> Path:
    manifest = {
        "RoomId": mc.ROOM_ID,
        "RecordStartTimeMs": mc.START_MS,
        "RecordStopTimeMs": mc.START_MS + length_ms,
        "Streams": [
            {"StreamId": sid, "Segments": [{"Url": name, "StartTime": mc.START_MS}]}
            for sid, name in files.items()
        ],
        **params,
    }
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cls(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    tmp = tmp_path_factory.mktemp("robust-inputs")
    folder = tmp / "in"
    folder.mkdir()
    files: dict[str, str] = {}
    for sid, v in VARIANTS.items():
        second = tuple(t + 33 for t in SYNC[sid]) if v.two_frame_flashes else ()
        spec = ClipSpec(
            duration_ms=LENGTH_MS, fps=v.fps, color=RED, flashes_ms=(*SYNC[sid], *second),
            beeps_ms=SYNC[sid], beep_hz=BEEPS[sid], beep_amplitude=0.3,
        )  # fmt: skip
        files[sid] = make_variant(spec, v, folder / NAMES[sid], ffmpeg).name
    # A landscape picture with a green marker on its right edge, then rotation metadata.
    landscape = ClipSpec(duration_ms=LENGTH_MS, color=RED, tone_hz=250, moving_mark=False)
    marker = Variant("mp4", vfilter="drawbox=x=120:y=30:w=40:h=60:color=0x00FF00:t=fill")
    plain = make_variant(landscape, marker, folder / "landscape.mp4", ffmpeg)
    for sid, degrees in ROTATIONS.items():
        run_ffmpeg(
            ffmpeg,
            ["-display_rotation", str(degrees), "-i", str(plain), "-c", "copy",
             str(folder / f"{sid}.mp4")],
        )  # fmt: skip
        files[sid] = f"{sid}.mp4"
    manifest = _write_manifest(
        folder, files, LENGTH_MS, Concat={"Enabled": True}, AudioFileNeeded=True,
        MixStream={"Enabled": True, "Custom": _custom(SLOTS, 4 * SLOT_W, 4 * SLOT_H)},
    )  # fmt: skip
    return mc.generate(manifest, tmp / "out")


def _below_mark(x: int, y: int, w: int, h: int) -> mc.Region:
    """The middle of a camera picture, below synth's moving mark (top eighth)."""
    return mc.center_region(x, y + h // 8, w, h - h // 8)


def _assert_synced(flashes: list[float], beeps: list[float], expected: tuple[int, ...]) -> None:
    assert len(flashes) == len(expected), ("flashes", flashes, expected)
    assert len(beeps) == len(expected), ("beeps", beeps, expected)
    for flash, beep, want in zip(flashes, beeps, expected, strict=True):
        assert abs(flash - beep) <= FRAME_MS, ("flash vs beep", flash, beep)
        assert abs(flash - want) <= FRAME_MS, ("flash vs expected", flash, want)


@pytest.mark.parametrize("sid", list(VARIANTS))
def test_every_kind_of_input_keeps_flashes_and_beeps_in_sync_in_the_mix(
    cls: Generated, sid: str
) -> None:
    mix = cls.path(cls.one(3))
    flashes = mc.flash_times_ms(mix, _below_mark(*SLOTS[sid]))
    _assert_synced(flashes, mc.beep_onsets_ms(mix, BEEPS[sid]), SYNC[sid])


@pytest.mark.parametrize("sid", list(VARIANTS))
def test_every_kind_of_input_keeps_flashes_and_beeps_in_sync_in_its_own_video(
    cls: Generated, sid: str
) -> None:
    info = cls.one(0, sid)
    assert info["VideoPlayTime"] == 0
    assert abs(info["VideoDuration"] - LENGTH_MS) <= FRAME_MS
    assert (info["Width"], info["Height"]) == (160, 120)
    path = cls.path(info)
    flashes = mc.flash_times_ms(path, _below_mark(0, 0, 160, 120))
    _assert_synced(flashes, mc.beep_onsets_ms(path, BEEPS[sid]), SYNC[sid])
    mc.assert_color(mc.mean_color(mc.frame_at(path, 1500), *_below_mark(0, 0, 160, 120)), RED)


@pytest.mark.parametrize("sid", list(VARIANTS))
def test_every_kind_of_input_gives_an_mp3_with_its_beeps_in_place(cls: Generated, sid: str) -> None:
    mp3 = cls.path(cls.one(4, sid))
    beeps = mc.beep_onsets_ms(mp3, BEEPS[sid])
    expected = SYNC[sid]
    assert len(beeps) == len(expected), beeps
    assert all(abs(b - e) <= FRAME_MS for b, e in zip(beeps, expected, strict=True)), beeps


def _marker_side(frame: np.ndarray, x: int, y: int, w: int, h: int) -> str:
    """Where the green marker of an upright portrait picture fitted in ``(x, y, w, h)`` is."""
    band = max(4, h // 6)
    top = mc.mean_color(frame, x + w // 2 - 10, y + 2, 20, band)
    bottom = mc.mean_color(frame, x + w // 2 - 10, y + h - 2 - band, 20, band)
    sides = [
        name for name, c in (("top", top), ("bottom", bottom)) if mc.color_distance(c, GREEN) < 60
    ]
    return sides[0] if len(sides) == 1 else f"unclear (top {top}, bottom {bottom})"


@pytest.mark.parametrize(("sid", "side"), [("rot90", "top"), ("rot270", "bottom")])
def test_a_rotated_phone_video_is_shown_upright_in_the_mix_and_its_own_video(
    cls: Generated, sid: str, side: str
) -> None:
    mix = mc.frame_at(cls.path(cls.one(3)), 1500)
    x, y, _, h = SLOTS[sid]
    # Portrait 120x160 fitted into the 160x120 slot: 90x120 in the middle, black beside it.
    assert _marker_side(mix, x + 35, y, 90, h) == side
    mc.assert_color(mc.mean_color(mix, x + 2, y + 20, 25, 80), "#000000", what="pillarbox")
    info = cls.one(0, sid)
    assert (info["Width"], info["Height"]) == (120, 160)
    own = mc.frame_at(cls.path(info), 1500)
    assert own.shape == (160, 120, 3)
    assert _marker_side(own, 0, 0, 120, 160) == side


# --- Sizes: odd, tiny, very wide and portrait pictures in template and Custom slots ---

BLUE, ORANGE, TEAL, YELLOW = "#2E86C1", "#E67E22", "#16A085", "#F1C40F"
#: StreamId -> (colour, width, height); StreamId order = template slot order.
SIZES = {
    "odd": (RED, 161, 121),
    "tall": (ORANGE, 120, 160),
    "tiny": (TEAL, 16, 16),
    "wide": (BLUE, 640, 120),
}
TEMPLATE_SLOTS = [(x, 8, 320, 240) for x in (8, 336, 664, 992)]


@pytest.fixture(scope="module")
def sizes(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    folder = tmp_path_factory.mktemp("robust-sizes")
    files: dict[str, str] = {}
    for sid, (color, w, h) in SIZES.items():
        spec = ClipSpec(duration_ms=2000, color=color, tone_hz=440, moving_mark=False)
        scale = f"scale={w}:{h}"
        if sid == "wide":  # green left quarter, yellow right quarter: cover must crop them
            scale += ",drawbox=x=0:y=0:w=160:h=ih:color=0x00FF00:t=fill"
            scale += ",drawbox=x=480:y=0:w=160:h=ih:color=0xF1C40F:t=fill"
        if sid == "tall":  # green top fifth, yellow bottom fifth
            scale += ",drawbox=x=0:y=0:w=iw:h=32:color=0x00FF00:t=fill"
            scale += ",drawbox=x=0:y=128:w=iw:h=32:color=0xF1C40F:t=fill"
        # x264 refuses odd sizes in 4:2:0; a 4:4:4 H.264 is what an odd-sized camera gives.
        pix = "yuv444p" if w % 2 or h % 2 else "yuv420p"
        codec = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", pix, "-bf", "0")
        make_variant(
            spec, Variant("mp4", vfilter=scale, vcodec=codec), folder / f"{sid}.mp4", ffmpeg
        )
        files[sid] = f"{sid}.mp4"
    return _write_manifest(
        folder, files, 2000, Concat={"Enabled": True}, MixStream={"Enabled": True, "ModelId": 1}
    )


@pytest.fixture(scope="module")
def in_template(sizes: Path) -> Generated:
    return mc.generate(sizes, sizes.parent.parent / "out-template")


@pytest.fixture(scope="module")
def covered(sizes: Path) -> Generated:
    slots = {"wide": (0, 0, 160, 120), "tall": (160, 0, 160, 120)}
    custom = _custom(slots, 320, 120)
    for slot in custom["InputStreamList"]:
        slot["FillMode"] = 1
    params = {"MixStream": {"Enabled": True, "Custom": custom}}
    return mc.generate(sizes, sizes.parent.parent / "out-covered", params)


def test_odd_tiny_wide_and_portrait_pictures_fit_template_slots_on_black_bars(
    in_template: Generated,
) -> None:
    frame = mc.frame_at(in_template.path(in_template.one(3)), 1000)
    odd, tall, tiny, wide = TEMPLATE_SLOTS
    centres = [mc.center_region(*slot) for slot in TEMPLATE_SLOTS[:3]]
    centres.append((wide[0] + 112, 110, 96, 36))  # wide is 60 px high: keep off its bars
    for (sid, (color, _, _)), region in zip(SIZES.items(), centres, strict=True):
        mc.assert_color(mc.mean_color(frame, *region), color, what=sid)
    # odd 161x121 is 4:3 within a pixel: it fills its slot (no bars worth the name).
    mc.assert_color(mc.mean_color(frame, odd[0] + 4, 60, 10, 120), RED, what="odd left edge")
    # tall 120x160 -> 180x240 at x +70; tiny 16x16 -> 240x240 at x +40; wide -> 320x60 at y +90.
    mc.assert_color(mc.mean_color(frame, tall[0] + 4, 40, 60, 160), "#000000", what="tall bar")
    mc.assert_color(mc.mean_color(frame, tall[0] + 256, 40, 60, 160), "#000000", what="tall bar")
    mc.assert_color(mc.mean_color(frame, tiny[0] + 4, 40, 30, 160), "#000000", what="tiny bar")
    mc.assert_color(mc.mean_color(frame, tiny[0] + 286, 40, 30, 160), "#000000", what="tiny bar")
    mc.assert_color(mc.mean_color(frame, wide[0] + 40, 12, 240, 80), "#000000", what="wide bar")
    mc.assert_color(mc.mean_color(frame, wide[0] + 40, 166, 240, 76), "#000000", what="wide bar")
    mc.assert_color(mc.mean_color(frame, wide[0] + 2, 110, 30, 36), GREEN, what="wide left")
    # The canvas around the slots keeps the template background.
    mc.assert_color(mc.mean_color(frame, 100, 250, 800, 4), "#34363B", what="canvas")


def test_odd_tiny_wide_and_portrait_pictures_keep_their_size_rounded_to_even(
    in_template: Generated,
) -> None:
    for sid, (color, w, h) in SIZES.items():
        info = in_template.one(0, sid)
        width, height = info["Width"], info["Height"]
        assert width % 2 == 0 and height % 2 == 0, (sid, width, height)
        assert abs(width - w) <= 1 and abs(height - h) <= 1, (sid, width, height)
        frame = mc.frame_at(in_template.path(info), 1000)
        assert frame.shape == (height, width, 3), sid
        mc.assert_color(mc.mean_color(frame, *mc.center_region(0, 0, width, height)), color)


def test_fill_mode_1_crops_a_wide_and_a_portrait_picture_to_cover_the_slot(
    covered: Generated,
) -> None:
    frame = mc.frame_at(covered.path(covered.one(3)), 1000)
    # wide 640x120 covers 160x120 unscaled: only its blue middle, no green/yellow ends.
    for x in (2, 70, 146):
        mc.assert_color(mc.mean_color(frame, x, 10, 12, 100), BLUE, what=f"wide at x {x}")
    # tall 120x160 -> 160x213, middle 120 rows: its marked top/bottom fifths are cut off.
    for y in (2, 55, 106):
        mc.assert_color(mc.mean_color(frame, 170, y, 140, 12), ORANGE, what=f"tall at y {y}")
