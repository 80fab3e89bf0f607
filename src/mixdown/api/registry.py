"""Every action this API answers, by name."""

from __future__ import annotations

from mixdown.api import (
    callback_actions,
    generation_actions,
    live_actions,
    recording_actions,
    report_actions,
    running_tasks,
)
from mixdown.api.action import Action


def all_actions() -> dict[str, Action]:
    actions = (
        recording_actions.ACTIONS
        + live_actions.ACTIONS
        + generation_actions.ACTIONS
        + callback_actions.ACTIONS
        + running_tasks.ACTIONS
        + report_actions.ACTIONS
    )
    return {a.name: a for a in actions}
