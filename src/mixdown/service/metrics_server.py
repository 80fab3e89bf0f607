"""A worker's own small HTTP server, only with ``--metrics-port``: ``/metrics`` and ``/healthz``
(200 while it takes jobs, 503 before it is ready, while it stops, while the database is
away, or once its queue worker ended). Under uvicorn on a thread of its own, so the
worker's signals stay the worker's."""

from __future__ import annotations

import socket
import threading
from functools import partial
from typing import Protocol

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mixdown.errors import ResourceInUse
from mixdown.service.job_runtime import Jobs
from mixdown.service.metrics import exposition, metrics_response
from mixdown.store.database import Database


class Watched(Protocol):
    """What the server reports on (``worker.Worker``)."""

    @property
    def db(self) -> Database: ...
    @property
    def work(self) -> Jobs: ...
    @property
    def ready(self) -> threading.Event: ...


class MetricsServer:
    def __init__(self, watched: Watched, host: str, port: int) -> None:
        async def metrics(_request: Request) -> Response:
            return await metrics_response(partial(exposition, watched))

        async def healthz(_request: Request) -> Response:
            if not (watched.ready.is_set() and watched.work.running()):
                return JSONResponse({"status": "unavailable"}, status_code=503)
            if not watched.work.connected():  # the database is away; it keeps trying
                return JSONResponse({"status": "reconnecting"}, status_code=503)
            return JSONResponse({"status": "ok"})

        app = Starlette(
            routes=[
                Route("/metrics", metrics, methods=["GET"]),
                Route("/healthz", healthz, methods=["GET"]),
            ]
        )
        config = uvicorn.Config(
            app, host=host, port=port, log_config=None, access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._where = (host, port)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen now, so a port in use stops the worker at once with a clear error rather
        than leaving it running without the metrics it was asked for."""
        host, port = self._where
        try:
            listening = socket.create_server((host, port))
        except OSError as exc:
            raise ResourceInUse(
                f"--metrics-port {port}: cannot listen on {host}:{port} ({exc.strerror})"
            ) from None
        run = partial(self._server.run, sockets=[listening])
        self._thread = threading.Thread(target=run, name="metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
