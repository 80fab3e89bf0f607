"""H.264 byte-level facts the splicer needs: parameter sets, NAL framing, x264's options.

Pure functions over bytes. A stream copied from a file and frames encoded by Mixdown may
share one mp4 track only when their SPS/PPS are byte-identical: the track has a single
``avcC``, and players that read only that one would misdecode anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
#: NAL types that belong in ``avcC`` or nowhere, never inside a copied track's samples.
_HEADER_NALS = {NAL_SPS, NAL_PPS, NAL_AUD}
_X264_TAG = b"x264 - core "


@dataclass(frozen=True)
class ParameterSets:
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]
    #: Bytes of each NAL length prefix in samples (``avcC``), 4 for Annex B sources.
    length_size: int = 4


def nal_type(nal: bytes) -> int:
    return nal[0] & 0x1F if nal else 0


def parameter_sets(extradata: bytes) -> ParameterSets | None:
    """SPS/PPS from ``avcC`` or Annex B extradata; None when there are none."""
    if not extradata:
        return None
    if extradata[0] == 1:
        return _from_avcc(extradata)
    nals = annexb_nals(extradata)
    sps = tuple(n for n in nals if nal_type(n) == NAL_SPS)
    pps = tuple(n for n in nals if nal_type(n) == NAL_PPS)
    return ParameterSets(sps, pps) if sps and pps else None


def _from_avcc(data: bytes) -> ParameterSets | None:
    if len(data) < 7:
        return None
    length_size = (data[4] & 0x03) + 1
    pos = 5
    groups: list[tuple[bytes, ...]] = []
    for mask in (0x1F, 0xFF):
        if pos >= len(data):
            return None
        count = data[pos] & mask
        pos += 1
        found = []
        for _ in range(count):
            size = int.from_bytes(data[pos : pos + 2], "big")
            found.append(bytes(data[pos + 2 : pos + 2 + size]))
            pos += 2 + size
        groups.append(tuple(found))
    if pos > len(data) or not groups[0] or not groups[1]:
        return None
    return ParameterSets(groups[0], groups[1], length_size)


def annexb_nals(data: bytes) -> list[bytes]:
    """NAL units of an Annex B byte stream (start codes 00 00 01 or 00 00 00 01)."""
    starts: list[tuple[int, int]] = []  # (start code position, payload position)
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        code = i - 1 if i > 0 and data[i - 1] == 0 else i
        starts.append((code, i + 3))
        i = data.find(b"\x00\x00\x01", i + 3)
    nals = []
    for n, (_, payload) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(data)
        # Trailing zeros are padding (a NAL ends with its stop bit, never a zero byte).
        nal = data[payload:end].rstrip(b"\x00")
        if nal:
            nals.append(nal)
    return nals


def length_prefixed(nals: list[bytes], length_size: int) -> bytes:
    """Sample payload for an ``avcC`` track, leaving out parameter sets and delimiters."""
    out = bytearray()
    for nal in nals:
        if nal_type(nal) in _HEADER_NALS:
            continue
        out += len(nal).to_bytes(length_size, "big") + nal
    return bytes(out)


def sample_nals(sample: bytes, length_size: int) -> list[bytes]:
    """NAL units of one length-prefixed sample; stops at a torn prefix."""
    nals, pos = [], 0
    while pos + length_size <= len(sample):
        size = int.from_bytes(sample[pos : pos + length_size], "big")
        pos += length_size
        if size == 0 or pos + size > len(sample):
            break
        nals.append(sample[pos : pos + size])
        pos += size
    return nals


def x264_options(sample: bytes) -> dict[str, str] | None:
    """The option string x264 writes in an SEI of its first frame, as a dict."""
    at = sample.find(_X264_TAG)
    if at < 0:
        return None
    end = sample.find(b"\x00", at)
    text = sample[at : end if end >= 0 else len(sample)].decode("ascii", "replace")
    _, sep, options = text.partition(" options: ")
    if not sep:
        return None
    found = {}
    for item in options.split():
        key, eq, value = item.partition("=")
        if eq:
            found[key] = value
    return found
