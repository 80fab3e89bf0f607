"""Set/Describe the callback URL and key of both task kinds (reference §2.6-§2.8, §2.11)."""

from __future__ import annotations

from typing import Any

from mixdown.api import faults
from mixdown.api.action import Action, ActionContext
from mixdown.api.faults import ApiError
from mixdown.store.callback_configs import get_target, set_target
from mixdown.store.models import GENERATION, RECORD
from mixdown.tiw.types import APP, SET_CALLBACK, SET_CALLBACK_KEY

MAX_KEY = 64


def _set_url(kind: str) -> Any:
    def handler(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
        url = params["Callback"].strip()
        ctx.services.policy.callback_url(url)
        set_target(ctx.session, ctx.app.sdk_app_id, kind, url=url)
        return {}

    return handler


def _set_key(kind: str) -> Any:
    def handler(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
        key = params["CallbackKey"]
        if len(key) > MAX_KEY:
            raise ApiError(
                faults.INVALID_PARAMETER, f"CallbackKey: longer than {MAX_KEY} characters"
            )
        set_target(ctx.session, ctx.app.sdk_app_id, kind, key=key)
        return {}

    return handler


def _describe(kind: str) -> Any:
    def handler(ctx: ActionContext, _params: dict[str, Any]) -> dict[str, Any]:
        target = get_target(ctx.session, ctx.app.sdk_app_id, kind)
        return {"Callback": target.url, "CallbackKey": target.key}

    return handler


def _actions(noun: str, kind: str) -> list[Action]:
    return [
        Action(
            f"Set{noun}Callback",
            SET_CALLBACK,
            _set_url(kind),
        ),
        Action(
            f"Set{noun}CallbackKey",
            SET_CALLBACK_KEY,
            _set_key(kind),
        ),
        Action(f"Describe{noun}Callback", APP, _describe(kind)),
    ]


ACTIONS = _actions("OnlineRecord", RECORD) + _actions("VideoGenerationTask", GENERATION)
