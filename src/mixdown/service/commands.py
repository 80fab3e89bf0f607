"""``mixdown serve``, ``mixdown apps create|list`` (DESIGN §4.2) and ``mixdown db upgrade``;
the live recording's commands are in ``service.ingest_commands``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mixdown.service.ingest_commands import add_ingest_commands, add_rtmp_options

if TYPE_CHECKING:
    from mixdown.store.database import Database

DEFAULT_DATA_DIR = Path("mixdown-data")
DATABASE_HELP = (
    "database URL: postgresql://USER[:PASSWORD]@HOST[:PORT]/DB or sqlite:///PATH "
    "(default: $MIXDOWN_DATABASE_URL, else SQLite mixdown.db in --data-dir)"
)
PUBLIC_BASE_HELP = (
    "with S3 storage behind a CDN: download URLs are this base plus the object's key instead "
    "of presigned URLs (default: $MIXDOWN_S3_PUBLIC_URL, else presigned)"
)
STORAGE_HELP = (
    "where outputs are kept: s3://BUCKET/PREFIX (S3 settings from the AWS_* environment) or a "
    "folder (default: $MIXDOWN_STORAGE_URL, else outputs/ in --data-dir)"
)

CALLBACK_TIMEOUT_HELP = (
    "seconds one callback attempt may take before it counts as failed and is retried; if a "
    "node dies while sending, another sends the event after this time plus as much again "
    "(5 to 30 s more) (default: %(default)s)"
)


def callback_timeout(text: str) -> float:
    """``--callback-timeout``: seconds, more than 0 and at most CALLBACK_TIMEOUT_MAX_S."""
    from mixdown.service.config import CALLBACK_TIMEOUT_MAX_S

    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= CALLBACK_TIMEOUT_MAX_S:  # NaN fails too
        raise argparse.ArgumentTypeError(
            f"{text!r}: must be seconds, more than 0 and at most {CALLBACK_TIMEOUT_MAX_S:g}"
        )
    return seconds


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the TIW-compatible API with its workers",
        description="The Tencent Cloud TIW video-generation API (TencentCloud API 3.0) with "
        "in-process workers; the output files live in --data-dir, and so does the database "
        "(SQLite) unless --database names another.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--port", type=int, default=8080, help="port to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="output files and the SQLite database (default: %(default)s)",
    )
    serve.add_argument("--database", metavar="URL", help=DATABASE_HELP)
    serve.add_argument("--storage", metavar="URL", help=STORAGE_HELP)
    serve.add_argument("--public-base-url", metavar="URL", default="", help=PUBLIC_BASE_HELP)
    serve.add_argument(
        "--ingest-root",
        type=Path,
        action="append",
        default=[],
        help="folder whose files ImportOnlineRecord may read (repeatable)",
    )
    serve.add_argument(
        "--allow-private-urls",
        action="store_true",
        help="let media and callback URLs point at private-network hosts",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="jobs run at once in this process; with PostgreSQL, 0 runs none and leaves them to "
        "`mixdown worker` processes (default: %(default)s)",
    )
    serve.add_argument(
        "--public-url", default="", help="base URL of output downloads (default: http://HOST:PORT)"
    )
    serve.add_argument(
        "--callback-retry-base",
        type=float,
        default=5.0,
        help="seconds before the first callback retry; doubles each time, for up to 24 h "
        "(default: %(default)s)",
    )
    serve.add_argument(
        "--callback-timeout",
        type=callback_timeout,
        default=10.0,
        metavar="SECONDS",
        help=CALLBACK_TIMEOUT_HELP,
    )
    add_rtmp_options(serve, serving=True)
    serve.set_defaults(func=_serve)
    from mixdown.service.worker_command import add_worker_command  # it reads the helps above

    add_worker_command(subparsers)

    apps = subparsers.add_parser("apps", help="manage SdkAppIds and their credentials")
    actions = apps.add_subparsers(metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="create an app; prints its SecretId/SecretKey and its PushKey (signs RTMP pushes)",
    )
    create.add_argument("--sdk-app-id", type=int, help="the SdkAppId (default: the next free)")
    _database_options(create)
    create.add_argument(
        "--task-concurrency", type=int, help="unfinished generation tasks allowed (default 4)"
    )
    create.set_defaults(func=_apps_create)
    listing = actions.add_parser(
        "list",
        help="list apps (no SecretKey; each app's PushKey for signing RTMP pushes)",
    )
    _database_options(listing)
    listing.set_defaults(func=_apps_list)
    rotate = actions.add_parser(
        "rotate-key",
        help="give an app a new SecretKey; prints it. The old key keeps working for --grace",
    )
    rotate.add_argument("--sdk-app-id", type=int, required=True)
    rotate.add_argument(
        "--grace",
        type=int,
        default=86400,
        metavar="SECONDS",
        help="how long the old key keeps working, 0 to 30 days (default: %(default)s)",
    )
    _database_options(rotate)
    rotate.set_defaults(func=_apps_rotate_key)
    apps.set_defaults(func=lambda _args: _usage(apps))

    db = subparsers.add_parser("db", help="manage the database's schema")
    db_actions = db.add_subparsers(metavar="ACTION")
    upgrade = db_actions.add_parser(
        "upgrade",
        help="migrate the schema to this version's newest revision; prints the revision",
        description="Migrate the database's schema to the newest revision and print it. "
        "Safe to run from several nodes at once: on PostgreSQL one migrates, the others wait.",
    )
    _database_options(upgrade)
    upgrade.set_defaults(func=_db_upgrade)
    db.set_defaults(func=lambda _args: _usage(db))
    add_ingest_commands(subparsers, DEFAULT_DATA_DIR)


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="the service's data folder, whose SQLite database is used without --database "
        "(default: %(default)s)",
    )
    parser.add_argument("--database", metavar="URL", help=DATABASE_HELP)


def _open_database(args: argparse.Namespace) -> Database:
    # The store (SQLAlchemy, Alembic) loads only when a service command runs: importing it
    # at the top cost every `mixdown generate` 0.7 s of CPU.
    from mixdown.service.config import database_setting
    from mixdown.service.data_folder import open_database

    return open_database(args.data_dir, database_setting(args.database, os.environ))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _serve(args: argparse.Namespace) -> int:
    from mixdown.service.config import (
        NGINX_ENV,
        STORAGE_URL_ENV,
        ServiceConfig,
        database_setting,
        setting,
    )
    from mixdown.service.server import run_server
    from mixdown.settings import Settings

    config = ServiceConfig(
        data_dir=args.data_dir,
        database_url=database_setting(args.database, os.environ),
        storage_url=setting(args.storage, os.environ, STORAGE_URL_ENV),
        public_base_url=args.public_base_url,
        host=args.host,
        port=args.port,
        ingest_roots=tuple(args.ingest_root),
        allow_private_urls=args.allow_private_urls,
        workers=max(0, args.workers),  # 0: an API node of a cluster (SQLite runs 1)
        public_url=args.public_url,
        callback_retry_base_s=args.callback_retry_base,
        callback_timeout_s=args.callback_timeout,
        rtmp_port=args.rtmp_port,
        rtmp_host=args.rtmp_host,
        manage_nginx=not args.external_nginx,
        auto_stop_min_s=args.auto_stop_min,
        nginx=setting(None, os.environ, NGINX_ENV),
    )
    return run_server(config, Settings.from_env())


def _apps_create(args: argparse.Namespace) -> int:
    from mixdown.store.apps import DEFAULT_TASK_CONCURRENCY, create_app

    concurrency = args.task_concurrency
    db = _open_database(args)
    try:
        cred = create_app(
            db,
            now_ms=int(time.time() * 1000),
            sdk_app_id=args.sdk_app_id,
            task_concurrency=DEFAULT_TASK_CONCURRENCY if concurrency is None else concurrency,
        )
    finally:
        db.dispose()
    created = {
        "SdkAppId": cred.sdk_app_id,
        "SecretId": cred.secret_id,
        "SecretKey": cred.secret_key,
        "PushKey": cred.push_key,
    }
    print(json.dumps(created))
    return 0


def _apps_list(args: argparse.Namespace) -> int:
    from mixdown.store.apps import list_apps

    db = _open_database(args)
    try:
        apps = list_apps(db)
    finally:
        db.dispose()
    rows = [
        {
            "SdkAppId": a.sdk_app_id,
            "SecretId": a.secret_id,
            "TaskConcurrency": a.task_concurrency,
            "PushKey": a.push_key,
            "CreateTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(a.created_ms / 1000)),
        }
        for a in apps
    ]
    print(json.dumps(rows, indent=2))
    return 0


def _apps_rotate_key(args: argparse.Namespace) -> int:
    from mixdown.store.apps import rotate_key

    db = _open_database(args)
    try:
        with db.transaction() as s:
            key = rotate_key(
                s, args.sdk_app_id, grace_ms=args.grace * 1000, now_ms=int(time.time() * 1000)
            )
    finally:
        db.dispose()
    print(json.dumps({"SdkAppId": args.sdk_app_id, "SecretKey": key, "GraceSeconds": args.grace}))
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    db = _open_database(args)  # opening migrates
    try:
        print(db.revision())
    finally:
        db.dispose()
    return 0
