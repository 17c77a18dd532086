"""A task's input may link to genjobs' own files only as an HTTP download could: signed,
unexpired, and (unless the key is an admin) the caller's own file. Workers read such links
from disk, so these checks must hold there too."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from genjobs.config import Settings
from genjobs.files.storage import LocalStorage
from genjobs.runtime.context import RunContext
from genjobs.runtime.model import TaskFailed
from tests.helpers import create, wait_for
from tests.test_api_files import PNG
from tests.test_api_tasks import as_key, new_key


def storyboard(image_url: str) -> dict[str, object]:
    return {
        "n_frames": "10",
        "image_urls": [image_url],
        "shots": [{"Scene": "A kitten", "duration": 10}],
    }


def upload_png(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post(
        "/api/file-stream-upload",
        files={"file": ("pic.png", PNG, "image/png")},
        data={"uploadPath": "images"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    link: str = response.json()["data"]["downloadUrl"]
    return link


def test_another_keys_upload_cannot_be_a_task_input(client: TestClient, settings: Settings) -> None:
    alice, bob = as_key(new_key(settings)), as_key(new_key(settings))
    link = upload_png(client, alice)
    bob_before = client.get("/api/v1/chat/credit", headers=bob).json()["data"]
    for url in (link, link.split("?")[0]):  # signed, and with the query string removed
        refused = client.post(
            "/api/v1/jobs/createTask",
            json={"model": "sora-2-pro-storyboard", "input": storyboard(url)},
            headers=bob,
        )
        assert refused.status_code == 404, refused.text
        assert refused.json()["msg"].startswith("input.image_urls[0]: file not found")
    assert client.get("/api/v1/jobs/list", headers=bob).json()["data"]["items"] == []
    assert client.get("/api/v1/chat/credit", headers=bob).json()["data"] == bob_before

    # Alice's own link is hers to use; an unsigned one is not, even for her.
    unsigned = client.post(
        "/api/v1/jobs/createTask",
        json={"model": "sora-2-pro-storyboard", "input": storyboard(link.split("?")[0])},
        headers=alice,
    )
    assert unsigned.status_code == 404 and "expired or not signed" in unsigned.json()["msg"]
    accepted = client.post(
        "/api/v1/jobs/createTask",
        json={"model": "sora-2-pro-storyboard", "input": storyboard(link)},
        headers=alice,
    )
    assert accepted.status_code == 200, accepted.text
    client.post("/api/v1/jobs/cancel", json={"taskId": accepted.json()["data"]["taskId"]})

    # Nested anywhere in the input, a link is checked the same way.
    nested = client.post(
        "/api/v1/jobs/createTask",
        json={"model": "genjobs/echo", "input": {"text": "x", "extra": {"urls": [link]}}},
        headers=bob,
    )
    assert nested.status_code == 404
    assert nested.json()["msg"].startswith("input.extra.urls[0]: file not found")


def test_admin_keys_may_use_any_file_but_only_by_a_valid_link(
    client: TestClient, settings: Settings
) -> None:
    alice = as_key(new_key(settings))
    link = upload_png(client, alice)
    forged = f"{link.split('?')[0]}?expires=9999999999&signature=00000000000000000000000000000000"
    refused = client.post(
        "/api/v1/jobs/createTask",
        json={"model": "genjobs/echo", "input": {"text": "x", "source": forged}},
    )
    assert refused.status_code == 404 and refused.json()["msg"].startswith("input.source:")
    task_id = create(client, {"text": "x", "source": link})  # alice's file, admin's task
    assert wait_for(client, task_id)["state"] == "success"


def test_the_run_context_reads_only_signed_unexpired_own_links(
    settings: Settings, tmp_path: Path
) -> None:
    storage = LocalStorage(settings.files_dir, settings.base_url, settings.signing_key)
    stored = storage.save_bytes("uploads", "pic.png", PNG)
    ctx = RunContext("t1", settings, storage, tmp_path / "work")
    valid = storage.link(stored.kind, stored.token, stored.name, ttl_s=60)
    assert ctx.fetch_input(valid).read_bytes() == PNG
    expired = storage.link(stored.kind, stored.token, stored.name, ttl_s=-1)
    tampered = valid.replace("signature=", "signature=f")
    for url in (valid.split("?")[0], expired, tampered):
        with pytest.raises(TaskFailed) as failure:
            ctx.fetch_input(url)
        assert failure.value.code == "input_fetch_failed"
        assert "expired or unsigned link" in failure.value.message
