"""How to reach S3: the standard AWS environment, read once, and the boto3 client made of it.

boto3 is imported only when a client is made, so nothing that merely imports the storage
package (the API, ``mixdown generate``) pays for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mixdown.errors import InternalError
from mixdown.storage.retry import DEFAULT_RETRY_S, Retry

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: How long a presigned download URL stays valid unless configured.
DEFAULT_URL_EXPIRY_S = 3600
#: SigV4 caps a presigned URL's life at 7 days.
MAX_URL_EXPIRY_S = 7 * 24 * 3600
#: The longest S3 outage a call is retried through: a day.
MAX_RETRY_S = 24 * 3600


@dataclass(frozen=True)
class S3Settings:
    #: None for AWS itself; SeaweedFS, MinIO and the like give their URL.
    endpoint_url: str | None = None
    #: None (both) lets boto3 find credentials itself: a profile, an instance role.
    access_key_id: str | None = None
    #: Kept out of repr, so that logging the settings never prints a secret.
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str | None = None
    profile: str | None = None
    #: Download URLs are this plus the object's key (a bucket behind a CDN), not presigned.
    public_base_url: str | None = None
    url_expiry_s: int = DEFAULT_URL_EXPIRY_S
    #: How long an S3 call is tried again while S3 is unreachable (0: never).
    retry_s: int = DEFAULT_RETRY_S

    @staticmethod
    def from_env(env: Mapping[str, str]) -> S3Settings:
        """The S3 settings in ``env``: the AWS variables and Mixdown's ``MIXDOWN_S3_*``."""

        def get(*names: str) -> str | None:
            return next((env[n] for n in names if env.get(n)), None)

        return S3Settings(
            endpoint_url=get("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
            access_key_id=get("AWS_ACCESS_KEY_ID"),
            secret_access_key=get("AWS_SECRET_ACCESS_KEY"),
            session_token=get("AWS_SESSION_TOKEN"),
            region=get("AWS_REGION", "AWS_DEFAULT_REGION"),
            profile=get("AWS_PROFILE"),
            public_base_url=get("MIXDOWN_S3_PUBLIC_URL"),
            url_expiry_s=_expiry(get("MIXDOWN_S3_URL_EXPIRY_S")),
            retry_s=_retry_window(get("MIXDOWN_S3_RETRY_SECONDS")),
        )

    def retry(self) -> Retry:
        """How the store and ``s3://`` media reads ride out an S3 outage."""
        return Retry(window_s=self.retry_s)

    @property
    def configured(self) -> bool:
        """Whether any endpoint, key or profile is set: without one, a worker that stores
        its outputs in a folder reads no s3:// inputs."""
        return bool(self.endpoint_url or self.access_key_id or self.profile)

    def client(self) -> S3Client:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import ProfileNotFound

        if bool(self.access_key_id) != bool(self.secret_access_key):
            raise InternalError("S3: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        config = Config(
            signature_version="s3v4",
            # SeaweedFS, MinIO and most self-hosted stores serve buckets as paths only.
            s3={"addressing_style": "path" if self.endpoint_url else "auto"},
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=10,
            read_timeout=60,
            # Newer boto3 checksums every upload in a way many S3-compatible stores refuse.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        try:
            session = boto3.session.Session(
                aws_access_key_id=self.access_key_id,
                aws_secret_access_key=self.secret_access_key,
                aws_session_token=self.session_token,
                # A signature needs a region; a self-hosted store takes any.
                region_name=self.region or ("us-east-1" if self.endpoint_url else None),
                profile_name=self.profile,
            )
        except ProfileNotFound:
            raise InternalError(f"S3: no AWS profile {self.profile!r}") from None
        return session.client("s3", endpoint_url=self.endpoint_url, config=config)


def _expiry(text: str | None) -> int:
    return _seconds("MIXDOWN_S3_URL_EXPIRY_S", text, DEFAULT_URL_EXPIRY_S, 1, MAX_URL_EXPIRY_S)


def _retry_window(text: str | None) -> int:
    return _seconds("MIXDOWN_S3_RETRY_SECONDS", text, DEFAULT_RETRY_S, 0, MAX_RETRY_S)


def _seconds(name: str, text: str | None, default: int, least: int, most: int) -> int:
    if text is None:
        return default
    if not text.strip().isdigit() or not least <= int(text) <= most:
        raise InternalError(
            f"{name}={text!r} is not a whole number of seconds from {least} to {most}"
        )
    return int(text)
