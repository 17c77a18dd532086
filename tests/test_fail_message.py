"""failMsg never shows the server's file system, only the file names a client knows."""

from __future__ import annotations

import pytest

from genjobs.runtime.fail_message import public_fail_message


@pytest.mark.parametrize(
    ("message", "public"),
    [
        (
            "Invalid data found when processing input: '/srv/genjobs-data/files/uploads/AbC/a.mp3'",
            "Invalid data found when processing input: 'a.mp3'",
        ),
        (
            "[Errno 2] No such file or directory: /root/.cache/genjobs/whisper/model.bin",
            "[Errno 2] No such file or directory: model.bin",
        ),
        ("cannot write to /var/lib/genjobs/work/t1/ (full)", "cannot write to <dir> (full)"),
        # URLs (the client's own inputs), fractions and plain words stay as they are.
        (
            "https://example.com/a/b.png answered HTTP 404",
            "https://example.com/a/b.png answered HTTP 404",
        ),
        (
            "http://127.0.0.1:8000/files/uploads/tok/a.mp3?expires=1 is an expired link",
            "http://127.0.0.1:8000/files/uploads/tok/a.mp3?expires=1 is an expired link",
        ),
        ("shot 1/2 is too long", "shot 1/2 is too long"),
    ],
)
def test_paths_are_cut_to_their_file_name(message: str, public: str) -> None:
    assert public_fail_message(message) == public
