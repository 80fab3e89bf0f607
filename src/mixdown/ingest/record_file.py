"""A file nginx recorded: ``<stream name>-<Unix seconds>.flv`` in the record folder
(``record_unique``), write-locked by nginx while the publish goes on (``record_lock``).

Mixdown trusts a path from a hook only when it is one of these, in the record folder: a
forged hook cannot make it read anything else. After a crash, the file of a publish whose
end went unreported is found by its name and the time of the publish.
"""

from __future__ import annotations

import fcntl
import os
import re
import struct
from pathlib import Path

SUFFIX = ".flv"
_UNIQUE = re.compile(r"-([0-9]{1,12})\.flv")
#: How far from the publish the file's time may lie: nginx names it when the first
#: packet arrives, a moment after ``on_publish`` answered.
_SLACK_S = (2, 30)
_FLV_TAGS = (8, 9)  # audio, video; script data (18) carries no timestamp that matters


def recorded(record_dir: Path, stream_name: str, path: str) -> Path | None:
    """``path`` when it names a recording of ``stream_name`` in ``record_dir``; else None."""
    candidate = Path(path)
    if candidate.parent.resolve() != record_dir.resolve():
        return None
    rest = candidate.name.removeprefix(stream_name)
    if rest == candidate.name or not _UNIQUE.fullmatch(rest):
        return None
    return candidate


def find(record_dir: Path, stream_name: str, publish_ms: int) -> Path | None:
    """The recording of the publish of ``stream_name`` that began at ``publish_ms``."""
    publish_s, best = publish_ms // 1000, None
    for path in record_dir.glob(f"{stream_name}-*{SUFFIX}"):
        found = _UNIQUE.fullmatch(path.name.removeprefix(stream_name))
        if found is None:
            continue
        offset = int(found[1]) - publish_s
        if -_SLACK_S[0] <= offset <= _SLACK_S[1] and (best is None or abs(offset) < best[0]):
            best = (abs(offset), path)
    return best[1] if best else None


def being_written(path: Path) -> bool:
    """Whether nginx still records into the file (it holds a write lock while it does)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def first_timestamp_ms(path: Path) -> int:
    """The timestamp of the file's first audio or video tag (0 when none is read): with the
    time of the publish, it gives the wall-clock time of the first sample."""
    with path.open("rb") as f:
        header = f.read(9)
        if len(header) < 9 or header[:3] != b"FLV":
            return 0
        f.seek(struct.unpack(">I", header[5:9])[0] + 4)  # the header, then PreviousTagSize0
        for _ in range(64):
            tag = f.read(11)
            if len(tag) < 11:
                return 0
            size = int.from_bytes(tag[1:4], "big")
            if tag[0] & 0x1F in _FLV_TAGS:
                return int.from_bytes(tag[4:7], "big") | (tag[7] << 24)
            f.seek(size + 4, os.SEEK_CUR)
    return 0
