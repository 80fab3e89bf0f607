"""Where a data folder keeps attempts: rendering in ``scratch/<token>``, kept in the output
store under ``outputs/<SdkAppId>/<TaskId>/<token>``."""

from __future__ import annotations

from pathlib import Path


def kept_attempts(outputs: Path) -> list[Path]:
    """Each attempt folder in the output store, by token."""
    return sorted((p for p in outputs.glob("*/*/*") if p.is_dir()), key=lambda p: p.name)


def scratch_attempts(scratch: Path) -> list[Path]:
    """Each attempt still rendering (or left by a crash) in the scratch folder."""
    return sorted(scratch.iterdir()) if scratch.is_dir() else []
