"""failMsg is shown to API clients: it must not reveal the server's file system.

Models and the libraries under them put file paths in their errors (PyAV's "Invalid data
found when processing input: '/srv/genjobs-data/files/uploads/<token>/talk.mp3'"). The
worker passes every failure message through ``public_fail_message``, which keeps only a
path's last part (the file name the client knows) and leaves URLs alone.
"""

from __future__ import annotations

import re

# An absolute path of two or more parts, not the path inside a URL (those follow a host
# name, a port or "//") and not a fraction such as "1/2".
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~-])/(?:[^\s'\"/:]+/)+([^\s'\"/:]*)")


def public_fail_message(message: str) -> str:
    return _ABSOLUTE_PATH.sub(lambda match: match.group(1) or "<dir>", message)
