"""Media files shaped like real recorders' output, with synth's known colours, flashes, tones.

Each ``make_*`` writes one file from a ``ClipSpec`` (its picture and sound are synth's
``video_graph`` and ``audio_source``; times in the spec are relative to the video start) and
returns its path. The shapes:

* ``make_live_webm``: VP8 + Opus WebM written to a pipe, as a live WebRTC recorder writes
  it: the Segment has no Duration (PyAV's ``container.duration`` is None);
* ``make_clip`` with ``container="ts"`` and ``audio_offset_ms`` (synth): MPEG-TS whose audio
  starts after its video;
* ``make_mono_44k``: H.264 + 44.1 kHz mono AAC in MP4;
* ``make_rotated_phone``: a portrait picture stored sideways (``spec.height x spec.width``)
  with a display matrix that turns it upright (``-display_rotation``); ``spec`` describes
  the upright picture, which gets a green band over its top eighth;
* ``make_vfr``: frames at irregular intervals (10-30 fps, a few ms of jitter) in Matroska
  or FLV with millisecond timestamps, H.264 + Opus (mkv) or AAC (flv); every flash frame
  is kept, on time, and held for at least 67 ms (so a 15 fps output cannot drop it);
* ``make_truncated``: a faststart MP4, a fragmented MP4 (cut inside a fragment's media data)
  or an MPEG-TS cut after a fraction of its bytes; ``container_view`` says how such a file
  looks to PyAV.
"""

from __future__ import annotations

import itertools
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import av

from mixdown.synth import ClipSpec, Container, audio_source, make_clip, run_ffmpeg, video_graph

#: Green, over the top eighth of an upright rotated picture: shows which way is up.
UP_MARK = "#00FF00"
_X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-bf", "0"]
_VP8 = ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k"]
#: Source frames skipped between kept frames of a VFR clip made at 30 fps: 33-100 ms apart.
_VFR_STEPS = (1, 3, 2, 1, 2, 3, 1, 1, 3, 2)
Truncation = Literal["mp4", "fmp4", "ts"]


def _sources(spec: ClipSpec, vfilter: str = "") -> list[str]:
    graph = video_graph(spec) + (f",{vfilter}" if vfilter else "")
    return ["-f", "lavfi", "-i", graph, "-f", "lavfi", "-i", audio_source(spec)]


def make_live_webm(spec: ClipSpec, path: Path, ffmpeg: str) -> Path:
    """VP8 + Opus in WebM written to a pipe (no seeking back): no Duration, no Cues."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", *_sources(spec)]
    argv += ["-map", "0:v", *_VP8, "-pix_fmt", "yuv420p", "-g", str(spec.gop_frames)]
    argv += ["-map", "1:a", "-c:a", "libopus", "-b:a", "64k", "-ar", "48000", "-ac", "1"]
    argv += ["-live", "1", "-f", "webm", "pipe:1"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        proc = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {proc.stderr.decode(errors='replace')[-300:]}")
    return path


def make_mono_44k(spec: ClipSpec, path: Path, ffmpeg: str) -> Path:
    """H.264 + AAC at 44.1 kHz, one channel, in MP4 (a USB microphone, an old phone)."""
    args = [*_sources(spec), "-map", "0:v", *_X264, "-g", str(spec.gop_frames)]
    args += ["-map", "1:a", "-c:a", "aac", "-ar", "44100", "-ac", "1"]
    run_ffmpeg(ffmpeg, [*args, "-movflags", "+faststart", str(path)])
    return path


def make_rotated_phone(spec: ClipSpec, path: Path, ffmpeg: str, rotation: int = 90) -> Path:
    """``spec``'s upright picture (green top eighth) stored turned by ``-rotation`` degrees,
    with a display matrix of ``rotation`` degrees (counter-clockwise) that turns it back:
    a portrait ``spec`` is stored landscape, as a phone held upright records it."""
    if rotation not in (90, -90):
        raise ValueError("rotation must be 90 or -90")
    band = f"drawbox=x=0:y=0:w=iw:h=ih/8:color=0x{UP_MARK[1:]}:t=fill"
    # Displaying rotates counter-clockwise by ``rotation``; store the picture turned back.
    turn = "transpose=clock" if rotation == 90 else "transpose=cclock"
    plain = path.with_name(f"{path.stem}-stored{path.suffix}")
    args = [*_sources(spec, f"{band},{turn}"), "-map", "0:v", *_X264]
    args += ["-g", str(spec.gop_frames), "-map", "1:a", "-c:a", "aac", "-ac", "1"]
    run_ffmpeg(ffmpeg, [*args, str(plain)])
    run_ffmpeg(
        ffmpeg,
        ["-display_rotation", str(rotation), "-i", str(plain), "-c", "copy",
         "-movflags", "+faststart", str(path)],
    )  # fmt: skip
    plain.unlink()
    return path


def vfr_kept_frames(spec: ClipSpec) -> list[int]:
    """Indexes (at ``spec.fps``) of the frames a VFR clip keeps: every flash frame, then
    at least two source frames before the next (a flash is held for 2 frames or more)."""
    count = spec.duration_ms * spec.fps // 1000
    flashes = set(spec.flash_frames())
    kept = [0]
    steps = itertools.cycle(_VFR_STEPS)
    while True:
        n = kept[-1]
        step = max(next(steps), 2) if n in flashes else next(steps)
        nxt = min([n + step, *(f for f in flashes if n < f < n + step)])
        if nxt >= count:
            return kept
        kept.append(nxt)


def make_vfr(
    spec: ClipSpec, path: Path, ffmpeg: str, container: Literal["mkv", "flv"] = "mkv"
) -> Path:
    """``spec`` (made at ``spec.fps``, e.g. 30) keeping only ``vfr_kept_frames``, with up to
    6 ms of jitter on every frame but the flashes, timestamps passed through as they are."""
    flashes = "+".join(f"eq(N,{n})" for n in spec.flash_frames()) or "0"
    jitter = f"setpts='PTS+if({flashes},0,0.006*sin(N*1.7))/TB'"
    dropped = sorted(set(range(spec.duration_ms * spec.fps // 1000)) - set(vfr_kept_frames(spec)))
    select = "select='not(" + "+".join(f"eq(n,{n})" for n in dropped) + ")'"
    audio = ["-c:a", "libopus", "-b:a", "64k"] if container == "mkv" else ["-c:a", "aac"]
    args = [*_sources(spec, f"{jitter},{select}"), "-map", "0:v", *_X264, "-g", "30"]
    args += ["-fps_mode", "passthrough", "-enc_time_base:v", "1:90000"]
    args += ["-map", "1:a", *audio, "-ar", "48000", "-ac", "1"]
    run_ffmpeg(ffmpeg, [*args, "-f", "matroska" if container == "mkv" else "flv", str(path)])
    return path


def make_truncated(
    spec: ClipSpec, path: Path, ffmpeg: str, kind: Truncation, fraction: float = 0.4
) -> Path:
    """``spec`` as a faststart MP4 (the moov, up front, lists every sample), a fragmented
    MP4 (``frag_keyframe+empty_moov``) or an MPEG-TS, cut after ``fraction`` of its bytes."""
    whole = path.with_name(f"{path.stem}-whole{path.suffix}")
    if kind == "fmp4":
        args = [*_sources(spec), "-map", "0:v", *_X264, "-g", str(spec.gop_frames)]
        args += ["-map", "1:a", "-c:a", "aac", "-ar", "48000", "-ac", "1"]
        frag = "+frag_keyframe+empty_moov+default_base_moof"
        run_ffmpeg(ffmpeg, [*args, "-movflags", frag, "-f", "mp4", str(whole)])
    else:
        container: Container = "mp4" if kind == "mp4" else "ts"
        make_clip(replace(spec, container=container), whole, ffmpeg)
    data = whole.read_bytes()
    cut = int(len(data) * fraction)
    path.write_bytes(data[: _inside_mdat(data, cut) if kind == "fmp4" else cut])
    whole.unlink()
    return path


def _inside_mdat(data: bytes, cut: int) -> int:
    """``cut``, or the middle of the last ``mdat`` box before it when it falls in another
    box: ffmpeg cannot open a fragmented MP4 cut inside a ``moof`` ("error reading
    header"), so a recorder that died mid-fragment is one cut inside its media data."""
    at, middle = 0, None
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        if size < 8:
            break
        if at <= cut < at + size:
            return cut if kind == b"mdat" and cut >= at + 8 else (middle or cut)
        if kind == b"mdat":
            middle = at + size // 2
        at += size
    return cut


@dataclass(frozen=True)
class ContainerView:
    """How PyAV sees a (possibly truncated) file; times in ms, None when unknown."""

    #: ``container.duration``: what the header claims (or libavformat estimates).
    header_ms: float | None
    #: End of the last readable packet of any track, from the container's start.
    readable_ms: float
    video_packets: int
    audio_packets: int
    #: The demuxer stopped with an error (rather than a clean end of file).
    demux_error: str | None


def container_view(path: Path) -> ContainerView:
    """Demux every packet (no decoding) and compare with the header's duration."""
    with av.open(str(path)) as container:
        start = (container.start_time or 0) / 1_000_000
        header = container.duration / 1000 if container.duration else None
        end = start
        counts = {"video": 0, "audio": 0}
        error = None
        try:
            for packet in container.demux():
                if packet.pts is None or packet.stream.type not in counts:
                    continue
                counts[packet.stream.type] += 1
                tb = float(packet.time_base)
                end = max(end, (packet.pts + (packet.duration or 0)) * tb)
        except av.error.FFmpegError as exc:
            error = str(exc)
    return ContainerView(
        header_ms=header,
        readable_ms=(end - start) * 1000,
        video_packets=counts["video"],
        audio_packets=counts["audio"],
        demux_error=error,
    )
