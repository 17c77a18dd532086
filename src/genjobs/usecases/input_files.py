"""Links to genjobs' own files inside a task's input: the caller must be allowed to read them.

Workers read such links straight from storage, without the HTTP download's checks, so the
checks happen here, before the task exists: the link must be signed and unexpired (as an
HTTP download requires), and the file must belong to the caller's key (admin keys may use
any file). Anything else is answered 404 naming the field, as download-url answers a file
of another key.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from genjobs.core.errors import ApiError, Code
from genjobs.core.principal import Principal
from genjobs.files.storage import Storage
from genjobs.store import files
from genjobs.store.database import Database

_LINK_MARK = "/files/"  # every link of ours has it; other strings skip the URL parsing


def own_links(storage: Storage, value: Any, field: str) -> Iterator[tuple[str, str, str]]:
    """(field path, url, file token) of every link to a file of this service in ``value``."""
    if isinstance(value, str):
        parsed = storage.parse_link(value) if _LINK_MARK in value else None
        if parsed is not None:
            yield field, value, parsed[1]
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from own_links(storage, item, f"{field}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from own_links(storage, item, f"{field}[{index}]")


async def check_input_files(
    db: Database, storage: Storage, caller: Principal, model_input: dict[str, Any]
) -> None:
    """Raise a 404 ApiError naming the first field whose genjobs link the caller may not use."""
    links = list(own_links(storage, model_input, "input"))
    if not links:
        return
    for field, url, _token in links:
        if not storage.verify_link(url):
            raise ApiError(
                Code.NOT_FOUND,
                f"{field}: file not found: the link is expired or not signed "
                "(use the downloadUrl an upload returned, or POST /api/v1/common/download-url)",
            )
    if caller.is_admin:
        return
    owners = await db.run(partial(files.owners, tokens=[token for _, _, token in links]))
    for field, _url, token in links:
        if owners.get(token) != caller.key_id:
            raise ApiError(Code.NOT_FOUND, f"{field}: file not found")
