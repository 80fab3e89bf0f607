"""``mixdown worker``'s command line (``service.commands`` registers it next to ``serve``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from mixdown.service import commands


def add_worker_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = subparsers.add_parser(
        "worker",
        help="take jobs from the cluster's queue (PostgreSQL)",
        description="A worker of a cluster: runs imports and generations deferred by "
        "`mixdown serve` nodes on the same PostgreSQL database, and delivers callbacks. Run "
        "any number, on any machines; SIGTERM hands its running jobs to the others.",
    )
    worker.add_argument(
        "--database",
        metavar="URL",
        help="the cluster's database: postgresql://USER[:PASSWORD]@HOST[:PORT]/DB "
        "(default: $MIXDOWN_DATABASE_URL)",
    )
    worker.add_argument("--storage", metavar="URL", help=commands.STORAGE_HELP)
    worker.add_argument(
        "--public-base-url", metavar="URL", default="", help=commands.PUBLIC_BASE_HELP
    )
    worker.add_argument(
        "--data-dir",
        type=Path,
        default=commands.DEFAULT_DATA_DIR,
        help="this worker's own folder: scratch space, and outputs unless --storage names "
        "another place; one worker per folder (default: %(default)s)",
    )
    worker.add_argument(
        "--concurrency", type=int, default=1, help="jobs run at once (default: %(default)s)"
    )
    worker.add_argument(
        "--metrics-port", type=int, help="serve /metrics and /healthz on this port (default: none)"
    )
    worker.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        help="address of the metrics port (default: %(default)s)",
    )
    worker.add_argument(
        "--allow-private-urls",
        action="store_true",
        help="let media and callback URLs point at private-network hosts (as on serve; local "
        "files were checked against serve's --ingest-root at import)",
    )
    worker.add_argument(
        "--public-url",
        default="",
        help="base URL of the API nodes, for output links in callbacks when outputs are "
        "served by the API nodes (folder storage)",
    )
    worker.add_argument(
        "--callback-retry-base",
        type=float,
        default=5.0,
        help="seconds before the first callback retry; doubles each time, for up to 24 h "
        "(default: %(default)s)",
    )
    worker.add_argument(
        "--callback-timeout",
        type=commands.callback_timeout,
        default=10.0,
        metavar="SECONDS",
        help=commands.CALLBACK_TIMEOUT_HELP,
    )
    worker.set_defaults(func=_worker)


def _worker(args: argparse.Namespace) -> int:
    from mixdown.service.config import STORAGE_URL_ENV, ServiceConfig, database_setting, setting
    from mixdown.service.worker import WorkerConfig, run_worker
    from mixdown.settings import Settings

    node = ServiceConfig(
        data_dir=args.data_dir,
        database_url=database_setting(args.database, os.environ),
        storage_url=setting(args.storage, os.environ, STORAGE_URL_ENV),
        public_base_url=args.public_base_url,
        allow_private_urls=args.allow_private_urls,
        workers=max(1, args.concurrency),
        public_url=args.public_url,
        callback_retry_base_s=args.callback_retry_base,
        callback_timeout_s=args.callback_timeout,
    )
    config = WorkerConfig(node, metrics_host=args.metrics_host, metrics_port=args.metrics_port)
    return run_worker(config, Settings.from_env())
