"""Scale-out, proven on one machine laid out as several: two API nodes and two workers,
each with its own data dir, on one PostgreSQL database and one object store (moto's S3
server, a stand-in for S3). A worker machine is lost (SIGKILL of the worker and its model
processes) while running tasks: nothing is lost or run twice to success, and every
result, files included, is readable from either API node."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.cluster import Cluster, fresh_postgres, object_store
from tests.helpers import FINAL, create, record, wait_for
from tests.receiver import CallbackReceiver

STORYBOARD = {"n_frames": "10", "shots": [{"Scene": "A harbour at dawn", "duration": 2}]}


def on_node(link: str, node_base_url: str) -> str:
    """The same link, asked of another API node."""
    parts = urlsplit(link)
    return f"{node_base_url}{parts.path}?{parts.query}"


def test_api_nodes_and_workers_share_only_the_database_and_the_object_store(
    tmp_path: Path,
) -> None:
    receiver = CallbackReceiver()
    with fresh_postgres() as database_url, object_store() as storage_env:
        cluster = Cluster(tmp_path, database_url, storage_env).start()
        node_a, node_b = (
            httpx.Client(base_url=node.base_url, headers=node.headers, timeout=60)
            for node in cluster.api
        )
        try:
            doomed = cluster.add_worker(["genjobs/echo"])
            cluster.add_worker(["genjobs/echo", "sora-2-pro-storyboard"])
            video = create(
                node_a, STORYBOARD, model="sora-2-pro-storyboard", callBackUrl=receiver.url
            )
            texts = {}
            for index in range(24):
                node = node_a if index % 2 else node_b
                task_id = create(
                    node, {"text": f"t{index}", "sleep_s": 1}, callBackUrl=receiver.url
                )
                texts[task_id] = f"t{index}"

            # Lose the first worker's machine while it runs tasks; a new one takes its place.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not any(
                record(node_a, task_id)["state"] == "generating" for task_id in texts
            ):
                time.sleep(0.1)
            doomed.kill()
            cluster.add_worker(["genjobs/echo"])

            for task_id, text in texts.items():
                data = wait_for(node_b, task_id, timeout_s=120)
                assert data["state"] == "success", data
                assert data["resultJson"] == f'{{"resultObject": {{"text": "{text}"}}}}'
                assert record(node_a, task_id) == data  # the same record from either node

            done = wait_for(node_a, video, timeout_s=180)
            assert done["state"] == "success", done
            link = httpx.Response(200, content=done["resultJson"]).json()["resultUrls"][0]
            videos = [httpx.get(on_node(link, node.base_url), timeout=60) for node in cluster.api]
            assert [v.status_code for v in videos] == [200, 200]
            assert videos[0].content == videos[1].content
            assert videos[0].content[4:8] == b"ftyp"  # an MP4, read from the object store
            for worker in cluster.workers:  # no worker's data dir holds a result
                assert not list(worker.data_dir.rglob("*.mp4"))

            # Each task succeeded once: one final callback each (a repeat carries the same
            # webhook-id; a second success would carry another).
            every = {video, *texts}
            received = receiver.wait_for(len(every), timeout_s=60)
            ids_by_task: dict[str, set[str]] = {}
            for callback in received:
                body = callback.json()["data"]
                assert body["state"] in FINAL
                ids_by_task.setdefault(body["taskId"], set()).add(callback.headers["webhook-id"])
            assert set(ids_by_task) == every
            assert all(len(ids) == 1 for ids in ids_by_task.values()), ids_by_task
        finally:
            node_a.close()
            node_b.close()
            cluster.stop()
            receiver.close()
