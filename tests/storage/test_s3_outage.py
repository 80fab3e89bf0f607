"""S3 away for a while, on real parts: a SeaweedFS behind a relay that the test cuts (new
connections refused, open ones reset) and restores on the same port. A call made meanwhile
waits and succeeds once S3 is back; one that outlasts the window fails naming the object.

Each test learns that a call is waiting for S3 from the retry's own pause (its injected
sleep), never from how long it has waited.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from mixdown.errors import MediaError, StorageError
from mixdown.render.source import MediaSource
from mixdown.storage.connection import S3Settings
from mixdown.storage.outputs import Attempt, Outputs
from mixdown.storage.retry import Retry
from mixdown.storage.s3 import S3Store
from relay import Relay
from seaweed import Seaweed

#: Far longer than any wait here: a test that needs it all has failed anyway.
DEADLINE_S = 60.0


class Pausing:
    """The retry's sleep, telling the test when a call first waits for S3."""

    def __init__(self) -> None:
        self.waiting = threading.Event()

    def __call__(self, seconds: float) -> None:
        self.waiting.set()
        time.sleep(seconds)


class Running:
    """A call on a thread of its own: its value or its failure once it returns."""

    def __init__(self, call: Callable[[], object]) -> None:
        self.error: BaseException | None = None
        self._call = call
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._call()
        except BaseException as exc:
            self.error = exc

    def join(self) -> None:
        self._thread.join(DEADLINE_S)
        assert not self._thread.is_alive(), "the call never returned"
        if self.error is not None:
            raise self.error


@pytest.fixture
def relay(seaweed: Seaweed) -> Iterator[Relay]:
    port = urlsplit(seaweed.endpoint).port
    assert port is not None
    with Relay(port) as relay:
        yield relay


def _store(seaweed: Seaweed, relay: Relay, retry: Retry) -> S3Store:
    """A store under its own prefix, reaching S3 through the relay."""
    client = S3Settings.from_env(seaweed.env(AWS_ENDPOINT_URL=relay.endpoint)).client()
    return S3Store(client, seaweed.bucket, f"outage-{uuid.uuid4().hex[:12]}/", retry=retry)


def _direct(seaweed: Seaweed) -> S3Store:
    """The same bucket without the relay: what is really there."""
    return S3Store(S3Settings.from_env(seaweed.env()).client(), seaweed.bucket)


def _payload(path: Path, size: int) -> Path:
    path.write_bytes(random.Random(size).randbytes(size))
    return path


def test_a_put_while_s3_is_away_lands_whole_once_it_is_back(
    seaweed: Seaweed, relay: Relay, tmp_path: Path
) -> None:
    pausing = Pausing()
    store = _store(seaweed, relay, Retry(window_s=DEADLINE_S, sleep=pausing))
    source = _payload(tmp_path / "part.mp4", 3 << 20)

    relay.cut()
    put = Running(lambda: store.put("parts/run/part.mp4", source))
    assert pausing.waiting.wait(DEADLINE_S), "the put never waited for S3"
    relay.restore()
    put.join()

    store.get("parts/run/part.mp4", tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == source.read_bytes()
    assert _direct(seaweed).keys(store.prefix) == [f"{store.prefix}parts/run/part.mp4"]
    store.delete_prefix("")
    assert _direct(seaweed).keys(store.prefix) == []


def test_a_read_a_listing_and_a_delete_while_s3_is_away_wait_for_it(
    seaweed: Seaweed, relay: Relay, tmp_path: Path
) -> None:
    store = _store(seaweed, relay, Retry(window_s=0))
    source = _payload(tmp_path / "chunk.mp4", 1 << 20)
    store.put("a/chunk.mp4", source)
    calls: list[Callable[[], object]] = [
        lambda: store.get("a/chunk.mp4", tmp_path / "back"),
        lambda: store.keys("a"),
        lambda: store.delete_prefix("a"),
    ]
    for call in calls:
        pausing = Pausing()  # a fresh signal for each call
        store.retry = Retry(window_s=DEADLINE_S, sleep=pausing)
        relay.cut()
        running = Running(call)
        assert pausing.waiting.wait(DEADLINE_S), "the call never waited for S3"
        relay.restore()
        running.join()
    assert (tmp_path / "back").read_bytes() == source.read_bytes()
    assert _direct(seaweed).keys(store.prefix) == []


def test_an_s3_segment_read_while_s3_is_away_is_read_whole_once_it_is_back(
    seaweed: Seaweed, relay: Relay, tmp_path: Path
) -> None:
    store = _store(seaweed, relay, Retry(window_s=0))
    segment = _payload(tmp_path / "teacher.mp4", 2 << 20)
    store.put("rec/teacher.mp4", segment)
    pausing = Pausing()
    source = MediaSource(
        tmp_path / "work",
        max_bytes=10 << 20,
        s3=store.client,
        s3_retry=Retry(window_s=DEADLINE_S, sleep=pausing),
    )
    url = f"s3://{store.bucket}/{store.prefix}rec/teacher.mp4"

    relay.cut()
    read = Running(lambda: source.local(url))
    assert pausing.waiting.wait(DEADLINE_S), "the read never waited for S3"
    relay.restore()
    read.join()

    assert source.local(url).read_bytes() == segment.read_bytes()
    store.delete_prefix("")


class CutMidway:
    """An answer's body that cuts the relay once its first chunk has been read: the rest
    is far more than loopback's socket buffers hold, so the read meets the reset."""

    def __init__(self, body: Any, relay: Relay) -> None:
        self._body, self._relay = body, relay

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self._body.read(size)
        if self._relay.cuts == 0:
            self._relay.cut(wait=False)
        return chunk

    def close(self) -> None:
        self._body.close()


def test_a_segment_cut_off_midway_is_read_again_from_the_start(
    seaweed: Seaweed, relay: Relay, tmp_path: Path
) -> None:
    store = _store(seaweed, relay, Retry(window_s=0))
    segment = _payload(tmp_path / "long.mp4", 48 << 20)
    _direct(seaweed).put(f"{store.prefix}rec/long.mp4", segment)
    pauses: list[float] = []

    def restore_on_pause(seconds: float) -> None:
        pauses.append(seconds)
        relay.restore()
        time.sleep(seconds)

    def cut_midway(parsed: dict[str, Any], **_: object) -> None:
        if relay.cuts == 0:
            parsed["Body"] = CutMidway(parsed["Body"], relay)

    store.client.meta.events.register("after-call.s3.GetObject", cut_midway)
    source = MediaSource(
        tmp_path / "work",
        max_bytes=64 << 20,
        s3=store.client,
        s3_retry=Retry(window_s=DEADLINE_S, sleep=restore_on_pause),
    )
    try:
        local = source.local(f"s3://{store.bucket}/{store.prefix}rec/long.mp4")
    finally:
        store.client.meta.events.unregister("after-call.s3.GetObject", cut_midway)

    assert relay.cuts == 1 and len(pauses) >= 1
    assert local.read_bytes() == segment.read_bytes()
    _direct(seaweed).delete_prefix(store.prefix)


def test_s3_away_longer_than_the_window_fails_naming_the_object(
    seaweed: Seaweed, relay: Relay, tmp_path: Path
) -> None:
    store = _store(seaweed, relay, Retry(window_s=1))
    source = _payload(tmp_path / "mix.mp4", 1000)
    store.put("seg.mp4", source)
    media = MediaSource(tmp_path / "work", 1 << 20, s3=store.client, s3_retry=Retry(window_s=1))
    relay.cut()

    with pytest.raises(StorageError) as failed:
        store.put("out/mix.mp4", source)
    assert failed.value.code == "FailedOperation.Storage"
    assert failed.value.message.startswith(f"s3://{store.bucket}/{store.prefix}out/mix.mp4: ")
    assert "Could not connect to the endpoint URL" in failed.value.message
    assert failed.value.message.endswith("still failing after retrying for 1 s)")

    url = f"s3://{store.bucket}/{store.prefix}seg.mp4"
    with pytest.raises(MediaError, match=r"still failing after retrying for 1 s\)$") as unread:
        media.local(url)
    assert unread.value.message.startswith(f"{url}: download failed (")
    assert not (tmp_path / "work").exists() or list((tmp_path / "work").iterdir()) == []

    relay.restore()
    assert _direct(seaweed).keys(store.prefix) == [f"{store.prefix}seg.mp4"]  # nothing half-made
    store.delete_prefix("")


def test_an_attempt_discarded_while_s3_is_away_keeps_its_failure_and_leaves_no_scratch(
    seaweed: Seaweed, relay: Relay, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = _store(seaweed, relay, Retry(window_s=0))
    outputs = Outputs(store, tmp_path / "scratch", "http://127.0.0.1")
    failed, later = Attempt(1400000001, "tsk", "failed"), Attempt(1400000001, "tsk", "later")
    _payload(outputs.attempt_dir(failed) / "part.mp4", 1000)
    store.put(failed.key("parts/run/part.mp4"), tmp_path / "scratch" / "failed" / "part.mp4")
    relay.cut()

    outputs.discard(failed)  # after a failure: it must not raise one of its own

    assert not (tmp_path / "scratch" / "failed").exists()
    [warning] = [r for r in caplog.records if r.getMessage() == "attempt's files not removed"]
    reason = getattr(warning, "reason", "")
    assert f"s3://{store.bucket}/{store.prefix}1400000001/tsk/failed/" in reason
    relay.restore()
    # Never linked; gone once an attempt of the task commits.
    assert store.keys("1400000001/tsk") == ["1400000001/tsk/failed/parts/run/part.mp4"]
    assert outputs.keep_only(later) == 1
    assert store.keys("1400000001/tsk") == []
