"""One API call from signed request to response fields: authenticate, find the action,
conform its parameters, rate-limit, authorise the app, run the handler in a transaction."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from mixdown.api import faults
from mixdown.api.action import Action, ActionContext, Services
from mixdown.api.faults import ApiError
from mixdown.api.limiter import Limiter, RateLimiter
from mixdown.api.signature import verify_call
from mixdown.api.wire import ApiCall
from mixdown.store.apps import find_app, keys_of
from mixdown.store.database import Database
from mixdown.store.models import App
from mixdown.tiw.schema import conform

API_VERSION = "2019-09-19"


class Gateway:
    def __init__(
        self,
        db: Database,
        services: Services,
        actions: Mapping[str, Action],
        *,
        limiter: Limiter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db, self._services, self._actions = db, services, actions
        self._limiter: Limiter = limiter or RateLimiter()
        self._clock = clock

    def handle(self, call: ApiCall, request_id: str) -> dict[str, Any]:
        now = self._clock()
        self._authenticate(call, now)
        action = self._actions.get(call.action)
        if action is None:
            raise ApiError(faults.INVALID_ACTION, f"{call.action!r} is not an action of this API")
        if call.version != API_VERSION:
            raise ApiError(
                faults.NO_SUCH_VERSION, f"version {call.version!r} is unknown: use {API_VERSION}"
            )
        params = conform(call.params, action.shape, flat=call.flat)
        return self._run(action, params, call.secret_id, request_id, now)

    def perform(
        self, name: str, params: dict[str, Any], secret_id: str, request_id: str
    ) -> dict[str, Any]:
        """An action for someone already known to hold ``secret_id``'s key (signed in to
        the console): the same checks, limits and handler as a signed call."""
        action = self._actions[name]
        params = conform(params, action.shape, flat=False)
        return self._run(action, params, secret_id, request_id, self._clock())

    def _run(
        self,
        action: Action,
        params: dict[str, Any],
        secret_id: str,
        request_id: str,
        now: float,
    ) -> dict[str, Any]:
        sdk_app_id = int(params[action.app_param])
        with self._db.transaction() as session:
            self._authorise(session, secret_id, action, sdk_app_id)
            # Only the app's owner spends its budget: refused calls of others do not count.
            self._limiter.check(session, action.name, sdk_app_id)
        if action.prepare is not None:
            action.prepare(self._db, self._services, sdk_app_id, params)
        with self._db.transaction() as session:
            app = self._authorise(session, secret_id, action, sdk_app_id)
            ctx = ActionContext(session, app, request_id, int(now * 1000), self._services)
            fields = action.handler(ctx, params)
        for hook in ctx.after_commit:
            hook()
        return fields

    def _authorise(self, session: Session, secret_id: str, action: Action, sdk_app_id: int) -> App:
        app = find_app(session, sdk_app_id) if 0 < sdk_app_id < 2**63 else None
        if app is None:
            raise ApiError(
                faults.SDK_APP_ID_NOT_FOUND, f"{action.app_param}: {sdk_app_id} does not exist"
            )
        if app.secret_id != secret_id:
            raise ApiError(
                faults.UNAUTHORIZED_SDK_APP_ID,
                f"{action.app_param}: {sdk_app_id} does not belong to this SecretId",
            )
        return app

    def _authenticate(self, call: ApiCall, now: float) -> None:
        with self._db.transaction() as session:
            keys = keys_of(session, call.secret_id, int(now * 1000))
        if not keys:
            raise ApiError(faults.SECRET_ID_NOT_FOUND, "the SecretId does not exist")
        # The current key, else the one a rotation replaced while its grace period lasts;
        # a call that neither verifies is answered with the current key's verdict.
        try:
            verify_call(call, keys[0], now)
        except ApiError:
            for previous in keys[1:]:
                with contextlib.suppress(ApiError):
                    verify_call(call, previous, now)
                    return
            raise
