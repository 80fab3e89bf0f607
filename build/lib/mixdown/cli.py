"""``mixdown``: generate, demo, plan-only; the service commands register themselves."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mixdown.errors import InvalidParameter, MixdownError
from mixdown.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = args.func(args)
        return code
    except MixdownError as exc:
        _clear_progress()
        print(f"mixdown: {exc}", file=sys.stderr)
        return 2 if exc.user_error else 1
    except KeyboardInterrupt:
        _clear_progress()
        print("mixdown: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line, with MIXDOWN_DEBUG=1 for the traceback
        if os.environ.get("MIXDOWN_DEBUG"):
            raise
        _clear_progress()
        print(f"mixdown: InternalError: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mixdown",
        description="Turn the raw recording of an online class into finished videos: one "
        "per stream with the gaps filled, a mixed video in a layout, mp3 files. Locally "
        "(generate, demo) or as a service speaking Tencent Cloud's TIW API (serve, apps).",
    )
    parser.add_argument("--version", action="version", version=f"mixdown {_version()}")
    sub = parser.add_subparsers(metavar="COMMAND")
    gen = sub.add_parser(
        "generate",
        help="generate videos from a recording manifest",
        description="Generate every output of one recording into --out, with result.json "
        "(TIW's result plus the generation report).",
    )
    gen.add_argument("manifest", type=Path)
    gen.add_argument("--params", type=Path, help="CreateVideoGenerationTask fields (JSON)")
    gen.add_argument("--out", type=Path, help="output folder (required unless --plan-only)")
    gen.add_argument("--plan-only", action="store_true", help="print the render plan and stop")
    gen.set_defaults(func=_generate)
    demo = sub.add_parser("demo", help="synthesise a short class and generate from it")
    demo.add_argument(
        "--out", type=Path, default=Path("mixdown-demo"), help="folder (default: mixdown-demo)"
    )
    demo.set_defaults(func=_demo)
    _service_commands(sub)
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("mixdown")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree
        return "unknown"


def _service_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    try:
        from mixdown.service.commands import add_commands
    except ImportError:
        return
    add_commands(sub)


def _generate(args: argparse.Namespace) -> int:
    from mixdown.generation import generate_from_manifest, plan_from_manifest

    settings = Settings.from_env()
    if args.out is None and not args.plan_only:
        raise InvalidParameter("--out: required (the folder for the outputs)")
    if args.plan_only:
        plan = plan_from_manifest(args.manifest, args.params, settings)
        print(plan.dumps())
        return 0
    started = time.monotonic()
    result = generate_from_manifest(
        args.manifest, args.params, args.out, settings, progress=_progress_bar()
    )
    _clear_progress()
    seconds = time.monotonic() - started
    for warning in result.warnings:
        print(f"mixdown: warning: {warning.code}: {warning.message}", file=sys.stderr)
    print(
        f"{len(result.videos)} files in {args.out} ({seconds:.1f} s); "
        f"details in {args.out / 'result.json'}"
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from mixdown.demo import run_demo

    report = run_demo(args.out, Settings.from_env(), progress=_progress_bar())
    _clear_progress()
    print(json.dumps(report.describe(), indent=2))
    return 0


_bar_shown = False


def _progress_bar() -> Callable[[float], None] | None:
    """A one-line bar on a terminal; nothing when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(fraction: float) -> None:
        global _bar_shown
        _bar_shown = True
        filled = int(fraction * 30)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction * 100:5.1f}%")
        sys.stderr.flush()

    return show


def _clear_progress() -> None:
    global _bar_shown
    if _bar_shown:
        sys.stderr.write("\r" + " " * 40 + "\r")
        sys.stderr.flush()
        _bar_shown = False


if __name__ == "__main__":
    sys.exit(main())
