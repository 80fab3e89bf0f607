"""The web console in a real browser (Debian's chromium driven by Playwright) against a real
``mixdown serve``: signing in, importing the demo class and seeing it on a timeline,
creating a task and watching it finish, playing its video, a failed task's error, the
callback log; and what must stay shut: other apps' pages, forged forms, wrong keys, ended
sessions."""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from api.conftest import Creds, ServerProcess, call, cli_create_app, free_port, sdk, wait_for
from api.wire_support import Receiver
from mixdown.demo import write_inputs

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.media,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]
#: The console's colours (console.css): a whiteboard bar, and a pause over an empty lane.
WHITEBOARD_RGB = (0x2F, 0x6F, 0xD6)
FINISH_S = 240.0
#: Where to save the README's screenshot of the console, when set.
SCREENSHOT_ENV = "MIXDOWN_CONSOLE_SCREENSHOT"


@dataclass
class Console:
    server: ServerProcess
    creds: Creds
    other: Creds
    manifest: str
    receiver: Receiver

    @property
    def url(self) -> str:
        return f"{self.server.url}/console"


def imported(console: Console, creds: Creds) -> str:
    """The demo class imported through the SDK for ``creds``'s app, once probed."""
    client = sdk(console.server.port, creds)
    params = {"SdkAppId": creds.sdk_app_id, **json.loads(console.manifest)}
    task_id = str(call(client, "ImportOnlineRecord", params)["TaskId"])
    record = {"SdkAppId": creds.sdk_app_id, "TaskId": task_id}
    wait_for(
        lambda: call(client, "DescribeOnlineRecord", record)["Status"] == "FINISHED",
        120,
        "the import",
    )
    return task_id


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Iterator[Console]:
    root = tmp_path_factory.mktemp("console")
    manifest = write_inputs(root / "demo", ffmpeg)
    data = root / "data"
    creds, other = cli_create_app(data), cli_create_app(data)
    env = {"MIXDOWN_PRESET": "ultrafast"}
    server = ServerProcess(
        data, "--ingest-root", str(manifest.parent), "--allow-private-urls", env=env
    )
    receiver = Receiver()
    server.start()
    try:
        client = sdk(server.port, creds)
        call(
            client,
            "SetVideoGenerationTaskCallback",
            {"SdkAppId": creds.sdk_app_id, "Callback": receiver.url},
        )
        yield Console(server, creds, other, manifest.read_text(), receiver)
    finally:
        server.stop()
        receiver.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def submit(page: Page, selector: str) -> None:
    """Click a form's button and wait for the page it leads to (a click does not)."""
    with page.expect_navigation():
        page.click(selector)


def sign_in(page: Page, console: Console, creds: Creds | None = None) -> None:
    creds = creds or console.creds
    page.goto(f"{console.url}/")
    page.fill("input[name=secret_id]", creds.secret_id)
    page.fill("input[name=secret_key]", creds.secret_key)
    submit(page, "#signin button")


def import_demo(page: Page, console: Console) -> str:
    page.goto(f"{console.url}/recordings")
    page.click("#import summary")
    page.fill("textarea[name=manifest]", console.manifest)
    submit(page, "#import button")
    task_id = page.url.rsplit("/", 1)[-1]

    def finished() -> bool:
        page.reload()
        return page.inner_text("#status") == "FINISHED"

    wait_for(finished, 120, "the import to be probed", every_s=1)
    return task_id


def test_a_signed_in_user_sees_the_demo_class_on_its_timeline(
    page: Page, console: Console, tmp_path: Path
) -> None:
    sign_in(page, console)
    assert page.url.endswith("/console/recordings")
    import_demo(page, console)
    manifest = json.loads(console.manifest)
    lanes = page.locator("#timeline .lane")
    streams = [lanes.nth(i).get_attribute("data-stream") for i in range(lanes.count())]
    # The whiteboard first, then every camera, one lane each.
    expected = [s["StreamId"] for s in manifest["Streams"]]
    assert streams[0] == "tic_record_user" and sorted(streams) == sorted(expected)
    # A bar per segment; a stream that came back is marked; the pause is shaded.
    for stream in manifest["Streams"]:
        bars = page.locator(f"#timeline .lane[data-stream='{stream['StreamId']}'] .bar")
        assert bars.count() == len(stream["Segments"]), stream["StreamId"]
        marks = page.locator(f"#timeline .lane[data-stream='{stream['StreamId']}'] .reconnect")
        assert marks.count() == len(stream["Segments"]) - 1, stream["StreamId"]
    pauses = page.locator("#timeline .pause")
    assert pauses.count() == len(manifest["Pauses"]) == 1
    assert int(pauses.first.get_attribute("data-pause") or 0) == manifest["Pauses"][0]["PauseTime"]

    # The picture itself: the whiteboard's bar is drawn blue, the pause shaded yellow.
    shot = Image.open(io.BytesIO(page.locator("#timeline").screenshot())).convert("RGB")
    box = page.locator("#timeline").bounding_box()
    board = page.locator("#timeline .lane[data-stream='tic_record_user'] .bar").first
    bar_box, pause_box = board.bounding_box(), pauses.first.bounding_box()
    assert box and bar_box and pause_box
    x = int(bar_box["x"] - box["x"] + 10)
    y = int(bar_box["y"] - box["y"] + bar_box["height"] / 2)
    assert _near(shot.getpixel((x, y)), WHITEBOARD_RGB), shot.getpixel((x, y))
    px = int(pause_box["x"] - box["x"] + pause_box["width"] / 2)
    py = int(pause_box["y"] - box["y"] + 4)  # the axis row: the pause over white
    red, green, blue = shot.getpixel((px, py))
    assert red > 220 and green > 200 and blue < 200, (red, green, blue)
    # The README's picture of the console is this page (regenerated as the README says).
    if os.environ.get(SCREENSHOT_ENV):
        page.screenshot(path=os.environ[SCREENSHOT_ENV], full_page=True)


def test_a_task_made_in_the_console_finishes_live_and_its_video_plays(
    page: Page, console: Console
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    sign_in(page, console)
    recording_id = import_demo(page, console)
    page.check("input[name=template][value='1']")
    page.check("input[name=concat]")
    page.check("#record-control tr[data-stream='bob'] input[name=rc_off]")
    submit(page, "#create-task button")
    assert "/console/tasks/" in page.url
    # The page follows the task by itself: its progress rises to 100 and the outputs show.
    page.locator("#outputs video").first.wait_for(timeout=FINISH_S * 1000)
    assert page.inner_text("#status") == "FINISHED"
    assert page.locator("#progress").get_attribute("value") == "100"
    types = {
        page.locator("#outputs figure").nth(i).get_attribute("data-type")
        for i in range(page.locator("#outputs figure").count())
    }
    assert {"0", "2", "3"} <= types
    # RecordControl from the form: bob is left out of the outputs.
    captions = page.locator("#outputs figcaption").all_inner_texts()
    assert not any(c.startswith("bob ") for c in captions), captions
    assert '"DisableRecord": true' in (page.locator("details pre").text_content() or "")
    mix = page.locator("#outputs figure[data-type='3'] video")
    mix.evaluate("v => v.play()")
    wait_for(lambda: mix.evaluate("v => v.currentTime") > 0.5, 30, "the mixed video to play")
    # Each picture has a contact sheet: nine frames, three by three.
    sheet = page.locator("#outputs figure[data-type='3'] img.sheet")
    sheet.scroll_into_view_if_needed()
    wait_for(lambda: sheet.evaluate("i => i.complete && i.naturalWidth") > 0, 120, "the sheet")
    jar = {c["name"]: c["value"] for c in page.context.cookies()}
    src = sheet.get_attribute("src") or ""
    png = httpx.get(f"{console.server.url}{src}", cookies=jar, timeout=120)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).width == 3 * 240
    page.goto(f"{console.url}/recordings/{recording_id}")
    assert page.locator("#tasks a").count() >= 1
    # Everything the pages loaded came from this server: nothing from the internet.
    assert requested and all(u.startswith(console.server.url) for u in requested), requested

    # The delivery log shows the task's finished event, delivered to the receiver.
    wait_for(lambda: console.receiver.bodies(), 60, "a callback to arrive")
    page.goto(f"{console.url}/callbacks")
    delivered = page.locator(
        "#deliveries tr[data-event='VideoGenerationFinished'][data-state='delivered']"
    )

    def logged() -> bool:
        page.reload()
        return delivered.count() >= 1

    wait_for(logged, 60, "the delivery in the log")


def test_a_failed_task_shows_its_error(page: Page, console: Console) -> None:
    client = sdk(console.server.port, console.creds)
    record_id = imported(console, console.creds)
    missing = f"http://127.0.0.1:{free_port()}/filler.png"  # nothing listens there
    params = {
        "SdkAppId": console.creds.sdk_app_id,
        "OnlineRecordTaskId": record_id,
        "Concat": {"Enabled": True, "Image": missing},
    }
    task_id = call(client, "CreateVideoGenerationTask", params)["TaskId"]
    sign_in(page, console)
    page.goto(f"{console.url}/tasks/{task_id}")
    page.locator("#error").wait_for(timeout=FINISH_S * 1000)
    assert page.inner_text("#error").startswith("FailedOperation")
    assert "filler.png" in page.inner_text("#error")


def test_a_tasks_report_warnings_are_shown(page: Page, console: Console) -> None:
    client = sdk(console.server.port, console.creds)
    app = console.creds.sdk_app_id
    record_id = imported(console, console.creds)
    slot = {"LayoutParams": {"Width": 320, "Height": 240}, "InputStreamId": "nobody"}
    custom = {"Canvas": {"LayoutParams": {"Width": 640, "Height": 480}}, "InputStreamList": [slot]}
    params = {
        "SdkAppId": app,
        "OnlineRecordTaskId": record_id,
        "MixStream": {"Enabled": True, "Custom": custom},
    }
    task_id = call(client, "CreateVideoGenerationTask", params)["TaskId"]
    sign_in(page, console)
    page.goto(f"{console.url}/tasks/{task_id}")
    page.locator("#warnings").wait_for(timeout=FINISH_S * 1000)
    assert "SlotUnmatched" in page.inner_text("#warnings")
    assert "SlotUnmatched" in page.inner_text("#outputs figure[data-type='3'] figcaption")


def test_another_apps_pages_are_not_reachable_by_url(page: Page, console: Console) -> None:
    app = console.other.sdk_app_id
    record_id = imported(console, console.other)
    task = call(
        sdk(console.server.port, console.other),
        "CreateVideoGenerationTask",
        {"SdkAppId": app, "OnlineRecordTaskId": record_id},
    )
    sign_in(page, console)
    for path in (
        f"recordings/{record_id}",
        f"recordings/{record_id}/timeline",
        f"tasks/{task['TaskId']}",
        f"tasks/{task['TaskId']}/state",
        f"tasks/{task['TaskId']}/sheet/0.png",
    ):
        answer = page.goto(f"{console.url}/{path}")
        assert answer is not None and answer.status == 404, path
    for listing in ("recordings", "tasks"):
        shown = page.goto(f"{console.url}/{listing}")
        assert shown is not None
        assert record_id not in shown.text() and task["TaskId"] not in shown.text()
    # Nor can its recordings be generated from through the console's form.
    jar = {c["name"]: c["value"] for c in page.context.cookies()}
    page.goto(f"{console.url}/recordings")
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    form = {"csrf": token, "recording": record_id, "app": str(app), "template": "none"}
    sent = httpx.post(f"{console.url}/tasks", data=form, cookies=jar, timeout=30)
    assert sent.status_code == 404


def test_forms_without_the_sessions_csrf_token_are_refused(page: Page, console: Console) -> None:
    sign_in(page, console)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    jar = {"mixdown_console": cookies["mixdown_console"]}
    for form in ({}, {"csrf": "forged"}):
        sent = httpx.post(
            f"{console.url}/recordings", data={**form, "manifest": "{}"}, cookies=jar, timeout=10
        )
        assert sent.status_code == 403, form
    # The session's own token passes the check (and reaches the action, which refuses {}).
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    sent = httpx.post(
        f"{console.url}/recordings", data={"csrf": token, "manifest": "{}"}, cookies=jar, timeout=10
    )
    assert sent.status_code == 400 and "MissingParameter" in sent.text


def test_after_signing_out_the_session_is_dead(page: Page, console: Console) -> None:
    sign_in(page, console)
    token = {c["name"]: c["value"] for c in page.context.cookies()}["mixdown_console"]
    cookie = next(c for c in page.context.cookies() if c["name"] == "mixdown_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    submit(page, "#signout")
    assert page.url.endswith("/console/signin")
    again = httpx.get(f"{console.url}/recordings", cookies={"mixdown_console": token}, timeout=10)
    assert again.status_code == 303 and again.headers["location"] == "/console/signin"


def test_a_test_event_is_delivered_and_logged(page: Page, console: Console) -> None:
    sign_in(page, console)
    page.goto(f"{console.url}/callbacks")
    submit(page, "#targets tr[data-kind='generation'] .test-event button")
    arrived = wait_for(
        lambda: [b for b in console.receiver.bodies() if b["EventType"] == "TestEvent"],
        60,
        "the test event",
    )
    assert arrived[0]["SdkAppId"] == console.creds.sdk_app_id
    logged = page.locator("#deliveries tr[data-event='TestEvent'][data-state='delivered']")

    def shown() -> bool:
        page.reload()
        return logged.count() >= 1

    wait_for(shown, 60, "the test event in the delivery log")


def test_an_app_made_in_the_console_can_rotate_its_key_with_a_grace_period(
    page: Page, console: Console
) -> None:
    sign_in(page, console)
    page.goto(f"{console.url}/apps")
    submit(page, "#create-app button")
    made = Creds(
        int(page.inner_text("#shown-SdkAppId")),
        page.inner_text("#shown-SecretId"),
        page.inner_text("#shown-SecretKey"),
    )
    assert made.sdk_app_id not in (console.creds.sdk_app_id, console.other.sdk_app_id)
    submit(page, "#signout")
    sign_in(page, console, made)
    assert page.url.endswith("/console/recordings")
    page.goto(f"{console.url}/apps")
    assert page.locator(f"#apps tr[data-app='{made.sdk_app_id}']").count() == 1
    # A day of grace: the old key still signs API calls; the new one too.
    page.select_option(f"#apps tr[data-app='{made.sdk_app_id}'] select[name=grace]", "86400")
    submit(page, f"#apps tr[data-app='{made.sdk_app_id}'] .rotate button")
    rotated = Creds(made.sdk_app_id, made.secret_id, page.inner_text("#shown-SecretKey"))
    assert rotated.secret_key != made.secret_key
    for creds in (made, rotated):
        found = call(
            sdk(console.server.port, creds),
            "DescribeOnlineRecordCallback",
            {"SdkAppId": made.sdk_app_id},
        )
        assert "Callback" in found
    # No grace: the key before stops at once.
    page.goto(f"{console.url}/apps")
    page.select_option(f"#apps tr[data-app='{made.sdk_app_id}'] select[name=grace]", "0")
    submit(page, f"#apps tr[data-app='{made.sdk_app_id}'] .rotate button")
    latest = Creds(made.sdk_app_id, made.secret_id, page.inner_text("#shown-SecretKey"))
    submit(page, "#signout")
    sign_in(page, console, rotated)
    assert page.url.endswith("/console/signin")
    sign_in(page, console, latest)
    assert page.url.endswith("/console/recordings")


# Last: its failed sign-ins slow every later sign-in from this address.
def test_a_wrong_key_cannot_sign_in_and_guessing_is_slowed(page: Page, console: Console) -> None:
    wrong = Creds(console.other.sdk_app_id, console.other.secret_id, "x" * 32)
    sign_in(page, console, wrong)
    assert page.url.endswith("/console/signin")
    assert "Wrong SecretId or SecretKey" in page.inner_text("#message")
    assert console.other.secret_key not in page.content()
    for _ in range(5):
        sign_in(page, console, wrong)
    # No key the console was given is ever written to the server's log.
    log = console.server.log()
    assert "console sign-in refused" in log
    for key in (console.creds.secret_key, console.other.secret_key, wrong.secret_key):
        assert key not in log
    # Even the right key is refused for a while after too many wrong ones.
    sign_in(page, console, console.other)
    assert "Too many failed sign-ins" in page.inner_text("#message")


def _near(actual: tuple[int, int, int], expected: tuple[int, int, int], tol: int = 12) -> bool:
    return all(abs(a - e) <= tol for a, e in zip(actual, expected, strict=True))
