"""Bad input to ``mixdown generate``: exit code 2 and one clear line, no traceback (§4.2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import mediacheck as mc
from mediacheck import Piece
from mixdown.cli import main
from mixdown.synth import ClipSpec

pytestmark = pytest.mark.media


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    """A valid one-camera recording; tests copy its manifest and break one thing."""
    tmp = tmp_path_factory.mktemp("errors")
    spec = ClipSpec(duration_ms=1000, tone_hz=440)
    return mc.write_recording(
        tmp, ffmpeg, [Piece("cam", "cam.mp4", 0, spec)], length_ms=1000,
        MixStream={"Enabled": True, "ModelId": 1},
    )  # fmt: skip


def _manifest(good: Path, **changes: Any) -> Path:
    data = json.loads(good.read_text(encoding="utf-8"))
    data.update(changes)
    path = good.parent / f"manifest-{len(list(good.parent.glob('manifest-*')))}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _fails_cleanly(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _segment(url: str) -> list[dict[str, Any]]:
    return [{"StreamId": "cam", "Segments": [{"Url": url, "StartTime": mc.START_MS}]}]


def test_manifest_that_is_not_json_is_refused(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = good.parent / "broken.json"
    bad.write_text('{"RoomId": 1,', encoding="utf-8")
    line = _fails_cleanly(capsys, ["generate", str(bad), "--out", str(tmp_path / "o")])
    assert "broken.json" in line


def test_manifest_without_streams_is_refused_naming_the_field(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(good.read_text(encoding="utf-8"))
    del data["Streams"]
    bad = good.parent / "nostreams.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    line = _fails_cleanly(capsys, ["generate", str(bad), "--out", str(tmp_path / "o")])
    assert "Streams" in line


def test_manifest_with_a_wrong_type_is_refused_naming_the_field(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _manifest(good, RecordStartTimeMs="yesterday")
    line = _fails_cleanly(capsys, ["generate", str(bad), "--out", str(tmp_path / "o")])
    assert "RecordStartTimeMs" in line


def test_a_start_time_given_as_a_string_is_refused_naming_the_field(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(good.read_text(encoding="utf-8"))
    data["Streams"][0]["Segments"][0]["StartTime"] = str(mc.START_MS)
    bad = good.parent / "string-start.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    line = _fails_cleanly(capsys, ["generate", str(bad), "--out", str(tmp_path / "o")])
    assert line.startswith("mixdown: InvalidParameter.BodyParameterTypeUnmatched: "), line
    assert "Streams[0].Segments[0].StartTime: expected an integer, got a string" in line
    assert not (tmp_path / "o" / "result.json").exists()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"MixStream": {"Enabled": True, "ModelId": 7}}, "ModelId"),
        (
            {"MixStream": {"Enabled": True, "Custom": {
                "Canvas": {"LayoutParams": {"Width": 640, "Height": 360}},
                "InputStreamList": [{"LayoutParams": {"X": 600, "Y": 0, "Width": 320,
                                                      "Height": 180}}],
            }}},
            "InputStreamList",
        ),
        (
            {"MixStream": {"Enabled": True, "Custom": {
                "Canvas": {"LayoutParams": {"Width": 640, "Height": 360}},
                "InputStreamList": [{"LayoutParams": {"Width": 320, "Height": 180},
                                     "FillMode": 3}],
            }}},
            "FillMode",
        ),
        ({"Concat": {"Enabled": "yes"}}, "Enabled"),
    ],
    ids=["unknown-model", "slot-outside-canvas", "fill-mode-3", "wrong-type"],
)  # fmt: skip
def test_bad_params_are_refused_with_a_record_parameter_error(
    good: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    params: dict[str, Any],
    field: str,
) -> None:
    params_path = tmp_path / "params.json"
    params_path.write_text(json.dumps(params), encoding="utf-8")
    argv = ["generate", str(good), "--params", str(params_path), "--out", str(tmp_path / "o")]
    line = _fails_cleanly(capsys, argv)
    assert "InvalidParameter" in line and field in line


def test_media_that_is_not_media_is_refused_naming_the_file(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (good.parent / "garbage.mp4").write_bytes(b"\x00\x01not a video" * 500)
    bad = _manifest(good, Streams=_segment("garbage.mp4"))
    line = _fails_cleanly(capsys, ["generate", str(bad), "--out", str(tmp_path / "o")])
    assert "garbage.mp4" in line


def test_missing_media_is_refused_naming_the_file(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _manifest(good, Streams=_segment("nowhere.flv"))
    line = _fails_cleanly(capsys, ["generate", str(bad), "--out", str(tmp_path / "o")])
    assert "nowhere.flv" in line


def test_a_truncated_flv_still_generates_what_was_recorded(
    good: Path, tmp_path: Path, ffmpeg: str
) -> None:
    # A live recording cut short: the tail of the file is missing (DESIGN §1).
    whole = tmp_path / "whole.flv"
    from mixdown.synth import make_clip

    make_clip(ClipSpec(duration_ms=3000, container="flv", tone_hz=440), whole, ffmpeg)
    data = whole.read_bytes()
    (good.parent / "cut.flv").write_bytes(data[: len(data) * 6 // 10])
    bad = _manifest(good, Streams=_segment("cut.flv"), RecordStopTimeMs=mc.START_MS + 3000)
    done = mc.generate(bad, tmp_path / "out")
    camera = done.one(0, "cam")
    assert 1000 < camera["VideoDuration"] < 2600
    frame = mc.frame_at(done.path(camera), 500)
    mc.assert_color(mc.mean_color(frame, *mc.center_region(0, 15, 160, 105)), "#3366CC")
