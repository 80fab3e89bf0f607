"""Shared fixtures: the ffmpeg binary every media test uses."""

from __future__ import annotations

import pytest

from mixdown.settings import Settings


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    return Settings.from_env().ffmpeg
