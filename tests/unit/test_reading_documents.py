import pytest

from mixdown.domain.parameters import Concat, MixStream
from mixdown.errors import ManifestError, RecordParameterError
from mixdown.tiw.documents import parameters, read_manifest, read_params


def custom(slot: dict[str, object], canvas: tuple[int, int] = (640, 480)) -> dict[str, object]:
    return {
        "MixStream": {
            "Enabled": True,
            "Custom": {
                "Canvas": {"LayoutParams": {"Width": canvas[0], "Height": canvas[1]}},
                "InputStreamList": [slot],
            },
        }
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"MixStream": {"Enabled": True}}, r"MixStream\.ModelId: required"),
        ({"MixStream": {"Enabled": True, "ModelId": 3}}, r"MixStream\.ModelId: 3 is not 1 or 2"),
        ({"Concat": {}}, r"Concat\.Enabled: required"),
        ({"Concat": {"Enabled": "yes"}}, r"Concat\.Enabled: expected true or false"),
        ({"Whiteboard": {"Width": 1}}, r"Whiteboard\.Width: 1 is outside \[2, 3000\]"),
        ({"Whiteboard": {"Widht": 10}}, r"Whiteboard\.Widht: unknown field"),
        (
            custom({"LayoutParams": {"Width": 320, "Height": 240, "X": 400}}),
            r"InputStreamList\[0\]\.LayoutParams: slot 320x240 at \(400,0\) lies outside",
        ),
        (
            custom({"LayoutParams": {"Width": 320, "Height": 240}}, canvas=(3001, 480)),
            r"Canvas\.LayoutParams\.Width: 3001 is outside",
        ),
        (
            custom({"LayoutParams": {"Width": 32, "Height": 24}, "BackgroundColor": "red"}),
            r"InputStreamList\[0\]\.BackgroundColor: 'red' is not a #RRGGBB colour",
        ),
        (
            custom({"LayoutParams": {"Width": 32, "Height": 24}, "FillMode": 2}),
            r"FillMode: 2 is not 0 or 1",
        ),
        (
            {"RecordControl": {"Enabled": True, "StreamControls": [{"StreamId": ""}]}},
            r"StreamControls\[0\]\.StreamId: must not be empty",
        ),
    ],
)
def test_bad_parameters_name_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(RecordParameterError, match=message):
        read_params(data)


def test_good_parameters_parse_and_round_trip_to_tiw_json() -> None:
    data = custom(
        {
            "LayoutParams": {"Width": 320, "Height": 240, "X": 8, "ZOrder": 2},
            "InputStreamId": "t",
            "FillMode": 1,
            "BackgroundColor": "#aabbcc",
        }
    )
    data["Concat"] = {"Enabled": True, "Image": "x.png"}
    params = read_params(data)
    assert params.concat == Concat(True, "x.png")
    assert isinstance(params.mix_stream, MixStream) and params.mix_stream.custom is not None
    assert read_params(parameters(params)) == params


BASE = {"RoomId": 1, "RecordStartTimeMs": 1000, "Streams": []}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"RecordStartTimeMs": None}, r"RecordStartTimeMs: required"),
        ({"RecordStopTimeMs": 500}, r"RecordStopTimeMs: must be after"),
        ({"Streams": "x"}, r"Streams: expected a list"),
        (
            {"Streams": [{"StreamId": "a", "Segments": [{"Url": "a.mp4"}]}]},
            r"Streams\[0\]\.Segments\[0\]\.StartTime: required",
        ),
        (
            {"Streams": [{"StreamId": "a"}, {"StreamId": "a"}]},
            r"Streams\[1\]\.StreamId: 'a' appears twice",
        ),
        (
            {"Pauses": [{"PauseTime": 3000, "ResumeTime": 2000}]},
            r"Pauses\[0\]\.ResumeTime: must be after",
        ),
        ({"Pauses": [{"PauseTime": 500, "ResumeTime": 2000}]}, r"Pauses\[0\]: pause lies outside"),
        ({"MixStream": {"Enabled": True, "ModelId": 9}}, r"MixStream\.ModelId"),
        ({"Extra": 1}, r"Extra: unknown field"),
    ],
)
def test_bad_manifests_name_the_field(patch: dict[str, object], message: str) -> None:
    data = {**BASE, **patch}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises((ManifestError, RecordParameterError), match=message):
        read_manifest(data)


def test_relative_segment_paths_resolve_against_the_manifest_folder(tmp_path: object) -> None:
    from pathlib import Path

    base = Path(str(tmp_path))
    rec = read_manifest(
        {
            **BASE,
            "Streams": [
                {
                    "StreamId": "a",
                    "Segments": [
                        {"Url": "x/a.mp4", "StartTime": 1000},
                        {"Url": "https://h/b.mp4", "StartTime": 2000},
                    ],
                }
            ],
        },
        base_dir=base,
    )
    urls = [s.url for s in rec.streams[0].segments]
    assert urls == [str(base / "x" / "a.mp4"), "https://h/b.mp4"]
    assert rec.group_id == "1"


def test_a_relative_concat_image_is_taken_from_the_manifest_folder(tmp_path: object) -> None:
    from pathlib import Path

    base = Path(str(tmp_path))
    rec = read_manifest({**BASE, "Concat": {"Enabled": True, "Image": "img/fill.png"}}, base)
    assert rec.defaults.concat == Concat(True, str(base / "img" / "fill.png"))
    url = "https://h/fill.png"
    rec = read_manifest({**BASE, "Concat": {"Enabled": True, "Image": url}}, base)
    assert rec.defaults.concat == Concat(True, url)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        (
            {"Streams": [{"StreamId": "a", "Segments": [{"Url": "a.mp4", "StartTime": "1000"}]}]},
            r"Streams\[0\]\.Segments\[0\]\.StartTime: expected an integer, got a string",
        ),
        ({"RecordStartTimeMs": "1000"}, r"RecordStartTimeMs: expected an integer"),
        ({"RoomId": "1"}, r"RoomId: expected an integer"),
        ({"AudioFileNeeded": "true"}, r"AudioFileNeeded: expected true or false"),
        ({"MixStream": {"Enabled": True, "ModelId": "1"}}, r"MixStream\.ModelId: expected"),
    ],
)
def test_a_manifest_value_of_the_wrong_json_type_is_refused_as_the_api_refuses_it(
    patch: dict[str, object], field: str
) -> None:
    # The same rule and code as a JSON body sent to the API (DESIGN §4.3): digits in a
    # string are not an integer.
    with pytest.raises((ManifestError, RecordParameterError), match=field) as err:
        read_manifest({**BASE, **patch})
    assert err.value.code == "InvalidParameter.BodyParameterTypeUnmatched"
