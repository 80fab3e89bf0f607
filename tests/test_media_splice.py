"""Per-stream videos spliced from their sources (DESIGN §6): GOPs copied, the frames before a
clip's first keyframe and the gap fillers encoded with the source's own H.264 headers.

* ``cam``: ``cam-1.mp4`` 0-8 s (red, 1 s GOPs, flash + beep at 1 s and 5 s) and ``cam-2.flv``
  11-15 s (blue, millisecond timestamps, flash + beep at its 1 s);
* a pause 3.4-4.4 s resumes mid-GOP, so 4.4-5.0 s of ``cam-1`` is decoded and re-encoded;
* the gap 8-11 s shows the Concat image (green);
* ``oh``: an OpenH264 segment 0-6 s (purple), cut by the same pause. It has no x264 options
  to reproduce, so it is encoded the ordinary way and must look the same.

Per-stream timeline (the pause removed): cam-1 0-3.4 and 3.4-7.0 s, filler 7.0-10.0 s,
cam-2 10.0-14.0 s; flashes at 1.0, 4.0 and 11.0 s.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest
from PIL import Image

import mediacheck as mc
from mediacheck import Generated, Piece
from mixdown.synth import ClipSpec

pytestmark = pytest.mark.media

RED, BLUE, GREEN, PURPLE = "#C0392B", "#2E86C1", "#27AE60", "#8E44AD"
FRAME_MS = 1000 / 15
HALF_AAC_PACKET_MS = 1024 / 2 / 48


def _openh264_clip(path: Path, ffmpeg: str) -> None:
    subprocess.run(
        [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"color=c={PURPLE}:s=160x120:r=15:d=6",
            "-f", "lavfi", "-i", "sine=f=550:r=48000:d=6",
            "-c:v", "libopenh264", "-pix_fmt", "yuv420p", "-g", "15",
            "-c:a", "aac", "-ac", "1", str(path),
        ],
        check=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def cls(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    tmp = tmp_path_factory.mktemp("splice")
    folder = tmp / "in"
    folder.mkdir()
    Image.new("RGB", (64, 48), GREEN).save(folder / "filler.png")
    _openh264_clip(folder / "oh.mp4", ffmpeg)
    one = ClipSpec(
        duration_ms=8000, color=RED, tone_hz=440, flashes_ms=(1000, 5000),
        beeps_ms=(1000, 5000), beep_hz=2000,
    )  # fmt: skip
    two = ClipSpec(
        duration_ms=4000, color=BLUE, tone_hz=440, flashes_ms=(1000,), beeps_ms=(1000,),
        beep_hz=2000, container="flv",
    )  # fmt: skip
    pieces = [Piece("cam", "cam-1.mp4", 0, one), Piece("cam", "cam-2.flv", 11_000, two)]
    manifest = mc.write_recording(
        folder, ffmpeg, pieces, length_ms=15_000, pauses_ms=[(3400, 4400)],
        Concat={"Enabled": True, "Image": "filler.png"},
    )  # fmt: skip
    # The OpenH264 file is not synthesised by write_recording: add its stream by hand.
    text = manifest.read_text(encoding="utf-8")
    start = mc.START_MS
    oh = f'{{"StreamId": "oh", "Segments": [{{"Url": "oh.mp4", "StartTime": {start}}}]}}'
    manifest.write_text(text.replace('"Streams": [', f'"Streams": [{oh}, ', 1), encoding="utf-8")
    return mc.generate(manifest, tmp / "out")


def _packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.video[0]) if p.size]


def _header(path: Path) -> bytes:
    with av.open(str(path)) as container:
        return bytes(container.streams.video[0].codec_context.extradata)


def test_the_spliced_video_copies_most_frames_and_keeps_the_source_header(
    cls: Generated,
) -> None:
    out = cls.path(cls.one(0, "cam"))
    folder = cls.out.parent / "in"
    assert _header(out) == _header(folder / "cam-1.mp4") == _header(folder / "cam-2.flv")
    source = set(_packets(folder / "cam-1.mp4")) | set(_packets(folder / "cam-2.flv"))
    packets = _packets(out)
    copied = sum(p in source for p in packets)
    # 3.4 + 3.0 + 4.0 s of source frames, of which 0.6 s are re-encoded; 3 s are filler.
    assert len(packets) == pytest.approx(14_000 / FRAME_MS, abs=2)
    assert copied >= 0.6 * len(packets), (copied, len(packets))
    assert copied <= len(packets) - 45 + 2, "the filler and the cut head must be encoded"


def test_every_part_shows_its_picture(cls: Generated) -> None:
    out = cls.path(cls.one(0, "cam"))
    times = [500, 2500, 3400, 3500, 3900, 4500, 6900, 7100, 8500, 9900, 10100, 13900]
    want = [RED] * 7 + [GREEN] * 3 + [BLUE] * 2
    for t, frame, colour in zip(times, mc.frames_at(out, times), want, strict=True):
        mc.assert_color(mc.mean_color(frame, 40, 30, 80, 60), colour, what=f"at {t} ms")


def test_flashes_and_beeps_land_where_the_timeline_puts_them(cls: Generated) -> None:
    out = cls.path(cls.one(0, "cam"))
    flashes = mc.flash_times_ms(out, (40, 30, 80, 60))
    beeps = mc.beep_onsets_ms(out, 2000)
    assert len(flashes) == len(beeps) == 3, (flashes, beeps)
    for got, want in zip(flashes, [1000, 4000, 11_000], strict=True):
        assert abs(got - want) <= FRAME_MS / 2, (flashes, want)
    for flash, beep in zip(flashes, beeps, strict=True):
        assert abs(beep - flash) <= HALF_AAC_PACKET_MS + 6, (flashes, beeps)


def test_video_and_audio_span_the_stream(cls: Generated) -> None:
    info = cls.one(0, "cam")
    probed = mc.probe_durations(cls.path(info))
    assert abs(info["VideoDuration"] - 14_000) <= FRAME_MS
    assert abs(probed["video_duration_ms"] - 14_000) <= FRAME_MS  # type: ignore[operator]
    assert abs(probed["audio_duration_ms"] - 14_000) <= 2 * HALF_AAC_PACKET_MS  # type: ignore[operator]


def test_a_source_without_x264_options_is_encoded_and_still_right(cls: Generated) -> None:
    info = cls.one(0, "oh")
    out = cls.path(info)
    assert _header(out) != _header(cls.out.parent / "in" / "oh.mp4")
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.channels == 2  # Mixdown's own AAC
    assert abs(info["VideoDuration"] - 5000) <= FRAME_MS
    for t, frame in zip(
        [200, 3300, 3500, 4900], mc.frames_at(out, [200, 3300, 3500, 4900]), strict=True
    ):
        mc.assert_color(mc.mean_color(frame, 40, 30, 80, 60), PURPLE, what=f"at {t} ms")
