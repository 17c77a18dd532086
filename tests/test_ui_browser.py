"""The dashboard driven in a real browser (Debian's chromium through Playwright) against a
real `genjobs serve`: what a person signs in to, runs, watches, cancels and manages, checked
on the page as they would see it. Any console error, page error or unexpected HTTP error
fails the test."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from genjobs.store.keys import KEY_PREFIX
from tests.helpers import create, wait_for
from tests.serverproc import ServerProcess
from tests.stt_audio import speak
from tests.ui_support import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, PageProblems, sign_in

RUN_TIMEOUT_MS = 60_000
CALLBACK_TIMEOUT_MS = 15_000  # the page reads a pending delivery again every 5 s


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("ui") / "data").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def api(server: ServerProcess) -> Iterator[httpx.Client]:
    """The admin key's API, to set up what a test then looks at in the page."""
    with httpx.Client(base_url=server.base_url, headers=server.headers, timeout=30) as client:
        yield client


@pytest.fixture(scope="module", autouse=True)
def speech_task(api: httpx.Client, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A speech-to-text task, started with the module: the model takes up to ~30 s to load
    in its worker, and the transcript test (the last one) finds it done by then."""
    wav = speak(
        "The lighthouse keeper climbs the stairs every evening.",
        "en-us",
        tmp_path_factory.mktemp("speech") / "keeper.wav",
    )
    upload = api.post(
        "/api/file-stream-upload",
        files={"file": ("keeper.wav", wav.read_bytes(), "audio/wav")},
        data={"uploadPath": "audio"},
    )
    audio_url = upload.json()["data"]["downloadUrl"]
    return create(api, {"audio_url": audio_url}, model="elevenlabs/speech-to-text")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Browser, problems: PageProblems) -> Iterator[Page]:
    """A fresh tab (its own sessionStorage: signed out) at 1280x800."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    problems.watch(tab)
    yield tab
    context.close()
    assert not problems.problems, "\n".join(problems.problems)


def run_pane(page: Page) -> Locator:
    """The playground's right-hand side, where the task it ran is followed."""
    return page.get_by_role("region", name="Run")


def test_sign_in_checks_the_key_and_sign_out_forgets_it(
    page: Page, server: ServerProcess, problems: PageProblems
) -> None:
    problems.allow(401, "/api/v1/account")
    page.goto(f"{server.base_url}/")
    expect(page).to_have_url(f"{server.base_url}/ui/")

    key = page.get_by_label("API key")
    key.fill("gj_not_a_key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("invalid or revoked API key")).to_be_visible()
    expect(key).to_have_attribute("aria-invalid", "true")

    key.fill(server.api_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_be_visible()  # an admin key
    assert page.evaluate("sessionStorage.getItem('genjobs.apiKey')") == server.api_key
    page.reload()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('genjobs.apiKey')") is None
    page.reload()
    expect(page.get_by_label("API key")).to_be_visible()


def test_echo_runs_from_the_playground_to_its_result(page: Page, server: ServerProcess) -> None:
    sign_in(page, server.base_url, server.api_key, "#/playground/genjobs/echo")
    expect(page.get_by_label("Model")).to_have_value("genjobs/echo")
    expect(page.get_by_label("repeat")).to_have_value("1")  # the schema's default
    page.get_by_role("textbox", name="text", exact=True).fill("hello from the playground")
    page.get_by_label("sleep_s").fill("0.5")
    page.get_by_label("callBackUrl").fill(f"{server.base_url}/no-such-hook")
    page.get_by_role("button", name="Run").click()

    pane = run_pane(page)
    expect(pane.locator(".task-head .badge")).to_have_text("success")
    expect(pane.get_by_role("region", name="Result")).to_contain_text(
        '"text": "hello from the playground"'
    )
    expect(pane.get_by_role("list", name="Timeline").locator("li.done")).to_have_count(4)
    expect(pane.get_by_label("Progress")).to_have_attribute("value", "100")
    expect(pane.get_by_role("region", name="Input")).to_contain_text('"sleep_s": 0.5')
    # The callback's attempts are listed, and read again while it is being retried.
    expect(pane.get_by_role("region", name="Callbacks")).to_contain_text(
        "HTTP 404", timeout=CALLBACK_TIMEOUT_MS
    )


def test_refused_input_is_shown_beside_its_field(
    page: Page, server: ServerProcess, api: httpx.Client, problems: PageProblems
) -> None:
    problems.allow(422, "/api/v1/jobs/createTask")
    sign_in(page, server.base_url, server.api_key, "#/playground/sora-2-pro-storyboard")
    shot = page.get_by_role("group", name="Shot 1")
    expect(shot.get_by_label("Scene")).not_to_be_empty()  # prefilled from the example
    shot.get_by_label("duration").fill("99")
    page.get_by_role("button", name="Run").click()

    body = {"model": "sora-2-pro-storyboard", "input": {"shots": [{"Scene": "x", "duration": 99}]}}
    refusal = api.post("/api/v1/jobs/createTask", json=body).json()["msg"]
    path, message = refusal.split(": ", 1)
    assert path == "input.shots.0.duration"
    duration = shot.get_by_label("duration")
    expect(duration).to_have_attribute("aria-invalid", "true")
    expect(duration).to_have_accessible_description(re.compile(re.escape(message)))
    expect(shot.get_by_text(message)).to_be_visible()
    expect(page.get_by_role("group", name="Shot 2").get_by_label("duration")).not_to_have_attribute(
        "aria-invalid", "true"
    )
    expect(run_pane(page).locator(".task")).to_have_count(0)  # no task was made


def test_storyboard_with_an_uploaded_image_plays_as_a_video(
    page: Page, server: ServerProcess, tmp_path: Path
) -> None:
    picture = Image.new("RGB", (640, 360), (28, 52, 84))
    ImageDraw.Draw(picture).ellipse((250, 110, 390, 250), fill=(240, 180, 60))
    picture.save(tmp_path / "dawn.png")

    sign_in(page, server.base_url, server.api_key, "#/playground/sora-2-pro-storyboard")
    page.get_by_label("n_frames").select_option("10")
    page.get_by_role("button", name="Remove Shot 2").click()
    shot = page.get_by_role("group", name="Shot 1")
    shot.get_by_label("Scene").fill("A lighthouse at dawn")
    shot.get_by_label("duration").fill("4")
    page.get_by_role("button", name="Add image_url").click()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload a file for image_urls[0]").click()
    chooser.value.set_files(tmp_path / "dawn.png")
    expect(page.get_by_role("textbox", name="image_urls[0]", exact=True)).to_have_value(
        re.compile(r"/files/uploads/.+/dawn\.png\?expires=")
    )
    page.get_by_role("button", name="Run").click()

    pane = run_pane(page)
    expect(pane.locator(".task-head .badge")).to_have_text("success", timeout=RUN_TIMEOUT_MS)
    video = pane.locator("video")
    expect(video).to_have_attribute("poster", re.compile(r"/thumbnail\.jpg\?"))
    page.wait_for_function("document.querySelector('video').readyState >= 1")  # metadata
    assert video.evaluate("v => v.duration") == pytest.approx(10, abs=0.2)
    source = video.get_attribute("src")
    expect(pane.get_by_role("link", name="Download MP4")).to_have_attribute("href", source)


def test_a_running_task_is_canceled(page: Page, server: ServerProcess) -> None:
    sign_in(page, server.base_url, server.api_key, "#/playground/genjobs/echo")
    page.get_by_role("textbox", name="text", exact=True).fill("a long one")
    page.get_by_label("sleep_s").fill("30")
    page.get_by_role("button", name="Run").click()

    pane = run_pane(page)
    badge = pane.locator(".task-head .badge")
    expect(badge).to_have_text("generating")
    pane.get_by_role("button", name="Cancel").click()
    expect(badge).to_have_text("canceled")
    expect(badge).to_have_attribute("data-state", "fail")
    expect(pane.locator(".alert")).to_contain_text("canceled")
    expect(pane.get_by_role("button", name="Cancel")).to_be_hidden()
    expect(pane.get_by_role("list", name="Timeline")).to_contain_text("Canceled")


def test_task_list_pages_and_follows_changes_live(
    page: Page, server: ServerProcess, api: httpx.Client
) -> None:
    sign_in(page, server.base_url, server.api_key, "#/tasks")
    page.get_by_label("Model").select_option("genjobs/echo")
    page.get_by_label("Per page").select_option("10")
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()

    # Made while the page is open: the list learns of them from the changes stream only.
    ids = [create(api, {"text": f"task {n}"}) for n in range(11)]
    ids.append(create(api, {"text": "the newest", "sleep_s": 1}))
    rows = page.locator("table.task-list tbody tr")
    expect(rows.first).to_have_attribute("data-task-id", ids[-1])
    expect(rows.first.locator(".badge")).to_have_text("success")  # changed in place
    expect(rows).to_have_count(10)
    first_page = rows.evaluate_all("rows => rows.map(row => row.dataset.taskId)")

    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Page 2")).to_be_visible()
    second_page = rows.evaluate_all("rows => rows.map(row => row.dataset.taskId)")
    assert ids[0] in second_page and not set(first_page) & set(second_page)
    expect(page.get_by_role("button", name="Previous")).to_be_enabled()

    page.get_by_role("button", name="Previous").click()
    expect(page.get_by_text("Page 1")).to_be_visible()
    assert rows.evaluate_all("rows => rows.map(row => row.dataset.taskId)") == first_page
    expect(page.get_by_role("button", name="Previous")).to_be_disabled()

    rows.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"#/tasks/{ids[-1]}$"))
    expect(page.get_by_role("heading", name="genjobs/echo")).to_be_visible()


def test_admin_manages_keys_and_sees_the_overview(
    page: Page, server: ServerProcess, api: httpx.Client, browser: Browser, problems: PageProblems
) -> None:
    wait_for(api, create(api, {"text": "counted in the overview"}))
    sign_in(page, server.base_url, server.api_key, "#/admin")
    tasks_tile = page.locator(".tile", has_text="Tasks").locator("dd")
    expect(tasks_tile).not_to_have_text("0")
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(2)
    drawn = "rects => rects.filter(rect => rect.getBBox().height > 0).length"
    assert charts.first.locator("rect.ok").evaluate_all(drawn) >= 1
    expect(page.get_by_role("img", name=re.compile("Latency"))).to_contain_text("genjobs/echo")
    page.get_by_role("button", name="Last day").click()
    expect(page.get_by_role("button", name="Last day")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("figcaption", has_text="Finished tasks per hour")).to_be_visible()

    page.get_by_label("Name", exact=True).fill("alice")
    page.get_by_label("Credits", exact=True).fill("50")
    page.get_by_role("button", name="Create key").click()
    raw_key = page.locator(".raw-key").inner_text()
    assert raw_key.startswith(KEY_PREFIX)
    row = page.locator("tr", has_text="alice")
    expect(row).to_contain_text("user")

    # The new key signs in, sees its credits, and no Admin section.
    context = browser.new_context(viewport=VIEWPORT)
    alice = context.new_page()
    problems.watch(alice)
    sign_in(alice, server.base_url, raw_key)
    expect(alice.locator(".credits")).to_have_text("50 credits")
    expect(alice.get_by_role("link", name="Admin")).to_be_hidden()
    alice.goto(f"{server.base_url}/ui/#/admin")
    expect(alice).to_have_url(re.compile("#/tasks$"))
    context.close()

    row.get_by_role("spinbutton", name="Credits of alice").fill("75")
    row.get_by_role("button", name="Set credits of alice").click()
    expect(row.get_by_role("spinbutton", name="Credits of alice")).to_have_value("75")
    keys = api.get("/api/v1/admin/keys").json()["data"]
    assert [k["credits"] for k in keys if k["name"] == "alice"] == [75]

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke alice").click()
    expect(row).to_contain_text("revoked")
    expect(row.get_by_role("spinbutton", name="Credits of alice")).to_be_disabled()

    page.reload()  # the key was shown once: nowhere on the page any more
    expect(page.locator("tr", has_text="alice")).to_contain_text("revoked")
    expect(page.get_by_text(raw_key)).to_have_count(0)


def test_transcript_words_seek_the_audio(
    page: Page, server: ServerProcess, api: httpx.Client, speech_task: str
) -> None:
    sign_in(page, server.base_url, server.api_key, f"#/tasks/{speech_task}")
    badge = page.locator(".task-head .badge")
    expect(badge).to_have_text("success", timeout=180_000)
    record = api.get("/api/v1/jobs/recordInfo", params={"taskId": speech_task}).json()["data"]
    words = json.loads(record["resultJson"])["resultObject"]["words"]
    shown = [w["text"] for w in words if w["type"] != "spacing"]  # spacing is plain text
    expect(page.locator("button.word")).to_have_text(shown)
    expect(page.locator(".turn").first).to_have_class(re.compile(r"\bspeaker-0\b"))

    page.wait_for_function("document.querySelector('audio').readyState >= 1")
    last = page.locator("button.word").last
    start = float(last.get_attribute("data-start") or "nan")
    assert start > 1
    last.click()
    page.wait_for_function(
        "start => Math.abs(document.querySelector('audio').currentTime - start) < 0.01", arg=start
    )

    with page.expect_download() as download:
        page.get_by_role("button", name="SRT").click()
    assert download.value.suggested_filename == f"{speech_task}.srt"
    assert "-->" in Path(download.value.path()).read_text()
