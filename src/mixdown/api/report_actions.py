"""DescribeVideoGenerationReport (extension, DESIGN §4.3): a finished task's generation
report, each output with its download URL."""

from __future__ import annotations

from typing import Any

from mixdown.api.action import Action, ActionContext
from mixdown.api.fields import APP_TASK
from mixdown.api.generation_actions import describable_task
from mixdown.domain.report import REPORT_KEY
from mixdown.store.shapes import file_url


def describe_video_generation_report(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    task = describable_task(ctx, params["TaskId"])
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
