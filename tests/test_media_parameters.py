"""Checks of parameter precedence and small videos (DESIGN §1, §2; reference
§3.1, §3.3, §3.8, §3.9).

One 3 s recording, generated twice. Every camera is 320x240 in its main segments; a stream
with ``SmallSegments`` has a 160x120 small variant in a *different* colour:

* ``amy``, ``amz1``, ``dan``: main and small segments;
* ``ben``: no ``SmallSegments`` key; ``cat``: ``"SmallSegments": []``;
* ``zed``: the teacher; the whiteboard is 4:3 (320x240).

The manifest asks for template 1 with ``TeacherId`` zed, a 320x240 whiteboard and a global
``PullSmallVideo``. The params file replaces ``MixStream`` (template 2, no TeacherId),
``Whiteboard`` (640x360) and ``RecordControl`` (no global pull; ``StreamControls``: prefix
"am" pulls small, the longer prefix "amz" does not, "ben" is not recorded), each as a whole.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mediacheck as mc
from mediacheck import Generated, Piece
from mixdown.synth import ClipSpec, make_clip

pytestmark = pytest.mark.media

BOARD = "#EEEEE6"
MAIN = {
    "amy": "#C0392B",
    "amz1": "#2E86C1",
    "ben": "#8E44AD",
    "cat": "#16A085",
    "dan": "#F1C40F",
    "zed": "#E67E22",
}
SMALL = {"amy": "#27AE60", "amz1": "#FF00FF", "dan": "#00FFFF"}
TEMPLATE_1_SLOTS = [(x, 8, 320, 240) for x in (8, 336, 664, 992)]
TEMPLATE_2_SLOTS = [(1296, y, 320, 240) for y in (8, 256, 504, 752)]


def _spec(color: str, width: int = 320, height: int = 240) -> ClipSpec:
    return ClipSpec(duration_ms=3000, width=width, height=height, color=color, moving_mark=False)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    tmp = tmp_path_factory.mktemp("adv-params")
    folder = tmp / "in"
    board = ClipSpec(duration_ms=3000, width=320, height=240, color=BOARD, has_audio=False)
    pieces = [Piece("tic_record_user", "board.mp4", 0, board)]
    pieces += [Piece(sid, f"{sid}.mp4", 0, _spec(color)) for sid, color in MAIN.items()]
    path = mc.write_recording(
        folder, ffmpeg, pieces, length_ms=3000,
        Whiteboard={"Width": 320, "Height": 240},
        MixStream={"Enabled": True, "ModelId": 1, "TeacherId": "zed"},
        RecordControl={"Enabled": True, "PullSmallVideo": True},
    )  # fmt: skip
    data = json.loads(path.read_text(encoding="utf-8"))
    for stream in data["Streams"]:
        sid = stream["StreamId"]
        if sid in SMALL:
            make_clip(_spec(SMALL[sid], 160, 120), folder / f"{sid}-small.mp4", ffmpeg)
            stream["SmallSegments"] = [{"Url": f"{sid}-small.mp4", "StartTime": mc.START_MS}]
        elif sid == "cat":
            stream["SmallSegments"] = []
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def defaults(manifest: Path) -> Generated:
    """Generated with the manifest's own parameters."""
    return mc.generate(manifest, manifest.parent.parent / "defaults")


@pytest.fixture(scope="module")
def overridden(manifest: Path) -> Generated:
    params = {
        "MixStream": {"Enabled": True, "ModelId": 2},
        "Whiteboard": {"Width": 640, "Height": 360},
        "RecordControl": {
            "Enabled": True,
            "StreamControls": [
                {"StreamId": "am", "PullSmallVideo": True},
                {"StreamId": "amz", "PullSmallVideo": False},
                {"StreamId": "ben", "DisableRecord": True},
            ],
        },
    }
    return mc.generate(manifest, manifest.parent.parent / "overridden", params)


def _slots(done: Generated, slots: list[tuple[int, int, int, int]]) -> list[mc.RGB]:
    frame = mc.frame_at(done.path(done.one(3)), 1500)
    return [mc.mean_color(frame, *mc.center_region(*slot)) for slot in slots]


def _own_color(done: Generated, sid: str) -> tuple[mc.RGB, tuple[int, int]]:
    info = done.one(0, sid)
    frame = mc.frame_at(done.path(info), 1500)
    height, width = frame.shape[:2]
    return mc.mean_color(frame, *mc.center_region(0, 0, width, height)), (width, height)


def test_global_pull_small_video_shows_each_small_variant_in_the_mix(defaults: Generated) -> None:
    got = _slots(defaults, TEMPLATE_1_SLOTS)
    # TeacherId zed in slot 1; then amy, amz1, ben in StreamId order (all present at 0).
    expected = [MAIN["zed"], SMALL["amy"], SMALL["amz1"], MAIN["ben"]]
    for i, (color, want) in enumerate(zip(got, expected, strict=True)):
        mc.assert_color(color, want, what=f"template 1 slot {i + 1}")


def test_global_pull_small_video_gives_small_per_stream_videos_or_falls_back_to_main(
    defaults: Generated,
) -> None:
    """A stream without small segments (key absent, or an empty list) uses its main ones."""
    for sid, want in [("amy", SMALL), ("dan", SMALL), ("ben", MAIN), ("cat", MAIN)]:
        color, size = _own_color(defaults, sid)
        mc.assert_color(color, want[sid], what=f"{sid}'s own video")
        info = defaults.one(0, sid)
        assert (info["Width"], info["Height"]) == size, sid
        assert size == ((160, 120) if want is SMALL else (320, 240)), sid


def test_params_mix_stream_replaces_the_manifests_teacher_id_along_with_the_template(
    overridden: Generated,
) -> None:
    """The params' MixStream has no TeacherId: no slot is reserved, zed (last by StreamId)
    finds the four slots taken and is not shown; ben is not recorded at all."""
    mix = overridden.one(3)
    assert mix["UserId"] == f"tic_mixstream_{mc.ROOM_ID}_2"
    assert (mix["Width"], mix["Height"]) == (1624, 1000)
    got = _slots(overridden, TEMPLATE_2_SLOTS)
    expected = [SMALL["amy"], MAIN["amz1"], MAIN["cat"], MAIN["dan"]]
    for i, (color, want) in enumerate(zip(got, expected, strict=True)):
        mc.assert_color(color, want, what=f"template 2 slot {i + 1}")


def test_params_record_control_replaces_the_manifests_as_a_whole(overridden: Generated) -> None:
    """Prefix "am" pulls amy's small video, the longer "amz" keeps amz1 on main, dan (no
    entry) follows the params' globals, not the manifest's PullSmallVideo."""
    for sid, want in [("amy", SMALL), ("amz1", MAIN), ("dan", MAIN), ("cat", MAIN)]:
        color, _ = _own_color(overridden, sid)
        mc.assert_color(color, want[sid], what=f"{sid}'s own video")
    assert overridden.infos(user_id="ben") == []


def test_params_whiteboard_size_pillarboxes_a_4_3_board_in_black(overridden: Generated) -> None:
    info = overridden.one(2)
    assert (info["Width"], info["Height"]) == (640, 360)
    frame = mc.frame_at(overridden.path(info), 1500)
    assert frame.shape == (360, 640, 3)
    # 4:3 in 640x360: 480x360 in the middle, 80 px of black each side.
    mc.assert_color(mc.mean_color(frame, 4, 20, 70, 320), "#000000", what="left bar")
    mc.assert_color(mc.mean_color(frame, 566, 20, 70, 320), "#000000", what="right bar")
    mc.assert_color(mc.mean_color(frame, 100, 60, 440, 280), BOARD, what="board")


def test_the_manifest_whiteboard_size_applies_without_params(defaults: Generated) -> None:
    info = defaults.one(2)
    assert (info["Width"], info["Height"]) == (320, 240)
    frame = mc.frame_at(defaults.path(info), 1500)
    assert frame.shape == (240, 320, 3)
    mc.assert_color(mc.mean_color(frame, 0, 40, 320, 200), BOARD, what="board, edge to edge")
