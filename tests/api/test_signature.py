"""Signatures made by the official SDK's own signing code verify; anything else fails."""

from __future__ import annotations

import time
from typing import Any

import pytest
from tencentcloud.common import credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.tiw.v20190919 import tiw_client

from mixdown.api.faults import ApiError
from mixdown.api.signature import tc3_signature, v1_signature, v1_source, verify_call
from mixdown.api.wire import ApiCall, read_call

SECRET_ID, SECRET_KEY = "AKIDexample", "secretkey"
HOST = "127.0.0.1:18765"
PARAMS: dict[str, Any] = {
    "SdkAppId": 1400000001,
    "OnlineRecordTaskId": "abc def*~",
    "MixStream": {"Enabled": True, "Custom": {"InputStreamList": [{"InputStreamId": "t"}]}},
}


def sdk_request(method: str, sign: str, params: dict[str, Any] = PARAMS) -> ApiCall:
    """What the SDK would put on the wire, parsed as the server parses it."""
    profile = ClientProfile(
        httpProfile=HttpProfile(endpoint=HOST, protocol="http", reqMethod=method), signMethod=sign
    )
    client = tiw_client.TiwClient(
        credential.Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou", profile
    )
    req = RequestInternal(HOST, method, "/", header={})
    client._build_req_inter("CreateVideoGenerationTask", params, req)
    headers = {k.lower(): str(v) for k, v in req.header.items()}
    headers.setdefault("host", HOST)
    query, body = (req.data, b"") if method == "GET" else ("", req.data.encode())
    return read_call(method, "/", headers, query, body)


def verify(call: ApiCall, key: str = SECRET_KEY, now: float | None = None) -> None:
    verify_call(call, key, time.time() if now is None else now)


STYLES = [
    ("POST", "TC3-HMAC-SHA256"),
    ("GET", "TC3-HMAC-SHA256"),
    ("POST", "HmacSHA1"),
    ("GET", "HmacSHA1"),
    ("POST", "HmacSHA256"),
    ("GET", "HmacSHA256"),
]


@pytest.mark.parametrize(("method", "sign"), STYLES)
def test_the_sdk_signature_of_every_style_verifies(method: str, sign: str) -> None:
    call = sdk_request(method, sign)
    assert call.action == "CreateVideoGenerationTask"
    assert call.secret_id == SECRET_ID
    verify(call)


@pytest.mark.parametrize(("method", "sign"), STYLES)
def test_a_wrong_secret_key_fails_as_signature_failure(method: str, sign: str) -> None:
    with pytest.raises(ApiError) as err:
        verify(sdk_request(method, sign), key="otherkey")
    assert err.value.code == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize(("method", "sign"), STYLES)
def test_a_request_older_than_five_minutes_expires(method: str, sign: str) -> None:
    with pytest.raises(ApiError) as err:
        verify(sdk_request(method, sign), now=time.time() + 301)
    assert err.value.code == "AuthFailure.SignatureExpire"


def test_a_tampered_json_body_fails() -> None:
    call = sdk_request("POST", "TC3-HMAC-SHA256")
    tampered = ApiCall(**{**call.__dict__, "body": call.body.replace(b"14000", b"14001")})
    with pytest.raises(ApiError) as err:
        verify(tampered)
    assert err.value.code == "AuthFailure.SignatureFailure"


def test_a_tampered_query_fails() -> None:
    call = sdk_request("GET", "HmacSHA256")
    params = dict(call.v1_params, SdkAppId="1400000002")
    with pytest.raises(ApiError):
        verify(ApiCall(**{**call.__dict__, "v1_params": params}))


def test_the_published_tc3_vector_is_reproduced() -> None:
    body = (
        b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    )
    signature = tc3_signature(
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        method="POST",
        path="/",
        raw_query="",
        headers={
            "content-type": "application/json; charset=utf-8",
            "host": "cvm.tencentcloudapi.com",
        },
        signed_headers=("content-type", "host"),
        payload=body,
        timestamp=1551113065,
        date="2019-02-25",
        service="cvm",
    )
    assert signature == "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"


def test_the_published_v1_vector_is_reproduced() -> None:
    params = {
        "Action": "DescribeInstances",
        "InstanceIds.0": "ins-09dx96dg",
        "Limit": "20",
        "Nonce": "11886",
        "Offset": "0",
        "Region": "ap-guangzhou",
        "SecretId": "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        "Timestamp": "1465185768",
        "Version": "2017-03-12",
    }
    source = v1_source("GET", "cvm.tencentcloudapi.com", "/", params)
    signature = v1_signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", source, "HmacSHA1")
    assert signature == "EliP9YW3pW28FpsEdkXt/+WcGeI="


def test_a_malformed_authorization_header_is_invalid_authorization() -> None:
    with pytest.raises(ApiError) as err:
        read_call("POST", "/", {"authorization": "Bearer x"}, "", b"{}")
    assert err.value.code == "AuthFailure.InvalidAuthorization"


def test_an_unsigned_request_is_invalid_authorization() -> None:
    with pytest.raises(ApiError) as err:
        read_call("GET", "/", {}, "Action=DescribeOnlineRecord", b"")
    assert err.value.code == "AuthFailure.InvalidAuthorization"


def test_other_methods_are_unsupported_protocol() -> None:
    with pytest.raises(ApiError) as err:
        read_call("PUT", "/", {}, "", b"")
    assert err.value.code == "UnsupportedProtocol"


def test_v1_parameters_are_split_from_the_common_ones() -> None:
    call = sdk_request("POST", "HmacSHA1")
    assert call.flat
    assert call.params["MixStream.Enabled"] == "True"
    assert call.params["MixStream.Custom.InputStreamList.0.InputStreamId"] == "t"
    assert "Signature" not in call.params and "Nonce" not in call.params
