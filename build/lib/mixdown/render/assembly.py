"""Rendering a chunked output: its chunks and its audio in parallel ffmpeg runs, one join.

Each chunk and the audio is an ordinary Render (``build_command`` + ``run_ffmpeg``), run
side by side in their own processes. The join is a stream copy: the concat demuxer lays
the video chunks end to end, each at exactly its planned duration, and the audio, mixed
once over the whole timeline, is muxed as it is. That is only valid when every chunk's
H.264 parameter sets (the one ``avcC`` of the joined track) are byte-identical, which is
checked before joining.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import av

from mixdown.errors import Cancelled, RenderError
from mixdown.planning.chunking import ChunkedRender
from mixdown.planning.plan import Plan, Render
from mixdown.render.command import build_command, temp_path
from mixdown.render.filtergraph import sec
from mixdown.render.progress import Progress, WeightedProgress, render_weight
from mixdown.render.runner import run_ffmpeg
from mixdown.settings import Encoding


def render_chunked(
    ffmpeg: str,
    plan: Plan,
    chunked: ChunkedRender,
    local_paths: Mapping[str, str],
    out_dir: Path,
    encoding: Encoding,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Write the joined output to its ``.part`` path in ``out_dir`` and return that path.

    ``workers`` ffmpeg runs at a time (default: all chunks and the audio at once).
    """
    work = out_dir / f".{chunked.output.name}.chunks"
    work.mkdir(parents=True, exist_ok=True)
    try:
        renders = [c.render for c in chunked.chunks]
        if chunked.audio is not None:
            renders.append(chunked.audio)
        paths = _render_all(
            ffmpeg, plan, renders, local_paths, work, encoding, workers, progress, cancel
        )
        videos = paths[: len(chunked.chunks)]
        check_parameter_sets(videos)
        audio = paths[len(chunked.chunks)] if chunked.audio is not None else None
        target = temp_path(out_dir, chunked.output)
        join(ffmpeg, chunked, videos, audio, target, cancel)
        if progress is not None:
            progress(1.0)
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_parameter_sets(videos: Sequence[Path]) -> None:
    """Raise unless every file's H.264 extradata (SPS/PPS) is the same bytes."""
    first: bytes | None = None
    for path in videos:
        with av.open(str(path)) as container:
            extradata = container.streams.video[0].codec_context.extradata or b""
        if first is None:
            first = extradata
        elif extradata != first:
            raise RenderError(
                f"{path.name}: its H.264 parameter sets differ from {videos[0].name}'s, "
                "so the chunks cannot be joined by stream copy"
            )


def join(
    ffmpeg: str,
    chunked: ChunkedRender,
    videos: Sequence[Path],
    audio: Path | None,
    target: Path,
    cancel: threading.Event | None = None,
) -> None:
    """Concatenate ``videos`` by stream copy, each at its planned length, plus ``audio``."""
    listing = target.with_name(target.name + ".ffconcat")
    lines = ["ffconcat version 1.0"]
    for chunk, path in zip(chunked.chunks, videos, strict=True):
        # The planned length, not the file's: the next chunk starts exactly there.
        lines += [f"file {_quoted(path)}", f"duration {sec(chunk.span.length)}"]
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    argv += ["-f", "concat", "-safe", "0", "-i", str(listing)]
    if audio is not None:
        argv += ["-i", str(audio)]
    argv += ["-map", "0:v:0"] + (["-map", "1:a:0"] if audio is not None else [])
    argv += ["-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(target)]
    try:
        run_ffmpeg(argv, chunked.duration, None, cancel)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        listing.unlink(missing_ok=True)


def _quoted(path: Path) -> str:
    """A path as one quoted concat-script token (a quote inside is closed and escaped)."""
    return "'" + str(path.resolve()).replace("'", "'\\''") + "'"


def _render_all(
    ffmpeg: str,
    plan: Plan,
    renders: Sequence[Render],
    local_paths: Mapping[str, str],
    work: Path,
    encoding: Encoding,
    workers: int | None,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> list[Path]:
    """Run every render; the first failure stops the others and is raised."""
    stop = threading.Event()
    # The join is quick; 1.0 waits for it to be done.
    meter = WeightedProgress([render_weight(r) for r in renders], progress, ceiling=0.99)
    paths: list[Path] = []
    runs: list[tuple[tuple[str, ...], int, Progress]] = []
    for i, render in enumerate(renders):
        cmd = build_command(ffmpeg, plan, render, local_paths, work, encoding)
        if cmd.script is not None:
            cmd.script[0].write_text(cmd.script[1], encoding="utf-8")
        paths.append(cmd.temp_paths[0])
        runs.append((cmd.argv, render.duration, meter.part(i)))
    relay = _relay(cancel, stop) if cancel is not None else None
    try:
        with ThreadPoolExecutor(max_workers=workers or len(runs)) as pool:
            futures = [pool.submit(run_ffmpeg, argv, ms, rep, stop) for argv, ms, rep in runs]
            _wait_all(futures, stop)
    finally:
        stop.set()
        if relay is not None:
            relay.join(timeout=1)
    if cancel is not None and cancel.is_set():
        raise Cancelled("generation was cancelled")
    return paths


def _wait_all(futures: list[Future[Any]], stop: threading.Event) -> None:
    """Wait for every run; on the first failure stop the rest, then raise that failure."""
    pending = set(futures)
    failure: BaseException | None = None
    while pending:
        done, pending = wait(pending, return_when="FIRST_EXCEPTION")
        for future in done:
            error = future.exception()
            if error is not None and failure is None and not isinstance(error, Cancelled):
                failure = error
                stop.set()
    if failure is not None:
        raise failure


def _relay(cancel: threading.Event, stop: threading.Event) -> threading.Thread:
    """Pass the caller's cancellation on to the runs, until they are all over."""

    def watch() -> None:
        while not stop.is_set():
            if cancel.wait(0.2):
                stop.set()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread
