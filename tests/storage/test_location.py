"""``--storage``: an S3 bucket and prefix or a folder, and the S3 settings from the AWS env."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mixdown.errors import InternalError, InvalidParameterValue
from mixdown.storage.connection import DEFAULT_URL_EXPIRY_S, S3Settings
from mixdown.storage.folder import FolderStore
from mixdown.storage.location import S3Location, open_store, parse_location
from mixdown.storage.retry import DEFAULT_RETRY_S
from mixdown.storage.s3 import S3Store
from seaweed import Seaweed


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("s3://media/classes/out", S3Location("media", "classes/out/")),
        ("s3://media/classes/out/", S3Location("media", "classes/out/")),
        ("s3://media", S3Location("media", "")),
        ("s3://media/", S3Location("media", "")),
        ("S3://my.bucket-1/x", S3Location("my.bucket-1", "x/")),
        ("/var/lib/mixdown/outputs", Path("/var/lib/mixdown/outputs")),
        ("relative/outputs", Path("relative/outputs")),
        ("file:///srv/out%20put", Path("/srv/out put")),
    ],
)
def test_a_storage_url_names_a_bucket_and_prefix_or_a_folder(
    text: str, where: S3Location | Path
) -> None:
    assert parse_location(text) == where


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("s3://", "not a valid S3 bucket name"),
        ("s3://UPPER/x", "not a valid S3 bucket name"),
        ("s3://ab/x", "not a valid S3 bucket name"),
        ("s3://a..b/x", "not a valid S3 bucket name"),
        ("s3://media/../etc", "key prefix"),
        ("s3://media//x", "key prefix"),
        ("s3://media/x?versionId=1", "no query"),
        ("gs://media/x", "gs:// is not supported"),
        ("", "empty"),
    ],
)
def test_an_unusable_storage_url_is_refused_with_the_reason(text: str, complaint: str) -> None:
    with pytest.raises(InvalidParameterValue, match=complaint):
        parse_location(text)


def test_credentials_in_a_storage_url_are_refused_without_repeating_them() -> None:
    with pytest.raises(InvalidParameterValue, match="take no credentials") as refused:
        parse_location("s3://AKID:topsecret@media/out")
    assert "topsecret" not in str(refused.value)


def test_s3_settings_come_from_the_aws_environment() -> None:
    settings = S3Settings.from_env(
        {
            "AWS_ENDPOINT_URL": "http://127.0.0.1:8333",
            "AWS_ACCESS_KEY_ID": "AKID",
            "AWS_SECRET_ACCESS_KEY": "topsecret",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "MIXDOWN_S3_PUBLIC_URL": "https://cdn.example.com/",
            "MIXDOWN_S3_URL_EXPIRY_S": "600",
        }
    )
    assert settings.configured
    assert (settings.endpoint_url, settings.region) == ("http://127.0.0.1:8333", "eu-west-1")
    assert (settings.public_base_url, settings.url_expiry_s) == ("https://cdn.example.com/", 600)
    assert "topsecret" not in repr(settings)


def test_an_environment_without_s3_settings_configures_none() -> None:
    settings = S3Settings.from_env({"HOME": "/root", "AWS_REGION": "eu-west-1"})
    assert not settings.configured
    assert settings.url_expiry_s == DEFAULT_URL_EXPIRY_S


@pytest.mark.parametrize("expiry", ["0", "-5", "soon", "604801"])
def test_a_url_expiry_outside_what_s3_signs_is_refused(expiry: str) -> None:
    with pytest.raises(InternalError, match="MIXDOWN_S3_URL_EXPIRY_S"):
        S3Settings.from_env({"MIXDOWN_S3_URL_EXPIRY_S": expiry})


def test_s3_calls_are_retried_for_five_minutes_unless_configured() -> None:
    assert S3Settings.from_env({}).retry().window_s == DEFAULT_RETRY_S == 300
    assert S3Settings.from_env({"MIXDOWN_S3_RETRY_SECONDS": "45"}).retry().window_s == 45
    assert S3Settings.from_env({"MIXDOWN_S3_RETRY_SECONDS": "0"}).retry_s == 0


@pytest.mark.parametrize("window", ["-1", "soon", "1.5", "86401"])
def test_a_retry_window_that_is_not_whole_seconds_up_to_a_day_is_refused(window: str) -> None:
    with pytest.raises(InternalError, match="MIXDOWN_S3_RETRY_SECONDS"):
        S3Settings.from_env({"MIXDOWN_S3_RETRY_SECONDS": window})


def test_a_key_without_its_secret_is_refused() -> None:
    with pytest.raises(InternalError, match="both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
        S3Settings.from_env({"AWS_ACCESS_KEY_ID": "AKID"}).client()


def test_a_folder_location_opens_a_folder_store(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "out"), {})
    assert isinstance(store, FolderStore)
    assert store.root == tmp_path / "out"


def test_an_s3_location_opens_a_working_store_from_the_environment(
    seaweed: Seaweed, tmp_path: Path
) -> None:
    env = seaweed.env(MIXDOWN_S3_RETRY_SECONDS="7")
    store = open_store(f"s3://{seaweed.bucket}/opened/here", env)
    assert isinstance(store, S3Store)
    assert store.location == f"s3://{seaweed.bucket}/opened/here/"
    assert store.retry.window_s == 7
    (tmp_path / "f").write_bytes(b"round trip")
    store.put("k.bin", tmp_path / "f")
    store.get("k.bin", tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == b"round trip"
    assert store.client.head_object(Bucket=seaweed.bucket, Key="opened/here/k.bin")
    store.delete_prefix("")


def test_importing_the_api_and_the_storage_interface_loads_no_boto3() -> None:
    code = (
        "import json, sys\n"
        "import mixdown.api.app, mixdown.storage.location, mixdown.storage.objects\n"
        "import mixdown.storage.folder, mixdown.render.source\n"
        "print(json.dumps([m for m in ('boto3', 'botocore') if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(done.stdout) == []
