"""The wire protocol against a real ``mixdown serve``, from a hostile client: hand-signed and
malformed requests get HTTP 200, exactly ``application/json``, the error envelope with a
RequestId and the code reference §1.8/§1.9 names; the official SDK's variants all work."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.tiw.v20190919 import models, tiw_client

from .conftest import Creds, ServerProcess, call, cli_create_app, sdk
from .wire_support import (
    FORM,
    envelope,
    error_code,
    pace,
    post_json,
    tc3_headers,
    v1_get,
    v1_params,
)

READ = "DescribeOnlineRecordCallback"


@dataclass(frozen=True)
class Wire:
    server: ServerProcess
    a: Creds
    b: Creds

    @property
    def base(self) -> str:
        return self.server.url

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def ok(self, reply: httpx.Response) -> dict[str, Any]:
        response = envelope(reply)
        assert "Error" not in response, response
        return response


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wire]:
    data = tmp_path_factory.mktemp("wire") / "data"
    a, b = cli_create_app(data), cli_create_app(data)
    server = ServerProcess(data).start()
    try:
        yield Wire(server, a, b)
    finally:
        server.stop()


def skewed(seconds: int) -> int:
    """A timestamp ``seconds`` away from now that stays that far after int truncation."""
    now = time.time()
    return (math.ceil(now) if seconds > 0 else math.floor(now)) + seconds


def app_body(w: Wire) -> dict[str, Any]:
    return {"SdkAppId": w.a.sdk_app_id}


# --- envelope and authentication ---------------------------------------------------------


def test_a_signed_call_gets_the_success_envelope_with_only_the_action_fields(wire: Wire) -> None:
    response = wire.ok(post_json(wire.base, wire.a, app_body(wire)))
    assert set(response) == {"Callback", "CallbackKey", "RequestId"}


@pytest.mark.parametrize(
    ("method", "headers", "body", "code"),
    [
        ("POST", {}, b"\x00\x01 garbage", "AuthFailure.InvalidAuthorization"),
        (
            "POST",
            {"Content-Type": "application/json", "X-TC-Action": READ},
            b'{"SdkAppId": 1}',
            "AuthFailure.InvalidAuthorization",
        ),
        ("GET", {}, b"", "AuthFailure.InvalidAuthorization"),
        ("POST", {"Authorization": "Bearer abc"}, b"{}", "AuthFailure.InvalidAuthorization"),
        ("POST", {"Authorization": ""}, b"{}", "AuthFailure.InvalidAuthorization"),
        ("PUT", {}, b"{}", "UnsupportedProtocol"),
        ("DELETE", {}, b"", "UnsupportedProtocol"),
        ("PATCH", {}, b"{}", "UnsupportedProtocol"),
        ("OPTIONS", {}, b"", "UnsupportedProtocol"),
    ],
    ids=[
        "garbage",
        "no-authorization",
        "bare-get",
        "bearer",
        "empty-authorization",
        "put",
        "delete",
        "patch",
        "options",
    ],
)
def test_unsigned_or_malformed_requests_get_the_error_envelope_over_http_200(
    wire: Wire, method: str, headers: dict[str, str], body: bytes, code: str
) -> None:
    reply = httpx.request(method, wire.base + "/", headers=headers, content=body, timeout=30)
    assert error_code(reply) == code


def test_a_wrong_signing_algorithm_is_invalid_authorization(wire: Wire) -> None:
    raw = json.dumps(app_body(wire)).encode()
    for algorithm in ("TC3-HMAC-SHA1", "HMAC-SHA256", "tc3-hmac-sha256"):
        headers = tc3_headers(wire.a, wire.host, body=raw)
        headers["Authorization"] = headers["Authorization"].replace("TC3-HMAC-SHA256", algorithm, 1)
        reply = httpx.post(wire.base + "/", content=raw, headers=headers, timeout=30)
        assert error_code(reply) == "AuthFailure.InvalidAuthorization", algorithm


@pytest.mark.parametrize(("method", "path"), [("POST", "/foo"), ("GET", "/v2/"), ("PUT", "/x")])
def test_paths_other_than_the_api_root_still_get_the_json_error_envelope(
    wire: Wire, method: str, path: str
) -> None:
    reply = httpx.request(method, wire.base + path, content=b"{}", timeout=30)
    assert error_code(reply)


@pytest.mark.parametrize(
    ("knob", "code"),
    [
        ({"service": "cvm"}, "AuthFailure.SignatureFailure"),
        ({"date": "2020-01-01"}, "AuthFailure.SignatureExpire"),
        ({"timestamp": -301}, "AuthFailure.SignatureExpire"),
        ({"timestamp": +301}, "AuthFailure.SignatureExpire"),
        ({"secret_key": "not-the-key"}, "AuthFailure.SignatureFailure"),
    ],
    ids=["other-service", "other-date", "301s-old", "301s-ahead", "wrong-key"],
)
def test_tc3_scope_and_clock_errors_have_their_reference_codes(
    wire: Wire, knob: dict[str, Any], code: str
) -> None:
    if "timestamp" in knob:
        knob = {"timestamp": skewed(knob["timestamp"])}
    assert error_code(post_json(wire.base, wire.a, app_body(wire), **knob)) == code


def test_timestamps_inside_the_five_minute_window_are_accepted(wire: Wire) -> None:
    for skew in (-290, 290):
        wire.ok(post_json(wire.base, wire.a, app_body(wire), timestamp=int(time.time()) + skew))


def test_an_unknown_secret_id_is_secret_id_not_found(wire: Wire) -> None:
    stranger = Creds(wire.a.sdk_app_id, "AKIDnobodyhere", "whatever")
    assert error_code(post_json(wire.base, stranger, app_body(wire))) == (
        "AuthFailure.SecretIdNotFound"
    )


def test_a_body_changed_after_signing_is_signature_failure(wire: Wire) -> None:
    signed = json.dumps(app_body(wire)).encode()
    headers = tc3_headers(wire.a, wire.host, body=signed)
    sent = json.dumps({"SdkAppId": wire.b.sdk_app_id}).encode()
    reply = httpx.post(wire.base + "/", content=sent, headers=headers, timeout=30)
    assert error_code(reply) == "AuthFailure.SignatureFailure"


def test_extra_signed_headers_are_verified_too(wire: Wire) -> None:
    signed = ("content-type", "host", "x-tc-action")
    wire.ok(post_json(wire.base, wire.a, app_body(wire), signed_headers=signed))
    raw = json.dumps(app_body(wire)).encode()
    headers = tc3_headers(wire.a, wire.host, body=raw, signed_headers=signed)
    headers["X-TC-Action"] = "DescribeVideoGenerationTaskCallback"  # after signing
    reply = httpx.post(wire.base + "/", content=raw, headers=headers, timeout=30)
    assert error_code(reply) == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize("signed", [("host",), ("content-type",), ("x-tc-action",)])
def test_a_signature_that_leaves_out_host_or_content_type_is_refused(
    wire: Wire, signed: tuple[str, ...]
) -> None:
    reply = post_json(wire.base, wire.a, app_body(wire), signed_headers=signed)
    assert error_code(reply) in ("AuthFailure.SignatureFailure", "AuthFailure.InvalidAuthorization")


def test_missing_action_or_version_is_missing_parameter_and_an_old_version_no_such_version(
    wire: Wire,
) -> None:
    assert error_code(post_json(wire.base, wire.a, app_body(wire), action=None)) == (
        "MissingParameter"
    )
    assert error_code(post_json(wire.base, wire.a, app_body(wire), version=None)) == (
        "MissingParameter"
    )
    for version in ("2017-03-12", "2019-09-20", ""):
        code = error_code(post_json(wire.base, wire.a, app_body(wire), version=version))
        assert code == ("MissingParameter" if version == "" else "NoSuchVersion"), version
    assert error_code(post_json(wire.base, wire.a, app_body(wire), action="DescribeAll")) == (
        "InvalidAction"
    )


def test_any_region_or_none_is_accepted(wire: Wire) -> None:
    for region in (None, "", "ap-guangzhou", "ap-singapore", "eu-frankfurt"):
        wire.ok(post_json(wire.base, wire.a, app_body(wire), region=region))
        wire.ok(v1_get(wire.base, wire.a, {"SdkAppId": str(wire.a.sdk_app_id)}, region=region))


# --- bodies and parameter types ----------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'"text"', b"null", b"123", b"\xff\xfe{}", b"[" * 100_000],
    ids=["broken", "array", "string", "null", "number", "not-utf8", "deep"],
)
def test_a_body_that_is_not_a_json_object_is_invalid_parameter(wire: Wire, body: bytes) -> None:
    assert error_code(post_json(wire.base, wire.a, body)) == "InvalidParameter"


@pytest.mark.parametrize(
    "value",
    ["1400000001", 1400000001.0, True, [1400000001], {"v": 1}],
    ids=["string", "float", "bool", "array", "object"],
)
def test_integers_of_another_json_type_are_body_parameter_type_unmatched(
    wire: Wire, value: Any
) -> None:
    reply = post_json(wire.base, wire.a, {"SdkAppId": value})
    assert error_code(reply) == "InvalidParameter.BodyParameterTypeUnmatched"


def test_booleans_and_strings_of_another_json_type_are_body_parameter_type_unmatched(
    wire: Wire,
) -> None:
    params = {
        "SdkAppId": wire.a.sdk_app_id,
        "OnlineRecordTaskId": "x",
        "MixStream": {"Enabled": "true"},
    }
    reply = post_json(wire.base, wire.a, params, action="CreateVideoGenerationTask")
    assert error_code(reply) == "InvalidParameter.BodyParameterTypeUnmatched"
    reply = post_json(
        wire.base,
        wire.a,
        {"SdkAppId": wire.a.sdk_app_id, "TaskId": 12},
        action="DescribeOnlineRecord",
    )
    assert error_code(reply) == "InvalidParameter.BodyParameterTypeUnmatched"


def test_an_integer_too_long_to_parse_is_a_clear_parameter_error(wire: Wire) -> None:
    reply = post_json(wire.base, wire.a, b'{"SdkAppId": 1' + b"0" * 5000 + b"}")
    assert error_code(reply) in ("InvalidParameter", "InvalidParameterValue")


@pytest.mark.parametrize(
    ("action", "field"),
    [("DescribeOnlineRecord", "TaskId"), ("SetOnlineRecordCallbackKey", "CallbackKey")],
)
def test_a_lone_surrogate_in_a_string_is_a_clear_parameter_error(
    wire: Wire, action: str, field: str
) -> None:
    body = b'{"SdkAppId": %d, "%s": "\\ud800"}' % (wire.a.sdk_app_id, field.encode())
    code = error_code(post_json(wire.base, wire.a, body, action=action))
    assert code.startswith("InvalidParameter"), code


def test_unicode_parameters_round_trip_in_every_style(wire: Wire) -> None:
    app = wire.a.sdk_app_id
    styles = [("POST", "TC3-HMAC-SHA256"), ("GET", "TC3-HMAC-SHA256"), ("POST", "HmacSHA1")]
    styles += [("GET", "HmacSHA256")]
    for i, (method, sign) in enumerate(styles):
        key = f"钥匙🔑 ü+&=%_{i}"
        writer = sdk(wire.server.port, wire.a, method=method, sign=sign)
        pace()
        call(writer, "SetVideoGenerationTaskCallbackKey", {"SdkAppId": app, "CallbackKey": key})
        for read_method, read_sign in styles:
            reader = sdk(wire.server.port, wire.a, method=read_method, sign=read_sign)
            pace()
            got = call(reader, "DescribeVideoGenerationTaskCallback", {"SdkAppId": app})
            assert got["CallbackKey"] == key, (method, sign, read_method, read_sign)
    pace()
    call(
        sdk(wire.server.port, wire.a),
        "SetVideoGenerationTaskCallbackKey",
        {"SdkAppId": app, "CallbackKey": ""},
    )
    body = {"SdkAppId": app, "TaskId": "未命名\U0001f600"}
    reply = post_json(wire.base, wire.a, body, action="DescribeOnlineRecord")
    assert error_code(reply) == "InvalidParameter.TaskNotFound"
    assert "未命名\U0001f600" in reply.json()["Response"]["Error"]["Message"]


def test_duplicate_json_keys_are_refused_like_repeated_form_fields(wire: Wire) -> None:
    twice = v1_params(wire.a, wire.host, {"SdkAppId": str(wire.a.sdk_app_id)})
    query = str(httpx.QueryParams(twice)) + f"&SdkAppId={wire.b.sdk_app_id}"
    pace()
    assert error_code(httpx.get(f"{wire.base}/?{query}", timeout=30)) == "InvalidParameter"
    body = b'{"SdkAppId": %d, "SdkAppId": %d}' % (wire.b.sdk_app_id, wire.a.sdk_app_id)
    assert error_code(post_json(wire.base, wire.a, body)) == "InvalidParameter"


# --- sizes -------------------------------------------------------------------------------


def test_a_20_mb_body_is_refused_quickly_and_the_server_keeps_serving(wire: Wire) -> None:
    big = b'{"SdkAppId": 1, "Pad": "' + b"a" * (20 * 1024 * 1024) + b'"}'
    started = time.monotonic()
    assert error_code(post_json(wire.base, wire.a, big)) == "RequestSizeLimitExceeded"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count
        for _ in range(200):
            yield b"a" * (100 * 1024)

    reply = httpx.post(
        wire.base + "/",
        content=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert error_code(reply) == "RequestSizeLimitExceeded"
    assert time.monotonic() - started < 10
    wire.ok(post_json(wire.base, wire.a, app_body(wire)))


def test_a_query_string_over_32_kb_is_request_size_limit_exceeded(wire: Wire) -> None:
    params = {"SdkAppId": str(wire.a.sdk_app_id), "Pad": "a" * 40_000}
    assert error_code(v1_get(wire.base, wire.a, params)) == "RequestSizeLimitExceeded"


@pytest.mark.xfail(
    strict=True,
    reason="api/app.py applies max_body_bytes (10 MB, the TC3 limit) to every POST; the "
    "1 MB limit of v1-signed POSTs (reference §1.1) is not enforced",
)
def test_a_v1_form_post_over_1_mb_is_request_size_limit_exceeded(wire: Wire) -> None:
    params = {"SdkAppId": str(wire.a.sdk_app_id), "CallbackKey": "k" * (2 * 1024 * 1024)}
    signed = v1_params(
        wire.a, wire.host, params, method="POST", action="SetOnlineRecordCallbackKey"
    )
    pace()
    reply = httpx.post(wire.base + "/", data=signed, timeout=30)
    assert error_code(reply) == "RequestSizeLimitExceeded"


# --- v1 ----------------------------------------------------------------------------------


def test_v1_requests_get_the_reference_codes(wire: Wire) -> None:
    app = {"SdkAppId": str(wire.a.sdk_app_id)}
    for method in ("HmacSHA1", "HmacSHA256"):
        wire.ok(v1_get(wire.base, wire.a, app, sign_method=method))
        for skew in (-301, 301):
            reply = v1_get(wire.base, wire.a, app, sign_method=method, timestamp=skewed(skew))
            assert error_code(reply) == "AuthFailure.SignatureExpire"
    tampered = v1_params(wire.a, wire.host, app)
    tampered["SdkAppId"] = str(wire.b.sdk_app_id)
    pace()
    assert error_code(httpx.get(wire.base + "/", params=tampered, timeout=30)) == (
        "AuthFailure.SignatureFailure"
    )
    no_nonce = v1_params(wire.a, wire.host, app)
    del no_nonce["Nonce"]
    assert error_code(httpx.get(wire.base + "/", params=no_nonce, timeout=30)) == (
        "MissingParameter"
    )
    form = v1_params(wire.a, wire.host, app, method="POST")
    pace()
    wire.ok(httpx.post(wire.base + "/", data=form, timeout=30))
    # v1 parameters only count in a query string or a form body, never in JSON.
    reply = httpx.post(wire.base + "/", json=form, timeout=30)
    assert error_code(reply) == "AuthFailure.InvalidAuthorization"
    reply = httpx.post(
        wire.base + "/",
        content=str(httpx.QueryParams(form)).encode(),
        headers={"Content-Type": FORM + "; charset=utf-8"},
        timeout=30,
    )
    wire.ok(reply)


# --- SDK variants ------------------------------------------------------------------------


def _client(wire: Wire, region: str, **profile: Any) -> tiw_client.TiwClient:
    http = HttpProfile(endpoint=wire.host, protocol="http", reqTimeout=30)
    http.keepAlive = profile.pop("keep_alive", False)
    client_profile = ClientProfile(httpProfile=http, language=profile.pop("language", "zh-CN"))
    client_profile.unsignedPayload = profile.pop("unsigned", False)
    cred = credential.Credential(
        wire.a.secret_id, wire.a.secret_key, token=profile.pop("token", None)
    )
    return tiw_client.TiwClient(cred, region, client_profile)


@pytest.mark.parametrize(
    ("region", "profile"),
    [
        ("ap-guangzhou", {"unsigned": True}),
        ("", {}),
        ("ap-singapore", {"token": "tok123"}),
        ("ap-guangzhou", {"language": "en-US", "keep_alive": True}),
    ],
    ids=["unsigned-payload", "no-region", "token", "en-us-keep-alive"],
)
def test_the_sdk_profile_variants_are_all_answered(
    wire: Wire, region: str, profile: dict[str, Any]
) -> None:
    client = _client(wire, region, **profile)
    req = models.DescribeOnlineRecordCallbackRequest()
    req.SdkAppId = wire.a.sdk_app_id
    pace()
    got = client.DescribeOnlineRecordCallback(req)
    assert got.RequestId and got.Callback == ""


# --- apps --------------------------------------------------------------------------------


def test_sdk_app_ids_that_cannot_exist_are_refused_clearly(wire: Wire) -> None:
    for value in (0, -1, -(2**63)):
        reply = post_json(wire.base, wire.a, {"SdkAppId": value})
        assert error_code(reply) == "InvalidParameter.SdkAppIdNotFound", value
    for value in (2**63 - 1,):
        reply = post_json(wire.base, wire.a, {"SdkAppId": value})
        assert error_code(reply) == "InvalidParameter.SdkAppIdNotFound", value
    for value in (2**63, 10**30):
        reply = post_json(wire.base, wire.a, {"SdkAppId": value})
        assert error_code(reply) == "InvalidParameterValue", value
    reply = post_json(wire.base, wire.a, {"SdkAppId": wire.b.sdk_app_id})
    assert error_code(reply) == "UnauthorizedOperation.SdkAppId"


def test_an_out_of_range_integer_gets_the_same_error_in_every_style(wire: Wire) -> None:
    json_code = error_code(post_json(wire.base, wire.a, {"SdkAppId": 10**30}))
    get_code = error_code(v1_get(wire.base, wire.a, {"SdkAppId": str(10**30)}))
    assert get_code == json_code


def test_another_tenants_refused_calls_do_not_spend_this_apps_rate_limit(wire: Wire) -> None:
    time.sleep(1.1)
    stop = threading.Event()
    foreign_codes: list[str] = []

    def flood() -> None:
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                raw = json.dumps(app_body(wire)).encode()
                headers = tc3_headers(wire.b, wire.host, body=raw)
                reply = http.post(wire.base + "/", content=raw, headers=headers)
                foreign_codes.append(reply.json()["Response"]["Error"]["Code"])

    threads = [threading.Thread(target=flood, daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    own: list[str] = []
    try:
        time.sleep(0.5)
        for _ in range(5):  # 5 calls in ~1 s: far under the app's own 20/s
            reply = post_json(wire.base, wire.a, app_body(wire))
            own.append(envelope(reply).get("Error", {}).get("Code", "ok"))
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        time.sleep(1.1)  # leave the budget whole for the other tests
    assert set(foreign_codes) <= {"UnauthorizedOperation.SdkAppId", "RequestLimitExceeded"}
    assert own == ["ok"] * 5, own
