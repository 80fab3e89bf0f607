"""Run one command under measurement, and describe the machine.

* wall: ``time.monotonic`` around the run;
* CPU and peak RSS: ``os.wait4`` on the child gives the rusage of its whole process tree
  (every descendant it waited for): user + sys summed, and ``ru_maxrss`` = the largest single
  process (the same as ``/usr/bin/time``; ffmpeg and Mixdown's Python are separate processes);
* other load: busy ticks of the CPUs this process may run on, from ``/proc/stat``, less what
  the child tree and this process used. A run where others used more than
  ``UNCLEAN_SHARE`` of those cores' capacity is marked unclean (the reference method).
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

UNCLEAN_SHARE = 0.05


@dataclass(frozen=True)
class Sample:
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float
    #: CPU-seconds other processes used on our cores during the run; None where unknown.
    others_cpu_s: float | None
    cores: int
    returncode: int

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    @property
    def others_share(self) -> float | None:
        """Other processes' use of our cores' capacity during the run, 0..1."""
        if self.others_cpu_s is None or self.wall_s <= 0:
            return None
        return self.others_cpu_s / (self.wall_s * self.cores)

    @property
    def clean(self) -> bool:
        share = self.others_share
        return share is None or share <= UNCLEAN_SHARE

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(cpu_s=self.cpu_s, others_share=self.others_share, clean=self.clean)
        return data


def cores() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def _busy_ticks(cpus: Sequence[int]) -> int | None:
    """Busy jiffies (user nice system irq softirq steal) of ``cpus`` since boot."""
    wanted = set(cpus)
    total = 0
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            for line in stat:
                name, _, rest = line.partition(" ")
                if not (name.startswith("cpu") and name[3:].isdigit()):
                    continue
                if int(name[3:]) in wanted:
                    v = [int(x) for x in rest.split()]
                    total += v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
    except (OSError, ValueError, IndexError):
        return None
    return total


def run_measured(
    argv: Sequence[str],
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float | None = None,
) -> Sample:
    """Run ``argv`` to completion (output to ``log``) and measure it."""
    cpus = cores()
    tick = os.sysconf("SC_CLK_TCK")
    log.parent.mkdir(parents=True, exist_ok=True)
    own_before = time.process_time()
    busy_before = _busy_ticks(cpus)
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,  # one process group: a time-out ends the whole tree
        )
        timer = None
        if timeout_s is not None:
            timer = threading.Timer(timeout_s, _kill_group, (proc.pid,))
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            _kill_group(proc.pid)
            proc.wait()
            raise
        finally:
            if timer is not None:
                timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    busy_after = _busy_ticks(cpus)
    own = time.process_time() - own_before
    child = usage.ru_utime + usage.ru_stime
    others = None
    if busy_before is not None and busy_after is not None:
        others = max(0.0, (busy_after - busy_before) / tick - child - own)
    return Sample(
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        others_cpu_s=others,
        cores=len(cpus),
        returncode=proc.returncode,
    )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def machine(ffmpeg_version: str) -> dict[str, Any]:
    """What the numbers were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    load = os.getloadavg()
    return {
        "cpu_model": model,
        "cores_used": len(cores()),
        "cores_online": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ffmpeg": ffmpeg_version,
        "loadavg_at_start": [round(x, 2) for x in load],
    }
