"""x264 settings that reproduce a source's H.264 parameter sets, read from its own SEI.

x264 writes every option it used into the first frame. Feeding them back (plus the
source's frame rate, aspect and colour tags) makes our encodes carry SPS/PPS identical to
the source's, so encoded frames and copied frames can share one track. Whether they do is
checked byte for byte by opening an encoder; any doubt means "no match".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
from av.codec.context import Flags

from mixdown.render.bitstream import ParameterSets, parameter_sets

#: Same meaning, other name in ``x264-params``.
_RENAMED = {
    "mixed_ref": "mixed-refs",
    "me_range": "merange",
    "decimate": "dct-decimate",
    "keyint_min": "min-keyint",
    "ip_ratio": "ipratio",
    "pb_ratio": "pbratio",
}
#: Copied as they are (x264 reads ``_`` as ``-``).
_SAME = {
    "cabac", "ref", "me", "subme", "psy", "chroma_me", "trellis", "8x8dct", "fast_pskip",
    "nr", "constrained_intra", "bframes", "weightp", "keyint", "scenecut", "intra_refresh",
    "rc_lookahead", "mbtree", "qcomp", "qpmin", "qpmax", "qpstep", "vbv_maxrate",
    "vbv_bufsize", "crf_max", "nal_hrd", "filler", "crf", "bitrate", "qp", "bluray_compat",
    "sliced_threads", "slices", "stitchable", "cplxblur", "qblur",
}  # fmt: skip
_INTRA = {0x1: "i4x4", 0x2: "i8x8"}
_INTER = {0x10: "p8x8", 0x20: "p4x4", 0x100: "b8x8"}


@dataclass(frozen=True)
class X264Settings:
    """What to give PyAV's libx264 encoder so its headers equal the source's."""

    params: str
    width: int
    height: int
    time_base: Fraction
    framerate: Fraction
    sample_aspect_ratio: Fraction | None
    colour: tuple[int, int, int, int]  # range, primaries, transfer, matrix
    #: Frames per GOP (None: keyframes only at scene cuts).
    keyint: int | None = None

    def encoder(self) -> Any:
        cc = av.CodecContext.create("libx264", "w")
        cc.width, cc.height = self.width, self.height
        cc.pix_fmt = "yuv420p"
        cc.time_base = self.time_base
        cc.framerate = self.framerate
        if self.sample_aspect_ratio:
            cc.sample_aspect_ratio = self.sample_aspect_ratio
        cc.color_range, cc.color_primaries, cc.color_trc, cc.colorspace = self.colour
        cc.flags |= Flags.global_header
        cc.options = {"x264-params": self.params}
        return cc


def x264_params(sei: Mapping[str, str]) -> str | None:
    """``x264-params`` equal to the SEI's options; None for streams we will not splice."""
    if sei.get("bframes", "0") != "0" or sei.get("interlaced", "0") != "0":
        return None  # reordered or field-coded frames cannot be cut at any frame
    if sei.get("cqm") not in ("0", "1") or "zones" in sei:
        return None
    out: dict[str, str] = {}
    for key, value in sei.items():
        if key in _SAME:
            out[key.replace("_", "-")] = value
        elif key in _RENAMED:
            out[_RENAMED[key]] = value
    out["cqm"] = "flat" if sei["cqm"] == "0" else "jvt"
    try:
        out.update(_deblock(sei["deblock"]))
        out.update(_aq(sei["aq"]))
        dz_inter, dz_intra = sei["deadzone"].split(",")
        out["deadzone-inter"], out["deadzone-intra"] = dz_inter, dz_intra
        out["partitions"] = _partitions(sei["analyse"])
        out["psy-rd"] = sei.get("psy_rd", "0:0").replace(":", ",")
        out["chroma-qp-offset"] = str(_user_chroma_offset(sei))
    except (KeyError, ValueError):
        return None
    return ":".join(f"{k}={v}" for k, v in out.items())


def _deblock(value: str) -> dict[str, str]:
    enabled, alpha, beta = value.split(":")
    found = {"deblock": f"{int(alpha)},{int(beta)}"}
    if enabled == "0":
        found["nf"] = "1"
    return found


def _aq(value: str) -> dict[str, str]:
    mode, _, strength = value.partition(":")
    return {"aq-mode": mode, **({"aq-strength": strength} if strength else {})}


def _partitions(value: str) -> str:
    intra, inter = (int(x, 16) for x in value.split(":"))
    names = [n for bit, n in _INTRA.items() if intra & bit]
    names += [n for bit, n in _INTER.items() if inter & bit]
    return ",".join(names) or "none"


def _user_chroma_offset(sei: Mapping[str, str]) -> int:
    """x264 prints the offset after lowering it for psy-rd and psy-trellis; undo that."""
    offset = int(sei["chroma_qp_offset"])
    if sei.get("psy", "0") == "0":
        return offset
    rd, _, trellis = sei.get("psy_rd", "0:0").partition(":")
    if int(sei.get("subme", "0")) >= 6 and float(rd) > 0:
        offset += 1 if float(rd) < 0.25 else 2
    if int(sei.get("trellis", "0")) and float(trellis or 0) > 0:
        offset += 1 if float(trellis) < 0.25 else 2
    return offset


def matching_settings(stream: Any, sei: Mapping[str, str]) -> X264Settings | None:
    """Settings whose encoder headers equal ``stream``'s, trying the likely time bases."""
    source = parameter_sets(bytes(stream.codec_context.extradata or b""))
    params = x264_params(sei)
    if source is None or params is None:
        return None
    cc = stream.codec_context
    rate = Fraction(stream.average_rate or stream.guessed_rate or 0)
    candidates = [Fraction(1, 1) / rate] if rate else []
    candidates += [Fraction(stream.time_base), Fraction(1, 1000), Fraction(1, 90000)]
    sar = Fraction(cc.sample_aspect_ratio) if cc.sample_aspect_ratio else None
    colour = (cc.color_range, cc.color_primaries, cc.color_trc, cc.colorspace)
    for tb in dict.fromkeys(candidates):
        settings = X264Settings(params, cc.width, cc.height, tb, rate or 1 / tb, sar, colour)
        if _headers(settings) == _comparable(source):
            return settings
    return None


def _comparable(sets: ParameterSets) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    return sets.sps, sets.pps


def _headers(settings: X264Settings) -> tuple[tuple[bytes, ...], tuple[bytes, ...]] | None:
    try:
        cc = settings.encoder()
        cc.open()
    except (av.error.FFmpegError, ValueError):
        return None
    found = parameter_sets(bytes(cc.extradata or b""))
    return _comparable(found) if found else None
