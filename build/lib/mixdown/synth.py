"""Synthetic class media with known content, for the demo, media tests and benchmarks.

Every clip is one ffmpeg run over ``lavfi`` sources (no per-frame Python):

* picture: a solid ``color`` background; unless ``moving_mark`` is off, a small dark box
  slides along the **top eighth** of the frame (so the content is not static) — everything
  below ``height // 8`` is the solid colour, which keeps colour checks simple;
* flashes: at each time in ``flashes_ms`` exactly one frame is entirely white (the times
  must lie on the frame grid, within 1 ms: at 15 fps, multiples of 200 ms are);
* sound: an optional quiet continuous sine (``tone_hz``) that identifies the user, plus
  short loud beeps (``beep_hz``) starting at each time in ``beeps_ms``. Give beeps the same
  times as flashes and audio/video sync becomes measurable after any processing.

All times in a spec are relative to the clip's **video** start. ``audio_offset_ms`` shifts
the audio track inside the container through its timestamps (``-itsoffset``), not by adding
silence: with 500 the audio stream's first timestamp lies 500 ms after the video's. Both
tracks end together, at the end of the video. (AAC priming moves a stream's first
*timestamp* up to 1024 samples, 21 ms, before its first real sample; the content keeps its
place.)
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mixdown.domain.geometry import ffmpeg_color, is_color
from mixdown.errors import InternalError

Container = Literal["mp4", "flv", "ts"]

_FORMATS: dict[str, str] = {"mp4": "mp4", "flv": "flv", "ts": "mpegts"}
_MARK_COLOR = "0x202020"
SAMPLE_RATE = 48000


@dataclass(frozen=True)
class ClipSpec:
    """What one synthetic media file contains; see the module docstring for the meaning."""

    duration_ms: int = 3000
    width: int = 160
    height: int = 120
    fps: int = 15
    color: str = "#3366CC"
    flashes_ms: tuple[int, ...] = ()
    tone_hz: int | None = None
    tone_amplitude: float = 0.1
    beeps_ms: tuple[int, ...] = ()
    beep_hz: int = 1000
    beep_length_ms: int = 100
    beep_amplitude: float = 0.5
    #: Audio track start minus video track start, in the container's timestamps.
    audio_offset_ms: int = 0
    has_video: bool = True
    has_audio: bool = True
    container: Container = "mp4"
    moving_mark: bool = True
    gop_frames: int = 15
    #: Also flash and beep at every multiple of this (not at 0); for long clips, where
    #: listing every time would make the filter expressions huge. 0: off.
    sync_period_ms: int = 0

    def __post_init__(self) -> None:
        if not is_color(self.color):
            raise ValueError(f"color {self.color!r} is not #RRGGBB")
        if not (self.has_video or self.has_audio):
            raise ValueError("a clip needs video or audio")
        if self.duration_ms <= abs(self.audio_offset_ms):
            raise ValueError("audio_offset_ms must be shorter than the clip")
        if self.width % 2 or self.height % 2:
            raise ValueError("width and height must be even (yuv420p)")
        frame_ms = 1000 / self.fps
        times = (*self.flashes_ms, self.sync_period_ms)
        off_grid = [t for t in times if abs(t - round(t / frame_ms) * frame_ms) > 1]
        if off_grid:
            # A flash is one whole frame; off the grid it would not be where the beep is.
            raise ValueError(f"flashes {off_grid} are not on the {self.fps} fps frame grid")

    def flash_frames(self) -> tuple[int, ...]:
        """Indexes of the white frames (flash times rounded to the frame grid)."""
        return tuple(round(t * self.fps / 1000) for t in self.flashes_ms)


def make_clip(spec: ClipSpec, path: Path, ffmpeg: str) -> Path:
    """Write the clip ``spec`` describes to ``path`` (its container from ``spec``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    inputs: list[str] = []
    outputs: list[str] = []
    if spec.has_video:
        inputs += [*_offset(-spec.audio_offset_ms), "-f", "lavfi", "-i", video_graph(spec)]
        outputs += ["-map", "0:v", *_video_codec(spec)]
    if spec.has_audio:
        index = 1 if spec.has_video else 0
        inputs += [*_offset(spec.audio_offset_ms), "-f", "lavfi", "-i", audio_source(spec)]
        outputs += ["-map", f"{index}:a", "-c:a", "aac", "-ar", str(SAMPLE_RATE), "-ac", "1"]
    if spec.container == "mp4":
        outputs += ["-movflags", "+faststart"]
    run_ffmpeg(ffmpeg, [*inputs, *outputs, "-f", _FORMATS[spec.container], str(path)])
    return path


def make_image(path: Path, color: str, width: int, height: int, ffmpeg: str) -> Path:
    """A solid-colour still (PNG, JPEG: by the suffix), e.g. a ``Concat.Image`` filler."""
    if not is_color(color):
        raise ValueError(f"color {color!r} is not #RRGGBB")
    path.parent.mkdir(parents=True, exist_ok=True)
    source = f"color=c={ffmpeg_color(color)}:s={width}x{height}:d=1"
    run_ffmpeg(ffmpeg, ["-f", "lavfi", "-i", source, "-frames:v", "1", "-update", "1", str(path)])
    return path


def video_graph(spec: ClipSpec) -> str:
    """The lavfi graph of the picture: background, moving mark, flashes."""
    size = f"{spec.width}x{spec.height}"
    seconds = spec.duration_ms / 1000
    chain = f"color=c={ffmpeg_color(spec.color)}:s={size}:r={spec.fps}:d={seconds}"
    if spec.moving_mark:
        side = max(2, spec.height // 8 // 2 * 2)
        mark = f"color=c={_MARK_COLOR}:s={side}x{side}:r={spec.fps}:d={seconds}"
        # One crossing of the frame every 4 s, inside the top band only.
        slide = "overlay=x='mod(t*(W-w)/4,W-w)':y=0:shortest=1"
        chain = f"{chain}[bg];{mark}[mark];[bg][mark]{slide}"
    terms = [f"eq(n,{n})" for n in spec.flash_frames()]
    if spec.sync_period_ms:
        period = round(spec.sync_period_ms * spec.fps / 1000)
        terms.append(f"gt(n,0)*not(mod(n,{period}))")
    if terms:
        enable = "+".join(terms)
        chain += f",drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='{enable}'"
    # A fine time base, so that -itsoffset is not rounded to whole frames.
    return chain + ",settb=1/90000"


def audio_source(spec: ClipSpec) -> str:
    """The lavfi source of the sound: tone plus beeps, on the audio track's own clock."""
    shift = spec.audio_offset_ms / 1000  # audio-local t = video t - shift
    terms: list[str] = []
    if spec.tone_hz:
        terms.append(f"{spec.tone_amplitude}*sin(2*PI*{spec.tone_hz}*t)")
    length = spec.beep_length_ms / 1000
    windows = [
        f"between(t,{b / 1000 - shift:.4f},{b / 1000 - shift + length:.4f})" for b in spec.beeps_ms
    ]
    if spec.sync_period_ms:
        period = spec.sync_period_ms / 1000
        windows.append(f"gte(t+{shift},{period})*lt(mod(t+{shift},{period}),{length})")
    if windows:
        gate = "+".join(windows)
        terms.append(f"{spec.beep_amplitude}*sin(2*PI*{spec.beep_hz}*t)*({gate})")
    expr = "+".join(terms) or "0"
    seconds = (spec.duration_ms - spec.audio_offset_ms) / 1000
    return f"aevalsrc=exprs='{expr}':s={SAMPLE_RATE}:c=mono:d={seconds}"


def run_ffmpeg(ffmpeg: str, args: list[str]) -> None:
    """Run ffmpeg quietly; a failure raises with the end of its log."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        raise InternalError(f"ffmpeg failed ({proc.returncode}): {' | '.join(tail)}")


def _offset(ms: int) -> list[str]:
    """Delay the next input's timestamps by ``ms`` (nothing when ``ms`` <= 0)."""
    return ["-itsoffset", f"{ms / 1000:.3f}"] if ms > 0 else []


def _video_codec(spec: ClipSpec) -> list[str]:
    return [
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-g", str(spec.gop_frames), "-bf", "0", "-enc_time_base:v", "1:90000",
    ]  # fmt: skip
