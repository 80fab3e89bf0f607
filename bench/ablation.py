"""What each of issue 4's changes gains, each measured against its own "before" in one run.

On the cached canonical class (generated on first use, as ``run.py`` does), one run each:

* per-stream videos: spliced (``render/splice``) against encoded (the ordinary render);
* renders on two lanes against one (``MIXDOWN_RENDER_LANES``), all outputs;
* a mono microphone's mp3 as one channel against two;
* the mix's x264 tuning (``me=dia:subme=1``) against plain ``veryfast``;
* small tiles scaled ``bilinear`` against ``bicubic`` and ``fast_bilinear``;
* one decoding thread per input against ffmpeg's frame threads;
* AAC's fast coder against the default two-loop search; LAME quality 7 against its default.

Each row is the fastest of ``--repeat`` runs (default 3): on a shared machine the CPU time of
one command varies by 10-20 % between runs, more than several of these changes gain.

    .venv/bin/python -m bench.ablation [--minutes 2] [--cores 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from bench.canonical import add_options, fastest, prepare
from mixdown.planning.plan import Plan, Render
from mixdown.render.command import build_command
from mixdown.render.splice import splice
from mixdown.settings import Settings

REPEAT = 3


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """The least wall and CPU seconds of ``run`` over ``--repeat`` runs."""
    return fastest(run, REPEAT)


def ffmpeg_run(argv: Sequence[str]) -> None:
    subprocess.run(list(argv), check=True, stdout=subprocess.DEVNULL)


def line(what: str, wall: float, cpu: float, size: int | None = None) -> None:
    mb = f"{size / 1e6:8.2f} MB" if size is not None else ""
    print(f"  {what:44s} {wall:7.1f} s wall {cpu:7.1f} s CPU {mb}", flush=True)


def per_stream(plan: Plan, settings: Settings, local: dict[str, str], out: Path) -> None:
    print("per-stream videos: spliced against encoded")
    for render in plan.renders:
        first = render.outputs[0]
        if not first.splice:
            continue
        path = out / f"spliced-{first.name}"
        wall, cpu = timed(lambda f=first, p=path: splice(plan, f, local, p))
        line(f"splice {first.name}", wall, cpu, path.stat().st_size)
        encoded = Render((replace(first, splice=False),), render.duration)
        cmd = build_command(settings.ffmpeg, plan, encoded, local, out, settings.encoding)
        wall, cpu = timed(lambda c=cmd: ffmpeg_run(c.argv))
        line(f"encode {first.name}", wall, cpu, cmd.temp_paths[0].stat().st_size)


def lanes(manifest: Path, out: Path) -> None:
    print("all outputs (mixdown generate): renders on 1 lane against 2")
    for n in (1, 2):
        env = {**os.environ, "MIXDOWN_RENDER_LANES": str(n)}
        argv = [sys.executable, "-m", "mixdown.cli", "generate", str(manifest)]
        argv += ["--out", str(out / f"lanes{n}")]
        wall, cpu = timed(lambda a=argv, e=env: subprocess.run(a, check=True, env=e))
        line(f"{n} lane(s)", wall, cpu)


def mono_mp3(plan: Plan, settings: Settings, local: dict[str, str], out: Path) -> None:
    print("a mono microphone's mp3: one channel against two")
    render = next(r for r in plan.renders if r.outputs[0].format == "mp3")
    stereo = replace(plan, inputs=tuple(replace(i, channels=2) for i in plan.inputs))
    for name, p in (("mono (1 channel, 64k)", plan), ("as stereo (2 channels, 128k)", stereo)):
        cmd = build_command(settings.ffmpeg, p, render, local, out, settings.encoding)
        wall, cpu = timed(lambda c=cmd: ffmpeg_run(c.argv))
        line(f"{render.outputs[0].name} {name}", wall, cpu, cmd.temp_paths[0].stat().st_size)
    cmd = build_command(settings.ffmpeg, plan, render, local, out, settings.encoding)
    default_lame = _without(cmd.argv, "-compression_level", "7")
    wall, cpu = timed(lambda: ffmpeg_run(default_lame))
    line(f"{render.outputs[0].name} LAME default quality", wall, cpu)


def mix_variants(plan: Plan, settings: Settings, local: dict[str, str], out: Path) -> None:
    print("the mix: x264 tuning and tile scaler")
    mix = next(r for r in plan.renders if r.outputs[0].video_type == 3)
    base = build_command(settings.ffmpeg, plan, mix, local, out, settings.encoding)
    plain = replace(settings.encoding, x264_params="")
    variants: list[tuple[str, list[str]]] = [
        ("as shipped (veryfast + dia/subme 1, bilinear)", list(base.argv)),
        (
            "plain veryfast",
            list(build_command(settings.ffmpeg, plan, mix, local, out, plain).argv),
        ),
        ("bicubic tiles", _scaler(base.argv, "bicubic")),
        ("fast_bilinear tiles", _scaler(base.argv, "fast_bilinear")),
        ("decoders on frame threads", _without(base.argv, "-threads", "1")),
        ("AAC two-loop coder", _without(base.argv, "-aac_coder", "fast")),
    ]
    for name, argv in variants:
        wall, cpu = timed(lambda a=argv: ffmpeg_run(a))
        line(name, wall, cpu, Path(argv[-1]).stat().st_size)


def _without(argv: Sequence[str], option: str, value: str) -> list[str]:
    """``argv`` less every ``option value`` pair."""
    out: list[str] = []
    skip = False
    for a, b in zip(argv, [*argv[1:], ""], strict=True):
        if skip:
            skip = False
        elif a == option and b == value:
            skip = True
        else:
            out.append(a)
    return out


def _scaler(argv: Sequence[str], flags: str) -> list[str]:
    out = list(argv)
    at = out.index("-filter_complex") + 1 if "-filter_complex" in out else None
    if at is not None:
        out[at] = out[at].replace("flags=bilinear", f"flags={flags}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_options(parser)
    case = prepare(parser.parse_args(argv), "ablation")
    global REPEAT
    REPEAT = case.repeat
    plan, settings, out = case.plan, case.settings, case.out
    local = {i.url: i.url for i in plan.inputs}
    print(f"{case.scenario.name}: {case.scenario.total_ms / 1000:.0f} s of playback")
    per_stream(plan, settings, local, out)
    mono_mp3(plan, settings, local, out)
    mix_variants(plan, settings, local, out)
    lanes(case.inputs.manifest, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
