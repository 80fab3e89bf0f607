"""DescribeVideoGenerationReport (extension, DESIGN §4.3): a finished task's generation
report, each output with its download URL."""

from __future__ import annotations

from typing import Any

from mixdown.api import faults
from mixdown.api.action import Action, ActionContext
from mixdown.api.faults import ApiError
from mixdown.api.fields import APP_TASK
from mixdown.domain.report import REPORT_KEY
from mixdown.store.models import FINISHED
from mixdown.store.shapes import file_url
from mixdown.store.tasks import get_task


def describe_video_generation_report(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    task = get_task(ctx.session, ctx.app.sdk_app_id, params["TaskId"])
    if task is None:
        raise ApiError(
            faults.TASK_NOT_FOUND, f"TaskId: no video generation task {params['TaskId']!r}"
        )
    if task.status == FINISHED and task.error_code:
        # As DescribeVideoGenerationTask: a failed task has no outputs to report on.
        raise ApiError(task.error_code, task.error_message or "video generation failed")
    report = (task.result or {}).get(REPORT_KEY) or {}
    outputs = []
    for output in report.get("Outputs", []):
        url = file_url(ctx.services.base_url, task.output_token or "", output["FileName"])
        outputs.append({**output, "VideoUrl": url})
    return {
        "TaskId": task.task_id,
        "Status": task.status,
        # A task finished before reports existed has none: say so rather than "no warnings".
        "ReportAvailable": bool(report),
        "WarningCount": int(report.get("WarningCount", 0)),
        "Outputs": outputs,
    }


ACTIONS = [Action("DescribeVideoGenerationReport", APP_TASK, describe_video_generation_report)]
