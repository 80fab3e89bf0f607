"""Runs one ffmpeg command: progress from ``-progress pipe:1``, cancellation, bounded logs."""

from __future__ import annotations

import subprocess
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import IO

from mixdown.errors import Cancelled, RenderError

_TAIL_LINES = 40


def run_ffmpeg(
    argv: Sequence[str],
    duration_ms: int,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Run to completion; ``progress`` gets 0..1 of ``duration_ms``. Raises on failure."""
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    assert proc.stdout is not None and proc.stderr is not None
    tail: deque[str] = deque(maxlen=_TAIL_LINES)
    drain = threading.Thread(target=_drain, args=(proc.stderr, tail), daemon=True)
    drain.start()
    watcher = _watch_cancel(proc, cancel) if cancel is not None else None
    try:
        for line in proc.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and progress and duration_ms > 0 and value.isdigit():
                progress(min(1.0, int(value) / 1000 / duration_ms))
        code = proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        drain.join(timeout=5)
        proc.stdout.close()
        proc.stderr.close()
    if cancel is not None and cancel.is_set():
        raise Cancelled("generation was cancelled")
    if code != 0:
        detail = " | ".join(line.strip() for line in tail if line.strip())[-600:]
        raise RenderError(f"ffmpeg failed (exit {code}): {detail or 'no message'}")
    if watcher is not None:
        watcher.join(timeout=1)


def _drain(stream: IO[str], tail: deque[str]) -> None:
    for line in stream:
        tail.append(line)


def _watch_cancel(proc: subprocess.Popen[str], cancel: threading.Event) -> threading.Thread:
    def watch() -> None:
        while proc.poll() is None:
            if cancel.wait(0.2):
                proc.kill()
                return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread
