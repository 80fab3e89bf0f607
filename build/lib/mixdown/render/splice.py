"""A per-stream video spliced from its sources: copy what can be copied, encode the rest.

Inside each clip, whole GOPs are copied packet for packet; only the frames before a clip's
first keyframe are decoded and re-encoded, and gaps get filler frames. Every encode uses
x264 settings whose SPS/PPS equal the source's byte for byte (``x264_settings``), so the
track needs one ``avcC``. Audio AAC packets are copied onto a 1024-sample grid (a clip
lands within half a packet, 10.7 ms at 48 kHz) with encoded silence between clips.

Anything the splice cannot do exactly raises ``SpliceUnavailable`` before the output is
published; the caller then encodes the output the ordinary way.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

from mixdown.errors import Cancelled
from mixdown.planning.plan import Clip, OutputPlan, Plan
from mixdown.render.bitstream import annexb_nals, length_prefixed, parameter_sets, x264_options
from mixdown.render.x264_settings import X264Settings, matching_settings

VIDEO_TB = Fraction(1, 90000)
_AAC_FRAME = 1024
#: A GOP is held (compressed) in case a cut needs it decoded; a stream whose keyframes are
#: further apart than this is encoded instead.
_MAX_GOP_BYTES = 64 * 1024 * 1024


class SpliceUnavailable(Exception):
    """The output cannot be spliced exactly; encode it instead. ``str()`` says why."""


@dataclass(frozen=True)
class _Out:
    """One output packet: when it plays (s) and what to write."""

    time: Fraction
    kind: str  # "v" or "a"
    data: bytes
    pts: int
    duration: int
    key: bool

    def __lt__(self, other: _Out) -> bool:
        return self.time < other.time


def splice(
    plan: Plan,
    output: OutputPlan,
    local_paths: Mapping[str, str],
    path: Path,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Write ``output`` (an mp4 with video) to ``path`` by splicing its sources.

    ``local_paths`` maps each input url (and filler image) to a readable local path."""
    video = output.video
    if video is None:
        raise SpliceUnavailable("no video")
    clips = sorted((c for p in video.placements for c in p.clips), key=lambda c: c.at)
    urls = {c.input: local_paths[plan.inputs[c.input].url] for c in clips}
    lane = sorted(output.audio.lanes[0], key=lambda c: c.at) if output.audio else []
    audio_urls = {c.input: local_paths[plan.inputs[c.input].url] for c in lane}
    sources = {i: _VideoSource(u) for i, u in urls.items()}
    audio = None
    try:
        encoder = _shared_encoder(sources)
        first = sources[clips[0].input]
        image = local_paths[video.image] if video.image else ""
        filler = _filler(image, video.background, encoder.settings)
        vpackets = _video_packets(clips, sources, encoder, filler, output.duration)
        streams = [vpackets]
        audio = _AudioLane.of(lane, audio_urls) if lane else None
        if audio is not None:
            streams.append(audio.packets(output.duration))
        _mux(path, first.stream, audio, heapq.merge(*streams), output.duration, progress, cancel)
    finally:
        for s in sources.values():
            s.close()
        if audio is not None:
            audio.close()


def _file_base(container: Any) -> Fraction:
    """The file's zero, as ffmpeg (and so ``Clip.src``) counts from it: the container start."""
    start = container.start_time
    return Fraction(start, 1_000_000) if start is not None else Fraction(0)


class _VideoSource:
    """One input's video packets read forward once, keeping the current GOP for decoding."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.container: Any = av.open(url)
        if not self.container.streams.video:
            raise SpliceUnavailable(f"{url}: no video stream")
        self.stream: Any = self.container.streams.video[0]
        self.base = _file_base(self.container)
        self.tb: Fraction = Fraction(self.stream.time_base or 0)
        rate = self.stream.average_rate or self.stream.guessed_rate
        self.rate = Fraction(rate) if rate else Fraction(15)
        self._iter: Iterator[Any] = self.container.demux(self.stream)
        self._held: Any = None
        #: Packets from the last keyframe up to (not including) the held/next packet.
        self.gop: list[Any] = []
        self.gop_bytes = 0
        self.position = Fraction(-(10**9))

    def time_ms(self, packet: Any) -> Fraction:
        return Fraction(packet.pts * self.tb - self.base) * 1000

    def peek(self) -> Any:
        while self._held is None:
            packet = next(self._iter, None)
            if packet is None:
                return None
            if packet.pts is None or packet.size == 0:
                continue
            if packet.dts is not None and packet.dts != packet.pts:
                raise SpliceUnavailable(f"{self.url}: frames are reordered (B-frames)")
            self._held = packet
        return self._held

    def take(self) -> Any:
        packet = self.peek()
        self._held = None
        if packet is not None:
            if packet.is_keyframe:
                self.gop, self.gop_bytes = [], 0
            self.gop.append(packet)
            self.gop_bytes += packet.size
            if self.gop_bytes > _MAX_GOP_BYTES:
                raise SpliceUnavailable(f"{self.url}: keyframes too far apart to cut")
            self.position = self.time_ms(packet)
        return packet

    def decoder(self) -> Any:
        cc = av.CodecContext.create("h264", "r")
        cc.extradata = self.stream.codec_context.extradata
        return cc

    def close(self) -> None:
        self.container.close()


def _shared_encoder(sources: Mapping[int, _VideoSource]) -> _Encoder:
    """An encoder matching every source; all sources must share their parameter sets."""
    sets = set()
    settings = None
    for src in sources.values():
        extradata = bytes(src.stream.codec_context.extradata or b"")
        found = parameter_sets(extradata)
        if found is None:
            raise SpliceUnavailable(f"{src.url}: no H.264 parameter sets in the header")
        sets.add((found.sps, found.pps, found.length_size))
        if settings is None:
            first = src.peek()
            sei = x264_options(bytes(first)) if first is not None else None
            if sei is None:
                raise SpliceUnavailable(f"{src.url}: not encoded by x264 (no options SEI)")
            settings = matching_settings(src.stream, sei)
            if settings is None:
                raise SpliceUnavailable(f"{src.url}: its parameter sets cannot be reproduced")
    if len(sets) != 1 or settings is None:
        raise SpliceUnavailable("segments differ in their H.264 parameter sets")
    ((_, _, length_size),) = sets
    return _Encoder(settings, length_size)


def _video_packets(
    clips: list[Clip],
    sources: Mapping[int, _VideoSource],
    encode: _Encoder,
    filler: Any,
    duration: int,
) -> Iterator[_Out]:
    cursor = 0
    for clip in clips:
        if clip.at > cursor:
            yield from encode.frames(
                _filler_times(cursor, clip.at, sources[clip.input].rate), filler
            )
        yield from _clip_packets(clip, sources[clip.input], encode)
        cursor = max(cursor, clip.end)
    if duration > cursor:
        rate = sources[clips[-1].input].rate
        yield from encode.frames(_filler_times(cursor, duration, rate), filler)


def _filler_times(start: int, end: int, rate: Fraction) -> list[Fraction]:
    step = 1000 / rate
    times, t = [], Fraction(start)
    while t < end:
        times.append(t)
        t += step
    return times


def _clip_packets(clip: Clip, src: _VideoSource, encode: _Encoder) -> Iterator[_Out]:
    """Frames with source time in ``clip.src``: the head encoded, the rest copied."""
    shift = Fraction(clip.at - clip.src.start)
    if src.position > clip.src.start:
        raise SpliceUnavailable(f"{src.url}: video clips out of order")
    while (p := src.peek()) is not None and src.time_ms(p) < clip.src.start:
        src.take()
    head: list[Fraction] = []
    while (p := src.peek()) is not None and src.time_ms(p) < clip.src.end:
        if p.is_keyframe:
            break
        head.append(src.time_ms(src.take()))
    if head:
        frames = _decode_head(src, head)
        yield from encode.pictures([t + shift for t in head], frames)
    last: Any = None
    while (p := src.peek()) is not None and src.time_ms(p) < clip.src.end:
        packet = src.take()
        if last is not None:
            yield _copied(last, src, shift, src.time_ms(packet) - src.time_ms(last))
        last = packet
    if last is not None:
        end = min(Fraction(clip.src.end), src.time_ms(last) + _packet_ms(last, src))
        yield _copied(last, src, shift, end - src.time_ms(last))


def _packet_ms(packet: Any, src: _VideoSource) -> Fraction:
    if packet.duration:
        return Fraction(packet.duration) * src.tb * 1000
    return 1000 / src.rate


def _copied(packet: Any, src: _VideoSource, shift: Fraction, length_ms: Fraction) -> _Out:
    t = src.time_ms(packet) + shift
    return _Out(
        t / 1000,
        "v",
        bytes(packet),
        _ticks(t),
        max(1, _ticks(t + length_ms) - _ticks(t)),
        bool(packet.is_keyframe),
    )


def _ticks(ms: Fraction) -> int:
    return round(ms / 1000 / VIDEO_TB)


def _decode_head(src: _VideoSource, wanted: list[Fraction]) -> list[Any]:
    """Decode the current GOP up to the head's last frame; the head's frames in order."""
    want = set(wanted)
    dec = src.decoder()
    frames: dict[Fraction, Any] = {}
    for packet in [*src.gop, None]:
        for frame in dec.decode(packet):
            t = (frame.pts * src.tb - src.base) * 1000 if frame.pts is not None else None
            if t in want:
                frames[t] = frame
    missing = [t for t in wanted if t not in frames]
    if missing:
        raise SpliceUnavailable(f"{src.url}: frame at {float(missing[0]):.0f} ms did not decode")
    return [frames[t] for t in wanted]


class _Encoder:
    """Encodes runs of pictures with the matched settings, one closed GOP run at a time."""

    def __init__(self, settings: X264Settings, length_size: int) -> None:
        self.settings = settings
        self.length_size = length_size

    def frames(self, times: list[Fraction], picture: Any) -> Iterator[_Out]:
        """The same picture at each time (a filler): one GOP encoded, then repeated.

        Every repeat starts with the GOP's IDR and holds the same picture, so a gap costs
        one GOP to encode however long it is.
        """
        gop = self.settings.keyint
        if gop is None or len(times) <= gop:
            samples = self._encode(times, [picture] * len(times))
        else:
            block = self._encode(times[:gop], [picture] * gop)
            if any(key for _, key in block[1:]):
                block = self._encode(times, [picture] * len(times))  # x264 cut it: plain
            samples = [block[i % len(block)] for i in range(len(times))]
        return self._timed(times, samples)

    def pictures(self, times: list[Fraction], pictures: list[Any]) -> Iterator[_Out]:
        return self._timed(times, self._encode(times, pictures))

    def _timed(self, times: list[Fraction], samples: list[tuple[bytes, bool]]) -> Iterator[_Out]:
        if not times:
            return
        ends = [*times[1:], times[-1] + 1000 / self.settings.framerate]
        for t, end, (data, key) in zip(times, ends, samples, strict=True):
            yield _Out(t / 1000, "v", data, _ticks(t), max(1, _ticks(end) - _ticks(t)), key)

    def _encode(self, times: list[Fraction], pictures: list[Any]) -> list[tuple[bytes, bool]]:
        """One closed run: samples (length-prefixed, no parameter sets) and keyframe flags."""
        if not times:
            return []
        cc = self.settings.encoder()
        tb = self.settings.time_base
        packets: list[Any] = []
        last_pts = None
        for t, picture in zip(times, pictures, strict=True):
            frame = picture if picture.format.name == "yuv420p" else picture.reformat("yuv420p")
            pts = round(t / 1000 / tb)
            pts = pts if last_pts is None or pts > last_pts else last_pts + 1
            last_pts = pts
            packets += cc.encode(_retimed(frame, pts, tb))
        packets += cc.encode(None)
        if len(packets) != len(times) or not packets[0].is_keyframe:
            raise SpliceUnavailable("the encoder did not return one packet per frame")
        return [
            (length_prefixed(annexb_nals(bytes(p)), self.length_size), bool(p.is_keyframe))
            for p in packets
        ]


def _retimed(frame: Any, pts: int, tb: Fraction) -> Any:
    # x264 copies each picture in, so one filler frame can be re-stamped and sent again.
    frame.pts = pts
    frame.time_base = tb
    return frame


def _filler(image: str, background: str, settings: X264Settings) -> Any:
    """The picture shown where the stream has no video: the Concat image fitted, or black."""
    w, h = settings.width, settings.height
    canvas = Image.new("RGB", (w, h), _rgb(background))
    if image:
        with Image.open(image) as img:
            still = img.convert("RGBA")
        scale = min(w / still.width, h / still.height)
        size = (_even_down(still.width * scale), _even_down(still.height * scale))
        still = still.resize(size, Image.Resampling.BICUBIC)
        # Centred on even positions, like ffmpeg's pad on 4:2:0 frames.
        canvas.paste(still, (_even_down((w - size[0]) / 2), _even_down((h - size[1]) / 2)), still)
    return av.VideoFrame.from_ndarray(np.asarray(canvas), format="rgb24").reformat(format="yuv420p")


def _even_down(value: float) -> int:
    return max(0, int(value) // 2 * 2)


def _rgb(color: str) -> tuple[int, int, int]:
    text = color.lstrip("#")[:6].ljust(6, "0")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


class _AudioReader:
    """One input's AAC packets read forward once, as (ms on the file's timeline, bytes)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.container: Any = av.open(url)
        stream = self.container.streams.audio[0]
        self.base = _file_base(self.container)
        self.tb = Fraction(stream.time_base or 0)
        self._iter: Iterator[Any] = self.container.demux(stream)
        self._held: tuple[Fraction, bytes] | None = None
        self.position = Fraction(-(10**9))

    def peek(self) -> tuple[Fraction, bytes] | None:
        while self._held is None:
            packet = next(self._iter, None)
            if packet is None:
                return None
            if packet.pts is not None and packet.size:
                self._held = (Fraction(packet.pts * self.tb - self.base) * 1000, bytes(packet))
        return self._held

    def take(self) -> None:
        if self._held is not None:
            self.position = self._held[0]
        self._held = None

    def close(self) -> None:
        self.container.close()


@dataclass
class _AudioLane:
    """AAC packets of the lane's clips laid on a 1024-sample grid, silence between."""

    clips: list[Clip]
    readers: dict[int, _AudioReader]
    stream: Any
    sample_rate: int
    silence: bytes

    @staticmethod
    def of(clips: list[Clip], urls: Mapping[int, str]) -> _AudioLane:
        readers = {i: _AudioReader(u) for i, u in urls.items()}
        try:
            shapes = {_audio_shape(r.container.streams.audio[0]) for r in readers.values()}
            if len(shapes) != 1:
                raise SpliceUnavailable("audio segments differ in codec, rate or header")
            (_, rate, channels, _), first = next(iter(shapes)), readers[clips[0].input]
            silence = _aac_silence(rate, channels)
        except BaseException:
            for r in readers.values():
                r.close()
            raise
        return _AudioLane(clips, readers, first.container.streams.audio[0], rate, silence)

    def packets(self, duration: int) -> Iterator[_Out]:
        next_slot = 0
        for clip in self.clips:
            for slot, data in self._clip_packets(clip):
                while next_slot < slot:
                    yield self._out(next_slot, self.silence)
                    next_slot += 1
                if slot == next_slot:
                    yield self._out(slot, data)
                    next_slot += 1
        total = round(Fraction(duration) * self.sample_rate / 1000 / _AAC_FRAME)
        while next_slot < total:
            yield self._out(next_slot, self.silence)
            next_slot += 1

    def _out(self, slot: int, data: bytes) -> _Out:
        pts = slot * _AAC_FRAME
        return _Out(Fraction(pts, self.sample_rate), "a", data, pts, _AAC_FRAME, True)

    def _clip_packets(self, clip: Clip) -> Iterator[tuple[int, bytes]]:
        """Each packet of the clip with the grid slot nearest to where it plays."""
        per_ms = Fraction(self.sample_rate, 1000)
        first = round(clip.at * per_ms / _AAC_FRAME)
        last = round(clip.end * per_ms / _AAC_FRAME)
        reader = self.readers[clip.input]
        if reader.position > clip.src.start:
            raise SpliceUnavailable(f"{reader.url}: audio clips out of order")
        while (item := reader.peek()) is not None:
            ms, data = item
            slot = first + round((ms - clip.src.start) * per_ms / _AAC_FRAME)
            if slot >= last:
                return
            reader.take()
            if ms >= 0 and slot >= first:  # before 0: encoder priming the decoder drops
                yield slot, data

    def close(self) -> None:
        for r in self.readers.values():
            r.close()


def _audio_shape(stream: Any) -> tuple[str, int, int, bytes]:
    """What must be equal for packets of several files to share one track: plain AAC-LC."""
    cc = stream.codec_context
    if cc.name != "aac" or cc.profile != "LC":
        raise SpliceUnavailable(f"audio is {cc.name} {cc.profile}, not AAC-LC")
    return cc.name, stream.sample_rate, cc.layout.nb_channels, bytes(cc.extradata or b"")


def _aac_silence(rate: int, channels: int) -> bytes:
    cc = av.CodecContext.create("aac", "w")
    cc.sample_rate = rate
    cc.layout = "mono" if channels == 1 else "stereo"
    cc.format = "fltp"
    cc.open()
    packets: list[Any] = []
    for n in range(4):
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1 if channels == 1 else 2, _AAC_FRAME), dtype=np.float32),
            format="fltp",
            layout=cc.layout.name,
        )
        frame.sample_rate = rate
        frame.pts = n * _AAC_FRAME
        packets += cc.encode(frame)
    packets += cc.encode(None)
    if len(packets) < 2:
        raise SpliceUnavailable("could not encode AAC silence")
    return bytes(packets[1])


def _mux(
    path: Path,
    video_template: Any,
    audio: _AudioLane | None,
    packets: Iterator[_Out],
    duration: int,
    progress: Callable[[float], None] | None,
    cancel: threading.Event | None,
) -> None:
    out = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
    try:
        vs = out.add_stream_from_template(video_template)
        vs.codec_context.codec_tag = "avc1"
        vs.time_base = VIDEO_TB
        streams = {"v": vs}
        if audio is not None:
            a = out.add_stream_from_template(audio.stream)
            a.codec_context.codec_tag = "mp4a"
            a.time_base = Fraction(1, audio.sample_rate)
            streams["a"] = a
        tbs = {"v": VIDEO_TB, "a": Fraction(1, audio.sample_rate) if audio else VIDEO_TB}
        for n, item in enumerate(packets):
            if n % 256 == 0:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("generation was cancelled")
                if progress is not None and duration > 0:
                    progress(min(1.0, float(item.time) * 1000 / duration))
            packet = av.Packet(item.data)
            packet.stream = streams[item.kind]
            packet.time_base = tbs[item.kind]
            packet.pts = packet.dts = item.pts
            packet.duration = item.duration
            packet.is_keyframe = item.key
            out.mux(packet)
    finally:
        out.close()
