"""One generation end to end: probe -> plan (pure) -> render (ffmpeg) -> VideoInfo list."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mixdown.domain.media import MediaInfo
from mixdown.domain.parameters import GenerationParams
from mixdown.domain.recording import Recording
from mixdown.domain.result import GenerationResult as GenerationResult
from mixdown.domain.result import VideoInfo as VideoInfo
from mixdown.errors import MediaError
from mixdown.input_files import load_manifest, load_params
from mixdown.planning.plan import Plan, Render
from mixdown.planning.planner import plan_generation
from mixdown.planning.reporting import build_report
from mixdown.planning.work import WorkGraph
from mixdown.render.executor import Published, Rendered, execute, finish, render_into
from mixdown.render.probe import probe_media
from mixdown.render.progress import Progress
from mixdown.render.source import MediaSource, Reach
from mixdown.settings import Settings
from mixdown.storage.connection import S3Settings
from mixdown.tiw import documents

#: Local files and unchecked http(s) downloads, no S3: what a caller gets that says nothing.
LOCAL_ONLY = Reach()


def _temp_source(settings: Settings, reach: Reach) -> MediaSource:
    work = Path(tempfile.mkdtemp(prefix="mixdown-"))
    return reach.source(work, settings.max_download_bytes)


def environment_reach() -> Reach:
    """What the command line may read: ``s3://`` media when the AWS settings are there."""
    s3 = S3Settings.from_env(os.environ)
    return Reach(s3=s3.client() if s3.configured else None, s3_retry=s3.retry())


def probe_recording(
    recording: Recording,
    settings: Settings,
    source: MediaSource | None = None,
    reach: Reach = LOCAL_ONLY,
) -> dict[str, MediaInfo]:
    """Probe every segment (main and small); errors name the file (the first in order).
    ``reach`` says what may be downloaded (checked on every redirect too)."""
    own = source is None
    src = source or _temp_source(settings, reach)
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
    reach: Reach = LOCAL_ONLY,
) -> GenerationResult:
    """Render every output into ``out_dir``; VideoUrl is the file name inside it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    src = source or reach.source(out_dir / ".work", settings.max_download_bytes)
    try:
        if probes is None:
            probes = probe_recording(recording, settings, src)
        # The plan names the image by its URL, as it names the inputs (--plan-only prints
        # the same plan); the image is fetched before planning, as the inputs were probed.
        image = _concat_image(recording, params)
        local = {image: str(src.local(image))} if image else {}
        plan = plan_generation(recording, params, probes, settings, image)
        local.update((i.url, str(src.local(i.url))) for i in plan.inputs)
        published = execute(plan, probes, local, out_dir, settings, progress, cancel)
        return _result(plan, recording, probes, published)
    finally:
        if source is None:
            src.close()


def _result(
    plan: Plan,
    recording: Recording,
    probes: Mapping[str, MediaInfo],
    published: list[Published],
) -> GenerationResult:
    facts = {p.output.name: p.facts for p in published}
    report = build_report(plan, recording, probes, facts)
    videos = tuple(_video_info(p) for p in published)
    return GenerationResult(plan.total_time, plan.omitted, videos, report)


# --- A generation spread over a cluster's workers (``jobs.spread``) ----------------------


def plan_for(
    recording: Recording,
    params: GenerationParams,
    probes: Mapping[str, MediaInfo],
    settings: Settings,
) -> Plan:
    """The plan a generation renders, from stored probes (no media is read)."""
    return plan_generation(recording, params, probes, settings, _concat_image(recording, params))


def render_piece(
    plan: Plan,
    render: Render,
    probes: Mapping[str, MediaInfo],
    out_dir: Path,
    settings: Settings,
    *,
    reach: Reach,
    progress: Progress,
    cancel: threading.Event,
) -> Rendered:
    """One piece into ``out_dir``, reading only the media it draws or plays (a chunk's
    inputs seek to its range)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    src = reach.source(out_dir / ".work", settings.max_download_bytes)
    done = Rendered()
    try:
        local = {url: str(src.local(url)) for url in sorted(_urls(plan, render))}
        render_into(plan, probes, render, local, out_dir, settings, done, progress, cancel)
        return done
    except BaseException:
        done.remove()
        raise
    finally:
        src.close()


def publish_pieces(
    plan: Plan,
    graph: WorkGraph,
    recording: Recording,
    probes: Mapping[str, MediaInfo],
    rendered: Mapping[str, Rendered],
    out_dir: Path,
    settings: Settings,
    cancel: threading.Event,
) -> GenerationResult:
    """The result from the pieces' files (under their ``.part`` names in ``out_dir``):
    chunks joined, every output read back, as ``generate`` gives it."""
    published = finish(plan, graph, rendered, out_dir, settings.ffmpeg, cancel)
    return _result(plan, recording, probes, published)


def _urls(plan: Plan, render: Render) -> set[str]:
    """Every URL a render reads: its inputs' and its filler image's."""
    inputs: set[int] = set()
    images: set[str] = set()
    for output in render.outputs:
        if output.video is not None:
            inputs.update(p.input for p in output.video.placements)
            images.update([output.video.image] if output.video.image else [])
        if output.audio is not None:
            inputs.update(c.input for lane in output.audio.lanes for c in lane)
        if output.copy is not None:
            inputs.add(output.copy.input)
    return {plan.inputs[i].url for i in inputs} | images


def _concat_image(recording: Recording, params: GenerationParams) -> str:
    """The filler image URL that applies, or ""."""
    concat = params.over(recording.defaults).concat
    return concat.image if concat is not None and concat.enabled else ""


def _video_info(published: Published) -> VideoInfo:
    """Duration and size as the file holds them (the plan says what was meant)."""
    output, measured = published.output, published.facts.measured
    return VideoInfo(
        play_time=output.play_time,
        size=published.size,
        format=output.format,
        duration=measured.duration_ms,
        url=output.name,
        video_id=uuid.uuid4().hex,
        video_type=output.video_type,
        user_id=output.user_id,
        width=measured.width if output.video else 0,
        height=measured.height if output.video else 0,
    )


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
    reach = environment_reach()
    result = generate(
        recording, params, out_dir, settings, progress=progress, cancel=cancel, reach=reach
    )
    text = json.dumps(documents.result_document(result), indent=2)
    (out_dir / "result.json").write_text(text + "\n", encoding="utf-8")
    return result


def plan_from_manifest(manifest_path: Path, params_path: Path | None, settings: Settings) -> Plan:
    recording = load_manifest(manifest_path)
    params = load_params(params_path)
    src = _temp_source(settings, environment_reach())
    try:
        probes = probe_recording(recording, settings, src)
        image = _concat_image(recording, params)
        return plan_generation(recording, params, probes, settings, image)
    finally:
        src.close()
