"""The HTTP face of the service (Starlette): the API at ``/``, ``/healthz``, and committed
output files at ``/files/<token>/<name>``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Protocol
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from mixdown.api import faults
from mixdown.api.envelope import CONTENT_TYPE, error_of, failure, new_request_id, success
from mixdown.api.faults import ApiError
from mixdown.api.gateway import Gateway
from mixdown.api.wire import read_call
from mixdown.ingest.nginx_config import HOOK_PREFIX
from mixdown.storage.outputs import Attempt, Outputs
from mixdown.store.database import Database
from mixdown.store.tasks import committed_task

_log = logging.getLogger("mixdown.api")
_MEDIA_TYPES = {".mp4": "video/mp4", ".mp3": "audio/mpeg", ".json": "application/json"}
_MAX_QUERY = 32 * 1024
_MAX_HOOK_BODY = 16 * 1024


class Limits(Protocol):
    """The request limits the app enforces (``ServiceConfig``)."""

    @property
    def max_body_bytes(self) -> int: ...


class Backend(Protocol):
    """What the app serves (``mixdown.service.node.Service``): the gateway, committed
    output files, readiness, and a start/stop the lifespan may run."""

    @property
    def config(self) -> Limits: ...
    @property
    def gateway(self) -> Gateway: ...
    @property
    def db(self) -> Database: ...
    @property
    def outputs(self) -> Outputs: ...
    @property
    def ready(self) -> threading.Event: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def ingest_hook(self, event: str, token: str, form: Mapping[str, str]) -> str:
        """An RTMP ingest hook: "" when admitted, else why it is refused."""
        ...


def create_app(
    service: Backend, *, manage: bool = True, pages: Sequence[BaseRoute] = ()
) -> Starlette:
    """The app; with ``manage`` its lifespan starts and stops ``service``; ``pages`` are
    served beside the API (the console)."""

    async def api(request: Request) -> Response:
        request_id, started = new_request_id(), time.monotonic()
        action, code = request.headers.get("x-tc-action", ""), ""
        try:
            body = await _body(request, service.config.max_body_bytes)
            raw_query = request.scope.get("query_string", b"").decode("latin-1")
            if len(raw_query) > _MAX_QUERY:
                raise ApiError(faults.REQUEST_SIZE, "the query string is larger than 32 KB")
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1")
                for k, v in request.scope["headers"]
            }
            call = read_call(request.method, request.url.path, headers, raw_query, body)
            action = call.action
            fields = await run_in_threadpool(service.gateway.handle, call, request_id)
            content = success(request_id, fields)
        except Exception as exc:
            code, message = error_of(exc, request_id)
            content = failure(request_id, code, message)
        _log.info(
            "api call",
            extra={
                "request_id": request_id,
                "action": action[:64],
                "method": request.method,
                "code": code,
                "ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        return Response(content, media_type=CONTENT_TYPE)

    async def healthz(_request: Request) -> Response:
        if service.ready.is_set():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "starting"}, status_code=503)

    async def files(request: Request) -> Response:
        token, name = request.path_params["token"], request.path_params["name"]
        attempt = await run_in_threadpool(_committed, service, token)
        path = service.outputs.local_file(attempt, name) if attempt is not None else None
        if path is None:
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(path, media_type=_MEDIA_TYPES.get(path.suffix.lower()))

    async def ingest(request: Request) -> Response:
        # nginx-rtmp's hooks: a 2xx answer admits a publish, anything else refuses it.
        body = await _body(request, _MAX_HOOK_BODY)
        fields = parse_qs(body.decode("latin-1"), keep_blank_values=True)
        form = {k: v[0] for k, v in fields.items() if v}
        token, event = request.path_params["token"], request.path_params["event"]
        why = await run_in_threadpool(service.ingest_hook, event, token, form)
        return PlainTextResponse(why or "ok", status_code=403 if why else 200)

    async def elsewhere(request: Request) -> Response:
        # The API lives at "/"; any other path still answers the JSON envelope with HTTP 200.
        request_id = new_request_id()
        message = f"{request.url.path[:200]!r} is not an API path: send requests to /"
        return Response(
            failure(request_id, faults.INVALID_ACTION, message), media_type=CONTENT_TYPE
        )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if manage:
            await run_in_threadpool(service.start)
        try:
            yield
        finally:
            if manage:
                await run_in_threadpool(service.stop)

    return Starlette(
        routes=[
            Route("/", api, methods=_ALL_METHODS),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/files/{token}/{name:path}", files, methods=["GET", "HEAD"]),
            Route(HOOK_PREFIX + "/{token}/{event}", ingest, methods=["POST"]),
            *pages,
            Route("/{path:path}", elsewhere, methods=_ALL_METHODS),
        ],
        lifespan=lifespan,
    )


_ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


def _committed(service: Backend, token: str) -> Attempt | None:
    """The finished task's attempt whose outputs ``token`` names; None for any other."""
    with service.db.transaction() as session:
        task = committed_task(session, token)
        return Attempt(task.sdk_app_id, task.task_id, token) if task is not None else None


async def _body(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(faults.REQUEST_SIZE, f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
