"""Shared fixtures: the ffmpeg binary every media test uses, and a real S3 server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mixdown.settings import Settings
from seaweed import Seaweed, seaweed_server


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    return Settings.from_env().ffmpeg


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    """A SeaweedFS S3 server on loopback, one per session."""
    yield from seaweed_server(tmp_path_factory.mktemp("seaweed"))
