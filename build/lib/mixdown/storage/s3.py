"""The object store in an S3 bucket (AWS, SeaweedFS, MinIO...), under an optional prefix.

A PUT, and a multipart upload once completed, replaces an object whole, so puts are atomic
here by nature; a failed multipart upload is aborted by boto3's transfer manager.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from mixdown.errors import StorageError
from mixdown.storage.connection import DEFAULT_URL_EXPIRY_S
from mixdown.storage.keys import key_prefix, object_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: What S3 answers for a key or bucket that is not there.
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
#: What S3 answers when it refuses the credentials themselves.
_REFUSED = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403"})
#: DeleteObjects takes at most this many keys a request.
_DELETE_BATCH = 1000

_Failure = (BotoCoreError, ClientError, S3UploadFailedError, OSError)


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
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = key_prefix(prefix)
        self.location = f"s3://{bucket}/{self.prefix}"
        self.public_base_url = public_base_url
        self.url_expiry_s = url_expiry_s
        self._transfer = transfer or TransferConfig()

    def put(self, key: str, source: Path) -> None:
        name = self._name(key)
        try:
            self.client.upload_file(str(source), self.bucket, name, Config=self._transfer)
        except _Failure as exc:
            raise self._failure(exc, f"write from {source}", name) from None

    def get(self, key: str, target: Path) -> None:
        name = self._name(key)
        try:
            self.client.download_file(self.bucket, name, str(target), Config=self._transfer)
        except _Failure as exc:
            raise self._failure(exc, "read", name) from None

    def exists(self, key: str) -> bool:
        name = self._name(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return False
            raise self._failure(exc, "lookup", name) from None
        except _Failure as exc:
            raise self._failure(exc, "lookup", name) from None
        return True

    def keys(self, prefix: str = "") -> list[str]:
        below = self.prefix + key_prefix(prefix)
        pages = self.client.get_paginator("list_objects_v2")
        try:
            found = [
                item["Key"][len(self.prefix) :]
                for page in pages.paginate(Bucket=self.bucket, Prefix=below)
                for item in page.get("Contents", [])
            ]
        except _Failure as exc:
            raise self._failure(exc, "listing", below + "*") from None
        return sorted(found)

    def delete(self, key: str) -> None:
        name = self._name(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)
        except _Failure as exc:
            raise self._failure(exc, "delete", name) from None

    def delete_prefix(self, prefix: str) -> int:
        doomed = [self.prefix + key for key in self.keys(prefix)]
        for start in range(0, len(doomed), _DELETE_BATCH):
            batch = doomed[start : start + _DELETE_BATCH]
            try:
                done = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
                )
            except _Failure as exc:
                raise self._failure(exc, "delete", batch[0]) from None
            errors = done.get("Errors", [])
            if errors:
                first = errors[0]
                raise StorageError(
                    f"s3://{self.bucket}/{first.get('Key', '')}: delete failed "
                    f"({first.get('Code', 'error')}), and {len(errors) - 1} more"
                )
        return len(doomed)

    def copy(self, source_key: str, target_key: str) -> None:
        source, target = self._name(source_key), self._name(target_key)
        try:
            # The managed copy runs server-side, in parts above the multipart threshold.
            self.client.copy(
                {"Bucket": self.bucket, "Key": source}, self.bucket, target, Config=self._transfer
            )
        except _Failure as exc:
            raise self._failure(exc, f"copy to {target!r}", source) from None

    def download_url(self, key: str) -> str | None:
        name = self._name(key)
        if self.public_base_url:
            return self.public_base_url.rstrip("/") + "/" + quote(name, safe="/~")
        try:
            return self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": name},
                ExpiresIn=self.url_expiry_s,
            )
        except _Failure as exc:
            raise self._failure(exc, "signing a URL", name) from None

    def _name(self, key: str) -> str:
        return self.prefix + object_key(key)

    def _failure(self, exc: Exception, doing: str, name: str) -> StorageError:
        """StorageError naming the bucket and key and S3's reason (never the credentials)."""
        return StorageError(f"s3://{self.bucket}/{name}: {doing} failed ({_reason(exc)})")


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    cause = exc.__cause__ or exc.__context__
    return _code(cause) if isinstance(cause, Exception) else ""


def _reason(exc: Exception) -> str:
    code = _code(exc)
    if code in _MISSING:
        return "no such object or bucket"
    if code in _REFUSED:
        return f"{code}: the S3 credentials were refused or lack the permission"
    if isinstance(exc, NoCredentialsError):
        return "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    if isinstance(exc, BotoCoreError):
        return str(exc)  # e.g. the endpoint that could not be reached
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return code or type(exc).__name__
