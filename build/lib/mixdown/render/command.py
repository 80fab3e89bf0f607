"""One Render -> the ffmpeg argv that produces its outputs. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mixdown.planning.plan import OutputPlan, Plan, Render
from mixdown.render.filtergraph import SAMPLE_RATE, build_graph, sec
from mixdown.settings import Encoding

#: Graphs longer than this go to a script file: one argv entry is capped at 128 KiB on Linux.
INLINE_GRAPH_MAX = 60_000


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    #: Output index -> the temporary path ffmpeg writes.
    temp_paths: tuple[Path, ...]
    #: A filter graph too long for the command line: write ``text`` to ``path`` first.
    script: tuple[Path, str] | None = None
    #: The plan input index of each ffmpeg input, in ffmpeg's order (filler images follow).
    inputs: tuple[int, ...] = ()


def temp_path(out_dir: Path, output: OutputPlan) -> Path:
    return out_dir / f".{output.name}.part"


def build_command(
    ffmpeg: str,
    plan: Plan,
    render: Render,
    local_paths: Mapping[str, str],
    out_dir: Path,
    encoding: Encoding,
) -> Command:
    """``local_paths`` maps each input url (and filler image) to a readable local path."""
    first = render.outputs[0]
    if first.copy is not None:
        return _remux(ffmpeg, plan, first, local_paths, out_dir)
    used = _used_inputs(render)
    input_numbers = {index: n for n, index in enumerate(used)}
    images = sorted({o.video.image for o in render.outputs if o.video and o.video.image})
    image_numbers = {img: len(used) + k for k, img in enumerate(images)}
    seeks = {i: t for i, t in _seeks(render).items() if plan.inputs[i].seekable}
    mono = {i for i in used if plan.inputs[i].channels == 1}
    resizing = {i for i in used if plan.inputs[i].size_changes}
    graph = build_graph(render, input_numbers, image_numbers, encoding.fps, seeks, mono, resizing)
    argv: list[str] = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    argv += ["-progress", "pipe:1", "-nostats"]
    for index in used:
        if index in seeks:
            argv += ["-ss", sec(seeks[index])]
        # One decoding thread per input: ffmpeg already decodes each input on a thread of
        # its own, and frame threads on top cost 14 % more decoding CPU on two cores.
        # reinit_filter 0 keeps one filter graph alive across resolution changes in a file
        # (a new graph would restart the canvas, select/setpts and audio state); tiles of
        # such an input are centred frame by frame instead (filtergraph._centred).
        local = local_paths[plan.inputs[index].url]
        argv += ["-threads", "1", "-reinit_filter", "0", "-i", local]
    for img in images:
        argv += ["-i", local_paths[img]]
    text = graph.text()
    script = None
    if len(text) > INLINE_GRAPH_MAX:
        script = (out_dir / f".{render.outputs[0].name}.graph", text)
        argv += ["-/filter_complex", str(script[0])]
    else:
        argv += ["-filter_complex", text]
    argv += ["-filter_complex_threads", "1"]
    temps: list[Path] = []
    for i, output in enumerate(render.outputs):
        path = temp_path(out_dir, output)
        temps.append(path)
        one_channel = i in graph.mono_out
        audio = graph.audio_out.get(i)
        argv += _output_args(output, graph.video_out.get(i), audio, encoding, one_channel)
        argv.append(str(path))
    return Command(tuple(argv), tuple(temps), script, tuple(used))


def _remux(
    ffmpeg: str, plan: Plan, output: OutputPlan, local_paths: Mapping[str, str], out_dir: Path
) -> Command:
    copy = output.copy
    assert copy is not None
    path = temp_path(out_dir, output)
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    argv += ["-progress", "pipe:1", "-nostats", "-i", local_paths[plan.inputs[copy.input].url]]
    if copy.video:
        argv += ["-map", "0:v:0"]
    if copy.audio:
        argv += ["-map", "0:a:0"]
    argv += ["-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(path)]
    return Command(tuple(argv), (path,), None, (copy.input,))


#: Leads longer than this are skipped with an input seek rather than decoded and dropped.
SEEK_AFTER_MS = 10_000
#: Seek this far short of the first clip so a keyframe before it is surely decoded.
SEEK_MARGIN_MS = 2_000


def _seeks(render: Render) -> dict[int, int]:
    first: dict[int, int] = {}
    for out in render.outputs:
        clips = [c for p in out.video.placements for c in p.clips] if out.video else []
        clips += [c for lane in out.audio.lanes for c in lane] if out.audio else []
        for c in clips:
            first[c.input] = min(first.get(c.input, c.src.start), c.src.start)
    return {i: t - SEEK_MARGIN_MS for i, t in first.items() if t > SEEK_AFTER_MS}


def _used_inputs(render: Render) -> list[int]:
    found: set[int] = set()
    for out in render.outputs:
        if out.video:
            found.update(p.input for p in out.video.placements)
        if out.audio:
            found.update(c.input for lane in out.audio.lanes for c in lane)
    return sorted(found)


def _output_args(
    output: OutputPlan, video: str | None, audio: str | None, enc: Encoding, mono: bool = False
) -> list[str]:
    args: list[str] = []
    if output.format == "mp3":
        assert audio is not None
        # The bitrate is per stereo pair: a mono file gets half, the same per channel.
        bitrate = enc.mp3_bitrate_k // 2 if mono else enc.mp3_bitrate_k
        return [
            "-map",
            f"[{audio}]",
            "-c:a",
            "libmp3lame",
            # LAME's fast mode (quality 7): 2.6x less CPU than its default (3), the same
            # signal-to-distortion on the bench's camera audio (bench/README.md).
            "-compression_level",
            "7",
            "-b:a",
            f"{bitrate}k",
            "-ar",
            str(SAMPLE_RATE),
            "-f",
            "mp3",
        ]
    if video is not None:
        args += [
            "-map",
            f"[{video}]",
            "-c:v",
            "libx264",
            "-preset",
            enc.preset,
            "-crf",
            str(enc.crf),
            "-pix_fmt",
            "yuv420p",
        ]
        if enc.x264_params:
            args += ["-x264-params", enc.x264_params]
    if audio is not None:
        args += [
            "-map",
            f"[{audio}]",
            "-c:a",
            "aac",
            # The fast coder: 17-60 % less CPU than the default two-loop search, and no
            # lower signal-to-distortion on the bench's class audio (bench/README.md).
            "-aac_coder",
            "fast",
            "-b:a",
            f"{enc.audio_bitrate_k}k",
            "-ar",
            str(SAMPLE_RATE),
            "-ac",
            "2",
        ]
    return [*args, "-movflags", "+faststart", "-f", "mp4"]
