"""What a row holds, as typed values, both ways: a recording's manifest, a generation's result
as its JSON document, a failure in the row's two error columns, and a committed task's
outputs with their download URLs.

The one place where typed values meet the stored columns, which stay as they were (JSON and
text, no migration): writers and readers of a row go through here. A stored document that no
longer reads is our fault, not the caller's: it answers InternalError.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from mixdown.domain.outcome import Failure
from mixdown.domain.recording import Recording as RecordingValue
from mixdown.domain.result import GenerationResult, VideoInfo
from mixdown.errors import MixdownError
from mixdown.store.models import FINISHED, GenerationTask, Recording
from mixdown.tiw import documents


class UnreadableRow(Exception):
    """A stored document does not read as the type it was written from."""


def write_failure(row: Recording | GenerationTask, failure: Failure | None) -> None:
    row.error_code, row.error_message = (failure.code, failure.message) if failure else (None, None)


def failure_of(row: Recording | GenerationTask) -> Failure | None:
    """The row's verdict; None while it has none (unfinished, or finished well)."""
    if not row.error_code:
        return None
    return Failure(row.error_code, row.error_message or "")


def recording_of(row: Recording) -> RecordingValue:
    """The recording its stored manifest describes (checked when it was accepted)."""
    try:
        return documents.read_manifest(row.manifest)
    except MixdownError as exc:
        raise UnreadableRow(f"stored recording {row.task_id} is unreadable") from exc


def online_record(
    row: Recording, video_infos: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """DescribeOnlineRecord's fields of a stored recording; ``video_infos``: the outputs of
    the generation a live recording ran, with their URLs."""
    reason = row.finish_reason or ""
    if row.status == FINISHED and not reason:
        failed = failure_of(row) is not None
        reason = documents.FAILED_FINISH_REASON if failed else documents.IMPORT_FINISH_REASON
    return documents.online_record(
        recording_of(row),
        status=row.status,
        stop_ms=row.stop_ms,
        finish_reason=reason,
        exception_cnt=row.exception_cnt or 0,
        video_infos=video_infos,
    )


def write_result(row: GenerationTask, result: GenerationResult | None) -> None:
    row.result = documents.result_document(result) if result is not None else None


def result_of(row: GenerationTask) -> GenerationResult | None:
    """The committed result; None before one is committed, or when the task failed."""
    if not row.result:
        return None
    return _stored_result(row.task_id, row.result)


def _stored_result(task_id: str, data: Mapping[str, Any]) -> GenerationResult:
    try:
        return documents.read_result_document(data)
    except MixdownError as exc:
        raise UnreadableRow(f"stored result of {task_id} is unreadable") from exc


#: The download URL of a committed file: (SdkAppId, TaskId, output token, file name) -> URL
#: (``storage.outputs.Outputs.link``).
Link = Callable[[int, str, str, str], str]


def published_videos(task: GenerationTask, link: Link) -> list[dict[str, Any]]:
    """The committed result's VideoInfoList with download URLs."""
    result = result_of(task)
    if result is None or not task.output_token:
        return []
    token = task.output_token

    def downloadable(info: VideoInfo) -> VideoInfo:
        # An id derived from the file when it was given none: the same at every Describe.
        video_id = info.video_id or hashlib.sha256(f"{token}/{info.url}".encode()).hexdigest()
        url = link(task.sdk_app_id, task.task_id, token, info.url)
        return replace(info, url=url, video_id=video_id[:32])

    return documents.video_infos([downloadable(info) for info in result.videos])
