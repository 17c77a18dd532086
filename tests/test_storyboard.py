"""The storyboard models render real MP4s, read back here with a real decoder (PyAV)."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw
from pydantic import ValidationError

from genjobs.config import Settings
from genjobs.files.storage import LocalStorage, Storage
from genjobs.models.storyboard import Sora2ProImageToVideoModel, StoryboardModel
from genjobs.models.storyboard.backdrop import Backdrop
from genjobs.models.storyboard.camera import Window
from genjobs.models.storyboard.schema import StoryboardInput
from genjobs.runtime.context import RunContext
from genjobs.runtime.model import TaskFailed
from tests.helpers import create, wait_for
from tests.serverproc import ServerProcess


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", allow_private_urls=True)


@pytest.fixture
def storage(settings: Settings) -> LocalStorage:
    return LocalStorage(settings.files_dir, settings.base_url, settings.signing_key)


def context(settings: Settings, storage: Storage, name: str = "t1", **kwargs: Any) -> RunContext:
    return RunContext(name, settings, storage, settings.data_dir / "work" / name, **kwargs)


def local(storage: LocalStorage, url: str) -> Path:
    address = storage.parse_link(url)
    assert address is not None
    stored = storage.find(*address)
    assert stored is not None
    return stored.path


def decode(path: Path) -> tuple[Any, list[np.ndarray]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
        return stream, frames


def reference_png() -> bytes:
    image = Image.new("RGB", (800, 600), (30, 60, 90))
    draw = ImageDraw.Draw(image)
    for i in range(12):
        draw.ellipse((i * 60, i * 40, i * 60 + 120, i * 40 + 120), fill=(200, 40 + 15 * i, 60))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_storyboard_renders_shots_captions_and_a_watermarked_copy(
    settings: Settings, storage: LocalStorage
) -> None:
    progress: list[int] = []
    spec = StoryboardInput.model_validate(
        {
            "n_frames": "10",
            "shots": [
                {"Scene": "A red lighthouse on a cliff at dawn, waves below", "duration": 3},
                {"Scene": "A fishing boat returns to the harbour", "duration": 4},
            ],
        }
    )
    result = StoryboardModel().run(spec, context(settings, storage, on_progress=progress.append))
    stream, frames = decode(local(storage, result["resultUrls"][0]))
    assert stream.codec_context.name == "h264" and stream.format.name == "yuv420p"
    assert (stream.width, stream.height) == (1280, 720)
    fps = float(stream.average_rate)
    assert fps in (24.0, 30.0)
    assert len(frames) == 10 * fps  # exactly n_frames seconds; the last shot holds
    assert float(stream.duration * stream.time_base) == pytest.approx(10, abs=1 / fps)

    first, second = frames[int(1.5 * fps)], frames[int(6 * fps)]
    assert np.abs(first.astype(int) - second.astype(int)).mean() > 10  # shots differ
    moving = np.abs(frames[5].astype(int) - frames[25].astype(int)).mean()
    assert moving > 0.5  # the camera moves within a shot
    band = first[int(720 * 0.75) :, 200:1080]
    assert (band.min(axis=2) > 200).mean() > 0.005  # white caption text at the bottom

    _, marked = decode(local(storage, result["resultWaterMarkUrls"][0]))
    assert len(marked) == len(frames)
    corner = (slice(0, 120), slice(900, 1280))
    assert np.abs(marked[30][corner].astype(int) - frames[30][corner].astype(int)).mean() > 5
    rest = (slice(200, 500), slice(0, 800))
    assert np.abs(marked[30][rest].astype(int) - frames[30][rest].astype(int)).mean() < 2

    with Image.open(local(storage, result["resultThumbnailUrls"][0])) as thumbnail:
        assert thumbnail.format == "JPEG" and thumbnail.size == (1280, 720)
    assert progress == sorted(progress) and progress[-1] >= 98


def test_image_to_video_uses_the_reference_image_in_portrait(
    settings: Settings, storage: LocalStorage
) -> None:
    stored = storage.save_bytes("uploads", "ref.png", reference_png())
    link = storage.link("uploads", stored.token, stored.name, 600)
    model = Sora2ProImageToVideoModel()
    spec = model.input_schema.model_validate(
        {
            "prompt": "The lights drift",
            "image_urls": [link],
            "aspect_ratio": "portrait",
            "n_frames": "10",
            "remove_watermark": True,
        }
    )
    result = model.run(spec, context(settings, storage))
    assert "resultWaterMarkUrls" not in result
    stream, frames = decode(local(storage, result["resultUrls"][0]))
    assert (stream.width, stream.height) == (720, 1280)
    # The reference's dark blue background dominates the top of the frame.
    top = frames[10][100:300].reshape(-1, 3).mean(axis=0)
    assert (
        top[2] > top[0] or top[0] > 150
    )  # blue background or a red disc: the image, not a backdrop


def test_non_image_and_unsupported_formats_fail_cleanly(
    settings: Settings, storage: LocalStorage
) -> None:
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    for name, data in (("x.gif", gif.getvalue()), ("x.png", b"not an image at all")):
        stored = storage.save_bytes("uploads", name, data)
        spec = StoryboardInput.model_validate(
            {
                "n_frames": "10",
                "shots": [{"Scene": "s", "duration": 1}],
                "image_urls": [storage.link("uploads", stored.token, stored.name, 600)],
            }
        )
        with pytest.raises(TaskFailed) as failure:
            StoryboardModel().run(spec, context(settings, storage, name=name))
        assert failure.value.code == "invalid_image"


def test_cancellation_stops_the_render(settings: Settings, storage: LocalStorage) -> None:
    cancel = threading.Event()
    seen: list[int] = []

    def on_progress(value: int) -> None:
        seen.append(value)
        if value >= 10:
            cancel.set()

    spec = StoryboardInput.model_validate(
        {"n_frames": "25", "shots": [{"Scene": "s", "duration": 5}]}
    )
    with pytest.raises(TaskFailed) as failure:
        StoryboardModel().run(
            spec, context(settings, storage, on_progress=on_progress, cancel_event=cancel)
        )
    assert failure.value.code == "canceled" and max(seen) < 50


@pytest.mark.parametrize(
    ("storyboard", "field"),
    [
        (
            {
                "n_frames": "10",
                "shots": [{"Scene": "a", "duration": 6}, {"Scene": "b", "duration": 5}],
            },
            "shots",
        ),
        ({"n_frames": "10", "shots": [{"Scene": "a", "duration": 0.05}]}, "shots.0.duration"),
        ({"n_frames": "10", "shots": [{"Scene": "a", "duration": 16}]}, "shots.0.duration"),
        ({"n_frames": "10", "shots": [{"Scene": "a", "duration": 0.5}] * 11}, "shots"),
        ({"n_frames": "12", "shots": [{"Scene": "a", "duration": 1}]}, "n_frames"),
        ({"n_frames": "10", "shots": [], "aspect_ratio": "landscape"}, "shots"),
        (
            {"n_frames": "10", "shots": [{"Scene": "a", "duration": 1}], "aspect_ratio": "square"},
            "aspect_ratio",
        ),
        (
            {
                "n_frames": "10",
                "shots": [{"Scene": "a", "duration": 1}],
                "image_urls": ["u1", "u2"],
            },
            "image_urls",
        ),
    ],
)
def test_bad_storyboards_are_refused_naming_the_field(
    storyboard: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        StoryboardInput.model_validate(storyboard)
    locations = {".".join(str(p) for p in e["loc"]) or "shots" for e in error.value.errors()}
    assert field in locations or any(field in e["msg"] for e in error.value.errors())


def test_storyboard_through_the_http_api(live_server: ServerProcess) -> None:
    server = live_server
    with httpx.Client(base_url=server.base_url, headers=server.headers, timeout=60) as client:
        refused = client.post(
            "/api/v1/jobs/createTask",
            json={
                "model": "sora-2-pro-storyboard",
                "input": {"n_frames": "10", "shots": [{"Scene": "a", "duration": 11}]},
            },
        )
        assert refused.status_code == 422
        assert refused.json()["msg"].startswith("input.shots")
        upload = client.post(
            "/api/file-stream-upload",
            files={"file": ("ref.png", reference_png())},
            data={"uploadPath": "refs"},
        )
        image_url = upload.json()["data"]["downloadUrl"]
        task_id = create(
            client,
            {
                "n_frames": "10",
                "image_urls": [image_url],
                "aspect_ratio": "landscape",
                "shots": [
                    {"Scene": "Shot one", "duration": 4},
                    {"Scene": "Shot two", "duration": 6},
                ],
            },
            model="sora-2-pro-storyboard",
        )
        data = wait_for(client, task_id, timeout_s=120)
        assert data["state"] == "success", data
        result = httpx.Response(200, content=data["resultJson"]).json()
        video = client.get(result["resultUrls"][0])
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
        path = server.data_dir / "downloaded.mp4"
        path.write_bytes(video.content)
        stream, frames = decode(path)
        assert len(frames) == 10 * float(stream.average_rate)
        models = client.get("/api/v1/models").json()["data"]
        described = {m["name"]: m["description"] for m in models}
        assert "animatic" in described["sora-2-pro-storyboard"]
        assert {"sora-2-text-to-video", "sora-2-pro-image-to-video"} <= set(described)


def _blend_blob_by_blob(backdrop: Backdrop, window: Window, seconds: float) -> np.ndarray:
    """The backdrop as its definition reads: a gradient, then each blob blended in turn."""
    xs, ys, along = backdrop.sample_points(window)
    field = backdrop.top + (backdrop.bottom - backdrop.top) * along[..., None]
    sway = 0.02 * min(backdrop.world_w, backdrop.world_h)
    for blob in backdrop.blobs:
        x = blob.x + blob.vx * seconds + sway * np.sin(0.7 * seconds + blob.phase)
        y = blob.y + blob.vy * seconds + sway * np.cos(0.5 * seconds + blob.phase)
        weight = blob.strength * np.outer(
            np.exp(-0.5 * ((ys - y) / blob.sigma) ** 2), np.exp(-0.5 * ((xs - x) / blob.sigma) ** 2)
        )
        field += weight[..., None] * (np.array(blob.colour) - field)
    field *= backdrop.vignette[..., None]
    return np.clip(field + 0.5, 0.0, 255.0).astype(np.uint8)


@pytest.mark.parametrize("size", [(1280, 720), (720, 1280)])
def test_backdrop_is_the_blob_by_blob_blend(size: tuple[int, int]) -> None:
    # The renderer mixes all the blobs' colours in one matrix product (backdrop.py); the
    # picture must be the one the blob-by-blob definition gives, to a rounding step.
    for scene in ("City at night, neon reflections in the rain", "Dawn over the harbour"):
        backdrop = Backdrop(scene, 2, *size)
        window = Window(12.5, 40.25, backdrop.world_w * 0.7, backdrop.world_h * 0.7)
        for seconds in (0.0, 2.7, 9.1):
            picture = backdrop.picture(window, seconds)
            expected = _blend_blob_by_blob(backdrop, window, seconds)
            assert picture.shape == expected.shape == (backdrop.low_h, backdrop.low_w, 3)
            assert np.abs(picture.astype(int) - expected.astype(int)).max() <= 1
            assert len(np.unique(picture.reshape(-1, 3), axis=0)) > 100  # not flat
