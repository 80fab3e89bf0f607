"""The live recording's command line: ``serve``'s RTMP options, ``mixdown ingest-config``
(nginx's configuration, for an nginx you run yourself) and ``mixdown push-url`` (a signed
push URL for an encoder)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

AUTO_STOP_MIN_HELP = (
    "the shortest AutoStopTimeout StartOnlineRecord accepts, in seconds (default: TIW's "
    "%(default)s; less only for tests and demos)"
)


def add_rtmp_options(parser: argparse.ArgumentParser, *, serving: bool) -> None:
    parser.add_argument(
        "--rtmp-port",
        type=int,
        required=not serving,
        help="record live classes pushed over RTMP to this port (nginx with the RTMP module: "
        "Debian packages nginx-light and libnginx-mod-rtmp)",
    )
    parser.add_argument(
        "--rtmp-host", default="", help="address the RTMP port listens on (default: --host)"
    )
    if serving:
        parser.add_argument(
            "--external-nginx",
            action="store_true",
            help="do not start nginx: you run it with the configuration `mixdown "
            "ingest-config` prints",
        )
        parser.add_argument(
            "--auto-stop-min", type=int, default=300, metavar="SECONDS", help=AUTO_STOP_MIN_HELP
        )


def add_ingest_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    data_dir_default: Path,
) -> None:
    config = subparsers.add_parser(
        "ingest-config",
        help="print the nginx configuration of the RTMP ingest, for an nginx you run yourself",
        description="Print nginx.conf for `mixdown serve --rtmp-port PORT --external-nginx` "
        "with the same --data-dir, --host and --port: nginx records into the data folder and "
        "calls this server's hooks.",
    )
    config.add_argument("--data-dir", type=Path, default=data_dir_default)
    config.add_argument("--host", default="127.0.0.1", help="the API's address")
    config.add_argument("--port", type=int, default=8080, help="the API's port")
    add_rtmp_options(config, serving=False)
    config.set_defaults(func=_ingest_config)

    push = subparsers.add_parser(
        "push-url",
        help="print a signed RTMP push URL for one stream of a room",
        description="rtmp://HOST:PORT/live/<SdkAppId>_<RoomId>_<StreamId>?txTime=..&"
        "txSecret=.. signed with the app's PushKey (from `mixdown apps list`).",
    )
    push.add_argument("--push-key", required=True, help="the app's PushKey")
    push.add_argument("--sdk-app-id", type=int, required=True)
    push.add_argument("--room-id", type=int, required=True)
    push.add_argument("--stream-id", required=True, help="tic_record_user… for the whiteboard")
    push.add_argument(
        "--rtmp-url", default="rtmp://127.0.0.1:1935/live", help="default: %(default)s"
    )
    push.add_argument(
        "--valid-for", type=int, default=86400, metavar="SECONDS", help="default: %(default)s"
    )
    push.set_defaults(func=_push_url)


def _ingest_config(args: argparse.Namespace) -> int:
    from mixdown.service.config import ServiceConfig
    from mixdown.service.ingest_setup import ingest_config, ingest_config_text

    service = ServiceConfig(
        data_dir=args.data_dir,
        host=args.host,
        port=args.port,
        rtmp_port=args.rtmp_port,
        rtmp_host=args.rtmp_host,
    )
    sys.stdout.write(ingest_config_text(ingest_config(service)))
    return 0


def _push_url(args: argparse.Namespace) -> int:
    from mixdown.ingest.push_signature import grant
    from mixdown.ingest.stream_name import StreamName

    name = StreamName.parse(f"{args.sdk_app_id}_{args.room_id}_{args.stream_id}")
    if name is None:
        print("the ids do not make a stream name <SdkAppId>_<RoomId>_<StreamId>", file=sys.stderr)
        return 2
    query = grant(args.push_key, name, int(time.time()) + args.valid_for).query()
    print(f"{args.rtmp_url.rstrip('/')}/{name}?{query}")
    return 0
