"""The safe URL fetcher: http(s) only, public addresses only, bounded size and time.

Used for model inputs, ``file-url-upload`` and (through ``check_public_url``) callback
URLs. Private, loopback, link-local and other non-global addresses are refused unless
``allow_private`` is set, so a task cannot make genjobs reach into its own network.
Redirects are followed by hand so that every hop passes the same check.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

MAX_REDIRECTS = 5
CHUNK = 1 << 16


class FetchError(Exception):
    """The URL cannot or may not be fetched; the message says why, for failMsg or a 422."""


class FetchTooLarge(FetchError):
    pass


def check_public_url(url: str, allow_private: bool) -> None:
    """Raise FetchError unless ``url`` is http(s) and resolves to public addresses only."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unbalanced "[" in the host
        raise FetchError("is not a valid URL") from exc
    if parts.scheme not in ("http", "https"):
        raise FetchError("must be an http or https URL")
    host = parts.hostname
    if not host:
        raise FetchError("has no host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"host {host!r} cannot be resolved") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global:
            raise FetchError(
                f"host {host!r} resolves to a private or local address ({address}); "
                "set GENJOBS_ALLOW_PRIVATE_URLS=true to allow it"
            )


def open_stream(
    url: str, *, allow_private: bool, timeout_s: float, max_bytes: int
) -> Iterator[bytes]:
    """Yield the body of ``url`` in chunks, enforcing the guard, the size and a deadline."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=min(timeout_s, 30.0), follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_public_url(url, allow_private)
            try:
                with client.stream("GET", url) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code != 200:
                        raise FetchError(f"answered HTTP {response.status_code}")
                    declared = int(response.headers.get("content-length") or 0)
                    if declared > max_bytes:
                        raise FetchTooLarge(f"is larger than the limit of {max_bytes} bytes")
                    received = 0
                    for chunk in response.iter_bytes(CHUNK):
                        received += len(chunk)
                        if received > max_bytes:
                            raise FetchTooLarge(f"is larger than the limit of {max_bytes} bytes")
                        if time.monotonic() > deadline:
                            raise FetchError(f"took longer than {timeout_s:g} s to download")
                        yield chunk
                    return
            except httpx.HTTPError as exc:
                raise FetchError(f"could not be downloaded: {exc}") from exc
            except (httpx.InvalidURL, ValueError) as exc:  # e.g. a host name too long
                raise FetchError("is not a valid URL") from exc
        raise FetchError(f"redirected more than {MAX_REDIRECTS} times")


def fetch_to_file(
    url: str, dest: Path, *, allow_private: bool, timeout_s: float, max_bytes: int
) -> Path:
    """Download ``url`` to ``dest``; a partial file is removed on failure."""
    try:
        with dest.open("wb") as out:
            for chunk in open_stream(
                url, allow_private=allow_private, timeout_s=timeout_s, max_bytes=max_bytes
            ):
                out.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return dest
