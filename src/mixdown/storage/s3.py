"""The object store in an S3 bucket (AWS, SeaweedFS, MinIO...), under an optional prefix.

A PUT, and a multipart upload once completed, replaces an object whole, so puts are atomic
here by nature; a failed multipart upload is aborted by boto3's transfer manager. Every call
is idempotent, so each is tried again, whole, while S3 is unreachable (``storage.retry``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote

from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from mixdown.errors import StorageError
from mixdown.storage.connection import DEFAULT_URL_EXPIRY_S
from mixdown.storage.keys import key_prefix, object_key
from mixdown.storage.retry import Retry, chain, error_code

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

#: What S3 answers for a key or bucket that is not there.
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
#: What S3 answers when it refuses the credentials themselves.
_REFUSED = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403"})
#: DeleteObjects takes at most this many keys a request.
_DELETE_BATCH = 1000

#: What a call may fail with: boto3 wraps transfers' failures in its own (S3UploadFailedError,
#: RetriesExceededError), and a local file's are OSErrors.
_Failure = (BotoCoreError, ClientError, Boto3Error, OSError)
T = TypeVar("T")


class S3Store:
    def __init__(
        self,
        client: S3Client,
        bucket: str,
        prefix: str = "",
        *,
        public_base_url: str | None = None,
        url_expiry_s: int = DEFAULT_URL_EXPIRY_S,
        transfer: TransferConfig | None = None,
        retry: Retry | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = key_prefix(prefix)
        self.location = f"s3://{bucket}/{self.prefix}"
        self.public_base_url = public_base_url
        self.url_expiry_s = url_expiry_s
        self._transfer = transfer or TransferConfig()
        #: How long calls are tried again while S3 is unreachable.
        self.retry = retry or Retry()

    def put(self, key: str, source: Path) -> None:
        name = self._name(key)
        self._call(
            lambda: self.client.upload_file(str(source), self.bucket, name, Config=self._transfer),
            f"write from {source}",
            name,
        )

    def get(self, key: str, target: Path) -> None:
        name = self._name(key)
        self._call(
            lambda: self.client.download_file(
                self.bucket, name, str(target), Config=self._transfer
            ),
            "read",
            name,
        )

    def exists(self, key: str) -> bool:
        name = self._name(key)

        def look() -> bool:
            try:
                self.client.head_object(Bucket=self.bucket, Key=name)
            except ClientError as exc:
                if error_code(exc) in _MISSING:
                    return False
                raise
            return True

        return self._call(look, "lookup", name)

    def keys(self, prefix: str = "") -> list[str]:
        below = self.prefix + key_prefix(prefix)
        pages = self.client.get_paginator("list_objects_v2")

        def listing() -> list[str]:
            # Listed whole on every try: a page of a listing that failed midway is not kept.
            return [
                item["Key"][len(self.prefix) :]
                for page in pages.paginate(Bucket=self.bucket, Prefix=below)
                for item in page.get("Contents", [])
            ]

        return sorted(self._call(listing, "listing", below + "*"))

    def delete(self, key: str) -> None:
        name = self._name(key)
        self._call(lambda: self.client.delete_object(Bucket=self.bucket, Key=name), "delete", name)

    def delete_prefix(self, prefix: str) -> int:
        doomed = [self.prefix + key for key in self.keys(prefix)]
        for start in range(0, len(doomed), _DELETE_BATCH):
            self._delete_batch(doomed[start : start + _DELETE_BATCH])
        return len(doomed)

    def _delete_batch(self, names: list[str]) -> None:
        objects: list[ObjectIdentifierTypeDef] = [{"Key": name} for name in names]
        done = self._call(
            lambda: self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True}
            ),
            "delete",
            names[0],
        )
        errors = done.get("Errors", [])
        if errors:
            first = errors[0]
            raise StorageError(
                f"s3://{self.bucket}/{first.get('Key', '')}: delete failed "
                f"({first.get('Code', 'error')}), and {len(errors) - 1} more"
            )

    def copy(self, source_key: str, target_key: str) -> None:
        source, target = self._name(source_key), self._name(target_key)
        self._call(
            # The managed copy runs server-side, in parts above the multipart threshold.
            lambda: self.client.copy(
                {"Bucket": self.bucket, "Key": source}, self.bucket, target, Config=self._transfer
            ),
            f"copy to {target!r}",
            source,
        )

    def media_url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._name(key)}"

    def download_url(self, key: str) -> str | None:
        name = self._name(key)
        if self.public_base_url:
            return self.public_base_url.rstrip("/") + "/" + quote(name, safe="/~")
        try:
            # Signed here, without a call to S3: nothing to retry.
            return self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": name},
                ExpiresIn=self.url_expiry_s,
            )
        except _Failure as exc:
            raise StorageError(
                f"s3://{self.bucket}/{name}: signing a URL failed ({_reason(exc)})"
            ) from None

    def _name(self, key: str) -> str:
        return self.prefix + object_key(key)

    def _call(self, attempt: Callable[[], T], doing: str, name: str) -> T:
        """``attempt()``, tried again while S3 is unreachable (``self.retry``); its failure
        as a StorageError naming the bucket and key."""
        try:
            return self.retry.call(attempt, f"s3://{self.bucket}/{name}")
        except _Failure as exc:
            reason = _reason(exc) + self.retry.gave_up(exc)
            raise StorageError(f"s3://{self.bucket}/{name}: {doing} failed ({reason})") from None


def _code(exc: BaseException) -> str:
    """S3's error code anywhere in the chain (boto3 wraps an upload's ClientError)."""
    return next((code for link in chain(exc) if (code := error_code(link))), "")


def _reason(exc: BaseException) -> str:
    """S3's reason in words, never the credentials."""
    code = _code(exc)
    if code in _MISSING:
        return "no such object or bucket"
    if code in _REFUSED:
        return f"{code}: the S3 credentials were refused or lack the permission"
    links = list(chain(exc))
    if any(isinstance(link, NoCredentialsError) for link in links):
        return "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    boto = next((link for link in links if isinstance(link, BotoCoreError)), None)
    if boto is not None:
        return str(boto)  # e.g. the endpoint that could not be reached
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return code or type(exc).__name__
