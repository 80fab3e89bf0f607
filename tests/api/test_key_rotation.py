"""Rotating an app's SecretKey (``mixdown apps rotate-key``, the console's Apps page): the
new key signs at once, the old one keeps signing for the grace period chosen and no longer
after it, so clients move over without an outage."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from mixdown.errors import InvalidParameterValue
from mixdown.store.apps import MAX_GRACE_MS, rotate_key

from .conftest import Creds, InProcessServer, call, sdk
from .fakes import FakeEngine
from .wire_support import pace


def signs(port: int, creds: Creds) -> str:
    """ "" when a call signed with ``creds`` is accepted, else its error code."""
    pace()
    try:
        call(sdk(port, creds), "DescribeOnlineRecordCallback", {"SdkAppId": creds.sdk_app_id})
    except TencentCloudSDKException as exc:
        return str(exc.code)
    return ""


def test_the_old_key_signs_during_the_grace_period_and_not_after(tmp_path: Path) -> None:
    with InProcessServer(tmp_path / "data", FakeEngine()) as srv:
        old = srv.new_app()
        with srv.service.db.transaction() as s:
            key = rotate_key(s, old.sdk_app_id, grace_ms=2000, now_ms=int(time.time() * 1000))
        rotated = time.monotonic()
        new = Creds(old.sdk_app_id, old.secret_id, key)
        assert key != old.secret_key
        assert signs(srv.port, new) == ""
        assert signs(srv.port, old) == ""  # well within the 2 s of grace
        time.sleep(max(0.0, rotated + 2.5 - time.monotonic()))
        assert signs(srv.port, old) == "AuthFailure.SignatureFailure"
        assert signs(srv.port, new) == ""
        wrong = Creds(old.sdk_app_id, old.secret_id, "0" * 32)
        assert signs(srv.port, wrong) == "AuthFailure.SignatureFailure"


def test_without_grace_the_old_key_stops_at_once_and_grace_is_bounded(tmp_path: Path) -> None:
    with InProcessServer(tmp_path / "data", FakeEngine()) as srv:
        old = srv.new_app()
        with srv.service.db.transaction() as s:
            key = rotate_key(s, old.sdk_app_id, grace_ms=0, now_ms=int(time.time() * 1000))
            with pytest.raises(InvalidParameterValue):
                rotate_key(s, old.sdk_app_id, grace_ms=MAX_GRACE_MS + 1, now_ms=0)
        assert signs(srv.port, old) == "AuthFailure.SignatureFailure"
        assert signs(srv.port, Creds(old.sdk_app_id, old.secret_id, key)) == ""
