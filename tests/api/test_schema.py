"""Request parameters are conformed to the action's shape, in JSON and in flattened form."""

from __future__ import annotations

import pytest

from mixdown.errors import MixdownError
from mixdown.tiw.schema import conform, integer, string
from mixdown.tiw.types import MANIFEST, PARAMETER_FIELDS

CREATE = {
    "SdkAppId": integer(required=True),
    "OnlineRecordTaskId": string(required=True),
    **PARAMETER_FIELDS,
}


def code_of(params: dict[str, object], *, flat: bool, shape: object = CREATE) -> str:
    with pytest.raises(MixdownError) as err:
        conform(params, shape, flat=flat)  # type: ignore[arg-type]
    return err.value.code


def test_flattened_names_are_rebuilt_into_nested_typed_values() -> None:
    flat = {
        "SdkAppId": "1400000001",
        "OnlineRecordTaskId": "abc",
        "MixStream.Enabled": "True",
        "MixStream.Custom.Canvas.LayoutParams.Width": "1280",
        "MixStream.Custom.InputStreamList.1.LayoutParams.X": "8",
        "MixStream.Custom.InputStreamList.0.InputStreamId": "tic_record_user",
        "RecordControl.StreamControls.0.DisableAudio": "false",
    }
    out = conform(flat, CREATE, flat=True)
    assert out["SdkAppId"] == 1400000001
    assert out["MixStream"]["Enabled"] is True
    assert out["MixStream"]["Custom"]["Canvas"]["LayoutParams"]["Width"] == 1280
    slots = out["MixStream"]["Custom"]["InputStreamList"]
    assert slots == [{"InputStreamId": "tic_record_user"}, {"LayoutParams": {"X": 8}}]
    assert out["RecordControl"]["StreamControls"] == [{"DisableAudio": False}]


def test_json_values_keep_their_native_types() -> None:
    data = {"SdkAppId": 1, "OnlineRecordTaskId": "a", "Concat": {"Enabled": True}}
    assert conform(data, CREATE, flat=False) == data


def test_unknown_names_are_unknown_parameter_at_any_depth() -> None:
    assert code_of({"SdkAppId": 1, "OnlineRecordTaskId": "a", "Foo": 1}, flat=False) == (
        "UnknownParameter"
    )
    nested = {"SdkAppId": "1", "OnlineRecordTaskId": "a", "Whiteboard.Depth": "3"}
    assert code_of(nested, flat=True) == "UnknownParameter"


def test_absent_required_fields_are_missing_parameter() -> None:
    assert code_of({"SdkAppId": 1}, flat=False) == "MissingParameter"


def test_wrong_types_are_body_parameter_type_unmatched() -> None:
    unmatched = "InvalidParameter.BodyParameterTypeUnmatched"
    assert code_of({"SdkAppId": "1", "OnlineRecordTaskId": "a"}, flat=False) == unmatched
    assert code_of({"SdkAppId": True, "OnlineRecordTaskId": "a"}, flat=False) == unmatched
    assert code_of({"SdkAppId": 1, "OnlineRecordTaskId": 5}, flat=False) == unmatched
    wb = {"SdkAppId": 1, "OnlineRecordTaskId": "a", "Whiteboard": [1]}
    assert code_of(wb, flat=False) == unmatched
    assert code_of({"SdkAppId": "x1", "OnlineRecordTaskId": "a"}, flat=True) == unmatched
    both = {"SdkAppId": "1", "OnlineRecordTaskId": "a", "Concat": "1", "Concat.Enabled": "true"}
    assert code_of(both, flat=True) == unmatched


def test_array_indices_must_be_contiguous() -> None:
    gap = {
        "SdkAppId": "1",
        "OnlineRecordTaskId": "a",
        "RecordControl.StreamControls.1.StreamId": "x",
    }
    assert code_of(gap, flat=True) == "InvalidParameter"


def test_a_manifest_rebuilds_from_flattened_names() -> None:
    flat = {
        "RoomId": "7",
        "RecordStartTimeMs": "1700000000000",
        "Streams.0.StreamId": "teacher",
        "Streams.0.Segments.0.Url": "t.mp4",
        "Streams.0.Segments.0.StartTime": "1700000000000",
    }
    out = conform(flat, MANIFEST.fields, flat=True)
    assert out["Streams"] == [
        {"StreamId": "teacher", "Segments": [{"Url": "t.mp4", "StartTime": 1700000000000}]}
    ]
