"""Where the mix's CPU goes: decoding, compositing, x264, audio, measured by subtraction.

On the cached canonical class (generated on first use, as ``run.py`` does), the plan's mix
render is run in parts, each built by Mixdown's own ``build_command`` so that the graph is
the one ``generate`` runs:

* **decode**: every video input decoded (one thread each, as Mixdown decodes) to ``null``;
* **video graph**: the mix without its audio, frames to ``null`` (decode + compositing);
* **video graph + x264**: the same, encoded as Mixdown encodes it;
* **audio graph** and **audio graph + AAC**: the mix's sound alone, to ``null`` and encoded;
* **board only**: the mix with the whiteboard as its only tile, to ``null`` and encoded:
  what x264 costs for a canvas that barely changes.

Each row is the least CPU of ``--repeat`` runs (default 3): the CPU time of one command on a
shared machine varies by 10-20 % between runs.

    .venv/bin/python -m bench.costs [--minutes 2] [--cores 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bench.canonical import add_options, fastest, prepare
from mixdown.planning.plan import Plan, Render
from mixdown.render.command import build_command
from mixdown.settings import Settings

NULL_VIDEO = ["-c:v", "wrapped_avframe", "-f", "null", "-"]
NULL_AUDIO = ["-c:a", "pcm_f32le", "-f", "null", "-"]


def least_cpu(argv: Sequence[str], repeat: int) -> float:
    """The least CPU seconds of ``repeat`` runs of ``argv``."""
    return fastest(
        lambda: subprocess.run(list(argv), check=True, stdout=subprocess.DEVNULL), repeat
    )[1]


def to_null(argv: Sequence[str], codec_flag: str, null: list[str]) -> list[str]:
    """``argv`` with its one output's encoder and file replaced by ``null``."""
    cut = list(argv).index(codec_flag)
    return [*argv[:cut], *null]


def commands(plan: Plan, settings: Settings, out: Path) -> dict[str, list[str]]:
    mix = next(r for r in plan.renders if r.outputs[0].video_type == 3)
    output = mix.outputs[0]
    assert output.video is not None and output.audio is not None
    local = {i.url: i.url for i in plan.inputs}

    def argv(render: Render) -> list[str]:
        cmd = build_command(settings.ffmpeg, plan, render, local, out, settings.encoding)
        return list(cmd.argv)

    video = argv(Render((replace(output, audio=None),), mix.duration))
    audio = argv(Render((replace(output, video=None),), mix.duration))
    board = replace(output.video, placements=output.video.placements[:1])
    static = argv(Render((replace(output, audio=None, video=board),), mix.duration))
    inputs = [a for a, prev in zip(video[1:], video, strict=False) if prev == "-i"]
    decode = [settings.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error"]
    for path in inputs:
        decode += ["-threads", "1", "-i", path]
    for n in range(len(inputs)):
        decode += ["-map", f"{n}:v"]
    return {
        "decode": [*decode, "-f", "null", "-"],
        "video graph": to_null(video, "-c:v", NULL_VIDEO),
        "video graph + x264": video,
        "audio graph": to_null(audio, "-c:a", NULL_AUDIO),
        "audio graph + AAC": audio,
        "board only": to_null(static, "-c:v", NULL_VIDEO),
        "board only + x264": static,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_options(parser)
    case = prepare(parser.parse_args(argv), "costs")
    scenario, settings = case.scenario, case.settings
    frames = scenario.total_ms * settings.encoding.fps // 1000
    cpu = {}
    for name, cmd in commands(case.plan, settings, case.out).items():
        cpu[name] = least_cpu(cmd, case.repeat)
        print(f"  {name:22s} {cpu[name]:7.2f} CPU-s", flush=True)
    parts = {
        "decoding the video inputs": cpu["decode"],
        "compositing (video graph - decode)": cpu["video graph"] - cpu["decode"],
        "x264 (mix)": cpu["video graph + x264"] - cpu["video graph"],
        "x264 (board only: a canvas that barely changes)": (
            cpu["board only + x264"] - cpu["board only"]
        ),
        "audio decode + graph": cpu["audio graph"],
        "AAC encoding": cpu["audio graph + AAC"] - cpu["audio graph"],
    }
    whole = cpu["video graph + x264"] + cpu["audio graph + AAC"]
    print(f"{scenario.name}: {frames} frames; the mix's parts add up to {whole:.2f} CPU-s")
    for name, value in parts.items():
        share = f"{100 * value / whole:5.1f} %" if "board" not in name else "   -   "
        print(f"  {name:48s} {value:7.2f} CPU-s {share} {1000 * value / frames:6.2f} ms/frame")
    return 0


if __name__ == "__main__":
    sys.exit(main())
