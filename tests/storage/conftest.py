"""A SeaweedFS S3 server shared by the storage tests (one per session)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from seaweed import Seaweed, seaweed_server


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    yield from seaweed_server(tmp_path_factory.mktemp("seaweed"))
