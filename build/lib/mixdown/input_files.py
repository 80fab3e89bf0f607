"""The documents a local generation starts from: the manifest file and the params file.

The one place that reads them from disk. What they say is read by ``mixdown.tiw.documents``,
which does no I/O; here a file's folder becomes the base of the relative paths it names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mixdown.domain.parameters import GenerationParams
from mixdown.domain.recording import Recording
from mixdown.errors import InvalidParameter, ManifestError, MixdownError
from mixdown.tiw.documents import read_manifest, read_task_params, with_resolved_image


def load_manifest(path: Path) -> Recording:
    """Read a manifest file; relative segment paths are taken from its folder."""
    data = _read_json(path, "manifest", ManifestError)
    return read_manifest(data, base_dir=path.resolve().parent)


def load_params(path: Path | None) -> GenerationParams:
    """A CreateVideoGenerationTask-shaped JSON file; absent: no overrides. A relative
    Concat.Image is taken from its folder."""
    if path is None:
        return GenerationParams()
    data = _read_json(path, "parameters", InvalidParameter)
    return with_resolved_image(read_task_params(data), path.resolve().parent)


def _read_json(path: Path, what: str, error: type[MixdownError]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
