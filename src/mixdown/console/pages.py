"""The console's pages at ``/console/``: sign-in with an app's SecretId and SecretKey, the
recordings (with their timeline), the generation tasks (with live progress, errors,
reports and players), creating a task, and the callbacks with their delivery log.

Server-rendered (Jinja2, autoescaped) with a little JavaScript shipped in the package.
Whatever changes state goes through the API's own actions (``Gateway.perform``), so the
console checks and limits exactly what the API does. Every state-changing form carries the
session's CSRF token; the session cookie is HttpOnly and SameSite=Strict, and Secure behind
HTTPS.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Route

from mixdown.api.envelope import new_request_id
from mixdown.api.gateway import Gateway
from mixdown.console import views
from mixdown.console.timeline import clock
from mixdown.demo import contact_sheet
from mixdown.domain.recording import VideoType
from mixdown.errors import MixdownError
from mixdown.storage.outputs import Outputs
from mixdown.store import console, deliveries
from mixdown.store.apps import create_app, keys_of, rotate_key
from mixdown.store.database import Database
from mixdown.store.models import GENERATION, RECORD

_log = logging.getLogger("mixdown.console")
_MAX_FORM = 4 * 1024 * 1024
COOKIE = "mixdown_console"
#: The sign-in form's own CSRF cookie, before there is a session.
PRE_COOKIE = "mixdown_console_pre"
_STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self' http: https:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class ConsoleBackend(Protocol):
    """What the console reads and acts through (``mixdown.service.node.Service``)."""

    @property
    def gateway(self) -> Gateway: ...
    @property
    def db(self) -> Database: ...
    @property
    def outputs(self) -> Outputs: ...
    def wake_callbacks(self) -> None:
        """Have the callback dispatcher look for due events now."""
        ...

    @property
    def sheets_dir(self) -> Path:
        """Where contact sheets of outputs are kept once drawn."""
        ...

    @property
    def ffmpeg(self) -> str: ...


Handler = Callable[[Request], Awaitable[Response]]


def console_routes(backend: ConsoleBackend) -> list[BaseRoute]:
    env = Environment(
        loader=PackageLoader("mixdown.console", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    env.filters["clock"] = clock
    env.filters["when"] = lambda ms: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))
    pages = _Pages(backend, env)
    return [
        Route("/console", pages.home, methods=["GET"]),
        Route("/console/", pages.home, methods=["GET"]),
        Route("/console/signin", pages.signin_form, methods=["GET"]),
        Route("/console/signin", pages.signin, methods=["POST"]),
        Route("/console/signout", pages.signed(pages.signout), methods=["POST"]),
        Route("/console/recordings", pages.signed(pages.recordings), methods=["GET"]),
        Route("/console/recordings", pages.signed(pages.import_recording), methods=["POST"]),
        Route("/console/recordings/{task_id}", pages.signed(pages.recording), methods=["GET"]),
        Route(
            "/console/recordings/{task_id}/timeline",
            pages.signed(pages.timeline),
            methods=["GET"],
        ),
        Route("/console/tasks", pages.signed(pages.tasks), methods=["GET"]),
        Route("/console/tasks", pages.signed(pages.create_task), methods=["POST"]),
        Route("/console/tasks/{task_id}", pages.signed(pages.task), methods=["GET"]),
        Route("/console/tasks/{task_id}/state", pages.signed(pages.task_state), methods=["GET"]),
        Route(
            "/console/tasks/{task_id}/sheet/{index:int}.png",
            pages.signed(pages.sheet),
            methods=["GET"],
        ),
        Route("/console/callbacks", pages.signed(pages.callbacks), methods=["GET"]),
        Route("/console/callbacks/test", pages.signed(pages.test_event), methods=["POST"]),
        Route("/console/apps", pages.signed(pages.apps), methods=["GET"]),
        Route("/console/apps", pages.signed(pages.new_app), methods=["POST"]),
        Route("/console/apps/rotate", pages.signed(pages.rotate_key), methods=["POST"]),
        Route("/console/static/{name}", pages.static, methods=["GET"]),
    ]


class _Pages:
    def __init__(self, backend: ConsoleBackend, env: Environment) -> None:
        self.b, self.env = backend, env

    # --- plumbing ---------------------------------------------------------------------

    def render(self, request: Request, name: str, status: int = 200, **values: Any) -> Response:
        user = request.state.user if hasattr(request.state, "user") else None
        html = self.env.get_template(name).render(user=user, path=request.url.path, **values)
        return HTMLResponse(html, status_code=status, headers=_HEADERS)

    def signed(self, handler: Handler) -> Handler:
        """Only for a live session; a POST must carry its CSRF token."""

        async def guarded(request: Request) -> Response:
            token = request.cookies.get(COOKIE, "")
            user = await run_in_threadpool(self._session, token)
            if user is None:
                return RedirectResponse("/console/signin", status_code=303)
            request.state.user = user
            if request.method == "POST":
                form = await _form(request)
                if not _same(form.get("csrf", ""), user.csrf):
                    return self.render(request, "error.html", 403, message=_CSRF_REFUSED)
                request.state.form = form
            return await handler(request)

        return guarded

    def _session(self, token: str) -> console.SignedIn | None:
        with self.b.db.transaction() as s:
            return console.session_of(s, token, _now_ms())

    def perform(self, request: Request, action: str, params: dict[str, Any]) -> dict[str, Any]:
        user: console.SignedIn = request.state.user
        return self.b.gateway.perform(action, params, user.secret_id, new_request_id())

    async def act(self, request: Request, action: str, params: dict[str, Any]) -> dict[str, Any]:
        return await run_in_threadpool(self.perform, request, action, params)

    # --- signing in and out -------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        token = request.cookies.get(COOKIE, "")
        user = await run_in_threadpool(self._session, token)
        return RedirectResponse("/console/recordings" if user else "/console/signin", 303)

    async def signin_form(self, request: Request) -> Response:
        return self._signin_page(request, "", 200)

    def _signin_page(self, request: Request, message: str, status: int) -> Response:
        pre = secrets.token_urlsafe(24)
        response = self.render(request, "signin.html", status, csrf=pre, message=message)
        _set_cookie(request, response, PRE_COOKIE, pre, max_age=3600)
        return response

    async def signin(self, request: Request) -> Response:
        form = await _form(request)
        pre = request.cookies.get(PRE_COOKIE, "")
        if not pre or not _same(form.get("csrf", ""), pre):
            return self.render(request, "error.html", 403, message=_CSRF_REFUSED)
        secret_id = form.get("secret_id", "").strip()[:64]
        secret_key = form.get("secret_key", "")[:128]
        address = request.client.host if request.client else "?"
        outcome = await run_in_threadpool(self._sign_in, secret_id, secret_key, address)
        if outcome == "throttled":
            return self._signin_page(request, _THROTTLED, 429)
        if outcome == "refused":
            return self._signin_page(request, "Wrong SecretId or SecretKey.", 401)
        response = RedirectResponse("/console/recordings", status_code=303)
        _set_cookie(request, response, COOKIE, outcome, max_age=console.SESSION_MS // 1000)
        response.delete_cookie(PRE_COOKIE, path="/console")
        return response

    def _sign_in(self, secret_id: str, secret_key: str, address: str) -> str:
        """The new session's token, or "throttled" or "refused"."""
        keys = [f"addr:{address}", f"id:{secret_id}"]
        now = _now_ms()
        with self.b.db.transaction() as s:
            if console.throttled(s, keys, now):
                return "throttled"
            known = keys_of(s, secret_id, now) if secret_id else []
            if not any(_same(key, secret_key) for key in known):
                console.failed(s, keys, now)
                _log.warning("console sign-in refused", extra={"client": address})
                return "refused"
            return console.open_session(s, secret_id, now)

    async def signout(self, request: Request) -> Response:
        token = request.cookies.get(COOKIE, "")

        def close() -> None:
            with self.b.db.transaction() as s:
                console.close_session(s, token)

        await run_in_threadpool(close)
        response = RedirectResponse("/console/signin", status_code=303)
        response.delete_cookie(COOKIE, path="/console")
        return response

    # --- recordings ---------------------------------------------------------------------

    async def recordings(self, request: Request) -> Response:
        return await self._recordings_page(request)

    async def _recordings_page(
        self, request: Request, status: int = 200, message: str = ""
    ) -> Response:
        user: console.SignedIn = request.state.user
        rows = await run_in_threadpool(views.recordings, self.b.db, user)
        return self.render(request, "recordings.html", status, recordings=rows, message=message)

    async def import_recording(self, request: Request) -> Response:
        user: console.SignedIn = request.state.user
        form = request.state.form
        try:
            manifest = json.loads(form.get("manifest", ""))
            if not isinstance(manifest, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            message = f"InvalidParameter: the manifest is not a JSON object ({exc})"
            return await self._recordings_page(request, 400, message)
        params = {**manifest, "SdkAppId": _app_of(form, user)}
        try:
            done = await self.act(request, "ImportOnlineRecord", params)
        except MixdownError as exc:
            return await self._recordings_page(request, 400, f"{exc.code}: {exc.message}")
        return RedirectResponse(f"/console/recordings/{done['TaskId']}", status_code=303)

    async def recording(self, request: Request) -> Response:
        user: console.SignedIn = request.state.user
        found = await run_in_threadpool(
            views.recording, self.b.db, self.b.outputs, user, request.path_params["task_id"]
        )
        if found is None:
            return self.render(request, "error.html", 404, message="No such recording.")
        return self.render(request, "recording.html", rec=found, message="")

    async def timeline(self, request: Request) -> Response:
        user: console.SignedIn = request.state.user
        found = await run_in_threadpool(
            views.recording, self.b.db, self.b.outputs, user, request.path_params["task_id"]
        )
        if found is None:
            return self.render(request, "error.html", 404, message="No such recording.")
        return self.render(request, "timeline.html", rec=found)

    # --- tasks --------------------------------------------------------------------------

    async def tasks(self, request: Request) -> Response:
        user: console.SignedIn = request.state.user
        rows = await run_in_threadpool(views.tasks, self.b.db, user)
        return self.render(request, "tasks.html", tasks=rows)

    async def create_task(self, request: Request) -> Response:
        form = request.state.form
        recording_id = form.get("recording", "")
        try:
            params = views.task_params(form)
            params.update(SdkAppId=_app_of(form, request.state.user))
            params["OnlineRecordTaskId"] = recording_id
            done = await self.act(request, "CreateVideoGenerationTask", params)
        except MixdownError as exc:
            user: console.SignedIn = request.state.user
            found = await run_in_threadpool(
                views.recording, self.b.db, self.b.outputs, user, recording_id
            )
            if found is None:
                return self.render(request, "error.html", 404, message="No such recording.")
            message = f"{exc.code}: {exc.message}"
            return self.render(request, "recording.html", 400, rec=found, message=message)
        return RedirectResponse(f"/console/tasks/{done['TaskId']}", status_code=303)

    async def task(self, request: Request) -> Response:
        user: console.SignedIn = request.state.user
        found = await run_in_threadpool(
            views.task, self.b.db, self.b.outputs, user, request.path_params["task_id"]
        )
        if found is None:
            return self.render(request, "error.html", 404, message="No such task.")
        return self.render(request, "task.html", task=found)

    async def task_state(self, request: Request) -> Response:
        user: console.SignedIn = request.state.user
        found = await run_in_threadpool(
            views.task, self.b.db, self.b.outputs, user, request.path_params["task_id"]
        )
        if found is None:
            return JSONResponse({"error": "not found"}, status_code=404, headers=_HEADERS)
        state = {"status": found.status, "progress": found.progress, "error": found.error}
        return JSONResponse(state, headers=_HEADERS)

    async def sheet(self, request: Request) -> Response:
        """A contact sheet of one output's picture: nine frames at even times."""
        user: console.SignedIn = request.state.user
        task_id, index = request.path_params["task_id"], request.path_params["index"]
        found = await run_in_threadpool(views.task, self.b.db, self.b.outputs, user, task_id)
        if found is None or not 0 <= index < len(found.outputs):
            return Response("not found", status_code=404)
        info = found.outputs[index].info
        if info["VideoType"] == VideoType.AUDIO:
            return Response("not found", status_code=404)
        source = found.sources[index]
        target = self.b.sheets_dir / f"{found.token}-{index}.png"
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            await run_in_threadpool(
                contact_sheet, source, int(info["VideoDuration"]), target, self.b.ffmpeg, 3, 240
            )
        return FileResponse(target, media_type="image/png", headers=_HEADERS)

    # --- callbacks ----------------------------------------------------------------------

    async def callbacks(self, request: Request) -> Response:
        user: console.SignedIn = request.state.user
        found = await run_in_threadpool(views.callbacks, self.b.db, user)
        return self.render(request, "callbacks.html", callbacks=found)

    async def test_event(self, request: Request) -> Response:
        """Queue a ``TestEvent`` to the app's callback URL of that kind, through the same
        delivery (signature, retries, log) as every event."""
        user: console.SignedIn = request.state.user
        form = request.state.form
        app, kind = _app_of(form, user), form.get("kind", "")
        if app not in user.sdk_app_ids or kind not in (RECORD, GENERATION):
            return self.render(request, "error.html", 400, message="No such app or event kind.")

        def queue() -> bool:
            with self.b.db.transaction() as s:
                return deliveries.enqueue(
                    s,
                    sdk_app_id=app,
                    kind=kind,
                    event_type=TEST_EVENT,
                    task_id="test" + secrets.token_hex(8),
                    event_data={"Message": "a test event sent from the Mixdown console"},
                    now_ms=_now_ms(),
                )

        if not await run_in_threadpool(queue):
            return self.render(request, "error.html", 400, message="That app has no callback URL.")
        self.b.wake_callbacks()
        return RedirectResponse("/console/callbacks", status_code=303)

    # --- apps ---------------------------------------------------------------------------

    async def apps(self, request: Request) -> Response:
        return await self._apps_page(request, None)

    async def _apps_page(self, request: Request, shown: dict[str, Any] | None) -> Response:
        """The user's apps; ``shown``: new credentials, on this page only."""
        user: console.SignedIn = request.state.user
        rows = await run_in_threadpool(views.apps, self.b.db, user)
        return self.render(request, "apps.html", apps=rows, grace=GRACE_CHOICES, shown=shown)

    async def new_app(self, request: Request) -> Response:
        """A new app with credentials of its own, shown this once."""
        created = await run_in_threadpool(create_app, self.b.db, now_ms=_now_ms())
        shown = {
            "SdkAppId": created.sdk_app_id,
            "SecretId": created.secret_id,
            "SecretKey": created.secret_key,
            "PushKey": created.push_key,
        }
        _log.info("console created an app", extra={"sdk_app_id": created.sdk_app_id})
        return await self._apps_page(request, shown)

    async def rotate_key(self, request: Request) -> Response:
        """A new SecretKey for one of the user's apps, shown this once; the old one keeps
        working for the grace period chosen."""
        user: console.SignedIn = request.state.user
        form = request.state.form
        app = _app_of(form, user)
        grace_s = {value: seconds for value, seconds, _ in GRACE_CHOICES}.get(form.get("grace", ""))
        if app not in user.sdk_app_ids or grace_s is None:
            return self.render(request, "error.html", 400, message="No such app or grace period.")

        def rotate() -> str:
            with self.b.db.transaction() as s:
                return rotate_key(s, app, grace_ms=grace_s * 1000, now_ms=_now_ms())

        key = await run_in_threadpool(rotate)
        _log.info("console rotated a key", extra={"sdk_app_id": app, "grace_s": grace_s})
        shown = {"SdkAppId": app, "SecretId": user.secret_id, "SecretKey": key}
        return await self._apps_page(request, shown)

    # --- files --------------------------------------------------------------------------

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        kind = _STATIC_TYPES.get(name[name.rfind(".") :], "")
        resource = files("mixdown.console").joinpath("static", name)
        if not kind or "/" in name or not resource.is_file():
            return Response("not found", status_code=404)
        headers = {**_HEADERS, "Cache-Control": "max-age=300"}
        return Response(resource.read_bytes(), media_type=kind, headers=headers)


#: The event the console's "send a test event" button sends (an extension of TIW's events).
TEST_EVENT = "TestEvent"
#: How long a rotated key may keep working: (form value, seconds, what the page says); the
#: page offers the one of a day first.
GRACE_CHOICES = (
    ("86400", 86400, "1 day"),
    ("0", 0, "not at all"),
    ("3600", 3600, "1 hour"),
    ("604800", 7 * 86400, "7 days"),
)
_CSRF_REFUSED = "This form has expired or did not come from this console: reload and try again."
_THROTTLED = (
    f"Too many failed sign-ins: wait {console.FAILURE_WINDOW_MS // 60000} minutes and try again."
)


def _app_of(form: dict[str, str], user: console.SignedIn) -> int:
    """The form's app, one of the user's (the action refuses any other)."""
    try:
        return int(form.get("app", user.sdk_app_ids[0] if user.sdk_app_ids else 0))
    except ValueError:
        return 0


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def _same(sent: str, kept: str) -> bool:
    """Constant-time equality of what a form sent and what we keep; as bytes, since a form
    may send any character and ``compare_digest`` takes only ASCII strings."""
    return secrets.compare_digest(sent.encode(), kept.encode())


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (the console's forms are no bigger than a manifest)."""
    body, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > _MAX_FORM:
            return {}
        body.append(chunk)
    fields = parse_qs(b"".join(body).decode("utf-8", "replace"), keep_blank_values=True)
    # A repeated field (a checkbox per stream) keeps every value, joined by newlines.
    return {k: "\n".join(v) for k, v in fields.items() if v}


def _now_ms() -> int:
    return int(time.time() * 1000)
