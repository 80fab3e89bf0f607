"""Checks of ``result.json`` against the files on disk (DESIGN §1, §2; reference
§3.10 VideoInfo, §3.11 OmittedDuration).

An 8 s recording without Concat, paused 2000-3000 and 5000-5600 (TotalTime 6400):

* ``tic_record_user`` 0-8000 (no audio) -> pieces at 0 (2000 ms), 2000 (2000), 4000 (2400);
* ``tic_substream_ann`` 1000-4000 -> pieces at 1000 (1000) and 2000 (1000);
* ``ann``: a 160x120 segment 500-4100 -> pieces at 500 (1500) and 2000 (1100); a 320x180
  segment 4600-7600 -> pieces at 3600 (400) and 4000 (2000); ``AudioFileNeeded``: one mp3
  per piece;
* ``cat``: one whole 30 fps segment 0-1000 (mono AAC, like every synthetic clip), which
  fits no pause: the kind of segment the engine may stream-copy;
* a Custom mix (one 320x240 canvas).

Every clip length is on the 15 fps frame grid, so a piece's length is exact.
"""

from __future__ import annotations

import re
from typing import Any

import av
import pytest

import mediacheck as mc
from mediacheck import Generated, Piece
from mixdown.synth import ClipSpec

pytestmark = pytest.mark.media

FRAME_MS = 1000 / 15
PAUSES = [(2000, 3000), (5000, 5600)]
CUSTOM = {
    "Canvas": {"LayoutParams": {"Width": 320, "Height": 240}},
    "InputStreamList": [
        {"LayoutParams": {"X": 0, "Y": 0, "Width": 320, "Height": 240}},
    ],
}
#: (VideoType, UserId, VideoPlayTime) -> expected length in ms.
EXPECTED = {
    (3, f"tic_mixstream_{mc.ROOM_ID}_custom", 0): 6400,
    (2, "", 0): 2000,
    (2, "", 2000): 2000,
    (2, "", 4000): 2400,
    (1, "tic_substream_ann", 1000): 1000,
    (1, "tic_substream_ann", 2000): 1000,
    (0, "ann", 500): 1500,
    (0, "ann", 2000): 1100,
    (0, "ann", 3600): 400,
    (0, "ann", 4000): 2000,
    (4, "ann", 500): 1500,
    (4, "ann", 2000): 1100,
    (4, "ann", 3600): 400,
    (4, "ann", 4000): 2000,
    (0, "cat", 0): 1000,
    (4, "cat", 0): 1000,
}


@pytest.fixture(scope="module")
def cls(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    tmp = tmp_path_factory.mktemp("adv-videoinfo")
    board = ClipSpec(duration_ms=8000, width=320, height=240, color="#EEEEE6", has_audio=False)
    screen = ClipSpec(duration_ms=3000, width=320, height=240, color="#7F8C8D", has_audio=False)
    pieces = [
        Piece("tic_record_user", "board.mp4", 0, board),
        Piece("tic_substream_ann", "screen.mp4", 1000, screen),
        Piece("ann", "ann-1.mp4", 500, ClipSpec(duration_ms=3600, color="#C0392B", tone_hz=440)),
        Piece(
            "ann",
            "ann-2.mp4",
            4600,
            ClipSpec(duration_ms=3000, color="#C0392B", tone_hz=440, width=320, height=180),
        ),
        Piece("cat", "cat.mp4", 0, ClipSpec(duration_ms=1000, fps=30, tone_hz=550)),
    ]
    manifest = mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=8000, pauses_ms=PAUSES, AudioFileNeeded=True,
        MixStream={"Enabled": True, "Custom": CUSTOM},
    )  # fmt: skip
    return mc.generate(manifest, tmp / "out")


def _key(info: dict[str, Any]) -> tuple[int, str, int]:
    return info["VideoType"], info["UserId"], info["VideoPlayTime"]


def test_total_time_and_one_omitted_duration_per_pause(cls: Generated) -> None:
    assert cls.result["TotalTime"] == 6400
    assert cls.result["OmittedDurations"] == [
        {"VideoTime": 2000, "PauseTime": mc.START_MS + 2000, "ResumeTime": mc.START_MS + 3000},
        {"VideoTime": 4000, "PauseTime": mc.START_MS + 5000, "ResumeTime": mc.START_MS + 5600},
    ]


def test_each_piece_is_reported_once_with_its_type_user_and_start_on_the_timeline(
    cls: Generated,
) -> None:
    keys = [_key(v) for v in cls.result["VideoInfoList"]]
    assert sorted(keys) == sorted(EXPECTED)


def test_video_duration_is_within_one_frame_of_the_piece_and_of_the_file(cls: Generated) -> None:
    for info in cls.result["VideoInfoList"]:
        want = EXPECTED[_key(info)]
        assert abs(info["VideoDuration"] - want) <= FRAME_MS, (info["VideoUrl"], want)
        probed = mc.probe_durations(cls.path(info))
        spans = [probed[f"{k}_duration_ms"] for k in ("video", "audio")]
        longest = max(s for s in spans if s is not None)
        assert abs(info["VideoDuration"] - longest) <= FRAME_MS, (info["VideoUrl"], longest)


def test_video_size_and_format_match_the_file_on_disk(cls: Generated) -> None:
    for info in cls.result["VideoInfoList"]:
        path = cls.path(info)
        assert info["VideoSize"] == path.stat().st_size, info["VideoUrl"]
        want = "mp3" if info["VideoType"] == 4 else "mp4"
        assert info["VideoFormat"] == want, info["VideoUrl"]
        assert path.suffix == f".{want}", info["VideoUrl"]
        with av.open(str(path)) as container:
            assert want in container.format.name.split(","), (info["VideoUrl"], container.format)
            if want == "mp3":
                assert not container.streams.video, info["VideoUrl"]


def test_video_ids_are_unique_32_hex_strings(cls: Generated) -> None:
    ids = [v["VideoId"] for v in cls.result["VideoInfoList"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids), ids
    assert len(set(ids)) == len(ids)


def test_width_and_height_are_the_size_of_the_video_in_the_file(cls: Generated) -> None:
    for info in cls.result["VideoInfoList"]:
        if info["VideoType"] == 4:
            continue
        with av.open(str(cls.path(info))) as container:
            ctx = container.streams.video[0].codec_context
            assert (info["Width"], info["Height"]) == (ctx.width, ctx.height), info["VideoUrl"]
    boards = cls.infos(2)
    assert {(b["Width"], b["Height"]) for b in boards} == {(1280, 960)}


def test_without_concat_a_piece_keeps_the_resolution_of_its_own_segment(cls: Generated) -> None:
    """Without Concat each piece is its own file; DESIGN is silent on its size, and a user
    expects a piece cut from a 320x180 segment to be 320x180 (not letterboxed into the
    160x120 of the stream's other segment)."""
    sizes = {v["VideoPlayTime"]: (v["Width"], v["Height"]) for v in cls.infos(0, "ann")}
    assert sizes == {500: (160, 120), 2000: (160, 120), 3600: (320, 180), 4000: (320, 180)}


def _source_headers(cls: Generated) -> dict[bytes, float]:
    """Each input file's H.264 header (avcC) -> its frame rate."""
    found = {}
    for path in (cls.out.parent / "in").iterdir():
        if path.suffix in (".mp4", ".flv"):
            with av.open(str(path)) as container:
                for video in container.streams.video:
                    found[bytes(video.codec_context.extradata)] = float(video.average_rate)
    return found


def test_encoded_outputs_have_the_defaults_and_copied_ones_keep_their_source(
    cls: Generated,
) -> None:
    """DESIGN §2 encoding defaults (H.264 yuv420p 15 fps, AAC-LC 48 kHz stereo) hold for what
    Mixdown encodes. §6 stream-copies per-stream outputs that need no full re-encode: ``cat``
    is one whole H.264/AAC segment (30 fps, mono), remuxed; the camera and screen pieces are
    spliced from their segments (GOPs copied, cuts re-encoded to the segment's own headers).
    Those carry their source's streams (its avcC, frame rate and mono AAC), as the
    reference's splicing measurements do with the segments' own parameters."""
    sources = _source_headers(cls)
    copies = 0
    for info in cls.result["VideoInfoList"]:
        if info["VideoFormat"] != "mp4":
            continue
        with av.open(str(cls.path(info))) as container:
            headers = {bytes(v.codec_context.extradata) for v in container.streams.video}
            source_rate = next((sources[h] for h in headers if h in sources), None)
            copied = source_rate is not None
            copies += copied
            for video in container.streams.video:
                assert video.codec_context.name == "h264", info["VideoUrl"]
                assert video.codec_context.pix_fmt == "yuv420p", info["VideoUrl"]
                rate = float(video.average_rate)
                want_rate = source_rate if source_rate is not None else 15
                # A copied piece ends mid-frame, which nudges the average a little.
                assert abs(rate - want_rate) <= (0.5 if copied else 0), (info["VideoUrl"], rate)
            for audio in container.streams.audio:
                ctx = audio.codec_context
                got = (ctx.name, ctx.sample_rate, ctx.channels)
                want = ("aac", 48000, 1 if copied else 2)
                assert got == want, (info["VideoUrl"], got)
    # The mix is encoded; cat, ann's pieces and the screen pieces are copied.
    assert cls.one(3)
    assert copies >= 6, copies
