"""The executor: a Plan's renders as files, all or nothing.

Each render runs on a lane (spliced when it asks for that and its sources allow it, else one
ffmpeg command) and writes ``.NAME.part`` files; they are renamed to their final names only
once every render has succeeded, so a failure or a cancel publishes nothing.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import av

from mixdown.domain.media import MediaInfo
from mixdown.planning.plan import OutputPlan, Plan, Render
from mixdown.planning.reporting import DecoderMessages, OutputFacts
from mixdown.render.command import build_command, temp_path
from mixdown.render.lanes import Job, Weighted, run_in_lanes
from mixdown.render.measurement import measure
from mixdown.render.progress import Progress, render_weight
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

    ``local`` maps every URL the plan reads (its inputs and filler images) to a local path;
    the result is in the plan's order, render by render."""
    rendered = [_Rendered() for _ in plan.renders]

    def job(index: int, render: Render) -> Job:
        def run(report: Progress, stop: threading.Event) -> None:
            _render(plan, probes, render, local, out_dir, settings, rendered[index], report, stop)

        return run

    jobs = [Weighted(job(i, r), render_weight(r)) for i, r in enumerate(plan.renders)]
    try:
        run_in_lanes(jobs, settings.render_lanes, progress, cancel)
    except BaseException:
        for done in rendered:
            for _, temp in done.written:
                temp.unlink(missing_ok=True)
        raise
    published = []
    for done in rendered:
        for output, temp in done.written:
            measured = measure(temp)
            facts = OutputFacts(done.method, measured, done.decoding)
            final = out_dir / output.name
            os.replace(temp, final)
            published.append(Published(output, final, final.stat().st_size, facts))
    if progress is not None:
        progress(1.0)
    return published


@dataclass
class _Rendered:
    """What one render wrote, how, and what ffmpeg said while decoding."""

    written: list[tuple[OutputPlan, Path]] = field(default_factory=list)
    method: str = "encode"
    decoding: DecoderMessages = field(default_factory=DecoderMessages)


def _render(
    plan: Plan,
    probes: Mapping[str, MediaInfo],
    render: Render,
    local: Mapping[str, str],
    out_dir: Path,
    settings: Settings,
    done: _Rendered,
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
