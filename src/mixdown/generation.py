"""One generation end to end: probe -> plan (pure) -> render (ffmpeg) -> VideoInfo list."""

from __future__ import annotations

import json
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
from mixdown.planning.plan import Plan
from mixdown.planning.planner import plan_generation
from mixdown.planning.reporting import build_report
from mixdown.render.executor import Published, execute
from mixdown.render.probe import probe_media
from mixdown.render.progress import Progress
from mixdown.render.source import MediaSource, UrlPolicy
from mixdown.settings import Settings
from mixdown.tiw import documents


def _temp_source(settings: Settings, url_guard: UrlPolicy | None = None) -> MediaSource:
    work = Path(tempfile.mkdtemp(prefix="mixdown-"))
    return MediaSource(work, settings.max_download_bytes, url_guard)


def probe_recording(
    recording: Recording,
    settings: Settings,
    source: MediaSource | None = None,
    url_guard: UrlPolicy | None = None,
) -> dict[str, MediaInfo]:
    """Probe every segment (main and small); errors name the file (the first in order).
    ``url_guard`` checks each URL downloaded, and every redirect on the way."""
    own = source is None
    src = source or _temp_source(settings, url_guard)
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
    url_guard: UrlPolicy | None = None,
) -> GenerationResult:
    """Render every output into ``out_dir``; VideoUrl is the file name inside it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    src = source or MediaSource(out_dir / ".work", settings.max_download_bytes, url_guard)
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
        facts = {p.output.name: p.facts for p in published}
        report = build_report(plan, recording, probes, facts)
        videos = tuple(_video_info(p) for p in published)
        return GenerationResult(plan.total_time, plan.omitted, videos, report)
    finally:
        if source is None:
            src.close()


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
    result = generate(recording, params, out_dir, settings, progress=progress, cancel=cancel)
    text = json.dumps(documents.result_document(result), indent=2)
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
