"""Runs one ffmpeg command: progress from ``-progress pipe:1``, cancellation, bounded logs."""

from __future__ import annotations

import re
import subprocess
import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from typing import IO

from mixdown.errors import Cancelled, RenderError
from mixdown.render.lifeline import lifeline

_TAIL_LINES = 40
#: ffmpeg prefixes a message with its source: ``[h264 @ 0x55..]`` for a decoder,
#: ``[vist#1:0/h264 @ 0x55..]`` for the decoding of input 1's stream 0.
_TAG = re.compile(r"^\[([^\]@]+?) @ 0x[0-9a-f]+\]")
_INPUT_TAG = re.compile(r"^[av]ist#(\d+):")


class Log:
    """What ffmpeg complained about, counted by source (it runs at loglevel error, so
    every line is an error: for inputs, something the decoder skipped or concealed)."""

    def __init__(self) -> None:
        self.tail: deque[str] = deque(maxlen=_TAIL_LINES)
        #: Messages by the tag before ``@``: a decoder name or an input stream.
        self.tags: Counter[str] = Counter()

    def add(self, line: str) -> None:
        self.tail.append(line)
        found = _TAG.match(line)
        if found:
            self.tags[found.group(1)] += 1

    def by_input(self) -> dict[int, int]:
        """Messages that name the ffmpeg input they came from."""
        out: Counter[int] = Counter()
        for tag, n in self.tags.items():
            found = _INPUT_TAG.match(tag)
            if found:
                out[int(found.group(1))] += n
        return dict(out)

    def by_codec(self) -> dict[str, int]:
        """Messages from a codec that do not say which input they came from."""
        return {tag: n for tag, n in self.tags.items() if not _INPUT_TAG.match(tag)}


def run_ffmpeg(
    argv: Sequence[str],
    duration_ms: int,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
) -> Log:
    """Run to completion; ``progress`` gets 0..1 of ``duration_ms``. Raises on failure;
    otherwise returns what ffmpeg logged."""
    # Its own process group: a signal meant for the worker (Ctrl-C in a terminal) does not
    # reach ffmpeg, the worker cancels it. The lifeline kills it if this thread dies, so
    # this function waits for it in the thread that started it.
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        process_group=0,
        preexec_fn=lifeline(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    log = Log()
    drain = threading.Thread(target=_drain, args=(proc.stderr, log), daemon=True)
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
        detail = " | ".join(line.strip() for line in log.tail if line.strip())[-600:]
        raise RenderError(f"ffmpeg failed (exit {code}): {detail or 'no message'}")
    if watcher is not None:
        watcher.join(timeout=1)
    return log


def _drain(stream: IO[str], log: Log) -> None:
    for line in stream:
        log.add(line)


def _watch_cancel(proc: subprocess.Popen[str], cancel: threading.Event) -> threading.Thread:
    def watch() -> None:
        while proc.poll() is None:
            if cancel.wait(0.2):
                proc.kill()
                return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread
