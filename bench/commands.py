"""The hand-written ffmpeg commands the benchmark compares Mixdown with. Pure.

* ``baseline_argv``: what a person would write to render only the template-1 mix: one
  ``-filter_complex``, each piece around the pause cut with input ``-ss``/``-t`` (an exact
  seek, so nothing is decoded twice and no ``split`` buffers: DESIGN §6) and joined with
  ``concat``, scaled tiles overlaid on a ``color`` canvas that drives 15 fps, ``adelay`` +
  ``amix`` for the sound; x264 veryfast CRF 23, AAC 128 kb/s.
* ``floor_argv``: decode every input file once and encode every output Mixdown writes once,
  with Mixdown's encoder settings, in one ffmpeg run. No timeline work (no pause cut, no
  join/leave placement, no gap fillers): each output is its stream's media back to back,
  trimmed to the length that plays. The mix gets the same picture content without the
  compositing logic: the whiteboard ``pad``-ded onto the canvas and each camera shrunk with
  ``fast_bilinear`` and laid on its slot for as long as it has frames. Leaving the tiles out
  ("floor-strict") would encode an easier picture than the real mix (the noisy camera tiles
  are most of its x264 cost), a floor no renderer of this layout can reach; the difference
  between the two rows is mostly x264 encoding the tiles' content, since shrinking with
  ``fast_bilinear`` and copying 320x240 tiles is cheap (``--only floor,floor-strict``).
"""

from __future__ import annotations

from pathlib import Path

from bench.scenario import (
    BACKGROUND,
    BOARD_RECT,
    CANVAS,
    FPS,
    SMALL_SIZE,
    SMALL_SLOTS,
    WHITEBOARD_ID,
    Scenario,
)
from mixdown.settings import Encoding

GLOBAL = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats"]


def sec(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}"


def _mix_audio_out(enc: Encoding) -> list[str]:
    """Mixdown's AAC settings (render/command.py), fast coder included."""
    aac = ["-c:a", "aac", "-aac_coder", "fast", "-b:a", f"{enc.audio_bitrate_k}k"]
    return [*aac, "-ar", "48000", "-ac", "2"]


def baseline_argv(ffmpeg: str, sc: Scenario, folder: Path, out: Path) -> list[str]:
    """Template-1 mix of ``sc`` written by hand; x264 veryfast CRF 23 + AAC 128k."""
    inputs: list[str] = []
    chains: list[str] = []
    video: list[tuple[str, tuple[int, int]]] = []  # (label, position) in drawing order
    audio: list[str] = []
    n = 0
    slots = {sid: SMALL_SLOTS[i] for i, sid in enumerate(sc.cameras)}
    for sid in sc.stream_ids():
        board = sid == WHITEBOARD_ID
        w, h = BOARD_RECT[2:] if board else SMALL_SIZE
        pos = BOARD_RECT[:2] if board else slots[sid]
        for r, run in enumerate(sc.runs(sid)):
            parts: list[str] = []
            for piece in run.pieces:
                if piece.src_ms:
                    inputs += ["-ss", sec(piece.src_ms)]
                inputs += ["-t", sec(piece.length_ms), "-i", str(folder / piece.file)]
                chains.append(f"[{n}:v]fps={FPS},scale={w}:{h},setsar=1[v{n}]")
                parts.append(f"[v{n}]")
                if not board:
                    chains.append(f"[{n}:a]aresample=48000[a{n}]")
                    parts.append(f"[a{n}]")
                n += 1
            tag = f"{sid}{r}"
            count = len(run.pieces)
            joined_v, joined_a = f"[jv_{tag}]", f"[ja_{tag}]"
            if count > 1:
                outs = joined_v + ("" if board else joined_a)
                chains.append(f"{''.join(parts)}concat=n={count}:v=1:a={0 if board else 1}{outs}")
            else:
                chains.append(f"{parts[0]}null{joined_v}")
                if not board:
                    chains.append(f"{parts[1]}anull{joined_a}")
            chains.append(f"{joined_v}setpts=PTS-STARTPTS+{sec(run.at_ms)}/TB[pv_{tag}]")
            video.append((f"[pv_{tag}]", pos))
            if not board:
                delay = f"adelay=delays={run.at_ms}:all=1," if run.at_ms else ""
                chains.append(f"{joined_a}{delay}asetpts=PTS-STARTPTS[pa_{tag}]")
                audio.append(f"[pa_{tag}]")
    cw, ch = CANVAS
    total = sec(sc.total_ms)
    chains.append(f"color=c={BACKGROUND}:s={cw}x{ch}:r={FPS}:d={total}[c0]")
    for i, (label, (x, y)) in enumerate(video):
        last = i == len(video) - 1
        dst = "[vout]" if last else f"[c{i + 1}]"
        chains.append(f"[c{i}]{label}overlay={x}:{y}:eof_action=pass{dst}")
    chains.append(f"{''.join(audio)}amix=inputs={len(audio)}:duration=longest:normalize=0[aout]")
    return [
        ffmpeg, *GLOBAL, *inputs,
        "-filter_complex", ";".join(chains), "-filter_complex_threads", "1",
        "-map", "[vout]", "-map", "[aout]", "-t", total,
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
        "-movflags", "+faststart", str(out),
    ]  # fmt: skip


def floor_argv(
    ffmpeg: str, sc: Scenario, folder: Path, out_dir: Path, enc: Encoding, tiles: bool = True
) -> list[str]:
    """Decode each input once, encode each of Mixdown's outputs once (see module doc)."""
    inputs: list[str] = []
    chains: list[str] = []
    outputs: list[str] = []
    n = 0
    slots = {sid: SMALL_SLOTS[i] for i, sid in enumerate(sc.cameras)}
    tile_labels: list[tuple[str, tuple[int, int]]] = []
    mix_audio: list[str] = []
    video_codec = [
        "-c:v", "libx264", "-preset", enc.preset, "-crf", str(enc.crf),
        "-pix_fmt", "yuv420p", "-g", str(enc.fps * 4),
    ]  # fmt: skip
    if enc.x264_params:  # the same encoder settings as Mixdown's, tuning included
        video_codec += ["-x264-params", enc.x264_params]
    mp4 = ["-movflags", "+faststart", "-f", "mp4"]
    board_label = ""
    for sid in sc.stream_ids():
        board = sid == WHITEBOARD_ID
        parts: list[str] = []
        for seg in sc.segments_of(sid):
            inputs += ["-threads", "1", "-i", str(folder / seg.file)]  # as Mixdown decodes
            keep = sec(sc.playable_ms(seg))
            chains.append(f"[{n}:v]fps={enc.fps},trim=duration={keep}[v{n}]")
            parts.append(f"[v{n}]")
            if not board:
                chains.append(f"[{n}:a]aresample=48000,atrim=duration={keep}[a{n}]")
                parts.append(f"[a{n}]")
            n += 1
        count = len(parts) // (1 if board else 2)
        v, a = f"[sv_{sid}]", f"[sa_{sid}]"
        if count > 1:
            outs = v if board else v + a
            chains.append(f"{''.join(parts)}concat=n={count}:v=1:a={0 if board else 1}{outs}")
        else:
            chains.append(f"{parts[0]}null{v}")
            if not board:
                chains.append(f"{parts[1]}anull{a}")
        if board:
            chains.append(f"{v}split=2[out_{sid}][mixv_{sid}]")
            board_label = f"[mixv_{sid}]"
            outputs += ["-map", f"[out_{sid}]", *video_codec, *mp4, str(out_dir / "whiteboard.mp4")]
            continue
        if tiles:
            chains.append(f"{v}split=2[out_{sid}][tv_{sid}]")
            tw, th = SMALL_SIZE
            chains.append(f"[tv_{sid}]scale={tw}:{th}:flags=fast_bilinear[tile_{sid}]")
            tile_labels.append((f"[tile_{sid}]", slots[sid]))
        else:
            chains.append(f"{v}null[out_{sid}]")
        chains.append(f"{a}asplit=3[out_a_{sid}][mp3_{sid}][mixa_{sid}]")
        mix_audio.append(f"[mixa_{sid}]")
        outputs += ["-map", f"[out_{sid}]", "-map", f"[out_a_{sid}]", *video_codec]
        outputs += [*_mix_audio_out(enc), *mp4, str(out_dir / f"{sid}.mp4")]
        outputs += ["-map", f"[mp3_{sid}]", "-c:a", "libmp3lame", "-compression_level", "7"]
        outputs += ["-b:a"]
        outputs += [f"{enc.mp3_bitrate_k}k", "-ar", "48000", "-f", "mp3"]
        outputs.append(str(out_dir / f"{sid}.mp3"))
    cw, ch = CANVAS
    bx, by = BOARD_RECT[:2]
    chains.append(f"{board_label}pad={cw}:{ch}:{bx}:{by}:color={BACKGROUND}[m0]")
    last = "[m0]"
    for i, (label, (x, y)) in enumerate(tile_labels):
        chains.append(f"{last}{label}overlay={x}:{y}:eof_action=pass[m{i + 1}]")
        last = f"[m{i + 1}]"
    chains.append(
        f"{''.join(mix_audio)}amix=inputs={len(mix_audio)}:duration=longest:normalize=0[mixa]"
    )
    outputs += ["-map", last, "-map", "[mixa]", *video_codec, *_mix_audio_out(enc), *mp4]
    outputs.append(str(out_dir / "mix.mp4"))
    return [
        ffmpeg, *GLOBAL, *inputs,
        "-filter_complex", ";".join(chains), "-filter_complex_threads", "1", *outputs,
    ]  # fmt: skip


def ssim_argv(ffmpeg: str, distorted: Path, reference: Path) -> list[str]:
    """SSIM of ``distorted`` against ``reference``; the summary ("All:") goes to stderr."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
        "-i", str(distorted), "-i", str(reference),
        "-lavfi", "[0:v][1:v]ssim=shortest=1", "-f", "null", "-",
    ]  # fmt: skip
