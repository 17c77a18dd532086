"""The SSRF guard on every URL genjobs fetches or calls back: which addresses are public, the
many spellings of a loopback or private address, DNS rebinding, redirects, TLS on the
pinned address, and callback URLs httpx cannot send.

Loopback HTTP servers record every request, so "refused" means nothing arrived, not only
that an error was raised. The machine has no internet: addresses that must pass are tested
on the classifier.
"""

from __future__ import annotations

import asyncio
import http.server
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from genjobs.config import Settings
from genjobs.files import fetch
from genjobs.files.addresses import is_public_address
from genjobs.files.fetch import (
    AsyncPinnedTransport,
    FetchError,
    PinnedTransport,
    async_fetch_client,
    check_public_url,
    open_stream,
)
from tests.helpers import create

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "100.63.255.255",  # just below the shared 100.64/10
    "100.128.0.1",  # just above it
    "172.32.0.1",  # just above the private 172.16/12
    "192.0.1.1",
    "198.20.0.1",  # just above benchmarking 198.18/15
    "223.255.255.254",  # just below multicast
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",  # IPv4-mapped, of a public address
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo: server 65.54.227.120, client 8.8.8.8
]

# Each must be refused by the check and by a fetch, and nothing may arrive at the loopback
# server listening on {port}.
REFUSED = [
    # IPv4, and the other spellings of 127.0.0.1 that getaddrinfo accepts
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://2130706433:{port}/",  # decimal
    "http://0x7f000001:{port}/",  # hexadecimal
    "http://017700000001:{port}/",  # octal
    "http://127.1:{port}/",
    "http://127.0.1:{port}/",
    "http://0x7f.1:{port}/",
    "http://127.255.255.254:{port}/",
    "http://0.0.0.0:{port}/",  # connects to this host
    "http://0:{port}/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.0.1/",
    "http://169.254.169.254/latest/meta-data",  # cloud metadata
    "http://100.64.0.1/",  # shared address space
    "http://198.18.0.1/",  # benchmarking
    "http://192.0.2.1/",  # documentation
    "http://198.51.100.7/",
    "http://203.0.113.5/",
    "http://192.0.0.8/",  # IETF protocol assignments
    "http://224.0.0.1/",  # multicast
    "http://239.255.255.250:1900/",  # multicast (SSDP)
    "http://240.0.0.1/",  # reserved
    "http://255.255.255.255/",  # broadcast
    # IPv6
    "http://[::1]:{port}/",
    "http://[::]:{port}/",  # unspecified: connects to this host
    "http://[::ffff:127.0.0.1]:{port}/",  # IPv4-mapped, reaches the IPv4 loopback server
    "http://[::ffff:7f00:1]:{port}/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::127.0.0.1]:{port}/",  # IPv4-compatible (deprecated)
    "http://[::ffff:0:7f00:1]/",  # IPv4-translated (SIIT)
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[64:ff9b:1::808:808]/",  # local-use NAT64: not globally reachable
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::1]/",  # 6to4 of 169.254.169.254
    "http://[2002:c0a8:1::]/",  # 6to4 of 192.168.0.1
    "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/",  # Teredo, client 10.0.0.1
    "http://[2001:0:7f00:1:8000:63bf:f7f7:f7f7]/",  # Teredo, server 127.0.0.1
    "http://[fe80::1]/",  # link-local
    "http://[fc00::1]/",  # unique local
    "http://[fd12:3456:789a::1]/",
    "http://[fec0::1]/",  # site-local (deprecated)
    "http://[ff02::1]/",  # multicast
    "http://[ff0e::1]/",  # multicast, global scope
    "http://[2001:db8::1]/",  # documentation
    "http://[3fff::1]/",  # documentation
    "http://[2001:2::1]/",  # benchmarking
    "http://[100::1]/",  # discard-only
    "http://[4000::1]/",  # outside 2000::/3, unallocated
]


class Recorder:
    """A real HTTP server on a loopback address that records every request it gets."""

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.hits: list[tuple[str, str, str]] = []  # method, path, Host header
        self.redirects: dict[str, str] = {}
        self.server_names: list[str | None] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                recorder.hits.append((self.command, self.path, self.headers.get("Host", "")))
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path in recorder.redirects:
                    self.send_response(302)
                    self.send_header("Location", recorder.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", "5")
                self.end_headers()
                self.wfile.write(b"hello")

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        if tls is not None:
            tls.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def loopback() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


def fetch_all(url: str, allow_private: bool = False) -> bytes:
    return b"".join(open_stream(url, allow_private=allow_private, timeout_s=5, max_bytes=1000))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("url", REFUSED)
def test_every_non_public_form_is_refused_and_nothing_arrives(url: str, loopback: Recorder) -> None:
    url = url.format(port=loopback.port)
    with pytest.raises(FetchError, match="not a public address"):
        check_public_url(url, allow_private=False)
    with pytest.raises(FetchError, match="not a public address"):
        fetch_all(url)
    assert loopback.hits == []


def test_allowing_private_urls_reaches_loopback_by_any_spelling(loopback: Recorder) -> None:
    # The counterpart of the refusals above: these spellings do reach the server, so
    # "nothing arrived" there is the guard's doing.
    check_public_url(f"http://2130706433:{loopback.port}/", allow_private=True)
    assert fetch_all(f"http://2130706433:{loopback.port}/a", allow_private=True) == b"hello"
    assert fetch_all(f"http://[::ffff:7f00:1]:{loopback.port}/b", allow_private=True) == b"hello"
    assert [path for _, path, _ in loopback.hits] == ["/a", "/b"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "http or https"),
        ("gopher://example.com/x", "http or https"),
        ("ftp://example.com/a", "http or https"),
        ("http:///path", "has no host"),
        ("http://[::1/x", "is not a valid URL"),
        ("http://example.com:99999/x", "is not a valid URL"),
        ("http://example.com:port/x", "is not a valid URL"),
    ],
)
def test_urls_that_are_not_http_are_refused(url: str, message: str) -> None:
    for allow_private in (False, True):
        with pytest.raises(FetchError, match=message):
            check_public_url(url, allow_private=allow_private)
        with pytest.raises(FetchError, match=message):
            fetch_all(url, allow_private=allow_private)


def rebinding_resolver(monkeypatch: pytest.MonkeyPatch, name: str, public_answers: int) -> None:
    """Make ``name`` resolve to a public address ``public_answers`` times, then to 127.0.0.1
    (an attacker's DNS server with a short TTL); other names resolve as usual.

    A connection to the public answer (8.8.8.8, on the loopback server's port) fails: at
    once without internet, after the test's short timeout with it.
    """
    real = socket.getaddrinfo
    answered = [0]

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != name:
            return real(host, port, *args, **kwargs)
        answered[0] += 1
        address = "8.8.8.8" if answered[0] <= public_answers else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("public_answers", [1, 2])
def test_a_rebinding_name_never_reaches_loopback(
    public_answers: int, loopback: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1: the lookup the check used must be the one connected to. 2: the same for a caller
    # that checks twice before connecting.
    rebinding_resolver(monkeypatch, "rebind.test", public_answers)
    url = f"http://rebind.test:{loopback.port}/secret"
    with pytest.raises(FetchError):
        fetch_all(url)

    async def post() -> None:
        async with async_fetch_client(allow_private=False, timeout_s=5) as client:
            await client.post(url, content=b"{}")

    with pytest.raises((FetchError, httpx.ConnectError, httpx.ConnectTimeout)):
        asyncio.run(post())
    assert loopback.hits == []


def test_callbacks_to_a_rebinding_name_never_reach_loopback(
    settings: Settings, loopback: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genjobs.api.app import create_app

    # Public for createTask's check and the first delivery, loopback from then on.
    rebinding_resolver(monkeypatch, "rebind.test", public_answers=2)
    strict = settings.model_copy(update={"allow_private_urls": False, "callback_timeout_s": 3})
    with TestClient(create_app(strict), base_url=strict.base_url) as client:
        client.headers["Authorization"] = "Bearer gj_test_admin_key"
        task_id = create(
            client, {"text": "x"}, callBackUrl=f"http://rebind.test:{loopback.port}/cb"
        )
        attempts = wait_for_attempts(client, task_id, 2)
    assert attempts[1]["error"].startswith(
        "callback URL refused: host 'rebind.test' resolves to 127.0.0.1"
    )
    assert loopback.hits == []


def test_every_redirect_hop_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    # A reachable "public" server is needed, and this machine has none: 127.0.0.1 is taken
    # for public here, and the rest of loopback (127.0.0.2) stays private.
    monkeypatch.setattr(fetch, "is_public_address", lambda a: str(a) == "127.0.0.1")
    public, private = Recorder("127.0.0.1"), Recorder("127.0.0.2")
    try:
        public.redirects = {
            "/hop": "/data",
            "/to-private": f"{private.url}/secret",
            "/to-decimal": f"http://2130706434:{private.port}/secret",  # 127.0.0.2
            "/to-file": "file:///etc/passwd",
        }
        assert fetch_all(f"{public.url}/hop") == b"hello"
        for path in ("/to-private", "/to-decimal"):
            with pytest.raises(FetchError, match=r"resolves to 127\.0\.0\.2"):
                fetch_all(f"{public.url}{path}")
        with pytest.raises(FetchError, match="http or https"):
            fetch_all(f"{public.url}/to-file")
        assert private.hits == []
        assert [path for _, path, _ in public.hits] == [
            "/hop",
            "/data",
            "/to-private",
            "/to-decimal",
            "/to-file",
        ]
    finally:
        public.close()
        private.close()


def test_the_next_checked_address_is_tried_when_one_refuses(loopback: Recorder) -> None:
    # The server listens on 127.0.0.1 only, so 127.0.0.2 refuses the connection.
    transport = PinnedTransport(resolve=lambda host, port: ["127.0.0.2", "127.0.0.1"])
    with httpx.Client(transport=transport) as client:
        assert client.get(f"http://two.test:{loopback.port}/a").content == b"hello"
    transport = PinnedTransport(resolve=lambda host, port: ["127.0.0.2", "127.0.0.3"])
    with httpx.Client(transport=transport) as client, pytest.raises(httpx.ConnectError):
        client.get(f"http://two.test:{loopback.port}/b")
    assert loopback.hits == [("GET", "/a", f"two.test:{loopback.port}")]


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the name pinned.test (key, cert)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    command = ["openssl", "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=pinned.test"]
    command += ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    command += ["-addext", "subjectAltName=DNS:pinned.test", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(command, check=True, capture_output=True)
    return key, cert


def test_a_pinned_connection_keeps_the_host_name_for_tls_and_host(
    certificate: tuple[Path, Path],
) -> None:
    key, cert = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    server = Recorder(tls=server_tls)
    client_tls = ssl.create_default_context(cafile=str(cert))
    resolved: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        resolved.append(host)
        return ["127.0.0.1"]

    try:
        with httpx.Client(transport=PinnedTransport(resolve=resolve, verify=client_tls)) as sync:
            response = sync.get(f"https://pinned.test:{server.port}/sync")
            assert response.content == b"hello"
            assert str(response.url) == f"https://pinned.test:{server.port}/sync"
            # The certificate is verified against the name, not the address.
            with pytest.raises(httpx.ConnectError, match="certificate"):
                sync.get(f"https://other.test:{server.port}/")

        async def post() -> httpx.Response:
            transport = AsyncPinnedTransport(resolve=resolve, verify=client_tls)
            async with httpx.AsyncClient(transport=transport) as client:
                return await client.post(f"https://pinned.test:{server.port}/async", content=b"x")

        assert asyncio.run(post()).status_code == 200
        host = f"pinned.test:{server.port}"
        assert server.hits == [("GET", "/sync", host), ("POST", "/async", host)]
        assert server.server_names == ["pinned.test", "other.test", "pinned.test"]
        assert resolved == ["pinned.test", "other.test", "pinned.test"]
    finally:
        server.close()


def wait_for_attempts(client: TestClient, task_id: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        data = client.get("/api/v1/jobs/callbacks", params={"taskId": task_id}).json()["data"]
        if data and len(data[0]["attempts"]) >= count:
            attempts: list[dict[str, Any]] = data[0]["attempts"]
            return attempts
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} delivery attempts of {task_id} recorded")


@pytest.mark.parametrize(
    "url",
    [
        "http://xn--zz.test/cb",  # an invalid A-label: idna.IDNAError, a UnicodeError
        "http://\u2488.test/cb",  # not IDNA-encodable: httpx.InvalidURL
    ],
)
def test_a_callback_url_httpx_cannot_send_is_a_recorded_failed_attempt(
    client: TestClient, url: str
) -> None:
    task_id = create(client, {"text": "x"}, callBackUrl=url)
    [attempt] = wait_for_attempts(client, task_id, 1)[:1]
    assert attempt["statusCode"] is None
    assert attempt["error"].startswith("callback URL refused: is not a valid URL")
