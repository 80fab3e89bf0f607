"""The generation engine as the jobs see it: a small interface, the real one behind it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from mixdown.domain.media import MediaInfo
from mixdown.domain.parameters import GenerationParams
from mixdown.domain.recording import Recording
from mixdown.domain.result import GenerationResult
from mixdown.render.source import Reach
from mixdown.settings import Settings


class Engine(Protocol):
    def probe(self, recording: Recording) -> dict[str, MediaInfo]:
        """Media facts of every segment, keyed by URL; MediaError names a bad file."""
        ...

    def generate(
        self,
        recording: Recording,
        params: GenerationParams,
        out_dir: Path,
        *,
        probes: Mapping[str, MediaInfo],
        progress: Callable[[float], None],
        cancel: threading.Event,
    ) -> GenerationResult:
        """Render into ``out_dir``; each VideoInfo's url is its file's path inside
        ``out_dir`` and its size the file's."""
        ...


class LocalEngine:
    """``mixdown.generation`` in this process, ffmpeg as a subprocess."""

    def __init__(self, settings: Settings, reach: Reach | None = None) -> None:
        self._settings = settings
        #: What may be read: the service's host policy (redirects included), S3 access.
        self._reach = reach or Reach()

    def probe(self, recording: Recording) -> dict[str, MediaInfo]:
        from mixdown.generation import probe_recording

        return probe_recording(recording, self._settings, reach=self._reach)

    def generate(
        self,
        recording: Recording,
        params: GenerationParams,
        out_dir: Path,
        *,
        probes: Mapping[str, MediaInfo],
        progress: Callable[[float], None],
        cancel: threading.Event,
    ) -> GenerationResult:
        from mixdown.generation import generate

        return generate(
            recording,
            params,
            out_dir,
            self._settings,
            probes=probes,
            progress=progress,
            cancel=cancel,
            reach=self._reach,
        )
