"""The console's layout editor of a custom mix (``static/layout.js``) in a real browser:
drawing the demo class's slots with the mouse, the preview of who sits where, the
MixStream JSON it keeps in the form (and reads back when edited by hand), and a task made
from it whose mixed video has the whiteboard and the camera exactly where they were put."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Locator, Page, expect

import mediacheck as mc
from mixdown.demo import demo_pieces

from . import test_console_browser as shared
from .test_console_browser import CHROMIUM, FINISH_S, Console, import_demo, sign_in, submit

#: The browser and the server of test_console_browser (pytest finds fixtures by name here).
browser, console, page = shared.browser, shared.console, shared.page

pytestmark = [
    pytest.mark.media,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]

# The demo class (mixdown.demo): alice joins at 8 s and bob is away 10-20 s, so at 12 s
# (before the 15 s pause: the mix's 12 s too) the whiteboard, the teacher and alice are
# there, and at 5 s the whiteboard, bob and the teacher.
COLORS = {piece.stream_id: piece.spec.color for piece in demo_pieces()}
BOARD, ALICE = COLORS["tic_record_user"], COLORS["alice"]
AT_MS = 12_000
EARLY_MS = 5_000
CANVAS_BG = "#8E44AD"
WIDTH, HEIGHT = 1280, 720


def _mix(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(page.input_value("#mix-stream"))
    return found


def _slots(page: Page) -> list[dict[str, Any]]:
    slots: list[dict[str, Any]] = _mix(page)["Custom"]["InputStreamList"]
    return slots


def _rect(slot: dict[str, Any]) -> tuple[int, int, int, int]:
    p = slot["LayoutParams"]
    return p["X"], p["Y"], p["Width"], p["Height"]


def _inside(slot: dict[str, Any]) -> bool:
    x, y, w, h = _rect(slot)
    return x >= 0 and y >= 0 and x + w <= WIDTH and y + h <= HEIGHT and w >= 2 and h >= 2


def _drag(page: Page, target: Locator, dx: int, dy: int) -> None:
    """Press on the middle of ``target``, move by (dx, dy) screen pixels, release."""
    box = target.bounding_box()
    assert box is not None
    x, y = round(box["x"] + box["width"] / 2), round(box["y"] + box["height"] / 2)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=5)
    page.mouse.up()


def _occupants(page: Page, at_ms: int) -> list[str]:
    page.fill("#layout-time", str(at_ms))
    slots = page.locator(".layout-slot")
    return [slots.nth(i).get_attribute("data-occupant") or "" for i in range(slots.count())]


def _edit_by_hand(page: Page, text: str) -> None:
    page.fill("#mix-stream", text)
    page.locator("#mix-stream").blur()  # leaving it fires "change"


def test_a_layout_drawn_in_the_editor_is_the_mixed_videos_layout(
    page: Page, console: Console, tmp_path: Path
) -> None:
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_viewport_size({"width": 1280, "height": 1600})  # the whole form on screen
    sign_in(page, console)
    import_demo(page, console)

    # Hidden until a custom layout is chosen; the default is already in the form.
    editor = page.locator("#layout-editor.layout-editor")
    assert editor.is_hidden()
    assert [(s.get("InputStreamId", ""), *_rect(s)) for s in _slots(page)] == [
        ("tic_record_user", 0, 0, 960, 720),
        ("", 960, 0, 320, 240),
    ]
    page.check("input[name=template][value='custom']")
    editor.wait_for(state="visible")
    box = page.locator(".layout-canvas").bounding_box()
    assert box is not None
    scale = box["width"] / WIDTH
    assert box["height"] == pytest.approx(HEIGHT * scale, abs=0.01)
    assert box["width"] == pytest.approx(640, abs=1)

    def canvas_px(screen_px: int) -> int:
        return round(screen_px / scale)

    # Resize slot 0 by its handle, then move it by its body: whole canvas pixels.
    slot0 = page.locator(".layout-slot[data-index='0']")
    _drag(page, slot0.locator(".layout-handle"), -200, -150)
    width, height = 960 + canvas_px(-200), 720 + canvas_px(-150)
    assert _rect(_slots(page)[0]) == (0, 0, width, height)
    _drag(page, slot0, 60, 80)
    assert _rect(_slots(page)[0]) == (canvas_px(60), canvas_px(80), width, height)
    # Too far: it stops at the canvas's edges.
    _drag(page, slot0, 1000, 1000)
    assert _rect(_slots(page)[0]) == (WIDTH - width, HEIGHT - height, width, height)
    _drag(page, slot0, -300, -100)
    board = (WIDTH - width + canvas_px(-300), HEIGHT - height + canvas_px(-100), width, height)
    assert _rect(_slots(page)[0]) == board
    assert all(_inside(s) for s in _slots(page))

    # A third slot, lowered under the camera's and raised again, then removed.
    page.click("#layout-add")
    assert [s["LayoutParams"]["ZOrder"] for s in _slots(page)] == [0, 1, 2]
    assert _slots(page)[2].get("InputStreamId") is None and _inside(_slots(page)[2])
    page.click("#layout-lower")
    assert [s["LayoutParams"]["ZOrder"] for s in _slots(page)] == [0, 2, 1]
    page.click("#layout-raise")
    assert [s["LayoutParams"]["ZOrder"] for s in _slots(page)] == [0, 1, 2]
    page.click("#layout-remove")
    assert len(_slots(page)) == 2 and page.locator(".layout-slot").count() == 2

    # The preview: the whiteboard in its slot; the spare slot takes the first camera there.
    slot1 = page.locator(".layout-slot[data-index='1']")
    slot1.click()
    assert page.locator("#slot-title").inner_text().startswith("Slot 2")
    assert _occupants(page, EARLY_MS) == ["tic_record_user", "bob"]
    assert _occupants(page, AT_MS) == ["tic_record_user", "teacher"]
    # Reserved for alice: hers alone, empty before she joins.
    page.select_option("#slot-stream", "alice")
    assert _occupants(page, AT_MS) == ["tic_record_user", "alice"]
    assert _occupants(page, EARLY_MS) == ["tic_record_user", ""]
    assert slot1.locator(".layout-slot-label").inner_text() == "empty"
    page.fill("#layout-bg", CANVAS_BG.lower())

    # Edited by hand: loaded when it parses, left alone (and said so) when not.
    mix = _mix(page)
    mix["Custom"]["InputStreamList"][1]["LayoutParams"]["Y"] = 40
    _edit_by_hand(page, "{not json")
    assert page.locator("#layout-error").is_visible()
    assert page.input_value("#mix-stream") == "{not json"
    _edit_by_hand(page, json.dumps(mix))
    assert page.locator("#layout-error").is_hidden()
    assert page.input_value("#slot-y") == "40"
    moved, canvas = slot1.bounding_box(), page.locator(".layout-canvas").bounding_box()
    assert moved is not None and canvas is not None
    assert moved["y"] - canvas["y"] == pytest.approx(40 * scale, abs=0.01)

    camera = (960, 40, 320, 240)
    assert _mix(page) == {
        "Enabled": True,
        "Custom": {
            "Canvas": {
                "LayoutParams": {"Width": WIDTH, "Height": HEIGHT},
                "BackgroundColor": CANVAS_BG,
            },
            "InputStreamList": [
                {
                    "LayoutParams": dict(zip(("X", "Y", "Width", "Height"), board, strict=True))
                    | {"ZOrder": 0},
                    "InputStreamId": "tic_record_user",
                    "BackgroundColor": "#000000",
                    "FillMode": 0,
                },
                {
                    "LayoutParams": dict(zip(("X", "Y", "Width", "Height"), camera, strict=True))
                    | {"ZOrder": 1},
                    "InputStreamId": "alice",
                    "BackgroundColor": "#000000",
                    "FillMode": 0,
                },
            ],
        },
    }

    page.click("#layout-copy")
    # Copied, or (no clipboard access here) selected for Ctrl+C.
    expect(page.locator("#layout-copy-status")).to_have_text(re.compile(r"Copied|Selected"))
    # The task made from it: the mixed video has that layout.
    submit(page, "#create-task button")
    assert "/console/tasks/" in page.url
    page.locator("#outputs video").first.wait_for(timeout=FINISH_S * 1000)
    src = page.locator("#outputs figure[data-type='3'] video").evaluate("v => v.src")
    video = tmp_path / "mix.mp4"
    got = httpx.get(urljoin(page.url, src), timeout=60)
    assert got.status_code == 200
    video.write_bytes(got.content)
    frame = mc.frame_at(video, AT_MS)
    assert frame.shape[:2] == (HEIGHT, WIDTH)
    mc.assert_color(mc.mean_color(frame, *mc.center_region(*board)), BOARD, what="whiteboard")
    mc.assert_color(mc.mean_color(frame, *mc.center_region(*camera)), ALICE, what="alice")
    # Where the whiteboard's slot was before it was moved, and where no slot is: the canvas.
    mc.assert_color(mc.mean_color(frame, 10, 560, 100, 140), CANVAS_BG, what="left of it")
    mc.assert_color(mc.mean_color(frame, 720, 320, 200, 360), CANVAS_BG, what="no slot")
    assert errors == []
