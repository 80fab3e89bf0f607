"""A child process's lifeline to the thread that started it: on Linux, the kernel sends the
child SIGKILL when that thread ends (``PR_SET_PDEATHSIG``), so a worker killed outright
(``kill -9``, the OOM killer) leaves no ffmpeg running on. Elsewhere there is none.

The signal follows the *thread*, not the process: a child must be started by a thread that
lives as long as the child should (``runner.run_ffmpeg`` waits for its ffmpeg in the thread
that started it).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        # Resolved here, in the parent: between fork and exec the child only makes the call.
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


_PRCTL = _prctl()


def lifeline() -> Callable[[], None] | None:
    """A ``preexec_fn`` that ties the child to the calling thread; None where unsupported."""
    if _PRCTL is None:
        return None
    prctl, parent = _PRCTL, os.getpid()

    def tie() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the tie: never run orphaned
            os._exit(1)

    return tie
