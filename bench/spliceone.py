"""Mixdown splicing one per-stream video of a manifest (a "renders" row of bench/run.py).

What ``mixdown generate`` does for an output its plan marks ``splice``: copy the sources'
GOPs, encode cuts and fillers. Exits 3 when the sources do not allow a splice (generate
would then encode the output the ordinary way).

    python -m bench.spliceone MANIFEST OUTPUT_NAME --out DIR
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mixdown.generation import plan_from_manifest
from mixdown.render.splice import SpliceUnavailable, splice
from mixdown.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("name")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    plan = plan_from_manifest(args.manifest, None, Settings.from_env())
    local = {i.url: i.url for i in plan.inputs}  # the manifest's paths are local
    outputs = [o for r in plan.renders for o in r.outputs if o.name == args.name and o.splice]
    if not outputs:
        raise SystemExit(f"spliceone: no spliced output named {args.name}")
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        splice(plan, outputs[0], local, args.out / outputs[0].name)
    except SpliceUnavailable as why:
        print(f"spliceone: cannot splice: {why}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
