"""Mixdown rendering only the mixed video of a manifest (the "mixdown-mix" row).

``mixdown generate`` has no switch for "the mix alone", so this does what it does (probe
every segment, plan, build the render's ffmpeg command, run it, move the file into place)
for the plan's mix render only, through Mixdown's own modules. ``MIXDOWN_PRESET`` and
``MIXDOWN_CRF`` apply as they do for ``mixdown generate``.

    python -m bench.mixonly MANIFEST --out DIR
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mixdown.domain.parameters import GenerationParams
from mixdown.generation import probe_recording
from mixdown.input_files import load_manifest
from mixdown.planning.planner import plan_generation
from mixdown.render.command import build_command
from mixdown.render.runner import run_ffmpeg
from mixdown.render.source import MediaSource
from mixdown.settings import Settings

MIX_VIDEO_TYPE = 3


def render_mix(manifest: Path, out_dir: Path) -> list[Path]:
    settings = Settings.from_env()
    recording = load_manifest(manifest)
    out_dir.mkdir(parents=True, exist_ok=True)
    source = MediaSource(out_dir / ".work", settings.max_download_bytes)
    try:
        probes = probe_recording(recording, settings, source)
        plan = plan_generation(recording, GenerationParams(), probes, settings)
        local = {i.url: str(source.local(i.url)) for i in plan.inputs}
        written: list[Path] = []
        for render in plan.renders:
            if not any(o.video_type == MIX_VIDEO_TYPE for o in render.outputs):
                continue
            cmd = build_command(settings.ffmpeg, plan, render, local, out_dir, settings.encoding)
            run_ffmpeg(cmd.argv, render.duration)
            for output, temp in zip(render.outputs, cmd.temp_paths, strict=True):
                final = out_dir / output.name
                os.replace(temp, final)
                written.append(final)
        if not written:
            raise SystemExit("mixonly: the plan has no mix (MixStream not enabled?)")
        return written
    finally:
        source.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    for path in render_mix(args.manifest, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
