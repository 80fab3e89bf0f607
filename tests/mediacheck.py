"""Content checks for media files: colours in regions, flashes, tones and beeps, durations.

Times are milliseconds on the file's own timeline: 0 is the container's start (its earliest
stream start, what a player shows as 0:00). Colours are RGB as PyAV's default yuv->rgb
conversion gives them. Test helpers may loop over frames; product code may not.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

from mixdown.synth import ClipSpec, make_clip

SAMPLE_RATE = 48000
_JITTER_MS = 3.0
Region = tuple[int, int, int, int]  # x, y, w, h
RGB = tuple[int, int, int]


def _base_s(container: Any) -> float:
    start = container.start_time
    return float(start) / 1_000_000 if start is not None else 0.0


def _frame_ms(frame: Any, base_s: float) -> float:
    return (float(frame.time) - base_s) * 1000 if frame.time is not None else 0.0


def video_frames(path: Path) -> Iterator[tuple[float, np.ndarray]]:
    """Every decoded video frame as (time ms, RGB HxWx3 uint8), in display order."""
    with av.open(str(path)) as container:
        base = _base_s(container)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            yield _frame_ms(frame, base), frame.to_ndarray(format="rgb24")


def frames_at(path: Path, times_ms: Sequence[float]) -> list[np.ndarray]:
    """The frames shown at each time: the last frame with time <= t (1 ms slack).

    Before the first frame, the first frame is shown; after the last, the last.
    """
    order = sorted(range(len(times_ms)), key=lambda i: times_ms[i])
    out: dict[int, np.ndarray] = {}
    shown: np.ndarray | None = None
    pending = iter(order)
    index = next(pending, None)
    for t, rgb in video_frames(path):
        while index is not None and t > times_ms[index] + 1.0:
            out[index] = shown if shown is not None else rgb
            index = next(pending, None)
        if index is None:
            break
        shown = rgb
    if shown is None:
        raise AssertionError(f"{path.name}: no video frames")
    while index is not None:
        out[index] = shown
        index = next(pending, None)
    return [out[i] for i in range(len(times_ms))]


def frame_at(path: Path, t_ms: float) -> np.ndarray:
    """The frame shown at ``t_ms`` (see ``frames_at``); seeks near it first."""
    with av.open(str(path)) as container:
        base = _base_s(container)
        stream = container.streams.video[0]
        target = base + t_ms / 1000
        container.seek(max(0, int(target / stream.time_base)), stream=stream, backward=True)
        shown: np.ndarray | None = None
        for frame in container.decode(stream):
            if _frame_ms(frame, base) > t_ms + 1.0:
                if shown is None:  # the seek overshot, or t is before the first frame
                    break
                return shown
            shown = frame.to_ndarray(format="rgb24")
        if shown is not None:
            return shown
    return frames_at(path, [t_ms])[0]


def mean_color(frame: np.ndarray, x: int, y: int, w: int, h: int) -> RGB:
    """Mean RGB of a rectangle of a frame."""
    patch = frame[y : y + h, x : x + w].reshape(-1, 3)
    if patch.size == 0:
        raise AssertionError(f"region {x},{y} {w}x{h} lies outside a {frame.shape} frame")
    r, g, b = (round(float(v)) for v in patch.mean(axis=0))
    return r, g, b


def center_region(x: int, y: int, w: int, h: int, fraction: float = 0.3) -> Region:
    """The middle ``fraction`` of a rectangle (away from edges, marks and scaling blur)."""
    cw, ch = max(2, int(w * fraction)), max(2, int(h * fraction))
    return x + (w - cw) // 2, y + (h - ch) // 2, cw, ch


def hex_rgb(color: str) -> RGB:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def color_distance(actual: RGB, expected_hex: str) -> int:
    return max(abs(a - e) for a, e in zip(actual, hex_rgb(expected_hex), strict=True))


def assert_color(actual: RGB, expected_hex: str, tol: int = 14, what: str = "") -> None:
    """Every channel within ``tol`` of the expected colour (H.264 4:2:0 round trip)."""
    distance = color_distance(actual, expected_hex)
    if distance > tol:
        got = "#{:02X}{:02X}{:02X}".format(*actual)
        raise AssertionError(f"{what or 'colour'}: expected {expected_hex}, got {got}")


def is_white(color: RGB, floor: int = 225) -> bool:
    return min(color) >= floor


def flash_times_ms(path: Path, region: Region | None = None) -> list[float]:
    """Times at which ``region`` (default: the whole frame) turns near-white.

    A run of consecutive white frames counts once, at its first frame.
    """
    times: list[float] = []
    was_white = False
    for t, rgb in video_frames(path):
        x, y, w, h = region or (0, 0, rgb.shape[1], rgb.shape[0])
        white = is_white(mean_color(rgb, x, y, w, h))
        if white and not was_white:
            times.append(t)
        was_white = white
    return times


def audio_samples(path: Path) -> tuple[np.ndarray, float]:
    """The first audio track as mono float32 at 48 kHz (channels averaged), and its start ms.

    Each decoded frame is placed at its own timestamp, so gaps read as silence.
    """
    with av.open(str(path)) as container:
        base = _base_s(container)
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", rate=SAMPLE_RATE)
        pieces: list[tuple[float, np.ndarray]] = []
        expected = None
        for frame in container.decode(stream):
            t = _frame_ms(frame, base)
            # Millisecond timestamps (FLV) jitter; only a real jump is a gap.
            if expected is not None and abs(t - expected) < _JITTER_MS:
                t = expected
            for out in resampler.resample(frame):
                pieces.append((t, out.to_ndarray().mean(axis=0)))
                t += out.samples * 1000 / SAMPLE_RATE
            expected = t
    if not pieces:
        return np.zeros(0, dtype=np.float32), 0.0
    start = pieces[0][0]
    end = max(t + len(x) * 1000 / SAMPLE_RATE for t, x in pieces)
    signal = np.zeros(round((end - start) * SAMPLE_RATE / 1000) + 1, dtype=np.float32)
    for t, x in pieces:
        at = round((t - start) * SAMPLE_RATE / 1000)
        signal[at : at + len(x)] = x[: len(signal) - at]
    return signal, start


def _window(path: Path, start_ms: float, end_ms: float) -> np.ndarray:
    signal, origin = audio_samples(path)
    lo = round((start_ms - origin) * SAMPLE_RATE / 1000)
    hi = round((end_ms - origin) * SAMPLE_RATE / 1000)
    out = np.zeros(max(0, hi - lo), dtype=np.float32)
    src_lo, src_hi = max(lo, 0), min(hi, len(signal))
    if src_hi > src_lo:
        out[src_lo - lo : src_hi - lo] = signal[src_lo:src_hi]
    return out


def tone_level(samples: np.ndarray, freq_hz: float) -> float:
    """Amplitude (0..1 full scale) of a sine at ``freq_hz`` in ``samples`` (Hann window)."""
    if len(samples) == 0:
        return 0.0
    window = np.hanning(len(samples))
    phase = np.exp(-2j * np.pi * freq_hz * np.arange(len(samples)) / SAMPLE_RATE)
    return float(2 * abs(np.sum(samples * window * phase)) / np.sum(window))


def tone_level_db(path: Path, start_ms: float, end_ms: float, freq_hz: float) -> float:
    """Level in dBFS of a sine at ``freq_hz`` between two times (missing audio is silence).

    A full-scale sine reads 0 dB, amplitude 0.1 reads -20 dB, silence about -200 dB.
    """
    level = tone_level(_window(path, start_ms, end_ms), freq_hz)
    return 20 * float(np.log10(max(level, 1e-10)))


def channel_tone_levels_db(
    path: Path, start_ms: float, end_ms: float, freq_hz: float
) -> list[float]:
    """Level in dBFS of a sine at ``freq_hz`` between two times, in each channel of the
    first audio track (resampled to 48 kHz, timed from its first decoded frame)."""
    with av.open(str(path)) as container:
        base = _base_s(container)
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", rate=SAMPLE_RATE)
        origin: float | None = None
        pieces: list[np.ndarray] = []
        for frame in container.decode(stream):
            origin = _frame_ms(frame, base) if origin is None else origin
            pieces += [out.to_ndarray() for out in resampler.resample(frame)]
    if origin is None:
        raise AssertionError(f"{path.name}: no audio frames")
    signal = np.concatenate(pieces, axis=1)
    lo = max(0, round((start_ms - origin) * SAMPLE_RATE / 1000))
    hi = max(lo, round((end_ms - origin) * SAMPLE_RATE / 1000))
    levels = [tone_level(channel[lo:hi], freq_hz) for channel in signal]
    return [20 * float(np.log10(max(level, 1e-10))) for level in levels]


def decode_errors(path: Path) -> list[str]:
    """Every packet of every track decoded; the errors a strict decoder reports."""
    errors: list[str] = []
    with av.open(str(path)) as container:
        for packet in container.demux():
            try:
                packet.decode()
            except av.error.FFmpegError as exc:
                errors.append(f"{packet.stream.type} pts {packet.pts}: {exc}")
    return errors


def frame_times_ms(path: Path) -> list[float]:
    """Presentation times of every video packet, sorted (no decoding)."""
    with av.open(str(path)) as container:
        base = _base_s(container)
        stream = container.streams.video[0]
        times = [
            (float(p.pts * p.time_base) - base) * 1000
            for p in container.demux(stream)
            if p.pts is not None
        ]
    return sorted(times)


def envelope(samples: np.ndarray, freq_hz: float, width_ms: float = 10) -> np.ndarray:
    """Amplitude of ``freq_hz`` over time (heterodyne + centred moving average)."""
    n = np.arange(len(samples))
    mixed = samples * np.exp(-2j * np.pi * freq_hz * n / SAMPLE_RATE)
    width = max(1, int(SAMPLE_RATE * width_ms / 1000))
    kernel = np.ones(width) / width
    return np.asarray(2 * np.abs(np.convolve(mixed, kernel, mode="same")))


def beep_onsets_ms(path: Path, freq_hz: float, floor: float = 0.03) -> list[float]:
    """Start times of beeps at ``freq_hz``: where its amplitude rises past half its peak.

    A beep must reach ``floor`` (amplitude) to count; dips shorter than 40 ms are bridged.
    """
    signal, origin = audio_samples(path)
    env = envelope(signal, freq_hz)
    if len(env) == 0 or env.max() < floor:
        return []
    loud = (env >= max(floor, env.max() / 2)).astype(np.int8)
    steps = np.diff(np.concatenate([[0], loud, [0]]))
    rises, falls = np.flatnonzero(steps == 1), np.flatnonzero(steps == -1)
    bridge = int(0.04 * SAMPLE_RATE)
    onsets: list[int] = []
    last_fall = -bridge - 1
    for rise, fall in zip(rises, falls, strict=True):
        if rise - last_fall > bridge:
            onsets.append(int(rise))
        last_fall = int(fall)
    return [origin + i * 1000 / SAMPLE_RATE for i in onsets]


def probe_durations(path: Path) -> dict[str, float | int | None]:
    """Container and track timing in ms from demuxed packets (no decoding).

    Starts are relative to the container start; ``*_start_ms`` and ``*_duration_ms`` are
    None for a missing track. ``frames`` counts video packets.
    """
    with av.open(str(path)) as container:
        base = _base_s(container)
        spans: dict[str, list[float]] = {}
        frames = 0
        for packet in container.demux():
            if packet.pts is None or packet.stream.type not in ("video", "audio"):
                continue
            tb = float(packet.time_base)
            lo, hi = packet.pts * tb, (packet.pts + (packet.duration or 0)) * tb
            span = spans.setdefault(packet.stream.type, [lo, hi])
            span[0], span[1] = min(span[0], lo), max(span[1], hi)
            frames += packet.stream.type == "video"
        starts = {
            s.type: s.start_time * float(s.time_base)
            for s in container.streams
            if s.type in spans and s.start_time is not None
        }
        out: dict[str, float | int | None] = {
            "duration_ms": (container.duration or 0) / 1000,
            "frames": frames,
        }
        for kind in ("video", "audio"):
            if kind not in spans:
                out[f"{kind}_start_ms"] = out[f"{kind}_duration_ms"] = None
                continue
            lo = max(starts.get(kind, spans[kind][0]), spans[kind][0])
            out[f"{kind}_start_ms"] = (lo - base) * 1000
            out[f"{kind}_duration_ms"] = (spans[kind][1] - lo) * 1000
        return out


# --- Recordings: synthetic inputs + a DESIGN §4.1 manifest, generated through the CLI ---

START_MS = 1_700_000_000_000
ROOM_ID = 1253


@dataclass(frozen=True)
class Piece:
    """One segment of a synthetic recording: ``at_ms`` is its StartTime after the start."""

    stream_id: str
    name: str
    at_ms: int
    spec: ClipSpec


def write_recording(
    folder: Path,
    ffmpeg: str,
    pieces: Sequence[Piece],
    *,
    length_ms: int,
    pauses_ms: Sequence[tuple[int, int]] = (),
    **params: Any,
) -> Path:
    """Synthesise ``pieces`` into ``folder`` and write ``manifest.json`` (relative Urls).

    ``params`` are extra top-level manifest keys (Concat, MixStream, RecordControl,
    Whiteboard, AudioFileNeeded...).
    """
    folder.mkdir(parents=True, exist_ok=True)
    streams: dict[str, list[dict[str, Any]]] = {}
    for piece in pieces:
        make_clip(piece.spec, folder / piece.name, ffmpeg)
        segment = {"Url": piece.name, "StartTime": START_MS + piece.at_ms}
        streams.setdefault(piece.stream_id, []).append(segment)
    manifest = {
        "RoomId": ROOM_ID,
        "RecordStartTimeMs": START_MS,
        "RecordStopTimeMs": START_MS + length_ms,
        "Pauses": [
            {"PauseTime": START_MS + lo, "ResumeTime": START_MS + hi} for lo, hi in pauses_ms
        ],
        "Streams": [{"StreamId": sid, "Segments": segs} for sid, segs in streams.items()],
        **params,
    }
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Generated:
    """What ``mixdown generate`` wrote: the folder and its ``result.json``."""

    out: Path
    result: dict[str, Any]

    def infos(self, video_type: int | None = None, user_id: str | None = None) -> list[Any]:
        return [
            v
            for v in self.result["VideoInfoList"]
            if (video_type is None or v["VideoType"] == video_type)
            and (user_id is None or v["UserId"] == user_id)
        ]

    def one(self, video_type: int, user_id: str | None = None) -> dict[str, Any]:
        found = self.infos(video_type, user_id)
        if len(found) != 1:
            raise AssertionError(
                f"expected one output of VideoType {video_type} for {user_id!r}, got "
                f"{[v['VideoUrl'] for v in found]}"
            )
        info: dict[str, Any] = found[0]
        return info

    def path(self, info: dict[str, Any]) -> Path:
        return self.out / info["VideoUrl"]


def generate(manifest: Path, out: Path, params: dict[str, Any] | None = None) -> Generated:
    """Run ``mixdown generate`` in-process (ultrafast preset) and read ``result.json``."""
    from mixdown.cli import main

    argv = ["generate", str(manifest), "--out", str(out)]
    if params is not None:
        params_path = out.parent / f"{out.name}-params.json"
        params_path.write_text(json.dumps(params), encoding="utf-8")
        argv += ["--params", str(params_path)]
    with fast_preset():
        code = main(argv)
    if code != 0:
        raise AssertionError(f"mixdown generate exited {code}")
    return Generated(out, json.loads((out / "result.json").read_text(encoding="utf-8")))


@contextmanager
def fast_preset(preset: str = "ultrafast") -> Iterator[None]:
    """Content checks do not need a good encode; keep the suite fast on small machines."""
    old = os.environ.get("MIXDOWN_PRESET")
    os.environ["MIXDOWN_PRESET"] = preset
    try:
        yield
    finally:
        if old is None:
            del os.environ["MIXDOWN_PRESET"]
        else:
            os.environ["MIXDOWN_PRESET"] = old
