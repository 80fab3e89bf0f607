"""Run the service under uvicorn until SIGINT/SIGTERM."""

from __future__ import annotations

import os
from functools import partial

import uvicorn

from mixdown.api.app import create_app
from mixdown.callbacks.dispatcher import Sender
from mixdown.console.pages import console_routes
from mixdown.jobs.engine import Engine
from mixdown.service.config import ServiceConfig
from mixdown.service.logs import setup_logging
from mixdown.service.metrics import exposition, with_metrics
from mixdown.service.node import Service
from mixdown.settings import Settings


def run_server(
    config: ServiceConfig,
    settings: Settings,
    *,
    engine: Engine | None = None,
    sender: Sender | None = None,
) -> int:
    setup_logging()
    os.umask(0o077)  # the database (secrets) and outputs belong to the service's user only
    service = Service(config, settings, engine=engine, sender=sender)
    server = uvicorn.Server(
        uvicorn.Config(
            with_metrics(
                create_app(service, pages=console_routes(service)), partial(exposition, service)
            ),
            host=config.host,
            port=config.port,
            log_config=None,
            access_log=False,  # our own access log leaves out query strings (v1 signatures)
            lifespan="on",
            server_header=False,
        )
    )
    server.run()
    return 0 if server.started else 1
