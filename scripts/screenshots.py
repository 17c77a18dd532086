"""Take the README's screenshots of the dashboard: a real `genjobs serve` on a fresh data
dir, real tasks, Debian's chromium at 1280x800.

- transcript.png: the page of a finished speech-to-text task (two voices with music
  between them: two speakers and an audio event), one word clicked.
- playground.png: the playground after running a two-shot storyboard, its video beside
  the form.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Takes about a minute, most of it the speech model loading.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import httpx
import numpy as np
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.helpers import create  # noqa: E402
from tests.serverproc import ServerProcess  # noqa: E402
from tests.stt_audio import RATE, music, read_wav, speak, write_wav  # noqa: E402
from tests.ui_support import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, sign_in  # noqa: E402

TASK_TIMEOUT_MS = 240_000


def radio_show(folder: Path) -> Path:
    """A host, a few seconds of music, a guest: what a transcript page is made for."""
    host = read_wav(
        speak(
            "Welcome back to the evening show. Here is a song we have loved all week.",
            "en-us+m3",
            folder / "host.wav",
        )
    )
    guest = read_wav(
        speak(
            "That was lovely, thank you. I could listen to it every morning.",
            "en-gb+f4",
            folder / "guest.wav",
            pitch=80,
        )
    )
    gap = np.zeros(RATE // 3, np.float32)
    return write_wav(np.concatenate([host, gap, music(5.0), gap, guest]), folder / "show.wav")


def start_transcript(api: httpx.Client, audio: Path) -> str:
    upload = api.post(
        "/api/file-stream-upload",
        files={"file": (audio.name, audio.read_bytes(), "audio/wav")},
        data={"uploadPath": "audio"},
    )
    upload.raise_for_status()
    audio_url = upload.json()["data"]["downloadUrl"]
    return create(
        api,
        {"audio_url": audio_url, "diarize": True, "num_speakers": 2, "tag_audio_events": True},
        model="elevenlabs/speech-to-text",
    )


def playground(page: Page, out: Path) -> None:
    page.goto(page.url.split("#")[0] + "#/playground/sora-2-pro-storyboard")
    page.get_by_label("n_frames").select_option("10")
    scenes = ["A lighthouse keeper climbs the stairs at dusk", "The lamp sweeps over a calm sea"]
    for number, scene in enumerate(scenes, start=1):
        shot = page.get_by_role("group", name=f"Shot {number}")
        shot.get_by_label("Scene").fill(scene)
        shot.get_by_label("duration").fill("5")
    page.get_by_role("button", name="Run").click()
    pane = page.get_by_role("region", name="Run")
    expect(pane.locator(".task-head .badge")).to_have_text("success", timeout=TASK_TIMEOUT_MS)
    pane.locator("video").evaluate(
        "v => v.readyState >= 1 || new Promise(ok => v.onloadedmetadata = ok)"
    )
    # Chromium's player keeps its loading spinner up for about a second after the video
    # is ready, and nothing in the page tells when it is gone: give it that second.
    page.wait_for_timeout(1500)
    page.evaluate("window.scrollTo(0, 0)")  # Run is at the bottom of the form
    page.screenshot(path=out / "playground.png")


def transcript(page: Page, task_id: str, out: Path) -> None:
    page.goto(page.url.split("#")[0] + f"#/tasks/{task_id}")
    expect(page.locator(".task-head .badge")).to_have_text("success", timeout=TASK_TIMEOUT_MS)
    page.wait_for_function("document.querySelector('audio').readyState >= 1")
    page.locator(".turn").last.locator("button.word").nth(2).click()  # seek: it lights up
    expect(page.locator("button.word.playing")).to_have_count(1)
    page.mouse.move(0, 0)  # no hover effect in the picture
    page.screenshot(path=out / "transcript.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data").start()
        try:
            with httpx.Client(base_url=server.base_url, headers=server.headers) as api:
                speech = start_transcript(api, radio_show(Path(tmp)))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport=VIEWPORT)
                sign_in(page, server.base_url, server.api_key)
                playground(page, out)
                transcript(page, speech, out)
                browser.close()
        finally:
            server.stop()
    print(f"wrote {out / 'transcript.png'} and {out / 'playground.png'}")


if __name__ == "__main__":
    main()
