"""A camera whose picture size changes inside one file (DESIGN §1: every frame is fitted by
§3 whatever its size; a per-stream output keeps one size).

WebRTC recorders change size whenever bandwidth changes, phones rotate, shared windows
resize. Each camera here is one file, one video stream, 6 s, no pause; its picture is a
solid colour with a yellow box in the middle, half its width and height, so a stretched,
off-centre or wrongly cropped tile shows in the box's edges:

* ``cam_mp4``: H.264 in MP4, 640x480 for 2 s then 1280x720 (in-band SPS); a white flash
  and a 2 kHz beep at 4000 ms;
* ``cam_flv``: the same H.264 in FLV, the size change sent as a new sequence header, as
  RTMP does (no SPS in the samples);
* ``cam_vp8``: VP8 in WebM, the other way: 1280x720 for 4 s then 640x480.

Template 1 puts them in its first three slots. A Custom layout then covers
two slots (FillMode 1) and fits the third on magenta (FillMode 0).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import av
import numpy as np
import pytest

import mediacheck as mc
from mediacheck import Generated
from mixdown.domain.geometry import ffmpeg_color
from mixdown.render.probe import probe_media
from mixdown.synth import ClipSpec, audio_source, run_ffmpeg

pytestmark = pytest.mark.media

FRAME_MS = 1000 / 15
PRIMING_MS = 22
BOX = "#F1C40F"
MAGENTA = "#FF00FF"
TEMPLATE_BG = "#34363B"
#: StreamId -> (picture colour, file, [(width, height, ms)] in order).
CAMS: dict[str, tuple[str, str, list[tuple[int, int, int]]]] = {
    "cam_flv": ("#27AE60", "cam.flv", [(640, 480, 2000), (1280, 720, 4000)]),
    "cam_mp4": ("#2E86C1", "cam.mp4", [(640, 480, 2000), (1280, 720, 4000)]),
    "cam_vp8": ("#C0392B", "cam.webm", [(1280, 720, 4000), (640, 480, 2000)]),
}
LENGTH_MS = 6000
FLASH_MS = 4000  # in cam_mp4 (and cam_flv): 2000 ms into its 1280x720 part
#: Template 1's small slots (DESIGN §3), in order of first appearance: the WebM has no AAC
#: priming, so its picture starts 21 ms before the others'; then StreamId order.
SLOTS = {"cam_vp8": (8, 8, 320, 240), "cam_flv": (336, 8, 320, 240), "cam_mp4": (664, 8, 320, 240)}
#: The Custom layout: cover, cover, fit on magenta.
CUSTOM_SLOTS = {"cam_mp4": (0, 0, 320, 240), "cam_vp8": (320, 0, 320, 240)}
CUSTOM_FIT = ("cam_flv", (640, 0, 320, 240))
CUSTOM = {
    "Canvas": {"LayoutParams": {"Width": 960, "Height": 240}, "BackgroundColor": "#101820"},
    "InputStreamList": [
        *(
            {
                "LayoutParams": {"X": x, "Y": y, "Width": w, "Height": h},
                "InputStreamId": sid,
                "FillMode": 1,
            }
            for sid, (x, y, w, h) in CUSTOM_SLOTS.items()
        ),
        {
            "LayoutParams": {"X": 640, "Y": 0, "Width": 320, "Height": 240},
            "InputStreamId": CUSTOM_FIT[0],
            "FillMode": 0,
            "BackgroundColor": MAGENTA,
        },
    ],
}


# --- inputs ----------------------------------------------------------------------------


def _picture(color: str, width: int, height: int, ms: int, flash_ms: int | None) -> str:
    """The lavfi picture: colour, centred box of half the size, an optional white frame."""
    chain = (
        f"color=c={ffmpeg_color(color)}:s={width}x{height}:r=15:d={ms / 1000},"
        f"drawbox=x=iw/4:y=ih/4:w=iw/2:h=ih/2:color={ffmpeg_color(BOX)}:t=fill"
    )
    if flash_ms is not None:
        n = round(flash_ms * 15 / 1000)
        chain += f",drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='eq(n,{n})'"
    return chain + ",settb=1/90000"


def _h264_parts(ffmpeg: str, folder: Path, color: str, runs: list[tuple[int, int, int]]) -> Path:
    """One H.264 stream whose SPS changes at a keyframe: MPEG-TS parts (Annex B, parameter
    sets in band) joined by the concat demuxer; returns the concat list."""
    lines = []
    at = 0
    for i, (width, height, ms) in enumerate(runs):
        flash = FLASH_MS - at if at <= FLASH_MS < at + ms else None
        beeps = (flash,) if flash is not None else ()
        sound = ClipSpec(duration_ms=ms, tone_hz=440, beeps_ms=beeps, beep_hz=2000)
        part = folder / f"{color[1:]}-{i}.ts"
        run_ffmpeg(ffmpeg, [
            "-f", "lavfi", "-i", _picture(color, width, height, ms, flash),
            "-f", "lavfi", "-i", audio_source(sound),
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "15",
            "-bf", "0", "-c:a", "aac", "-ar", "48000", "-ac", "1", "-f", "mpegts", str(part),
        ])  # fmt: skip
        lines.append(f"file '{part}'")
        at += ms
    listing = folder / f"{color[1:]}.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return listing


def _vp8(ffmpeg: str, folder: Path, color: str, runs: list[tuple[int, int, int]]) -> Path:
    lines = []
    for i, (width, height, ms) in enumerate(runs):
        part = folder / f"{color[1:]}-{i}.webm"
        run_ffmpeg(ffmpeg, [
            "-f", "lavfi", "-i", _picture(color, width, height, ms, None),
            "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M",
            "-g", "15", "-f", "webm", str(part),
        ])  # fmt: skip
        lines.append(f"file '{part}'")
    listing = folder / f"{color[1:]}.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return listing


def _make_inputs(folder: Path, ffmpeg: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    parts = folder / "parts"
    parts.mkdir(exist_ok=True)
    concat = ["-f", "concat", "-safe", "0", "-i"]
    color, name, runs = CAMS["cam_mp4"]
    listing = _h264_parts(ffmpeg, parts, color, runs)
    run_ffmpeg(ffmpeg, [*concat, str(listing), "-c", "copy", "-movflags", "+faststart",
                        str(folder / name)])  # fmt: skip
    color, name, runs = CAMS["cam_flv"]
    listing = _h264_parts(ffmpeg, parts, color, runs)
    # extract_extradata moves the parameter sets out of the samples into new extradata,
    # which the FLV muxer writes as a second sequence header (what an RTMP publisher sends).
    run_ffmpeg(ffmpeg, [*concat, str(listing), "-c", "copy", "-bsf:v",
                        "extract_extradata=remove=1", str(folder / name)])  # fmt: skip
    color, name, runs = CAMS["cam_vp8"]
    run_ffmpeg(ffmpeg, [*concat, str(_vp8(ffmpeg, parts, color, runs)), "-c", "copy",
                        str(folder / name)])  # fmt: skip


def _manifest(folder: Path) -> Path:
    streams = [
        {"StreamId": sid, "Segments": [{"Url": name, "StartTime": mc.START_MS}]}
        for sid, (_, name, _) in CAMS.items()
    ]
    manifest = {
        "RoomId": mc.ROOM_ID,
        "RecordStartTimeMs": mc.START_MS,
        "RecordStopTimeMs": mc.START_MS + LENGTH_MS,
        "Streams": streams,
        "Concat": {"Enabled": True},
        "MixStream": {"Enabled": True, "ModelId": 1},
    }
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    folder = tmp_path_factory.mktemp("size-change") / "in"
    _make_inputs(folder, ffmpeg)
    return _manifest(folder)


@pytest.fixture(scope="module")
def template(inputs: Path) -> Generated:
    return mc.generate(inputs, inputs.parent.parent / "out-template")


@pytest.fixture(scope="module")
def custom(inputs: Path) -> Generated:
    params = {"MixStream": {"Enabled": True, "Custom": CUSTOM}, "Concat": {"Enabled": False}}
    return mc.generate(inputs, inputs.parent.parent / "out-custom", params)


# --- geometry --------------------------------------------------------------------------

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (end exclusive)


def _expected(source: tuple[int, int], slot: Box, cover: bool) -> tuple[Box, Box]:
    """Where a fitted (or covering) picture and its box land, clipped to ``slot``."""
    x0, y0, x1, y1 = slot
    w, h = x1 - x0, y1 - y0
    pick = max if cover else min
    scale = pick(w / source[0], h / source[1])
    pw, ph = source[0] * scale, source[1] * scale
    cx, cy = x0 + w / 2, y0 + h / 2

    def rect(half_w: float, half_h: float) -> Box:
        return (
            max(x0, round(cx - half_w)),
            max(y0, round(cy - half_h)),
            min(x1, round(cx + half_w)),
            min(y1, round(cy + half_h)),
        )

    return rect(pw / 2, ph / 2), rect(pw / 4, ph / 4)


def _extent(line: np.ndarray, colors: tuple[str, ...]) -> tuple[int, int]:
    """First and past-the-last index of pixels near any of ``colors`` along a line."""
    near = np.zeros(len(line), dtype=bool)
    for color in colors:
        near |= np.abs(line.astype(int) - mc.hex_rgb(color)).max(axis=1) <= 40
    found = np.flatnonzero(near)
    return (int(found[0]), int(found[-1]) + 1) if found.size else (-1, -1)


def _measured(frame: np.ndarray, slot: Box, color: str) -> tuple[Box, Box]:
    """The picture's and the box's edges, along the slot's middle row and column."""
    x0, y0, x1, y1 = slot
    row = frame[(y0 + y1) // 2, x0:x1]
    column = frame[y0:y1, (x0 + x1) // 2]
    px = _extent(row, (color, BOX))
    py = _extent(column, (color, BOX))
    bx = _extent(row, (BOX,))
    by = _extent(column, (BOX,))
    return (
        (x0 + px[0], y0 + py[0], x0 + px[1], y0 + py[1]),
        (x0 + bx[0], y0 + by[0], x0 + bx[1], y0 + by[1]),
    )


def _assert_placed(
    frame: np.ndarray, slot: Box, sid: str, source: tuple[int, int], cover: bool, what: str
) -> None:
    want = _expected(source, slot, cover)
    got = _measured(frame, slot, CAMS[sid][0])
    for name, w, g in zip(("picture", "box"), want, got, strict=True):
        # 3 px: scaling blurs an edge over a pixel or two, 4:2:0 rounds chroma to even.
        assert max(abs(a - b) for a, b in zip(w, g, strict=True)) <= 3, (what, name, w, g)


def _size_at(sid: str, t_ms: int) -> tuple[int, int]:
    at = 0
    for width, height, ms in CAMS[sid][2]:
        at += ms
        if t_ms < at:
            return width, height
    raise AssertionError(t_ms)


def _box(rect: tuple[int, int, int, int]) -> Box:
    x, y, w, h = rect
    return x, y, x + w, y + h


# --- probe -----------------------------------------------------------------------------


@pytest.mark.parametrize("sid", list(CAMS))
def test_probe_reports_each_size_and_when_it_starts(inputs: Path, sid: str) -> None:
    _, name, runs = CAMS[sid]
    video = probe_media(inputs.parent / name).video
    assert video is not None and video.size_changes
    assert [(w, h) for _, w, h in video.sizes] == [(w, h) for w, h, _ in runs]
    assert video.sizes[0][0] == video.start_ms
    change = video.sizes[1][0] - video.start_ms
    assert abs(change - runs[0][2]) <= FRAME_MS, video.sizes


def test_the_inputs_really_change_size_inside_one_stream(inputs: Path) -> None:
    for sid, (_, name, runs) in CAMS.items():
        with av.open(str(inputs.parent / name)) as container:
            assert len(container.streams.video) == 1, sid
            seen = []
            for frame in container.decode(video=0):
                if not seen or seen[-1] != (frame.width, frame.height):
                    seen.append((frame.width, frame.height))
        assert seen == [(w, h) for w, h, _ in runs], sid


# --- template 1 mix ------------------------------------------------------------------


@pytest.mark.parametrize("t_ms", [1000, 3000, 5000])
def test_each_frame_is_fitted_and_centred_in_its_template_slot(
    template: Generated, t_ms: int
) -> None:
    frame = mc.frame_at(template.path(template.one(3)), t_ms)
    for sid, rect in SLOTS.items():
        size = _size_at(sid, t_ms)
        _assert_placed(frame, _box(rect), sid, size, False, f"{sid} at {t_ms} ms")


def test_letterbox_bars_show_the_slot_background_not_the_canvas(template: Generated) -> None:
    frame = mc.frame_at(template.path(template.one(3)), 5000)
    x, y, w, h = SLOTS["cam_mp4"]  # 16:9 in a 4:3 slot: 30 px bars above and below
    mc.assert_color(mc.mean_color(frame, x + 20, y + 4, w - 40, 22), "#000000", what="top bar")
    mc.assert_color(mc.mean_color(frame, x + 20, y + h - 26, w - 40, 22), "#000000", what="bottom")
    mc.assert_color(mc.mean_color(frame, x, y + h + 2, w, 4), TEMPLATE_BG, what="below the slot")


def test_flash_and_beep_after_the_change_stay_in_sync_in_the_mix(template: Generated) -> None:
    mix = template.path(template.one(3))
    flashes = mc.flash_times_ms(mix, mc.center_region(*SLOTS["cam_mp4"]))
    beeps = mc.beep_onsets_ms(mix, 2000)
    assert len(flashes) == 1 and len(beeps) >= 1, (flashes, beeps)
    assert abs(flashes[0] - FLASH_MS) <= FRAME_MS + PRIMING_MS, flashes
    assert min(abs(flashes[0] - b) for b in beeps) <= FRAME_MS, (flashes, beeps)


# --- per-stream videos -----------------------------------------------------------------


def _frame_sizes(path: Path) -> tuple[tuple[int, int], set[tuple[int, int]]]:
    with av.open(str(path)) as container:
        cc = container.streams.video[0].codec_context
        header = (cc.width, cc.height)
        return header, {(f.width, f.height) for f in container.decode(video=0)}


@pytest.mark.parametrize("sid", list(CAMS))
def test_per_stream_video_has_the_size_shown_longest_everywhere(
    template: Generated, sid: str
) -> None:
    info = template.one(0, sid)
    # Each camera spends 4 of its 6 s at 1280x720, before or after its change.
    assert (info["Width"], info["Height"]) == (1280, 720)
    header, frames = _frame_sizes(template.path(info))
    assert header == (1280, 720) and frames == {(1280, 720)}


@pytest.mark.parametrize("sid", list(CAMS))
def test_per_stream_frames_of_the_other_size_are_fitted_on_black(
    template: Generated, sid: str
) -> None:
    path = template.path(template.one(0, sid))
    whole = (0, 0, 1280, 720)
    for t_ms in (1000, 3000, 5000):
        frame = mc.frame_at(path, t_ms)
        _assert_placed(frame, whole, sid, _size_at(sid, t_ms), False, f"{sid} at {t_ms} ms")
    # 4:3 in 16:9: black bars left and right.
    t_ms = 1000 if sid != "cam_vp8" else 5000
    frame = mc.frame_at(path, t_ms)
    mc.assert_color(mc.mean_color(frame, 20, 200, 120, 320), "#000000", what="left bar")
    mc.assert_color(mc.mean_color(frame, 1140, 200, 120, 320), "#000000", what="right bar")


def test_without_concat_each_piece_has_one_size_too(custom: Generated) -> None:
    for sid in CAMS:
        info = custom.one(0, sid)
        assert (info["Width"], info["Height"]) == (1280, 720), sid
        header, frames = _frame_sizes(custom.path(info))
        assert header == (1280, 720) and frames == {(1280, 720)}, sid


# --- Custom layout ---------------------------------------------------------------------


@pytest.mark.parametrize("t_ms", [1000, 3000, 5000])
def test_fill_mode_1_covers_centred_and_undistorted_after_a_change(
    custom: Generated, t_ms: int
) -> None:
    frame = mc.frame_at(custom.path(custom.one(3)), t_ms)
    for sid, rect in CUSTOM_SLOTS.items():
        slot = _box(rect)
        _assert_placed(frame, slot, sid, _size_at(sid, t_ms), True, f"{sid} at {t_ms} ms")
        # Covered: the picture's colour reaches every edge of the slot.
        got = _measured(frame, slot, CAMS[sid][0])[0]
        assert got == slot, (sid, t_ms, got)


def test_fill_mode_0_fits_on_the_slot_background_after_a_change(custom: Generated) -> None:
    sid, rect = CUSTOM_FIT
    frame = mc.frame_at(custom.path(custom.one(3)), 5000)
    _assert_placed(frame, _box(rect), sid, _size_at(sid, 5000), False, sid)
    x, y, w, h = rect
    mc.assert_color(mc.mean_color(frame, x + 20, y + 4, w - 40, 22), MAGENTA, what="top bar")
    mc.assert_color(mc.mean_color(frame, x + 20, y + h - 26, w - 40, 22), MAGENTA, what="bottom")


# --- the generation report -------------------------------------------------------------


@pytest.mark.parametrize("sid", list(CAMS))
def test_the_report_tells_each_size_change_where_the_picture_is_drawn(
    template: Generated, sid: str
) -> None:
    outputs = {o["FileName"]: o for o in template.result["GenerationReport"]["Outputs"]}
    own = outputs[template.one(0, sid)["VideoUrl"]]
    mix = outputs[template.one(3)["VideoUrl"]]
    for output, where in ((own, "the output's 1280x720"), (mix, "its slot")):
        found = [w for w in output["Warnings"] if w["StreamId"] == sid]
        assert [w["Code"] for w in found] == ["ResolutionChange"], output["Warnings"]
        starts = itertools.accumulate((ms for _, _, ms in CAMS[sid][2]), initial=0)
        sizes = zip(CAMS[sid][2], starts, strict=False)
        runs = ", ".join(f"{w}x{h} from {at / 1000:.1f} s" for (w, h, _), at in sizes)
        assert f"the picture size changes ({runs})" in found[0]["Message"]
        assert f"every frame is fitted into {where}" in found[0]["Message"]
    assert own["Method"] == "encode"  # never copied: one header could not tell both sizes
