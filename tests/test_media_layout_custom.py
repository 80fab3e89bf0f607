"""A Custom mix layout from a params file: fit, cover, slot colours, ZOrder (DESIGN §3).

Canvas 640x360 on #101820, 4:3 cameras (160x120) in 16:9 slots:

* slot A (0,0) 320x180, InputStreamId "cam" (a prefix), FillMode 0, magenta background:
  ``cam4x3`` fits inside with magenta bars left and right (picture x 40..280);
* slot B (320,0) 320x180, InputStreamId "crop", FillMode 1: ``crop1`` covers it, no bars;
* slot C (160,270) 160x90, spare, **listed first** but ZOrder 1; slot D (0,180) 320x180,
  spare, ZOrder 0. ``zz`` takes C (first spare slot), ``zzz`` takes D; C is drawn on top.
* the bottom-right quarter has no slot: canvas background.

The manifest asks for template 1; the params' MixStream replaces it as a whole, and its
``DisableAudio`` leaves the mix silent although every camera has a tone.
"""

from __future__ import annotations

import numpy as np
import pytest

import mediacheck as mc
from mediacheck import Generated, Piece
from mixdown.synth import ClipSpec

pytestmark = pytest.mark.media

CANVAS_BG = "#101820"
MAGENTA = "#FF00FF"
TONES = (300, 400, 500, 600)
COLORS = {"cam4x3": "#E67E22", "crop1": "#2E86C1", "zz": "#27AE60", "zzz": "#F1C40F"}


CUSTOM = {
    "Canvas": {"LayoutParams": {"Width": 640, "Height": 360}, "BackgroundColor": CANVAS_BG},
    "InputStreamList": [
        {
            "LayoutParams": {"X": 160, "Y": 270, "Width": 160, "Height": 90, "ZOrder": 1},
            "BackgroundColor": "#000000",
        },
        {
            "LayoutParams": {"X": 0, "Y": 0, "Width": 320, "Height": 180},
            "InputStreamId": "cam",
            "FillMode": 0,
            "BackgroundColor": MAGENTA,
        },
        {
            "LayoutParams": {"X": 320, "Y": 0, "Width": 320, "Height": 180},
            "InputStreamId": "crop",
            "FillMode": 1,
        },
        {"LayoutParams": {"X": 0, "Y": 180, "Width": 320, "Height": 180, "ZOrder": 0}},
    ],
}


@pytest.fixture(scope="module")
def cls(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Generated:
    tmp = tmp_path_factory.mktemp("custom")
    pieces = [
        Piece(sid, f"{sid}.mp4", 0, ClipSpec(duration_ms=2000, color=color, tone_hz=tone))
        for (sid, color), tone in zip(COLORS.items(), TONES, strict=True)
    ]
    manifest = mc.write_recording(
        tmp / "in", ffmpeg, pieces, length_ms=2000, MixStream={"Enabled": True, "ModelId": 1}
    )
    params = {"MixStream": {"Enabled": True, "DisableAudio": True, "Custom": CUSTOM}}
    return mc.generate(manifest, tmp / "out", params)


@pytest.fixture(scope="module")
def frame(cls: Generated) -> np.ndarray:
    return mc.frame_at(cls.path(cls.one(3)), 1000)


def test_params_custom_layout_replaces_the_manifest_template(cls: Generated) -> None:
    mix = cls.one(3)
    assert mix["UserId"] == f"tic_mixstream_{mc.ROOM_ID}_custom"
    assert (mix["Width"], mix["Height"]) == (640, 360)


def test_fill_mode_0_letterboxes_on_the_slot_background(frame: np.ndarray) -> None:
    mc.assert_color(mc.mean_color(frame, 4, 40, 30, 130), MAGENTA, what="left bar")
    mc.assert_color(mc.mean_color(frame, 286, 40, 30, 130), MAGENTA, what="right bar")
    mc.assert_color(mc.mean_color(frame, 100, 60, 120, 100), COLORS["cam4x3"], what="picture")


def test_fill_mode_1_covers_the_slot_without_bars(frame: np.ndarray) -> None:
    for x in (322, 440, 618):
        got = mc.mean_color(frame, x, 50, 18, 120)
        mc.assert_color(got, COLORS["crop1"], what=f"cover slot at x {x}")


def test_spare_slots_go_in_list_order_and_zorder_decides_overlap(frame: np.ndarray) -> None:
    # zz has the first spare slot (C, on top); zzz the second (D, below it).
    mc.assert_color(mc.mean_color(frame, 210, 295, 60, 50), COLORS["zz"], what="slot C on top")
    mc.assert_color(mc.mean_color(frame, 60, 200, 80, 60), COLORS["zzz"], what="slot D")


def test_canvas_background_shows_where_no_slot_is(frame: np.ndarray) -> None:
    mc.assert_color(mc.mean_color(frame, 360, 200, 240, 140), CANVAS_BG, what="no slot")


def test_mix_stream_disable_audio_leaves_the_mix_without_sound(cls: Generated) -> None:
    mix = cls.path(cls.one(3))
    assert mc.probe_durations(mix)["audio_start_ms"] is None, "the mix has an audio track"
    # The streams keep their own audio.
    assert mc.tone_level_db(cls.path(cls.one(0, "zz")), 200, 1800, TONES[2]) > -26
