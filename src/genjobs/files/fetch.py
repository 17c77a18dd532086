"""The safe URL fetcher: http(s) only, public addresses only, bounded size and time.

Used for model inputs and ``file-url-upload``; callbacks use its clients and
``check_public_url`` too. Unless ``allow_private`` is set, a URL may only reach public
addresses (see ``addresses``), so a task cannot make genjobs reach into its own network.

The check and the connection use the same lookup: the client's transport resolves the
name, checks every address, and connects to a checked address itself. Checking first and
letting the HTTP client resolve again would let a name answer with a public address for the
check and a private one for the connection (DNS rebinding). Redirects are followed by hand,
and every hop goes through the same transport.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import anyio.to_thread
import httpx

from genjobs.files.addresses import is_public_address

MAX_REDIRECTS = 5
CHUNK = 1 << 16

Resolver = Callable[[str, int], list[str]]


class FetchError(Exception):
    """The URL cannot or may not be fetched; the message says why, for failMsg or a 422."""


class FetchTooLarge(FetchError):
    pass


def check_http_url(url: str) -> tuple[str, int]:
    """The host and port of an http(s) URL; FetchError for anything else. No lookup."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # an unbalanced "[" in the host, a port that is not a number
        raise FetchError("is not a valid URL") from exc
    if parts.scheme not in ("http", "https"):
        raise FetchError("must be an http or https URL")
    if not parts.hostname:
        raise FetchError("has no host")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_public_url(url: str, allow_private: bool) -> None:
    """Raise FetchError unless ``url`` is http(s) and resolves to public addresses only.

    For an early answer (createTask's 422); the transports check again when they connect.
    """
    host, port = check_http_url(url)
    if not allow_private:
        resolve_public(host, port)


def resolve_public(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, once, if every one of them is public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:  # unknown name; a label too long for IDNA
        raise FetchError(f"host {host!r} cannot be resolved") from exc
    # A scope ("%eth0") only comes with link-local addresses, which are refused anyway.
    addresses = list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))
    if not addresses:
        raise FetchError(f"host {host!r} cannot be resolved")
    for address in addresses:
        # All, not any: the connection may end up at any of them.
        if not is_public_address(ipaddress.ip_address(address)):
            raise FetchError(
                f"host {host!r} resolves to {address}, which is not a public address; "
                "set GENJOBS_ALLOW_PRIVATE_URLS=true to allow it"
            )
    return addresses


def _to_address(request: httpx.Request, address: str) -> httpx.Request:
    """``request`` sent to ``address``, still as a request for its host name.

    httpx set the Host header from the URL when the request was built, and the
    ``sni_hostname`` extension makes TLS send the name and verify the certificate against
    it, not against the address.
    """
    return httpx.Request(
        request.method,
        request.url.copy_with(host=address),
        headers=request.headers,
        stream=request.stream,
        extensions={**request.extensions, "sni_hostname": request.url.raw_host.decode("ascii")},
    )


def _host_and_port(request: httpx.Request) -> tuple[str, int]:
    port = request.url.port or (443 if request.url.scheme == "https" else 80)
    return request.url.raw_host.decode("ascii"), port


# The inner transports pool connections by address, since that is what the URL names when
# they see it: a connection kept alive for one host name must not carry a request for another
# name served from the same address, whose certificate was verified for the first. So none
# are kept.
_NO_KEEPALIVE = httpx.Limits(max_keepalive_connections=0)


class PinnedTransport(httpx.BaseTransport):
    """Resolves each request's host once, refuses it unless every address is public, and
    connects to those addresses (in order, the next one if a connection fails)."""

    def __init__(
        self, *, resolve: Resolver = resolve_public, verify: ssl.SSLContext | bool = True
    ) -> None:
        self._resolve = resolve
        self._inner = httpx.HTTPTransport(verify=verify, limits=_NO_KEEPALIVE)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        addresses = self._resolve(*_host_and_port(request))
        for address in addresses[:-1]:
            try:
                return self._inner.handle_request(_to_address(request, address))
            except (httpx.ConnectError, httpx.ConnectTimeout):
                continue  # nothing was sent; the next address may answer
        return self._inner.handle_request(_to_address(request, addresses[-1]))

    def close(self) -> None:
        self._inner.close()


class AsyncPinnedTransport(httpx.AsyncBaseTransport):
    """``PinnedTransport`` for ``httpx.AsyncClient``; the lookup runs in a worker thread."""

    def __init__(
        self, *, resolve: Resolver = resolve_public, verify: ssl.SSLContext | bool = True
    ) -> None:
        self._resolve = resolve
        self._inner = httpx.AsyncHTTPTransport(verify=verify, limits=_NO_KEEPALIVE)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        addresses = await anyio.to_thread.run_sync(self._resolve, *_host_and_port(request))
        for address in addresses[:-1]:
            try:
                return await self._inner.handle_async_request(_to_address(request, address))
            except (httpx.ConnectError, httpx.ConnectTimeout):
                continue  # nothing was sent; the next address may answer
        return await self._inner.handle_async_request(_to_address(request, addresses[-1]))

    async def aclose(self) -> None:
        await self._inner.aclose()


def fetch_client(*, allow_private: bool, timeout_s: float) -> httpx.Client:
    """A client for URLs users supplied: public addresses only unless ``allow_private``.

    It never follows redirects itself; a caller that does must send every hop through it.
    A guarded client connects directly, without the HTTP(S)_PROXY of the environment: a
    proxy would resolve the name again, out of the guard's sight.
    """
    transport = None if allow_private else PinnedTransport()
    return httpx.Client(timeout=timeout_s, follow_redirects=False, transport=transport)


def async_fetch_client(*, allow_private: bool, timeout_s: float) -> httpx.AsyncClient:
    """``fetch_client`` for async code (callback delivery)."""
    transport = None if allow_private else AsyncPinnedTransport()
    return httpx.AsyncClient(timeout=timeout_s, follow_redirects=False, transport=transport)


def open_stream(
    url: str, *, allow_private: bool, timeout_s: float, max_bytes: int
) -> Iterator[bytes]:
    """Yield the body of ``url`` in chunks, enforcing the guard, the size and a deadline."""
    deadline = time.monotonic() + timeout_s
    with fetch_client(allow_private=allow_private, timeout_s=min(timeout_s, 30.0)) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_http_url(url)
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
