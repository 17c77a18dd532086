"""elevenlabs/speech-to-text on real recorded speech (moonshine-voice's assets), espeak-ng
voices and synthesized music, through a real RunContext and through the HTTP API."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path
from typing import Any

import av
import httpx
import jiwer
import moonshine_voice
import numpy as np
import pytest

from genjobs.client.formats import FORMATS
from genjobs.config import Settings, use_settings
from genjobs.files.storage import LocalStorage, Storage
from genjobs.models.speech_to_text import SpeechToTextModel
from genjobs.runtime.context import RunContext
from genjobs.runtime.model import TaskFailed
from tests.helpers import create, wait_for
from tests.serverproc import ServerProcess
from tests.stt_audio import RATE, music, read_wav, speak, write_wav

ASSETS = Path(moonshine_voice.__file__).parent / "assets"
BECKETT = "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better."


def normalized(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Storage]:
    settings = use_settings(
        Settings(data_dir=tmp_path_factory.mktemp("stt") / "data", allow_private_urls=True)
    )
    return settings, LocalStorage(settings.files_dir, settings.base_url, settings.signing_key)


@pytest.fixture(scope="module")
def model(env: tuple[Settings, Storage]) -> SpeechToTextModel:
    stt = SpeechToTextModel()
    stt.setup()  # once for the module, as a worker process does
    return stt


def transcribe(
    model: SpeechToTextModel, env: tuple[Settings, Storage], path: Path, **options: Any
) -> dict[str, Any]:
    settings, storage = env
    stored = storage.save_path(
        "uploads", path.name, Path(shutil.copy(path, path.with_suffix(".copy")))
    )
    url = storage.link("uploads", stored.token, stored.name, 600)
    ctx = RunContext(
        stored.token,
        settings,
        storage,
        settings.data_dir / "work" / stored.token,
        **options.pop("context", {}),
    )
    spec = model.input_schema.model_validate({"audio_url": url, **options})
    result: dict[str, Any] = model.run(spec, ctx)["resultObject"]
    return result


def check_structure(result: dict[str, Any], duration: float) -> None:
    words = result["words"]
    assert "".join(entry["text"] for entry in words) == result["text"]
    starts = [entry["start"] for entry in words]
    assert starts == sorted(starts)
    for entry in words:
        assert 0 <= entry["start"] <= entry["end"] <= duration + 0.01
        assert entry["type"] in ("word", "spacing", "audio_event")
        assert re.fullmatch(r"speaker_\d+", entry["speaker_id"])
    kinds = [entry["type"] for entry in words]
    assert all(kinds[i] == "spacing" for i in range(1, len(kinds), 2))  # between every pair
    assert all(entry["logprob"] <= 0 for entry in words)


def test_real_recording_is_transcribed_with_timings(model: SpeechToTextModel, env: Any) -> None:
    progress: list[int] = []
    result = transcribe(
        model, env, ASSETS / "beckett.wav", context={"on_progress": progress.append}
    )
    assert normalized(result["text"]) == normalized(BECKETT)
    assert result["language_code"] == "eng" and result["language_probability"] > 0.5
    duration = av.open(str(ASSETS / "beckett.wav")).duration / 1e6
    check_structure(result, duration)
    assert {entry["speaker_id"] for entry in result["words"]} == {"speaker_0"}
    assert progress == sorted(progress) and progress[-1] >= 90


def test_language_is_detected_or_taken_as_given(
    model: SpeechToTextModel, env: Any, tmp_path: Path
) -> None:
    german = speak(
        "Guten Morgen. Heute scheint die Sonne und wir gehen in den Park.",
        "de",
        tmp_path / "de.wav",
    )
    detected = transcribe(model, env, german)
    assert detected["language_code"] == "deu"
    assert "morgen" in normalized(detected["text"])
    given = transcribe(model, env, german, language_code="de", diarize=False)
    assert given["language_code"] == "deu"


def test_two_voices_become_two_speakers(model: SpeechToTextModel, env: Any, tmp_path: Path) -> None:
    first = read_wav(
        speak(
            "The weather today is sunny with a light breeze from the west. "
            "We expect clear skies all afternoon.",
            "en-us+m3",
            tmp_path / "a.wav",
        )
    )
    second = read_wav(
        speak(
            "Thank you for the update. I will bring my umbrella anyway, just in "
            "case it rains later tonight.",
            "en-gb+f4",
            tmp_path / "b.wav",
            pitch=80,
        )
    )
    both = write_wav(
        np.concatenate([first, np.zeros(RATE // 2, np.float32), second]), tmp_path / "both.wav"
    )
    result = transcribe(model, env, both, tag_audio_events=False)
    words = [entry for entry in result["words"] if entry["type"] == "word"]
    boundary = first.size / RATE
    before = {w["speaker_id"] for w in words if w["end"] <= boundary}
    after = {w["speaker_id"] for w in words if w["start"] >= boundary}
    assert before == {"speaker_0"} and after == {"speaker_1"}

    single = transcribe(model, env, both, diarize=False, tag_audio_events=False)
    assert {w["speaker_id"] for w in single["words"]} == {"speaker_0"}
    told = transcribe(model, env, both, num_speakers=2, tag_audio_events=False)
    assert {w["speaker_id"] for w in told["words"]} == {"speaker_0", "speaker_1"}


def test_music_passage_is_tagged(model: SpeechToTextModel, env: Any, tmp_path: Path) -> None:
    intro = read_wav(
        speak("Welcome back to the show. Here is our next song.", "en-us", tmp_path / "i.wav")
    )
    outro = read_wav(speak("That was wonderful, thank you.", "en-us", tmp_path / "o.wav"))
    gap = np.zeros(RATE // 4, np.float32)
    path = write_wav(np.concatenate([intro, gap, music(6.0), gap, outro]), tmp_path / "show.wav")
    result = transcribe(model, env, path)
    events = [e for e in result["words"] if e["type"] == "audio_event"]
    assert [e["text"] for e in events] == ["(music)"]
    music_start = (intro.size + gap.size) / RATE
    assert events[0]["start"] == pytest.approx(music_start, abs=1.0)
    assert events[0]["end"] == pytest.approx(music_start + 6.0, abs=1.0)
    assert "(music)" in result["text"]
    check_structure(result, (intro.size + 2 * gap.size + outro.size) / RATE + 6.0)
    untagged = transcribe(model, env, path, tag_audio_events=False)
    assert all(e["type"] != "audio_event" for e in untagged["words"])


@pytest.mark.parametrize(
    ("suffix", "codec"),
    [("mp3", "mp3"), ("ogg", "libopus"), ("flac", "flac"), ("m4a", "aac"), ("webm", "libopus")],
)
def test_compressed_formats_decode(
    model: SpeechToTextModel, env: Any, tmp_path: Path, suffix: str, codec: str
) -> None:
    path = tmp_path / f"beckett.{suffix}"
    with av.open(str(ASSETS / "beckett.wav")) as source, av.open(str(path), "w") as target:
        rate = 48_000 if codec == "libopus" else 44_100
        stream = target.add_stream(codec, rate=rate)
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=rate)
        stream.layout = "mono"
        for frame in source.decode(audio=0):
            for out in resampler.resample(frame):
                target.mux(stream.encode(out))
        for out in resampler.resample(None):
            target.mux(stream.encode(out))
        target.mux(stream.encode(None))
    result = transcribe(model, env, path, diarize=False, tag_audio_events=False)
    # Lossy codecs may change a word ("Ever" heard as "Never" after Opus): allow one in ten.
    error = jiwer.wer(" ".join(normalized(BECKETT)), " ".join(normalized(result["text"])))
    assert error <= 0.1, result["text"]


def test_timestamp_granularities(model: SpeechToTextModel, env: Any) -> None:
    detailed = transcribe(model, env, ASSETS / "beckett.wav", timestamps_granularity="character")
    first = detailed["words"][0]
    assert "".join(c["text"] for c in first["characters"]) == first["text"]
    assert first["characters"][0]["start"] == first["start"]
    bare = transcribe(model, env, ASSETS / "beckett.wav", timestamps_granularity="none")
    assert bare["words"] == [] and normalized(bare["text"]) == normalized(BECKETT)


def test_bad_files_fail_cleanly(model: SpeechToTextModel, env: Any, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("this is not audio " * 100)
    empty = write_wav(np.zeros(0, np.float32), tmp_path / "empty.wav")
    for path, code in ((tmp_path / "notes.txt", "invalid_audio"), (empty, "empty_audio")):
        with pytest.raises(TaskFailed) as failure:
            transcribe(model, env, path)
        assert failure.value.code == code
    limited = SpeechToTextModel()
    limited.__dict__.update(model.__dict__)
    limited.config = model.config.model_copy(update={"max_duration_s": 5.0})
    with pytest.raises(TaskFailed) as failure:
        transcribe(limited, env, ASSETS / "beckett.wav")
    assert failure.value.code == "audio_too_long" and "5 s" in failure.value.message


def test_cancellation_between_chunks(model: SpeechToTextModel, env: Any) -> None:
    cancel = threading.Event()

    def on_progress(value: int) -> None:
        if value >= 15:
            cancel.set()

    with pytest.raises(TaskFailed) as failure:
        transcribe(
            model,
            env,
            ASSETS / "two_cities.wav",
            context={"on_progress": on_progress, "cancel_event": cancel},
        )
    assert failure.value.code == "canceled"


def test_speech_to_text_through_the_http_api(live_server: ServerProcess) -> None:
    server = live_server
    with httpx.Client(base_url=server.base_url, headers=server.headers, timeout=60) as client:
        upload = client.post(
            "/api/file-stream-upload",
            files={"file": ("beckett.wav", (ASSETS / "beckett.wav").read_bytes(), "audio/wav")},
            data={"uploadPath": "audio"},
        )
        audio_url = upload.json()["data"]["downloadUrl"]
        bad = client.post(
            "/api/v1/jobs/createTask",
            json={
                "model": "elevenlabs/speech-to-text",
                "input": {"audio_url": audio_url, "language_code": "xx"},
            },
        )
        assert bad.status_code == 422 and bad.json()["msg"].startswith("input.language_code:")
        task_id = create(
            client,
            {
                "audio_url": audio_url,
                "language_code": "",
                "tag_audio_events": True,
                "diarize": True,
            },
            model="elevenlabs/speech-to-text",
        )
        data = wait_for(client, task_id, timeout_s=180)
        assert data["state"] == "success", data
        result = httpx.Response(200, content=data["resultJson"]).json()["resultObject"]
        assert normalized(result["text"]) == normalized(BECKETT)
        assert result["language_code"] == "eng"
        assert result["words"][0]["type"] == "word" and result["words"][1]["type"] == "spacing"

        # The dashboard's downloads: the same subtitles as the SDK and CLI write.
        for fmt, media_type in (("srt", "application/x-subrip"), ("vtt", "text/vtt")):
            subtitles = client.get(
                "/api/v1/jobs/transcript", params={"taskId": task_id, "format": fmt}
            )
            assert subtitles.status_code == 200, subtitles.text
            assert subtitles.headers["content-type"].startswith(media_type)
            assert f'filename="{task_id}.{fmt}"' in subtitles.headers["content-disposition"]
            assert subtitles.text == FORMATS[fmt](result)
        as_json = client.get(
            "/api/v1/jobs/transcript", params={"taskId": task_id, "format": "json"}
        )
        assert as_json.json() == result

        # A file that is not audio fails the task; failMsg names the file, not its path.
        notes = client.post(
            "/api/file-stream-upload",
            files={"file": ("notes.mp3", b"this is not audio " * 200, "audio/mpeg")},
            data={"uploadPath": "audio"},
        )
        bad_id = create(
            client,
            {"audio_url": notes.json()["data"]["downloadUrl"]},
            model="elevenlabs/speech-to-text",
        )
        failed = wait_for(client, bad_id, timeout_s=180)
        assert failed["failCode"] == "invalid_audio", failed
        assert "notes.mp3" in failed["failMsg"]
        assert str(server.data_dir.resolve()) not in failed["failMsg"]
        assert "/files/uploads/" not in failed["failMsg"], failed["failMsg"]
