"""Which S3 failures are tried again, and for how long: on a fake clock, never waiting."""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from boto3.exceptions import RetriesExceededError, S3UploadFailedError
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
    SSLError,
)
from botocore.stub import ANY, Stubber
from s3transfer.exceptions import RetriesExceededError as TransferRetriesExceeded

from mixdown.errors import StorageError
from mixdown.storage.connection import S3Settings
from mixdown.storage.retry import Retry, transient_cause
from mixdown.storage.s3 import S3Store

URL = "http://127.0.0.1:8333/bucket/key"
WHAT = "s3://bucket/rec/teacher.mp4"


class FakeTime:
    """A clock that only moves when slept on; every pause kept."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def _retry(time: FakeTime, window_s: float = 300) -> Retry:
    return Retry(window_s=window_s, clock=time.clock, sleep=time.sleep)


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "..."}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PutObject",
    )


def _upload_failed(cause: Exception) -> S3UploadFailedError:
    """What boto3's upload_file raises for a ClientError: the error as implicit context."""
    try:
        raise cause
    except ClientError as exc:
        try:
            raise S3UploadFailedError(f"Failed to upload f to bucket/key: {exc}")
        except S3UploadFailedError as wrapped:
            return wrapped


def _download_gave_up(last: Exception) -> RetriesExceededError:
    """What boto3's download_file raises when s3transfer's own retries ran out."""
    try:
        raise TransferRetriesExceeded(last)
    except TransferRetriesExceeded as exc:
        try:
            raise RetriesExceededError(exc.last_exception)
        except RetriesExceededError as wrapped:
            return wrapped


def _failing(errors: list[Exception], then: int = 7) -> Callable[[], int]:
    """A call that raises each of ``errors`` in turn, then returns ``then``."""
    left = list(errors)

    def attempt() -> int:
        if left:
            raise left.pop(0)
        return then

    return attempt


TRANSIENT = [
    EndpointConnectionError(endpoint_url=URL),
    ConnectionClosedError(endpoint_url=URL),
    ConnectTimeoutError(endpoint_url=URL),
    ReadTimeoutError(endpoint_url=URL),
    ResponseStreamingError(error="Connection broken: reset by peer"),
    ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
    ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
    _client_error("SlowDown", 503),
    _client_error("ServiceUnavailable", 503),
    _client_error("InternalError", 500),
    _client_error("RequestTimeout", 400),
    _client_error("502", 502),
    _upload_failed(_client_error("SlowDown", 503)),
    _download_gave_up(ReadTimeoutError(endpoint_url=URL)),
]
FINAL = [
    _client_error("AccessDenied", 403),
    _client_error("403", 403),
    _client_error("InvalidAccessKeyId", 403),
    _client_error("SignatureDoesNotMatch", 403),
    _client_error("NoSuchKey", 404),
    _client_error("404", 404),
    _client_error("NoSuchBucket", 404),
    _upload_failed(_client_error("NoSuchBucket", 404)),
    NoCredentialsError(),
    SSLError(endpoint_url=URL, error="certificate verify failed"),
    FileNotFoundError(errno.ENOENT, "No such file or directory"),
    OSError(errno.EIO, "Input/output error"),
]


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: type(e).__name__)
def test_an_outage_or_a_busy_s3_is_transient_also_when_boto3_wraps_it(error: Exception) -> None:
    assert transient_cause(error) is not None


@pytest.mark.parametrize("error", FINAL, ids=lambda e: type(e).__name__)
def test_refusals_missing_objects_and_local_file_errors_are_not_transient(error: Exception) -> None:
    assert transient_cause(error) is None


def test_a_call_is_retried_with_doubling_pauses_until_it_succeeds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    time = FakeTime()
    errors: list[Exception] = [EndpointConnectionError(endpoint_url=URL) for _ in range(6)]
    with caplog.at_level(logging.WARNING, logger="mixdown.storage"):
        assert _retry(time).call(_failing(errors), WHAT) == 7
    assert time.pauses == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]
    warnings = [r for r in caplog.records if r.getMessage() == "S3 unreachable; retrying"]
    assert len(warnings) == 6
    assert {getattr(r, "key", None) for r in warnings} == {WHAT}
    assert "Could not connect to the endpoint URL" in getattr(warnings[0], "reason", "")


def test_a_call_gives_up_when_the_window_is_spent_with_the_last_failure() -> None:
    time = FakeTime()
    errors: list[Exception] = [ConnectionClosedError(endpoint_url=URL) for _ in range(20)]
    last = _client_error("SlowDown", 503)
    errors.insert(7, last)  # the eighth try, the last the window has room for
    with pytest.raises(ClientError) as failed:
        _retry(time, window_s=30).call(_failing(errors), WHAT)
    assert failed.value is last
    # Pauses double to the cap, and the last one ends the window: no time is slept past it.
    assert time.pauses == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 4.5]
    assert sum(time.pauses) == 30


def test_time_a_try_takes_counts_against_the_window() -> None:
    time = FakeTime()

    def slow_failure() -> int:
        time.now += 20  # boto3's own retries and timeouts take a while
        raise EndpointConnectionError(endpoint_url=URL)

    with pytest.raises(EndpointConnectionError):
        _retry(time, window_s=30).call(slow_failure, WHAT)
    assert time.pauses == [0.5]
    assert time.now - 1000.0 == pytest.approx(40.5)


@pytest.mark.parametrize("error", FINAL, ids=lambda e: type(e).__name__)
def test_a_failure_that_is_not_transient_is_raised_at_once(error: Exception) -> None:
    time = FakeTime()
    with pytest.raises(type(error)) as failed:
        _retry(time).call(_failing([error]), WHAT)
    assert failed.value is error
    assert time.pauses == []


def test_a_window_of_zero_tries_once() -> None:
    time = FakeTime()
    with pytest.raises(EndpointConnectionError):
        _retry(time, window_s=0).call(_failing([EndpointConnectionError(endpoint_url=URL)]), WHAT)
    assert time.pauses == []


def test_a_failure_retried_to_the_end_says_how_long_it_was_tried() -> None:
    retry = _retry(FakeTime(), window_s=300)
    gone = EndpointConnectionError(endpoint_url=URL)
    assert retry.gave_up(gone) == "; still failing after retrying for 300 s"
    assert retry.gave_up(_client_error("NoSuchKey", 404)) == ""
    assert _retry(FakeTime(), window_s=0).gave_up(gone) == ""


@pytest.fixture
def stubbed() -> Iterator[tuple[S3Store, Stubber, FakeTime]]:
    """A store whose client answers from a script (nothing leaves the process), on a fake
    clock: boto3's own upload code wraps the errors as it does against a real S3."""
    client = S3Settings(access_key_id="AKID", secret_access_key="secret", region="us-east-1")
    time = FakeTime()
    store = S3Store(client.client(), "bucket", "out", retry=_retry(time, window_s=60))
    with Stubber(store.client) as stubber:
        yield store, stubber, time


def test_a_put_that_s3_turns_away_as_busy_is_sent_again(
    stubbed: tuple[S3Store, Stubber, FakeTime], tmp_path: Path
) -> None:
    store, stubber, time = stubbed
    stubber.add_client_error("put_object", service_error_code="SlowDown", http_status_code=503)
    stubber.add_response("put_object", {}, {"Bucket": "bucket", "Key": "out/a.mp4", "Body": ANY})
    (tmp_path / "a.mp4").write_bytes(b"video")
    store.put("a.mp4", tmp_path / "a.mp4")
    stubber.assert_no_pending_responses()
    assert time.pauses == [0.5]


def test_a_put_to_a_missing_bucket_fails_at_once(
    stubbed: tuple[S3Store, Stubber, FakeTime], tmp_path: Path
) -> None:
    store, stubber, time = stubbed
    stubber.add_client_error("put_object", service_error_code="NoSuchBucket", http_status_code=404)
    (tmp_path / "a.mp4").write_bytes(b"video")
    with pytest.raises(StorageError) as failed:
        store.put("a.mp4", tmp_path / "a.mp4")
    assert failed.value.message.startswith("s3://bucket/out/a.mp4: write from ")
    assert failed.value.message.endswith(" failed (NoSuchBucket)")
    assert time.pauses == []


def test_a_put_s3_keeps_turning_away_fails_naming_the_object_and_the_window(
    stubbed: tuple[S3Store, Stubber, FakeTime], tmp_path: Path
) -> None:
    store, stubber, time = stubbed
    for _ in range(20):
        stubber.add_client_error("put_object", service_error_code="SlowDown", http_status_code=503)
    (tmp_path / "a.mp4").write_bytes(b"video")
    with pytest.raises(StorageError) as failed:
        store.put("a.mp4", tmp_path / "a.mp4")
    assert failed.value.message.startswith("s3://bucket/out/a.mp4: write from ")
    assert failed.value.message.endswith("(SlowDown; still failing after retrying for 60 s)")
    assert sum(time.pauses) == 60
