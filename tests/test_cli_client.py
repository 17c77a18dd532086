"""The client commands as a user runs them: real `genjobs` processes against a real server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import moonshine_voice
from PIL import Image

from tests.serverproc import GENJOBS, ServerProcess, free_port


def genjobs(
    server: ServerProcess, *args: str, key: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GENJOBS_BASE_URL": server.base_url,
        "GENJOBS_API_KEY": key or server.api_key,
    }
    return subprocess.run([GENJOBS, *args], env=env, capture_output=True, text=True, timeout=300)


def test_run_submit_get_wait_list_credit(live_server: ServerProcess) -> None:
    done = genjobs(live_server, "run", "genjobs/echo", "text=hi there", "sleep_s=0.3")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"resultObject": {"text": "hi there"}}
    record = json.loads(
        genjobs(live_server, "run", "genjobs/echo", "--input", '{"text": "j"}', "--json").stdout
    )
    assert record["state"] == "success" and record["model"] == "genjobs/echo"

    task_id = genjobs(live_server, "submit", "genjobs/echo", "text=later").stdout.strip()
    assert len(task_id) == 32
    waited = genjobs(live_server, "wait", task_id, "--json")
    assert json.loads(waited.stdout)["taskId"] == task_id
    assert json.loads(genjobs(live_server, "get", task_id).stdout)["state"] == "success"
    assert task_id in genjobs(live_server, "list", "--model", "genjobs/echo").stdout
    assert float(genjobs(live_server, "credit").stdout) > 0
    assert "genjobs/echo" in genjobs(live_server, "models").stdout
    schema = json.loads(genjobs(live_server, "models", "genjobs/echo").stdout)
    assert schema["inputSchema"]["required"] == ["text"]


def test_exit_codes(live_server: ServerProcess, tmp_path: Path) -> None:
    failed = genjobs(live_server, "run", "genjobs/echo", "text=x", "fail=broken")
    assert failed.returncode == 1 and "broken" in failed.stderr
    invalid = genjobs(live_server, "run", "genjobs/echo", "txt=x")
    assert invalid.returncode == 3 and "input.text" in invalid.stderr
    assert genjobs(live_server, "credit", key="gj_wrong").returncode == 3
    nobody = subprocess.run(
        [GENJOBS, "credit", "--base-url", f"http://127.0.0.1:{free_port()}", "--api-key", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert nobody.returncode == 3 and "cannot reach" in nobody.stderr
    timed_out = genjobs(
        live_server, "run", "genjobs/echo", "text=x", "sleep_s=20", "--timeout", "1"
    )
    assert timed_out.returncode == 4
    usage = genjobs(live_server, "run", "genjobs/echo", "not-a-pair")
    assert usage.returncode == 2
    task_id = genjobs(live_server, "submit", "genjobs/echo", "text=x", "sleep_s=30").stdout.strip()
    assert "cancel requested" in genjobs(live_server, "cancel", task_id).stdout
    canceled = genjobs(live_server, "wait", task_id)
    assert canceled.returncode == 1 and "canceled" in canceled.stderr
    input_file = tmp_path / "input.json"
    input_file.write_text('{"text": "from a file"}')
    from_file = genjobs(live_server, "run", "genjobs/echo", "--input-file", str(input_file))
    assert json.loads(from_file.stdout)["resultObject"]["text"] == "from a file"


def test_local_files_are_uploaded_for_url_fields(
    live_server: ServerProcess, tmp_path: Path
) -> None:
    image = tmp_path / "ref.png"
    Image.new("RGB", (320, 200), (200, 30, 30)).save(image)
    uploaded = genjobs(live_server, "upload", str(image))
    assert uploaded.returncode == 0 and "/files/uploads/" in uploaded.stdout
    video = genjobs(
        live_server,
        "run",
        "sora-2-image-to-video",
        "prompt=A red card",
        f'image_urls=["{image}"]',
        "n_frames=10",
    )
    assert video.returncode == 0, video.stderr
    assert "uploading" in video.stderr and video.stdout.strip().split("?")[0].endswith(".mp4")


def test_transcript_as_srt(live_server: ServerProcess) -> None:
    audio = Path(moonshine_voice.__file__).parent / "assets" / "beckett.wav"
    srt = genjobs(
        live_server, "run", "elevenlabs/speech-to-text", f"audio_url={audio}", "--format", "srt"
    )
    assert srt.returncode == 0, srt.stderr
    blocks = srt.stdout.strip().split("\n\n")
    assert blocks[0].startswith("1\n00:00:0") and " --> " in blocks[0]
    assert "Ever tried" in srt.stdout or "ever tried" in srt.stdout.lower()
    vtt = genjobs(
        live_server, "run", "elevenlabs/speech-to-text", f"audio_url={audio}", "--format", "vtt"
    )
    assert vtt.stdout.startswith("WEBVTT\n\n00:00:0")
