"""One value of a URL query string, for the endpoint clients poll.

Starlette's ``request.query_params`` parses every parameter into a multi-dict (about
5 us); recordInfo needs one. Same result as ``query_params.get(name)``: the last value,
``+`` and percent-escapes decoded as UTF-8, a key without ``=`` giving "".
"""

from __future__ import annotations

from urllib.parse import unquote_plus


def query_value(query_string: bytes, name: str) -> str | None:
    found = None
    for pair in query_string.decode("latin-1").split("&"):
        key, _, value = pair.partition("=")
        if key == name or unquote_plus(key) == name:
            found = unquote_plus(value)
    return found
