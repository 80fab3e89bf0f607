"""The ``--storage`` value: ``s3://bucket/prefix`` for an S3 bucket, else a folder path.

Credentials never travel in the value; they come from the AWS environment, like every
other S3 setting (``storage.connection``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mixdown.errors import InvalidParameterValue
from mixdown.storage.keys import key_prefix
from mixdown.storage.objects import ObjectStore

#: S3's bucket naming rules, less the legacy upper case that no new bucket may use.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    #: "" or whole segments ending in '/'.
    prefix: str


def parse_location(text: str) -> S3Location | Path:
    """What ``--storage`` names; InvalidParameterValue when it is not usable."""
    scheme = _SCHEME.match(text)
    if scheme is None:
        if not text:
            raise InvalidParameterValue("--storage: empty")
        return Path(text)
    name = scheme.group(1).lower()
    if name == "file":
        return Path(unquote(urlsplit(text).path))
    if name != "s3":
        raise InvalidParameterValue(
            f"--storage: {name}:// is not supported (use s3://bucket/prefix or a folder path)"
        )
    return _s3_location(text)


def _s3_location(text: str) -> S3Location:
    rest = text[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if "@" in bucket:
        # Said without echoing the value: it would print the secret.
        raise InvalidParameterValue(
            "--storage: s3:// URLs take no credentials; set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY instead"
        )
    if "?" in rest or "#" in rest:
        raise InvalidParameterValue(f"--storage: {text!r}: no query or fragment allowed")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise InvalidParameterValue(f"--storage: {bucket!r} is not a valid S3 bucket name")
    return S3Location(bucket, key_prefix(prefix))


def open_store(text: str, env: Mapping[str, str], public_base_url: str = "") -> ObjectStore:
    """The store ``--storage`` names; S3 settings come from ``env`` (the AWS variables).
    ``public_base_url`` (``--public-base-url``) wins over ``MIXDOWN_S3_PUBLIC_URL``."""
    where = parse_location(text)
    if isinstance(where, Path):
        from mixdown.storage.folder import FolderStore

        return FolderStore(where)
    from mixdown.storage.connection import S3Settings
    from mixdown.storage.s3 import S3Store

    settings = S3Settings.from_env(env)
    return S3Store(
        settings.client(),
        where.bucket,
        where.prefix,
        public_base_url=public_base_url or settings.public_base_url,
        url_expiry_s=settings.url_expiry_s,
        retry=settings.retry(),
    )
