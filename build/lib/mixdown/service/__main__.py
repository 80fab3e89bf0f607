"""``python -m mixdown.service``: the service commands alone (``mixdown`` has them too)."""

from __future__ import annotations

import argparse
import sys

from mixdown.service.commands import add_commands


def main() -> int:
    parser = argparse.ArgumentParser(prog="mixdown")
    add_commands(parser.add_subparsers(metavar="COMMAND"))
    args = parser.parse_args()
    if not hasattr(args, "func"):
        parser.print_help(sys.stderr)
        return 2
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
