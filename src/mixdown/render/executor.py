"""The executor: a Plan's renders as files, all or nothing.

The plan runs as its work graph (``planning.work``): each piece (a render, or a chunk of
one) on a lane, spliced when it asks for that and its sources allow it, else one ffmpeg
command; then the joins of chunked outputs. Everything is written as ``.NAME.part`` files,
renamed to their final names only once every render has succeeded, so a failure or a
cancel publishes nothing.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import av

from mixdown.domain.media import MediaInfo
from mixdown.planning.plan import OutputPlan, Plan, Render
from mixdown.planning.reporting import DecoderMessages, OutputFacts
from mixdown.planning.work import Join, Piece, WorkGraph, work_graph
from mixdown.render.assembly import check_parameter_sets
from mixdown.render.assembly import join as assembly_join
from mixdown.render.command import build_command, temp_path
from mixdown.render.lanes import Job, Weighted, run_in_lanes
from mixdown.render.measurement import measure
from mixdown.render.progress import Progress, WeightedProgress, render_weight
from mixdown.render.runner import Log, run_ffmpeg
from mixdown.render.splice import SpliceUnavailable, splice
from mixdown.settings import Settings

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Published:
    """One finished file under its final name, and what reading it back found."""

    output: OutputPlan
    path: Path
    size: int
    facts: OutputFacts


def execute(
    plan: Plan,
    probes: Mapping[str, MediaInfo],
    local: Mapping[str, str],
    out_dir: Path,
    settings: Settings,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> list[Published]:
    """Render everything as ``.part`` files; publish them only once every render succeeded.

    The plan runs as its work graph (``planning.work``): pieces side by side on the lanes,
    then the joins of chunked outputs. ``local`` maps every URL the plan reads (its inputs
    and filler images) to a local path; the result is in the plan's order, render by
    render."""
    graph = work_graph(plan, settings.chunk_ms, settings.encoding.fps)
    rendered = {piece.name: Rendered() for piece in graph.pieces}

    def job(piece: Piece) -> Job:
        def run(report: Progress, stop: threading.Event) -> None:
            done = rendered[piece.name]
            render_into(plan, probes, piece.render, local, out_dir, settings, done, report, stop)

        return run

    jobs = [Weighted(job(p), render_weight(p.render)) for p in graph.pieces]
    # A join copies streams: quick beside the renders, it gets the last percent.
    meter = WeightedProgress([1], progress, ceiling=0.99) if graph.joins else None
    try:
        run_in_lanes(jobs, settings.render_lanes, meter.part(0) if meter else progress, cancel)
    except BaseException:
        _remove(rendered.values())
        raise
    published = finish(plan, graph, rendered, out_dir, settings.ffmpeg, cancel)
    if progress is not None:
        progress(1.0)
    return published


def finish(
    plan: Plan,
    graph: WorkGraph,
    rendered: Mapping[str, Rendered],
    out_dir: Path,
    ffmpeg: str,
    cancel: threading.Event | None = None,
) -> list[Published]:
    """Join the chunked outputs, read every output back and give each its final name, in
    the plan's order; on a failure nothing is published and the ``.part`` files go."""
    joined: dict[int, Rendered] = {}
    try:
        for join in graph.joins:
            joined[join.source] = _joined(ffmpeg, join, rendered, out_dir, cancel)
    except BaseException:
        _remove([*rendered.values(), *joined.values()])
        raise
    published = []
    for index in range(len(plan.renders)):
        whole = graph.whole(index)
        done = joined[index] if whole is None else rendered[whole.name]
        for output, temp in done.written:
            measured = measure(temp)
            facts = OutputFacts(done.method, measured, done.decoding)
            final = out_dir / output.name
            os.replace(temp, final)
            published.append(Published(output, final, final.stat().st_size, facts))
    return published


def _remove(done: Iterable[Rendered]) -> None:
    for rendered in done:
        rendered.remove()


def _joined(
    ffmpeg: str,
    join: Join,
    rendered: Mapping[str, Rendered],
    out_dir: Path,
    cancel: threading.Event | None,
) -> Rendered:
    """The chunks laid end to end with their sound, as the output's ``.part`` file; the
    chunk files are removed once joined."""
    parts = [rendered[name] for name in join.chunks]
    sound = rendered[join.audio] if join.audio is not None else None
    videos = [done.written[0][1] for done in parts]
    check_parameter_sets(videos)
    target = temp_path(out_dir, join.chunked.output)
    audio = sound.written[0][1] if sound is not None else None
    assembly_join(ffmpeg, join.chunked, videos, audio, target, cancel)
    decoding = DecoderMessages()
    for done in [*parts, *([sound] if sound else [])]:
        decoding = decoding.plus(done.decoding)
        done.remove()
    return Rendered([(join.chunked.output, target)], "encode", decoding)


@dataclass
class Rendered:
    """What one render wrote, how, and what ffmpeg said while decoding."""

    written: list[tuple[OutputPlan, Path]] = field(default_factory=list)
    method: str = "encode"
    decoding: DecoderMessages = field(default_factory=DecoderMessages)

    def remove(self) -> None:
        """Delete the files written (a failure, or chunks once joined)."""
        for _, temp in self.written:
            temp.unlink(missing_ok=True)
        self.written.clear()


def render_into(
    plan: Plan,
    probes: Mapping[str, MediaInfo],
    render: Render,
    local: Mapping[str, str],
    out_dir: Path,
    settings: Settings,
    done: Rendered,
    report: Progress,
    stop: threading.Event,
) -> None:
    """One render: spliced when it asks for that and its sources allow it, else ffmpeg."""
    first = render.outputs[0]
    if first.splice:
        temp = temp_path(out_dir, first)
        done.written.append((first, temp))
        if _spliced(plan, first, local, temp, report, stop):
            done.method = "splice"
            return
        done.written.pop()
        render = Render((replace(first, splice=False),), render.duration)
    cmd = build_command(settings.ffmpeg, plan, render, local, out_dir, settings.encoding)
    done.written += zip(render.outputs, cmd.temp_paths, strict=True)
    done.method = "remux" if first.copy is not None else "encode"
    if cmd.script is None:
        log = run_ffmpeg(cmd.argv, render.duration, report, stop)
    else:
        cmd.script[0].write_text(cmd.script[1], encoding="utf-8")
        try:
            log = run_ffmpeg(cmd.argv, render.duration, report, stop)
        finally:
            cmd.script[0].unlink(missing_ok=True)
    done.decoding = _decoder_messages(plan, probes, cmd.inputs, log)


def _decoder_messages(
    plan: Plan, probes: Mapping[str, MediaInfo], inputs: tuple[int, ...], log: Log
) -> DecoderMessages:
    """ffmpeg's input numbers as plan inputs; a bare decoder's messages go to the inputs
    that use that codec (messages of filters, encoders and muxers are not about inputs)."""
    by_input = {inputs[n]: k for n, k in log.by_input().items() if n < len(inputs)}
    unattributed = []
    for codec, k in sorted(log.by_codec().items()):
        candidates = tuple(i for i in inputs if codec in _codecs(probes[plan.inputs[i].url]))
        if candidates:
            unattributed.append((codec, candidates, k))
    return DecoderMessages(by_input, tuple(unattributed))


def _codecs(info: MediaInfo) -> set[str]:
    return {t.codec for t in (info.video, info.audio) if t is not None}


def _spliced(
    plan: Plan,
    output: OutputPlan,
    local: Mapping[str, str],
    temp: Path,
    report: Progress,
    cancel: threading.Event | None,
) -> bool:
    """Splice ``output`` into ``temp``; False (and nothing left behind) when it cannot be."""
    try:
        splice(plan, output, local, temp, report, cancel)
    except (SpliceUnavailable, av.error.FFmpegError, ValueError) as why:
        # A damaged packet the probe let through: the ordinary encode still copes with it.
        temp.unlink(missing_ok=True)
        _log.info("encoding %s instead of splicing: %s", output.name, why)
        return False
    return True
