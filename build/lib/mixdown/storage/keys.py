"""Object keys: '/'-separated relative names, the same rules for a folder and for S3.

The rules are stricter than S3's so that every key is also a safe relative path under a
folder: no way up ('..'), no absolute path, no empty segment (S3 would keep 'a//b' apart
from 'a/b', a folder would not).
"""

from __future__ import annotations

from mixdown.errors import InvalidParameterValue

#: S3's own limit, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
#: Marks a folder store's files still being written: no key segment may start with it.
WRITING_MARK = ".~writing-"


def object_key(key: str) -> str:
    """``key`` when it is a valid object key; InvalidParameterValue naming it otherwise."""
    problem = _problem(key)
    if problem:
        raise InvalidParameterValue(f"object key {key!r}: {problem}")
    return key


def key_prefix(prefix: str) -> str:
    """A folder-like prefix as stored: "" (everything) or valid segments and a final '/'.

    Prefixes match whole segments: 'attempts/ab' covers 'attempts/ab/x.mp4' but not
    'attempts/abc/x.mp4', so deleting one attempt's objects never touches another's.
    """
    bare = prefix[:-1] if prefix.endswith("/") else prefix
    if not bare:
        return ""
    problem = _problem(bare)
    if problem:
        raise InvalidParameterValue(f"key prefix {prefix!r}: {problem}")
    return bare + "/"


def _problem(key: str) -> str:
    if not key:
        return "empty"
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return f"longer than {MAX_KEY_BYTES} bytes"
    if key.startswith("/"):
        return "starts with '/' (keys are relative)"
    if any(ord(c) < 0x20 or c == "\x7f" for c in key):
        return "contains a control character"
    for segment in key.split("/"):
        if not segment:
            return "has an empty segment ('//' or a trailing '/')"
        if segment in (".", ".."):
            return f"has a {segment!r} segment"
        if segment.startswith(WRITING_MARK):
            return f"a segment starts with {WRITING_MARK!r}, kept for writes in progress"
    return ""
