"""Output files in a local folder, one sub-folder per generation attempt.

An attempt renders into ``<root>/<token>/``; the token becomes visible (and the files
downloadable) only when the task commits it with its final state, so a crashed or failed
attempt never exposes half-written files and a re-run never mixes with an old one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def attempt_dir(self, token: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.root / token
        path.mkdir(mode=0o700)
        return path

    def discard(self, token: str) -> None:
        shutil.rmtree(self.root / token, ignore_errors=True)

    def file(self, token: str, name: str) -> Path | None:
        """The file ``name`` of the attempt ``token``, or None if absent or outside it."""
        if not token or "/" in token or token.startswith("."):
            return None
        folder = (self.root / token).resolve()
        try:
            path = (folder / name).resolve()
        except (OSError, ValueError):
            return None
        if folder not in path.parents or not path.is_file():
            return None
        return path

    def sweep(self, keep: Iterable[str]) -> list[str]:
        """Remove every attempt folder not in ``keep`` (left by crashes); returns them."""
        kept = set(keep)
        if not self.root.is_dir():
            return []
        removed = []
        for entry in os.scandir(self.root):
            if entry.name not in kept:
                shutil.rmtree(entry.path, ignore_errors=True)
                if os.path.lexists(entry.path) and not entry.is_dir():
                    os.unlink(entry.path)
                removed.append(entry.name)
        return removed
