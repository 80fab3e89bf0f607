"""Mixdown's speed, memory and quality against ffmpeg baselines, measured in one run.

    .venv/bin/python -m bench.run [--class canonical|dynamic|all] [--minutes 10 60]
                                  [--repeat N] [--only floor,baseline,mixdown,mixdown-mix,ssim]

Run it from the repository root (``bench`` is a package there).

See bench/README.md for what each row means and the targets.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import av

from bench import commands
from bench.inputs import ClassInputs, ensure_inputs, ffmpeg_version
from bench.measure import UNCLEAN_SHARE, Sample, machine, run_measured
from bench.scenario import KINDS, ClassKind, Scenario, make_scenario
from mixdown.generation import plan_from_manifest
from mixdown.render.command import build_command
from mixdown.settings import Encoding, Settings

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

#: Rows whose mix is compared with the reference (the floors' mixes are not the same picture).
QUALITY_ROWS = ("baseline", "mixdown", "mixdown-mix")
DEFAULT_ROWS = ("floor", "baseline", "mixdown", "mixdown-mix", "ssim")
DEFAULT_MINUTES = (10.0, 60.0)
SETTINGS_ENV = ("MIXDOWN_PRESET", "MIXDOWN_CRF")


@dataclass(frozen=True)
class Target:
    """A check's pass mark: ``value <= limit`` or ``value >= limit``, and how it prints."""

    op: Literal["<=", ">="]
    limit: float
    #: Decimals shown; None: as short as possible (``:g``).
    digits: int | None = 2
    unit: str = ""

    @property
    def text(self) -> str:
        shown = f"{self.limit:g}" if self.digits is None else f"{self.limit:.{self.digits}f}"
        return f"{self.op} {shown}{self.unit}"

    def passes(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value <= self.limit if self.op == "<=" else value >= self.limit


#: Targets (issue 4), checked on the numbers of one run (bench/README.md, "Targets").
TARGET_VS_BASELINE = Target("<=", 1.0)  # mixdown all outputs / baseline, wall
TARGET_VS_FLOOR = Target("<=", 1.25)  # mixdown all outputs / floor, wall
TARGET_RTF = Target(">=", 10.0, digits=None, unit="x")  # canonical class only
TARGET_RSS_MB = Target("<=", 500.0, digits=None)
TARGET_SSIM = Target(">=", 0.97)  # the mix against the medium reference
TARGET_BITRATE = Target("<=", 1.0)  # the mix's video bitrate / the baseline's
#: "The same" peak RSS for the 10- and 60-minute class: within this factor.
RSS_FLAT = Target("<=", 1.10)


@dataclass
class Row:
    name: str
    samples: list[Sample] = field(default_factory=list)
    mix: Path | None = None
    media: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def chosen(self) -> list[Sample]:
        good = [s for s in self.samples if s.returncode == 0]
        clean = [s for s in good if s.clean]
        return clean or good

    @property
    def loaded(self) -> bool:
        return not any(s.clean for s in self.samples if s.returncode == 0)

    @property
    def ok(self) -> bool:
        return bool(self.chosen())

    def wall(self) -> float:
        return statistics.median(s.wall_s for s in self.chosen())

    def cpu(self) -> float:
        return statistics.median(s.cpu_s for s in self.chosen())

    def rss(self) -> float:
        return max(s.peak_rss_mb for s in self.chosen())

    def others(self) -> float | None:
        shares = [s.others_share for s in self.chosen() if s.others_share is not None]
        return statistics.median(shares) if shares else None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "samples": [s.to_json() for s in self.samples],
            "media": self.media,
            **self.extra,
        }
        if self.ok:
            data.update(
                wall_s=self.wall(), cpu_s=self.cpu(), peak_rss_mb=self.rss(), loaded=self.loaded
            )
        return data


@dataclass
class Case:
    inputs: ClassInputs
    work: Path
    rows: dict[str, Row] = field(default_factory=dict)
    #: Mixdown's renders one by one (the "renders" row).
    breakdown: list[Row] = field(default_factory=list)

    @property
    def scenario(self) -> Scenario:
        return self.inputs.scenario

    @property
    def media_s(self) -> float:
        return self.scenario.total_ms / 1000


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
        self.settings = Settings.from_env(self.env)
        self.encoding = Encoding()
        self.ffmpeg = self.settings.ffmpeg
        self.cache: Path = args.cache_dir
        self.only: tuple[str, ...] = args.only

    # -- measuring --------------------------------------------------------------------------

    def measure(
        self,
        case: Case,
        name: str,
        argv: Sequence[str],
        out_dir: Path,
        env: Mapping[str, str] | None = None,
        attempts: int | None = None,
    ) -> Row:
        """Run until ``--repeat`` clean runs (at most twice as many tries)."""
        row = Row(name)
        want = attempts or self.args.repeat
        tries = want if (attempts or self.args.accept_loaded) else 2 * want
        timeout = 600 + 3 * case.media_s
        for attempt in range(1, tries + 1):
            shutil.rmtree(out_dir, ignore_errors=True)
            out_dir.mkdir(parents=True)
            log = out_dir.parent / f"{out_dir.name}.log"
            sample = run_measured(argv, log, env=env or self.env, timeout_s=timeout)
            row.samples.append(sample)
            share = sample.others_share
            load = "?" if share is None else f"{share * 100:.0f} %"
            state = "failed" if sample.returncode else ("clean" if sample.clean else "LOADED")
            print(
                f"  {case.scenario.name} {name} #{attempt}: {sample.wall_s:.1f} s wall, "
                f"{sample.cpu_s:.1f} s CPU, {sample.peak_rss_mb:.0f} MB, "
                f"others {load} ({state})",
                flush=True,
            )
            if sample.returncode:
                tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
                print(f"    command failed (exit {sample.returncode}); log {log}:\n{tail}")
                break
            if sum(1 for s in row.samples if s.clean and s.returncode == 0) >= want:
                break
            if self.args.accept_loaded and len(row.samples) >= want:
                break
        return row

    # -- rows -------------------------------------------------------------------------------

    def run_case(self, case: Case) -> None:
        for name in ROWS:  # in this order, whatever the order of --only
            if name not in self.only:
                continue
            if name == "ssim":
                self.quality(case)
            elif name == "renders":
                self.renders(case)
            else:
                case.rows[name] = self.run_row(case, name, COMMAND_ROWS[name])
        for row in case.rows.values():
            if row.mix is not None and row.mix.is_file():
                row.media = media_info(row.mix)

    def run_row(
        self,
        case: Case,
        name: str,
        spec: CommandRow,
        env: Mapping[str, str] | None = None,
        attempts: int | None = None,
    ) -> Row:
        """Measure ``spec``'s command into its own folder ``<work>/<name>``."""
        out = case.work / name
        argv = spec.argv(self, case, out)
        row = self.measure(case, name, argv, out, env, attempts)
        row.mix = spec.mix(out)
        if spec.keep_argv:
            row.extra["argv"] = argv
        if spec.outputs:
            row.extra["outputs"] = _result_outputs(out)
        return row

    def quality(self, case: Case) -> None:
        """SSIM of each mix against Mixdown's mix at x264 medium (same timeline, same pixels)."""
        mine = next(
            (r for k in ("mixdown", "mixdown-mix") if (r := case.rows.get(k)) and r.mix), None
        )
        if mine is None:
            mine = self.run_row(case, "mixdown-mix", MIX_ONLY, attempts=1)
            case.rows["mixdown-mix"] = mine
        medium = {**self.env, "MIXDOWN_PRESET": "medium"}
        ref = self.run_row(case, "reference", MIX_ONLY, medium, attempts=1)
        case.rows["reference"] = ref
        if ref.mix is None:
            print("  no reference mix: SSIM skipped")
            return
        scores: dict[str, float | None] = {}  # by file digest: equal files, one comparison
        for name in QUALITY_ROWS:
            row = case.rows.get(name)
            if row is None or row.mix is None or not row.mix.is_file():
                continue
            digest = _digest(row.mix)
            if digest not in scores:
                score, seconds = ssim(self.ffmpeg, row.mix, ref.mix)
                scores[digest] = score
                print(f"  {case.scenario.name} SSIM {name} vs medium: {score} ({seconds:.1f} s)")
            row.extra["ssim"] = scores[digest]

    def renders(self, case: Case) -> None:
        """Each of Mixdown's renders run alone: where ``mixdown generate`` spends its time."""
        plan = plan_from_manifest(case.inputs.manifest, None, self.settings)
        local = {i.url: i.url for i in plan.inputs}  # the manifest's paths are local
        out = case.work / "renders"
        for render in plan.renders:
            first = render.outputs[0]
            if first.splice:
                manifest = str(case.inputs.manifest)
                argv = [sys.executable, "-m", "bench.spliceone", manifest, first.name]
                argv += ["--out", str(out)]
                name = f"splice {first.name}"
            else:
                enc = self.settings.encoding
                argv = list(build_command(self.ffmpeg, plan, render, local, out, enc).argv)
                name = "render " + ", ".join(o.name for o in render.outputs)
            row = self.measure(case, name, argv, out)
            row.extra["argv"] = argv
            case.breakdown.append(row)


# -- media ----------------------------------------------------------------------------------


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _find_mix(out: Path) -> Path | None:
    found = sorted(out.glob("mix_*.mp4"))
    return found[0] if found else None


def _result_outputs(out: Path) -> list[dict[str, Any]]:
    path = out / "result.json"
    if not path.is_file():
        return []
    infos = json.loads(path.read_text(encoding="utf-8"))["VideoInfoList"]
    return [
        {
            k: v[k]
            for k in ("VideoUrl", "VideoType", "VideoDuration", "VideoSize", "Width", "Height")
        }
        for v in infos
    ]


def media_info(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as container:
        duration = (container.duration or 0) / 1_000_000
        video = next(iter(container.streams.video), None)
        vrate = video.bit_rate if video is not None else None
    size = path.stat().st_size
    return {
        "file": str(path),
        "duration_s": round(duration, 3),
        "size_mb": round(size / 1e6, 3),
        "video_kbps": round(vrate / 1000, 1) if vrate else None,
        "total_kbps": round(size * 8 / duration / 1000, 1) if duration else None,
    }


def ssim(ffmpeg: str, distorted: Path, reference: Path) -> tuple[float | None, float]:
    started = time.monotonic()
    argv = commands.ssim_argv(ffmpeg, distorted, reference)
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    for line in reversed(proc.stderr.splitlines()):
        if "All:" in line:
            value = line.split("All:", 1)[1].split()[0]
            return float(value), seconds
    return None, seconds


# -- the rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandRow:
    """A row that runs one command into its own, emptied folder ``out``."""

    #: The command, given the bench, the class and ``out``.
    argv: Callable[[Bench, Case, Path], list[str]]
    #: Where the command's mix lands in ``out``.
    mix: Callable[[Path], Path | None]
    #: Record the command in the results.
    keep_argv: bool = False
    #: Record the outputs ``result.json`` lists (``mixdown generate``).
    outputs: bool = False


def _mix_mp4(out: Path) -> Path:
    return out / "mix.mp4"


def _floor(bench: Bench, case: Case, out: Path) -> list[str]:
    return commands.floor_argv(bench.ffmpeg, case.scenario, case.inputs.folder, out, bench.encoding)


def _floor_strict(bench: Bench, case: Case, out: Path) -> list[str]:
    sc, folder = case.scenario, case.inputs.folder
    return commands.floor_argv(bench.ffmpeg, sc, folder, out, bench.encoding, tiles=False)


def _baseline(bench: Bench, case: Case, out: Path) -> list[str]:
    return commands.baseline_argv(bench.ffmpeg, case.scenario, case.inputs.folder, _mix_mp4(out))


def _generate(bench: Bench, case: Case, out: Path) -> list[str]:
    argv = [sys.executable, "-m", "mixdown.cli", "generate", str(case.inputs.manifest)]
    return [*argv, "--out", str(out)]


def _mix_only(bench: Bench, case: Case, out: Path) -> list[str]:
    return [sys.executable, "-m", "bench.mixonly", str(case.inputs.manifest), "--out", str(out)]


#: The rows that run one command each, in the order they run.
COMMAND_ROWS: dict[str, CommandRow] = {
    "floor": CommandRow(_floor, _mix_mp4),
    "floor-strict": CommandRow(_floor_strict, _mix_mp4),
    "baseline": CommandRow(_baseline, _mix_mp4, keep_argv=True),
    "mixdown": CommandRow(_generate, _find_mix, outputs=True),
    "mixdown-mix": CommandRow(_mix_only, _find_mix),
}
#: Mixdown's mix alone; with MIXDOWN_PRESET=medium it is the SSIM reference.
MIX_ONLY = COMMAND_ROWS["mixdown-mix"]
#: Every row, in the order they run: then SSIM against the reference, then the renders.
ROWS = (*COMMAND_ROWS, "ssim", "renders")


# -- report ---------------------------------------------------------------------------------

ORDER = ("floor", "floor-strict", "baseline", "mixdown", "mixdown-mix", "reference")
LABELS = {
    "floor": "floor (decode+encode)",
    "floor-strict": "floor, no tiles",
    "baseline": "hand-written mix only",
    "mixdown": "mixdown all outputs",
    "mixdown-mix": "mixdown mix only",
    "reference": "reference (medium)",
}


def table(case: Case) -> str:
    head = (
        f"{'row':<24}{'wall s':>8}{'CPU s':>8}{'CPU/wall':>9}{'RSS MB':>8}{'RTF':>7}"
        f"{'mix Mb/s':>9}{'mix s':>8}{'SSIM':>8}{'others':>8}  runs"
    )
    lines = [head, "-" * len(head)]
    for name in ORDER:
        row = case.rows.get(name)
        if row is None:
            continue
        if not row.ok:
            lines.append(f"{LABELS[name]:<24}  failed")
            continue
        wall, cpu = row.wall(), row.cpu()
        kbps = row.media.get("video_kbps")
        dur = row.media.get("duration_s")
        score = row.extra.get("ssim")
        others = row.others()
        clean = sum(1 for s in row.samples if s.clean and s.returncode == 0)
        mark = "*" if row.loaded else ""
        lines.append(
            f"{LABELS[name] + mark:<24}{wall:>8.1f}{cpu:>8.1f}{cpu / wall:>9.2f}"
            f"{row.rss():>8.0f}{case.media_s / wall:>6.1f}x"
            f"{_num(kbps and kbps / 1000, 9, 2)}{_num(dur, 8, 1)}{_num(score, 8, 4)}"
            f"{_num(others and others * 100, 7, 0)}%  {clean}/{len(row.samples)} clean"
        )
    for row in case.breakdown:
        if row.ok:
            wall = row.wall()
            lines.append(
                f"  {row.name[:70]:<70}{wall:>8.1f} s{row.cpu():>8.1f} CPU-s"
                f"{row.rss():>6.0f} MB{'*' if row.loaded else ''}"
            )
    if any(r.loaded for r in [*case.rows.values(), *case.breakdown]):
        lines.append(
            f"* every run of this row had other processes using > {UNCLEAN_SHARE:.0%} of the "
            "cores: not a clean measurement"
        )
    return "\n".join(lines)


def _num(value: float | None, width: int, digits: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


@dataclass(frozen=True)
class Check:
    what: str
    value: float | None
    target: str
    passed: bool | None

    def line(self) -> str:
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[self.passed]
        value = "-" if self.value is None else f"{self.value:.3f}"
        return f"  {self.what:<38}{value:>9}   target {self.target:<10} {verdict}"


def checks(case: Case) -> list[Check]:
    rows = case.rows
    out: list[Check] = []

    def ratio(a: str, b: str) -> float | None:
        ra, rb = rows.get(a), rows.get(b)
        return ra.wall() / rb.wall() if ra and rb and ra.ok and rb.ok else None

    def check(what: str, value: float | None, target: Target) -> None:
        out.append(Check(what, value, target.text, target.passes(value)))

    def info(what: str, value: float | None) -> None:
        out.append(Check(what, value, "info", None))

    check("mixdown all / baseline (wall)", ratio("mixdown", "baseline"), TARGET_VS_BASELINE)
    check("mixdown all / floor (wall)", ratio("mixdown", "floor"), TARGET_VS_FLOOR)
    info("mixdown mix / baseline (wall)", ratio("mixdown-mix", "baseline"))
    md = rows.get("mixdown")
    rtf = case.media_s / md.wall() if md and md.ok else None
    if case.scenario.kind == "canonical":  # the target is stated for the canonical class
        check("mixdown all, real-time factor", rtf, TARGET_RTF)
    else:
        info("mixdown all, real-time factor", rtf)
    check("mixdown all, peak RSS MB", md.rss() if md and md.ok else None, TARGET_RSS_MB)
    mine = rows.get("mixdown") or rows.get("mixdown-mix")
    check("mixdown mix SSIM vs medium", mine.extra.get("ssim") if mine else None, TARGET_SSIM)
    base = rows.get("baseline")
    mk = mine.media.get("video_kbps") if mine else None
    bk = base.media.get("video_kbps") if base else None
    check("mix bitrate / baseline's", mk / bk if mk and bk else None, TARGET_BITRATE)
    return out


def flat_memory(cases: list[Case]) -> list[Check]:
    out: list[Check] = []
    for kind in KINDS:
        runs = [
            (c.scenario.minutes, r.rss())
            for c in cases
            if c.scenario.kind == kind and (r := c.rows.get("mixdown")) and r.ok
        ]
        if len(runs) < 2:
            continue
        runs.sort()
        (short_m, short), (long_m, long) = runs[0], runs[-1]
        ratio = long / short
        out.append(
            Check(
                f"{kind}: RSS {long_m:g} min / {short_m:g} min",
                ratio,
                RSS_FLAT.text,
                RSS_FLAT.passes(ratio),
            )
        )
    return out


def git_rev() -> str:
    proc = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or "unknown"


# -- command line ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--class", dest="kind", choices=[*KINDS, "all"], default="all")
    p.add_argument(
        "--minutes",
        type=float,
        nargs="+",
        help="class lengths (default: 10 60 for canonical, 10 for dynamic)",
    )
    p.add_argument("--repeat", type=int, default=1, help="clean runs per row (median)")
    p.add_argument(
        "--only",
        type=_rows,
        default=DEFAULT_ROWS,
        help=f"comma-separated rows, from {','.join(ROWS)} (default {','.join(DEFAULT_ROWS)})",
    )
    p.add_argument("--cores", type=int, help="pin everything to this many CPUs")
    p.add_argument(
        "--accept-loaded",
        action="store_true",
        help="do not repeat runs that other processes disturbed (they stay flagged)",
    )
    p.add_argument("--cache-dir", type=Path, default=BENCH / ".cache")
    p.add_argument("--results-dir", type=Path, default=BENCH / "results")
    return p.parse_args(argv)


def _rows(text: str) -> tuple[str, ...]:
    names = tuple(x.strip() for x in text.split(",") if x.strip())
    bad = [n for n in names if n not in ROWS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown rows {bad}; choose from {','.join(ROWS)}")
    return names


def cases_of(args: argparse.Namespace) -> list[tuple[ClassKind, float]]:
    kinds: tuple[ClassKind, ...] = KINDS if args.kind == "all" else (args.kind,)
    out: list[tuple[ClassKind, float]] = []
    for kind in kinds:
        minutes = args.minutes or (DEFAULT_MINUTES if kind == "canonical" else (10.0,))
        out.extend((kind, m) for m in minutes)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.cores:
        allowed = sorted(os.sched_getaffinity(0))
        if args.cores > len(allowed):
            raise SystemExit(f"--cores {args.cores}: only {len(allowed)} CPUs available")
        os.sched_setaffinity(0, allowed[: args.cores])
    bench = Bench(args)
    version = ffmpeg_version(bench.ffmpeg)
    host = machine(version)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    print(
        f"machine: {host['cpu_model']}, {host['cores_used']} cores used of "
        f"{host['cores_online']}, {host['memory_gib']} GiB; {version}"
    )
    if host["cores_used"] != 2:
        print("note: the targets are stated for a 2-core machine (use --cores 2)")
    done: list[Case] = []
    for kind, minutes in cases_of(args):
        scenario = make_scenario(kind, minutes)
        print(f"\n== {scenario.name}: {scenario.total_ms / 1000:.0f} s of playback ==", flush=True)
        inputs = ensure_inputs(scenario, bench.cache, bench.ffmpeg)
        case = Case(inputs, bench.cache / "runs" / scenario.name)
        bench.run_case(case)
        done.append(case)
        print(f"\n{scenario.name} (media {case.media_s:.0f} s, {host['cores_used']} cores)")
        print(table(case))
        found = checks(case)
        print("\n".join(c.line() for c in found))
        args.results_dir.mkdir(parents=True, exist_ok=True)
        record = {
            "timestamp": stamp,
            "command": [sys.argv[0], *(argv if argv is not None else sys.argv[1:])],
            "git": git_rev(),
            "machine": host,
            "scenario": scenario.describe(),
            "inputs": {"folder": str(inputs.folder), "generated_s": round(inputs.generated_s, 1)},
            "rows": {k: r.to_json() for k, r in case.rows.items()},
            "renders": [{"name": r.name, **r.to_json()} for r in case.breakdown],
            "checks": [c.__dict__ for c in found],
        }
        path = args.results_dir / f"{stamp}-{kind}-{minutes:g}.json"
        path.write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"results: {path}")
    flat = flat_memory(done)
    if flat:
        print("\nmemory across lengths")
        print("\n".join(c.line() for c in flat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
