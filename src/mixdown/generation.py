"""One generation end to end: probe -> plan (pure) -> render (ffmpeg) -> VideoInfo list."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import av

from mixdown.domain.media import MediaInfo
from mixdown.domain.parameters import GenerationParams
from mixdown.domain.recording import Recording
from mixdown.domain.report import REPORT_KEY, GenerationReport, Measured
from mixdown.errors import InvalidParameter, MediaError
from mixdown.planning.manifest import load_manifest, with_resolved_image
from mixdown.planning.params import PARAM_KEYS, parse_params
from mixdown.planning.plan import OutputPlan, Plan, Render
from mixdown.planning.planner import plan_generation
from mixdown.planning.reader import Reader
from mixdown.planning.reporting import DecoderMessages, OutputFacts, build_report
from mixdown.planning.timeline import OmittedDuration
from mixdown.render.command import build_command, temp_path
from mixdown.render.lanes import Job, Weighted, run_in_lanes
from mixdown.render.measurement import measure
from mixdown.render.probe import probe_media
from mixdown.render.progress import Progress, render_weight
from mixdown.render.runner import Log, run_ffmpeg
from mixdown.render.source import MediaSource
from mixdown.render.splice import SpliceUnavailable, splice
from mixdown.settings import Settings

_log = logging.getLogger(__name__)
#: CreateVideoGenerationTask fields a params file may carry besides the four objects.
_TASK_KEYS = ("OnlineRecordTaskId", "SdkAppId", "ExtraData")


@dataclass(frozen=True)
class VideoInfo:
    play_time: int
    size: int
    format: str
    duration: int
    url: str
    video_id: str
    video_type: int
    user_id: str
    width: int
    height: int

    def to_tiw(self) -> dict[str, Any]:
        return {
            "VideoPlayTime": self.play_time,
            "VideoSize": self.size,
            "VideoFormat": self.format,
            "VideoDuration": self.duration,
            "VideoUrl": self.url,
            "VideoId": self.video_id,
            "VideoType": self.video_type,
            "UserId": self.user_id,
            "Width": self.width,
            "Height": self.height,
        }


@dataclass(frozen=True)
class GenerationResult:
    total_time: int
    omitted: tuple[OmittedDuration, ...]
    videos: tuple[VideoInfo, ...]
    report: GenerationReport = field(default_factory=lambda: GenerationReport(()))

    def to_tiw(self) -> dict[str, Any]:
        return {
            "TotalTime": self.total_time,
            "OmittedDurations": [o.to_tiw() for o in self.omitted],
            "VideoInfoList": [v.to_tiw() for v in self.videos],
        }

    def to_document(self) -> dict[str, Any]:
        """TIW's result plus the report under its extension key (``result.json``)."""
        return {**self.to_tiw(), REPORT_KEY: self.report.to_json()}


def _temp_source(settings: Settings) -> MediaSource:
    return MediaSource(Path(tempfile.mkdtemp(prefix="mixdown-")), settings.max_download_bytes)


def probe_recording(
    recording: Recording, settings: Settings, source: MediaSource | None = None
) -> dict[str, MediaInfo]:
    """Probe every segment (main and small); errors name the file (the first in order)."""
    own = source is None
    src = source or _temp_source(settings)
    try:
        urls = list(dict.fromkeys(seg.url for seg in recording.all_segments()))
        paths = [src.local(url) for url in urls]
        # Two at a time: demuxing runs outside the GIL, so the second core shortens the
        # start of every generation (reading every packet of a long class takes seconds).
        with ThreadPoolExecutor(max_workers=2) as pool:
            pairs = zip(paths, urls, strict=True)
            futures = [pool.submit(probe_media, path, label=url) for path, url in pairs]
        probes: dict[str, MediaInfo] = {}
        for url, future in zip(urls, futures, strict=True):
            info = future.result()
            if info.duration_ms > settings.max_duration_ms:
                raise MediaError(f"{url}: longer than the {settings.max_duration_ms} ms cap")
            probes[url] = info
        return probes
    finally:
        if own:
            src.close()


def generate(
    recording: Recording,
    params: GenerationParams,
    out_dir: Path,
    settings: Settings,
    *,
    probes: Mapping[str, MediaInfo] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    source: MediaSource | None = None,
) -> GenerationResult:
    """Render every output into ``out_dir``; VideoUrl is the file name inside it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    src = source or MediaSource(out_dir / ".work", settings.max_download_bytes)
    try:
        if probes is None:
            probes = probe_recording(recording, settings, src)
        image = _concat_image(recording, params)
        filler = str(src.local(image)) if image else ""
        plan = plan_generation(recording, params, probes, settings, filler)
        local = {i.url: str(src.local(i.url)) for i in plan.inputs}
        if filler:
            local[filler] = filler
        videos, facts = _execute(plan, probes, local, out_dir, settings, progress, cancel)
        report = build_report(plan, recording, probes, facts)
        return GenerationResult(plan.total_time, plan.omitted, tuple(videos), report)
    finally:
        if source is None:
            src.close()


def _concat_image(recording: Recording, params: GenerationParams) -> str:
    """The filler image URL that applies, or ""."""
    concat = params.over(recording.defaults).concat
    return concat.image if concat is not None and concat.enabled else ""


@dataclass
class _Rendered:
    """What one render wrote, how, and what ffmpeg said while decoding."""

    written: list[tuple[OutputPlan, Path]] = field(default_factory=list)
    method: str = "encode"
    decoding: DecoderMessages = field(default_factory=DecoderMessages)


def _execute(
    plan: Plan,
    probes: Mapping[str, MediaInfo],
    local: Mapping[str, str],
    out_dir: Path,
    settings: Settings,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> tuple[list[VideoInfo], dict[str, OutputFacts]]:
    """Render everything as ``.part`` files; publish them only once every render succeeded."""
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
    videos, facts = [], {}
    for done in rendered:
        for output, temp in done.written:
            measured = measure(temp)
            facts[output.name] = OutputFacts(done.method, measured, done.decoding)
            final = out_dir / output.name
            os.replace(temp, final)
            videos.append(_video_info(output, final, measured))
    if progress is not None:
        progress(1.0)
    return videos, facts


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


def _video_info(output: OutputPlan, path: Path, measured: Measured) -> VideoInfo:
    """Duration and size as the file holds them (the plan says what was meant)."""
    return VideoInfo(
        play_time=output.play_time,
        size=path.stat().st_size,
        format=output.format,
        duration=measured.duration_ms,
        url=output.name,
        video_id=uuid.uuid4().hex,
        video_type=output.video_type,
        user_id=output.user_id,
        width=measured.width if output.video else 0,
        height=measured.height if output.video else 0,
    )


def load_params(path: Path | None) -> GenerationParams:
    """A CreateVideoGenerationTask-shaped JSON file; absent: no overrides."""
    if path is None:
        return GenerationParams()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidParameter(f"{path}: cannot read parameters ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise InvalidParameter(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    params = parse_params(data)
    whole = Reader(data, "")
    whole.ignore(*PARAM_KEYS, *_TASK_KEYS)
    whole.done()
    return with_resolved_image(params, path.resolve().parent)


def generate_from_manifest(
    manifest_path: Path,
    params_path: Path | None,
    out_dir: Path,
    settings: Settings,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> GenerationResult:
    """The CLI's job: writes the outputs and ``out_dir/result.json``."""
    recording = load_manifest(manifest_path)
    params = load_params(params_path)
    result = generate(recording, params, out_dir, settings, progress=progress, cancel=cancel)
    text = json.dumps(result.to_document(), indent=2)
    (out_dir / "result.json").write_text(text + "\n", encoding="utf-8")
    return result


def plan_from_manifest(manifest_path: Path, params_path: Path | None, settings: Settings) -> Plan:
    recording = load_manifest(manifest_path)
    params = load_params(params_path)
    src = _temp_source(settings)
    try:
        probes = probe_recording(recording, settings, src)
        image = _concat_image(recording, params)
        return plan_generation(recording, params, probes, settings, image)
    finally:
        src.close()
