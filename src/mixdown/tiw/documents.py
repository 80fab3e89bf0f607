"""The documents that cross the wire, both ways, each in the shape ``tiw.types`` declares:
manifests and parameters read in; parameters, results, DescribeOnlineRecord's fields and the
callbacks' EventData (reference §4, DESIGN §4.3) written out.

Nothing here reads files or rows: a manifest's folder (for relative paths), a row's status
and a task's download URLs are given by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mixdown.domain.outcome import Failure
from mixdown.domain.parameters import GenerationParams
from mixdown.domain.recording import EXCEPTION, USER_CALL, Recording, Stream
from mixdown.domain.report import REPORT_KEY, GenerationReport
from mixdown.domain.result import GenerationResult, VideoInfo
from mixdown.errors import ManifestError
from mixdown.planning.timeline import Timeline
from mixdown.tiw import types
from mixdown.tiw.schema import read, write

_REMOTE_SCHEMES = ("http", "https", "s3", "file")

# --- manifests and parameters, read in -----------------------------------------------------


def read_manifest(data: Any, base_dir: Path | None = None) -> Recording:
    """A manifest's recording; relative segment paths (and Concat.Image) are taken from
    ``base_dir``, when given."""
    recording: Recording = read(data, types.MANIFEST)
    if base_dir is None:
        return recording
    streams = tuple(_resolved_stream(s, base_dir) for s in recording.streams)
    return replace(
        recording,
        streams=streams,
        defaults=with_resolved_image(recording.defaults, base_dir),
    )


def read_params(data: Mapping[str, Any]) -> GenerationParams:
    """The four parameter objects of a request or document that may hold other keys (the
    caller checks those)."""
    own = {k: data[k] for k in types.PARAMETER_FIELDS if k in data}
    params: GenerationParams = read(own, types.GENERATION_PARAMS, "")
    return params


def read_task_params(data: Any) -> GenerationParams:
    """A CreateVideoGenerationTask-shaped object (a params file): the four objects; the
    task's other fields are allowed and ignored, any other key is refused."""
    params: GenerationParams = read(data, types.CREATE_VIDEO_GENERATION_TASK)
    return params


def with_resolved_image(params: GenerationParams, base_dir: Path | None) -> GenerationParams:
    """A relative Concat.Image is taken from the folder of the file that names it."""
    concat = params.concat
    if concat is None or not concat.image:
        return params
    return replace(params, concat=replace(concat, image=_resolve(concat.image, base_dir)))


def _resolved_stream(stream: Stream, base_dir: Path) -> Stream:
    def resolved(segments: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(replace(s, url=_resolve(s.url, base_dir)) for s in segments)

    small = stream.small_segments
    return replace(
        stream,
        segments=resolved(stream.segments),
        small_segments=resolved(small) if small is not None else None,
    )


def _resolve(url: str, base_dir: Path | None) -> str:
    scheme = urlparse(url).scheme.lower()
    if scheme in _REMOTE_SCHEMES or base_dir is None:
        return url
    if len(scheme) > 1:
        raise ManifestError(f"{url}: unsupported URL scheme {scheme!r}")
    return str((base_dir / url).resolve())


# --- parameters and results, written out (and read back from storage) -----------------------


def parameters(params: GenerationParams) -> dict[str, Any]:
    """The objects that are set, as TIW writes them (stored with a task, for Describe)."""
    out: dict[str, Any] = write(params, types.GENERATION_PARAMS)
    return out


def video_infos(videos: tuple[VideoInfo, ...] | list[VideoInfo]) -> list[dict[str, Any]]:
    return [write(v, types.VIDEO_INFO) for v in videos]


def result(outcome: GenerationResult) -> dict[str, Any]:
    """TIW's result: TotalTime, OmittedDurations, VideoInfoList."""
    out: dict[str, Any] = write(outcome, types.GENERATION_RESULT)
    return out


def result_document(outcome: GenerationResult) -> dict[str, Any]:
    """TIW's result plus the generation report under its extension key: ``result.json``,
    and what the service stores."""
    if outcome.report is None:
        return result(outcome)
    return {**result(outcome), REPORT_KEY: outcome.report.to_json()}


def read_result_document(data: Mapping[str, Any]) -> GenerationResult:
    """The inverse of ``result_document``: ``read_result_document(d)`` written again is
    ``d`` for every document it wrote."""
    report = data.get(REPORT_KEY)
    tiw = {k: v for k, v in data.items() if k != REPORT_KEY}
    outcome: GenerationResult = read(tiw, types.GENERATION_RESULT)
    if not report:
        return outcome
    return replace(outcome, report=GenerationReport.from_json(report))


# --- DescribeOnlineRecord (reference §2.5) ---------------------------------------------------

#: An import is complete by the caller's decision (TIW: "StopOnlineRecord was called").
IMPORT_FINISH_REASON = USER_CALL
FAILED_FINISH_REASON = EXCEPTION


def online_record(
    recording: Recording,
    *,
    status: str,
    stop_ms: int | None,
    finish_reason: str,
    exception_cnt: int = 0,
    video_infos: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """DescribeOnlineRecord's fields; zeros while not yet known (``stop_ms`` is None until
    the media is probed). A stream's reconnects are its Interrupts."""
    start = recording.start_ms
    total, omitted = 0, []
    if stop_ms is not None and stop_ms > start:
        timeline = Timeline(start, stop_ms, recording.pauses)
        total, omitted = timeline.total_ms, list(timeline.omitted())
    return {
        "FinishReason": finish_reason,
        "TaskId": recording.task_id,
        "Status": status,
        "RoomId": recording.room_id,
        "GroupId": recording.group_id,
        "RecordUserId": recording.record_user_id,
        "RecordStartTime": start // 1000,
        "RecordStopTime": (stop_ms or 0) // 1000,
        "TotalTime": total,
        "ExceptionCnt": exception_cnt,
        "OmittedDurations": [write(o, types.OMITTED_DURATION) for o in omitted],
        "VideoInfos": video_infos or [],
        "ReplayUrl": "",
        "Interrupts": [
            {"UserId": stream.user_id, "Count": len(stream.segments) - 1}
            for stream in recording.streams
            if len(stream.segments) > 1
        ],
    }


# --- callbacks: event names and EventData (DESIGN §4.3) -----------------------------------
# Receivers dedupe on (EventType, TaskId).

RECORD_STARTED = "OnlineRecordStarted"
RECORD_STOPPED = "OnlineRecordStopped"
RECORD_FINISHED = "OnlineRecordFinished"
GENERATION_STARTED = "VideoGenerationStarted"
GENERATION_FINISHED = "VideoGenerationFinished"

_RECORD_FINISHED_KEYS = (
    "TaskId",
    "RoomId",
    "GroupId",
    "RecordUserId",
    "FinishReason",
    "RecordStartTime",
    "RecordStopTime",
    "TotalTime",
    "ExceptionCnt",
    "OmittedDurations",
    "VideoInfos",
)


def record_lifecycle(task_id: str, room_id: int, record_user_id: str) -> dict[str, Any]:
    """EventData of OnlineRecordStarted and OnlineRecordStopped."""
    return {"TaskId": task_id, "RoomId": room_id, "RecordUserId": record_user_id}


def record_finished(summary: Mapping[str, Any], failure: Failure | None) -> dict[str, Any]:
    """EventData of OnlineRecordFinished: the DescribeOnlineRecord fields, plus the error."""
    return {**{k: summary[k] for k in _RECORD_FINISHED_KEYS}, **_error_fields(failure)}


def generation_started(
    task_id: str, recording_id: str, room_id: int, group_id: str
) -> dict[str, Any]:
    return {
        "TaskId": task_id,
        "OnlineRecordTaskId": recording_id,
        "RoomId": room_id,
        "GroupId": group_id,
    }


def generation_finished(
    started: Mapping[str, Any],
    outcome: GenerationResult | Failure,
    *,
    video_infos: list[dict[str, Any]],
) -> dict[str, Any]:
    """EventData of VideoGenerationFinished; ``video_infos`` are the result's VideoInfos
    with their download URLs (none for a failure)."""
    if isinstance(outcome, Failure):
        total_time, failure = 0, outcome
    else:
        total_time, failure = outcome.total_time, None
    return {
        **started,
        "Status": "FINISHED",
        "TotalTime": total_time,
        "VideoInfoList": video_infos,
        **_error_fields(failure),
    }


def _error_fields(failure: Failure | None) -> dict[str, str]:
    """ErrorCode and ErrorMessage of a finished event: empty when the work succeeded."""
    if failure is None:
        return {"ErrorCode": "", "ErrorMessage": ""}
    return {"ErrorCode": failure.code, "ErrorMessage": failure.message}
