"""DescribeVideoGenerationReport (extension, DESIGN §4.3): a finished task's generation
report, each output with its download URL."""

from __future__ import annotations

from typing import Any

from mixdown.api.action import Action, ActionContext
from mixdown.api.generation_actions import describable_task
from mixdown.store.outcomes import result_of
from mixdown.tiw.types import APP_TASK


def describe_video_generation_report(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    task = describable_task(ctx, params["TaskId"])
    result = result_of(task)
    report = result.report if result is not None else None
    outputs = []
    token = task.output_token or ""
    for output in report.outputs if report is not None else ():
        url = ctx.services.link(task.sdk_app_id, task.task_id, token, output.name)
        outputs.append({**output.to_json(), "VideoUrl": url})
    return {
        "TaskId": task.task_id,
        "Status": task.status,
        # A task finished before reports existed has none: say so rather than "no warnings".
        "ReportAvailable": report is not None,
        "WarningCount": report.warning_count if report is not None else 0,
        "Outputs": outputs,
    }


ACTIONS = [Action("DescribeVideoGenerationReport", APP_TASK, describe_video_generation_report)]
