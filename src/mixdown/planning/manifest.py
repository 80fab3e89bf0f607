"""The recording manifest (DESIGN §4.1): parsed JSON in, a validated Recording out.

Reading the file is ``mixdown.documents``' part; this module does no I/O."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mixdown.domain.parameters import GenerationParams
from mixdown.domain.recording import Pause, Recording, Segment, Stream
from mixdown.errors import ManifestError
from mixdown.planning.params import PARAM_KEYS, parse_params
from mixdown.planning.reader import Reader

_EPOCH_MAX = 2**53  # ms; far beyond any real clock, keeps arithmetic exact in JSON
_REMOTE_SCHEMES = ("http", "https", "s3", "file")


def parse_manifest(data: Any, base_dir: Path | None = None) -> Recording:
    """Relative segment paths (and Concat.Image) are taken from ``base_dir``, when given."""
    r = Reader(data, "", ManifestError)
    start = r.integer("RecordStartTimeMs", lo=0, hi=_EPOCH_MAX)
    stop = r.optional_integer("RecordStopTimeMs", lo=0, hi=_EPOCH_MAX)
    if stop is not None and stop <= start:
        raise ManifestError("RecordStopTimeMs: must be after RecordStartTimeMs")
    room_id = r.integer("RoomId", lo=0)
    group_id = r.string("GroupId", "") or str(room_id)
    pauses = _pauses(r, start, stop)
    streams = _streams(r, base_dir)
    params = with_resolved_image(
        parse_params({k: r.data[k] for k in PARAM_KEYS if k in r.data}), base_dir
    )
    for key in PARAM_KEYS:
        r.child(key)  # mark as read; parse_params validated them
    recording = Recording(
        room_id=room_id,
        group_id=group_id,
        start_ms=start,
        stop_ms=stop,
        streams=streams,
        pauses=pauses,
        defaults=params,
        audio_file_needed=r.boolean("AudioFileNeeded", False),
        task_id=r.string("TaskId", ""),
        sdk_app_id=r.integer("SdkAppId", 0, lo=0),
        record_user_id=r.string("RecordUserId", ""),
    )
    r.done()
    return recording


def _pauses(r: Reader, start: int, stop: int | None) -> tuple[Pause, ...]:
    out: list[Pause] = []
    for i, item in enumerate(r.items("Pauses")):
        pr = Reader(item, r.item_path("Pauses", i), ManifestError)
        pause = Pause(pr.integer("PauseTime", lo=0), pr.integer("ResumeTime", lo=0))
        pr.done()
        if pause.resume_ms <= pause.pause_ms:
            raise ManifestError(f"{pr.path}.ResumeTime: must be after PauseTime")
        if pause.pause_ms < start or (stop is not None and pause.resume_ms > stop):
            raise ManifestError(f"{pr.path}: pause lies outside the recording")
        if out and pause.pause_ms < out[-1].resume_ms:
            raise ManifestError(f"{pr.path}: pauses must be in order and must not overlap")
        out.append(pause)
    return tuple(out)


def _streams(r: Reader, base_dir: Path | None) -> tuple[Stream, ...]:
    raw = r.items("Streams", required=True)
    seen: set[str] = set()
    out: list[Stream] = []
    for i, item in enumerate(raw):
        sr = Reader(item, r.item_path("Streams", i), ManifestError)
        sid = sr.string("StreamId")
        if not sid:
            raise ManifestError(f"{sr.path}.StreamId: must not be empty")
        if sid in seen:
            raise ManifestError(f"{sr.path}.StreamId: {sid!r} appears twice")
        seen.add(sid)
        segments = _segments(sr, "Segments", base_dir)
        small = _segments(sr, "SmallSegments", base_dir) if "SmallSegments" in sr.data else None
        sr.done()
        out.append(Stream(stream_id=sid, segments=segments, small_segments=small))
    return tuple(out)


def _segments(sr: Reader, key: str, base_dir: Path | None) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for j, item in enumerate(sr.items(key)):
        gr = Reader(item, sr.item_path(key, j), ManifestError)
        url = gr.string("Url")
        if not url:
            raise ManifestError(f"{gr.path}.Url: must not be empty")
        start = gr.integer("StartTime", lo=0, hi=_EPOCH_MAX)
        gr.optional_integer("Duration", lo=0)  # informative only: durations are probed
        gr.done()
        out.append(Segment(url=_resolve(url, base_dir), start_ms=start))
    return tuple(out)


def with_resolved_image(params: GenerationParams, base_dir: Path | None) -> GenerationParams:
    """A relative Concat.Image is taken from the folder of the file that names it."""
    concat = params.concat
    if concat is None or not concat.image:
        return params
    return replace(params, concat=replace(concat, image=_resolve(concat.image, base_dir)))


def _resolve(url: str, base_dir: Path | None) -> str:
    scheme = urlparse(url).scheme.lower()
    if scheme in _REMOTE_SCHEMES or base_dir is None:
        return url
    if len(scheme) > 1:
        raise ManifestError(f"{url}: unsupported URL scheme {scheme!r}")
    return str((base_dir / url).resolve())
