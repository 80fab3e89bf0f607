"""A child tied to its thread by the lifeline is killed when that thread ends, so ffmpeg
never outlives the worker thread that waits for it (nor a worker killed outright)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mixdown.render.lifeline import lifeline

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux prctl")


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_child_dies_when_the_thread_that_started_it_ends() -> None:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> None:  # returns at once: the thread ends, the child should follow
        started.append(subprocess.Popen(["sleep", "60"], preexec_fn=lifeline(), process_group=0))

    thread = threading.Thread(target=start)
    thread.start()
    thread.join(timeout=30)
    child = started[0]
    try:
        assert os.getpgid(child.pid) == child.pid  # its own process group, too
        assert child.wait(timeout=10) == -9  # SIGKILL, long before its 60 s
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert not _running(child.pid)
