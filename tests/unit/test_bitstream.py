"""H.264 framing and x264 option parsing: the facts the splicer relies on."""

from __future__ import annotations

from mixdown.render.bitstream import (
    ParameterSets,
    annexb_nals,
    length_prefixed,
    parameter_sets,
    sample_nals,
    x264_options,
)
from mixdown.render.x264_settings import x264_params

SPS = bytes.fromhex("674d4016da0280f6c044000003000400000300783c58ba80")
PPS = bytes.fromhex("68ef0fc8")
SEI_TEXT = (
    b"x264 - core 165 - H.264/MPEG-4 AVC codec - Copyleft 2003-2025 - options: cabac=1 ref=1 "
    b"deblock=1:-1:2 analyse=0x3:0x113 me=hex subme=7 psy=1 psy_rd=1.00:0.15 mixed_ref=1 "
    b"me_range=16 chroma_me=1 trellis=1 8x8dct=1 cqm=0 deadzone=21,11 fast_pskip=1 "
    b"chroma_qp_offset=-3 threads=3 lookahead_threads=1 sliced_threads=0 nr=0 decimate=1 "
    b"interlaced=0 bluray_compat=0 constrained_intra=0 bframes=0 weightp=2 keyint=60 "
    b"keyint_min=6 scenecut=40 intra_refresh=0 rc_lookahead=40 rc=crf mbtree=1 crf=23.0 "
    b"qcomp=0.60 qpmin=0 qpmax=69 qpstep=4 ip_ratio=1.40 aq=1:1.00"
)


def avcc(sps: bytes, pps: bytes, length_size: int = 4) -> bytes:
    return (
        bytes([1, sps[1], sps[2], sps[3], 0xFC | (length_size - 1), 0xE1])
        + len(sps).to_bytes(2, "big")
        + sps
        + b"\x01"
        + len(pps).to_bytes(2, "big")
        + pps
    )


def test_parameter_sets_read_the_same_from_avcc_and_annexb() -> None:
    annexb = b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x01" + PPS
    from_avcc = parameter_sets(avcc(SPS, PPS, length_size=2))
    assert from_avcc == ParameterSets((SPS,), (PPS,), 2)
    found = parameter_sets(annexb)
    assert found is not None and (found.sps, found.pps) == ((SPS,), (PPS,))


def test_parameter_sets_are_absent_from_empty_or_torn_headers() -> None:
    assert parameter_sets(b"") is None
    assert parameter_sets(avcc(SPS, PPS)[:-3]) is None
    assert parameter_sets(b"\x00\x00\x01" + PPS) is None  # no SPS


def test_annexb_packets_become_length_prefixed_samples_without_headers() -> None:
    idr = bytes([0x65, 0x88, 0x84, 0x00, 0x00, 0x03, 0x01])
    sei = bytes([0x06, 0x05, 0x01, 0x80])
    packet = b"\x00\x00\x00\x01\x09\xf0" + b"\x00\x00\x01" + SPS + b"\x00\x00\x01" + sei
    packet += b"\x00\x00\x00\x01" + idr + b"\x00\x00"  # trailing zero padding
    nals = annexb_nals(packet)
    assert nals == [b"\x09\xf0", SPS, sei, idr]
    sample = length_prefixed(nals, 4)
    assert sample_nals(sample, 4) == [sei, idr]
    assert sample[:4] == len(sei).to_bytes(4, "big")


def test_x264_options_are_read_from_the_sei_text() -> None:
    sample = b"\x00\x00\x02\x00\x06\x05\xff" + SEI_TEXT + b"\x00\x80"
    found = x264_options(sample)
    assert found is not None
    assert found["deblock"] == "1:-1:2" and found["keyint"] == "60" and found["rc"] == "crf"
    assert x264_options(b"\x65\x88 no options here") is None


def test_x264_params_translate_names_and_undo_the_psy_chroma_offset() -> None:
    sei = x264_options(SEI_TEXT)
    assert sei is not None
    params = dict(item.split("=", 1) for item in (x264_params(sei) or "").split(":"))
    assert params["deblock"] == "-1,2" and "nf" not in params
    assert params["partitions"] == "i4x4,i8x8,p8x8,b8x8"
    assert params["mixed-refs"] == "1" and params["merange"] == "16"
    assert params["min-keyint"] == "6" and params["dct-decimate"] == "1"
    assert params["aq-mode"] == "1" and params["aq-strength"] == "1.00"
    assert params["psy-rd"] == "1.00,0.15"
    # Printed -3 = asked 0, less 2 for psy-rd at subme >= 6, less 1 for psy-trellis < 0.25.
    assert params["chroma-qp-offset"] == "0"
    assert "threads" not in params and "rc" not in params


def test_streams_that_cannot_be_cut_at_any_frame_get_no_params() -> None:
    sei = x264_options(SEI_TEXT)
    assert sei is not None
    assert x264_params({**sei, "bframes": "3"}) is None
    assert x264_params({**sei, "interlaced": "tff"}) is None
    assert x264_params({**sei, "cqm": "2"}) is None
    assert x264_params({**sei, "deblock": "garbled"}) is None
    disabled = x264_params({**sei, "deblock": "0:0:0"}) or ""
    assert "nf=1" in disabled
