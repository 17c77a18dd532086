"""The client commands as a user runs them: real `genjobs` processes against a real server."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import moonshine_voice
from PIL import Image

from tests.receiver import CallbackReceiver
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
    assert invalid.returncode == 3 and "error: 422: input.text" in invalid.stderr
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
    assert timed_out.stderr.splitlines()[-1].startswith("error: task ")  # no SDK-internal code
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


def test_input_file_may_be_a_whole_create_task_body(
    live_server: ServerProcess, tmp_path: Path
) -> None:
    receiver = CallbackReceiver()
    try:
        body = tmp_path / "body.json"  # what the README's curl examples send
        body.write_text(
            json.dumps(
                {
                    "model": "genjobs/echo",
                    "input": {"text": "from the body", "sleep_s": 0.1},
                    "callBackUrl": f"{receiver.url}/from-file",
                }
            )
        )
        done = genjobs(live_server, "run", "--input-file", str(body), "--json")
        assert done.returncode == 0, done.stderr
        record = json.loads(done.stdout)
        assert record["model"] == "genjobs/echo"
        assert json.loads(record["resultJson"])["resultObject"]["text"] == "from the body"
        assert json.loads(record["param"])["callBackUrl"] == f"{receiver.url}/from-file"
        receiver.wait_for(1, path="/from-file")

        # The same MODEL, pairs over the file's input, --callback-url over the file's.
        overridden = genjobs(
            live_server, "submit", "genjobs/echo", "--input-file", str(body), "text=pair",
            "--callback-url", f"{receiver.url}/from-option",
        )  # fmt: skip
        assert overridden.returncode == 0, overridden.stderr
        task_id = overridden.stdout.strip()
        param = json.loads(json.loads(genjobs(live_server, "get", task_id).stdout)["param"])
        assert param["input"]["text"] == "pair"
        assert param["callBackUrl"] == f"{receiver.url}/from-option"
        receiver.wait_for(1, path="/from-option")
    finally:
        receiver.close()

    conflict = genjobs(live_server, "run", "sora-2-text-to-video", "--input-file", str(body))
    assert conflict.returncode == 2
    assert "sora-2-text-to-video conflicts with the model in --input-file" in conflict.stderr
    assert "(genjobs/echo)" in conflict.stderr
    bare = tmp_path / "bare.json"
    bare.write_text('{"text": "x"}')
    no_model = genjobs(live_server, "run", "--input-file", str(bare))
    assert no_model.returncode == 2 and "missing MODEL" in no_model.stderr
    usage = " ".join(genjobs(live_server, "run", "--help").stdout.split())
    assert "or a whole createTask body" in usage and "its model is used when MODEL" in usage


def test_progress_lines_when_stderr_is_not_a_terminal(live_server: ServerProcess) -> None:
    done = genjobs(live_server, "run", "genjobs/echo", "text=ci", "sleep_s=3")
    assert done.returncode == 0, done.stderr
    first = re.search(r"^task ([0-9a-f]{32}): ", done.stderr, re.M)
    assert first, done.stderr
    task_id = first.group(1)
    generating = [
        int(m) for m in re.findall(rf"^task {task_id}: generating (\d+)%$", done.stderr, re.M)
    ]
    # Each change of progress is shown, at most about once a second: ~3 of echo's 30 steps.
    assert len(set(generating)) >= 2 and len(generating) <= 6, done.stderr
    assert done.stderr.splitlines()[-1] == f"task {task_id}: success"
    quiet = genjobs(live_server, "run", "genjobs/echo", "text=ci", "--json")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_keys_name_the_database_they_use(live_server: ServerProcess, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENJOBS_")}

    def keys(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [GENJOBS, "keys", *args], env=env, cwd=tmp_path, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip

    server_db = (live_server.data_dir / "genjobs.db").resolve()
    listed = keys("list", "--data-dir", str(live_server.data_dir))
    assert listed.returncode == 0 and "admin" in listed.stdout
    assert listed.stderr == (
        f"genjobs keys: data dir {live_server.data_dir.resolve()}, database {server_db}\n"
    )
    # Run from somewhere else without --data-dir: the fresh default database is named.
    elsewhere = keys("list")
    default_dir = (tmp_path / "genjobs-data").resolve()
    assert f"data dir {default_dir}, database {default_dir / 'genjobs.db'}" in elsewhere.stderr
    assert "the default data dir" in elsewhere.stderr and "a new database" in elsewhere.stderr

    help_text = " ".join(keys("--help").stdout.split())
    for documented in ("--data-dir", "GENJOBS_DATA_DIR", "GENJOBS_DATABASE_URL", "stderr"):
        assert documented in help_text
    create_help = " ".join(keys("create", "--help").stdout.split())
    assert "--data-dir" in create_help and "GENJOBS_DATA_DIR" in create_help
    assert "GENJOBS_DATABASE_URL" in create_help
