"""The two object stores under test, each with what the contract tests need to see inside it:
writes left half-done, and a way to make the next put fail part of the way through."""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from boto3.s3.transfer import TransferConfig

from mixdown.storage.connection import S3Settings
from mixdown.storage.folder import FolderStore
from mixdown.storage.keys import WRITING_MARK
from mixdown.storage.objects import ObjectStore
from mixdown.storage.s3 import S3Store
from seaweed import Seaweed

MIB = 1 << 20
#: S3's smallest part: a put of more than this goes up in parts (multipart upload).
PART = 5 * MIB


@dataclass
class Backend:
    name: str
    store: ObjectStore
    #: Every trace of a write not finished: hidden temporary files, open multipart uploads.
    leftovers: Callable[[], list[str]]
    #: Inside it, every put fails after part of the object has been written.
    failing_midway: Callable[[], AbstractContextManager[None]]


def folder_backend(root: Path) -> Backend:
    def leftovers() -> list[str]:
        return [f for _, _, files in os.walk(root) for f in files if f.startswith(WRITING_MARK)]

    @contextmanager
    def failing_midway() -> Iterator[None]:
        def some_then_fail(src: IO[bytes], dst: IO[bytes], length: int = 0) -> None:
            dst.write(src.read(MIB))
            raise OSError(errno.EIO, "injected failure midway")

        with pytest.MonkeyPatch.context() as patch:
            # The folder store copies with shutil; this copy stops part of the way through.
            patch.setattr(shutil, "copyfileobj", some_then_fail)
            yield

    return Backend("folder", FolderStore(root), leftovers, failing_midway)


def s3_backend(seaweed: Seaweed, **options: Any) -> Backend:
    """A store under a prefix of its own in the test bucket, so tests never meet."""
    client = S3Settings.from_env(seaweed.env()).client()
    transfer = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART)
    prefix = f"t-{uuid.uuid4().hex[:12]}/"
    store = S3Store(client, seaweed.bucket, prefix, transfer=transfer, **options)

    def leftovers() -> list[str]:
        open_uploads = client.list_multipart_uploads(Bucket=seaweed.bucket, Prefix=prefix)
        return [u.get("Key", "") for u in open_uploads.get("Uploads", [])]

    @contextmanager
    def failing_midway() -> Iterator[None]:
        sent: list[int] = []

        def second_part_fails(**_: object) -> None:
            sent.append(1)
            if len(sent) >= 2:
                raise OSError(errno.EIO, "injected failure midway")

        event = "before-send.s3.UploadPart"
        client.meta.events.register(event, second_part_fails)
        try:
            yield
        finally:
            client.meta.events.unregister(event, second_part_fails)
            sent.clear()

    return Backend("s3", store, leftovers, failing_midway)
