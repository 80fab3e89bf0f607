"""Mixdown's speed, memory and quality against ffmpeg baselines, measured in one run.

    .venv/bin/python bench/run.py [--class canonical|dynamic|all] [--minutes 10 60]
                                  [--repeat N] [--only floor,baseline,mixdown,mixdown-mix,ssim]

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
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import av  # noqa: E402

from bench import commands  # noqa: E402
from bench.inputs import ClassInputs, ensure_inputs, ffmpeg_version  # noqa: E402
from bench.measure import UNCLEAN_SHARE, Sample, machine, run_measured  # noqa: E402
from bench.scenario import KINDS, ClassKind, Scenario, make_scenario  # noqa: E402
from mixdown.generation import plan_from_manifest  # noqa: E402
from mixdown.render.command import build_command  # noqa: E402
from mixdown.settings import Encoding, Settings  # noqa: E402

ROWS = ("floor", "floor-strict", "baseline", "mixdown", "mixdown-mix", "ssim", "renders")
#: Rows whose mix is compared with the reference (the floors' mixes are not the same picture).
QUALITY_ROWS = ("baseline", "mixdown", "mixdown-mix")
DEFAULT_ROWS = ("floor", "baseline", "mixdown", "mixdown-mix", "ssim")
DEFAULT_MINUTES = (10.0, 60.0)
#: Targets (issue 4), checked on the numbers of one run.
TARGET_VS_BASELINE = 1.0
TARGET_VS_FLOOR = 1.25
TARGET_RTF = 10.0
TARGET_RSS_MB = 500.0
TARGET_SSIM = 0.97
#: "The same" peak RSS for the 10- and 60-minute class: within this factor.
RSS_FLAT = 1.10
SETTINGS_ENV = ("MIXDOWN_PRESET", "MIXDOWN_CRF")


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
        sc, folder = case.scenario, case.inputs.folder
        work = case.work
        if "floor" in self.only:
            out = work / "floor"
            argv = commands.floor_argv(self.ffmpeg, sc, folder, out, self.encoding)
            row = self.measure(case, "floor", argv, out)
            row.mix = out / "mix.mp4"
            case.rows["floor"] = row
        if "floor-strict" in self.only:
            out = work / "floor-strict"
            argv = commands.floor_argv(self.ffmpeg, sc, folder, out, self.encoding, tiles=False)
            row = self.measure(case, "floor-strict", argv, out)
            row.mix = out / "mix.mp4"
            case.rows["floor-strict"] = row
        if "baseline" in self.only:
            out = work / "baseline"
            argv = commands.baseline_argv(self.ffmpeg, sc, folder, out / "mix.mp4")
            row = self.measure(case, "baseline", argv, out)
            row.mix = out / "mix.mp4"
            row.extra["argv"] = argv
            case.rows["baseline"] = row
        if "mixdown" in self.only:
            out = work / "mixdown"
            argv = [sys.executable, "-m", "mixdown.cli", "generate", str(case.inputs.manifest)]
            row = self.measure(case, "mixdown", [*argv, "--out", str(out)], out)
            row.mix = _find_mix(out)
            row.extra["outputs"] = _result_outputs(out)
            case.rows["mixdown"] = row
        if "mixdown-mix" in self.only:
            case.rows["mixdown-mix"] = self.mix_only(case, "mixdown-mix", self.env)
        if "ssim" in self.only:
            self.quality(case)
        if "renders" in self.only:
            self.renders(case)
        for row in case.rows.values():
            if row.mix is not None and row.mix.is_file():
                row.media = media_info(row.mix)

    def mix_only(
        self, case: Case, name: str, env: Mapping[str, str], attempts: int | None = None
    ) -> Row:
        out = case.work / name
        argv = [sys.executable, str(BENCH / "mixonly.py"), str(case.inputs.manifest)]
        row = self.measure(case, name, [*argv, "--out", str(out)], out, env, attempts)
        row.mix = _find_mix(out)
        return row

    def quality(self, case: Case) -> None:
        """SSIM of each mix against Mixdown's mix at x264 medium (same timeline, same pixels)."""
        mine = next(
            (r for k in ("mixdown", "mixdown-mix") if (r := case.rows.get(k)) and r.mix), None
        )
        if mine is None:
            mine = self.mix_only(case, "mixdown-mix", self.env, attempts=1)
            case.rows["mixdown-mix"] = mine
        ref = self.mix_only(case, "reference", {**self.env, "MIXDOWN_PRESET": "medium"}, 1)
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
                script = str(BENCH / "spliceone.py")
                argv = [sys.executable, script, str(case.inputs.manifest), first.name]
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

    def judge(value: float | None, ok: Callable[[float], bool]) -> bool | None:
        return None if value is None else ok(value)

    r = ratio("mixdown", "baseline")
    out.append(Check("mixdown all / baseline (wall)", r, "<= 1.00", judge(r, lambda v: v <= 1)))
    r = ratio("mixdown", "floor")
    out.append(Check("mixdown all / floor (wall)", r, "<= 1.25", judge(r, lambda v: v <= 1.25)))
    r = ratio("mixdown-mix", "baseline")
    out.append(Check("mixdown mix / baseline (wall)", r, "info", None))
    md = rows.get("mixdown")
    rtf = case.media_s / md.wall() if md and md.ok else None
    target_rtf = case.scenario.kind == "canonical"
    out.append(
        Check(
            "mixdown all, real-time factor",
            rtf,
            ">= 10x" if target_rtf else "info",
            judge(rtf, lambda v: v >= TARGET_RTF) if target_rtf else None,
        )
    )
    rss = md.rss() if md and md.ok else None
    out.append(Check("mixdown all, peak RSS MB", rss, "<= 500", judge(rss, lambda v: v <= 500)))
    mine = rows.get("mixdown") or rows.get("mixdown-mix")
    score = mine.extra.get("ssim") if mine else None
    out.append(Check("mixdown mix SSIM vs medium", score, ">= 0.97", judge(score, _ssim_ok)))
    base = rows.get("baseline")
    mk = mine.media.get("video_kbps") if mine else None
    bk = base.media.get("video_kbps") if base else None
    rate = mk / bk if mk and bk else None
    out.append(Check("mix bitrate / baseline's", rate, "<= 1.00", judge(rate, lambda v: v <= 1)))
    return out


def _ssim_ok(v: float) -> bool:
    return v >= TARGET_SSIM


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
                f"<= {RSS_FLAT:.2f}",
                ratio <= RSS_FLAT,
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
