"""The cached canonical class, set up for a script that measures parts of Mixdown on it.

``ablation.py`` and ``costs.py`` take the same options and start the same way: pin the
cores, generate or reuse the inputs (as ``run.py`` does), make an output folder, plan.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.inputs import ClassInputs, ensure_inputs
from bench.scenario import Scenario, make_scenario
from mixdown.generation import plan_from_manifest
from mixdown.planning.plan import Plan
from mixdown.settings import Settings

BENCH = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Canonical:
    settings: Settings
    scenario: Scenario
    inputs: ClassInputs
    plan: Plan
    #: Where this script's outputs go.
    out: Path
    #: Runs per measured row (the fastest counts).
    repeat: int


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--cores", type=int)
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (the fastest counts)")
    parser.add_argument("--cache-dir", type=Path, default=BENCH / ".cache")


def prepare(args: argparse.Namespace, script: str) -> Canonical:
    if args.cores:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
    settings = Settings.from_env()
    scenario = make_scenario("canonical", args.minutes)
    inputs = ensure_inputs(scenario, args.cache_dir, settings.ffmpeg)
    out = args.cache_dir / "runs" / f"{script}-{scenario.name}"
    out.mkdir(parents=True, exist_ok=True)
    plan = plan_from_manifest(inputs.manifest, None, settings)
    return Canonical(settings, scenario, inputs, plan, out, max(1, args.repeat))


def fastest(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """The least wall and the least CPU seconds (this process and its children) of
    ``repeat`` runs of ``run``: on a shared machine one run's CPU time varies by 10-20 %."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = _cpu()
        started = time.monotonic()
        run()
        walls.append(time.monotonic() - started)
        cpus.append(_cpu() - before)
    return min(walls), min(cpus)


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
