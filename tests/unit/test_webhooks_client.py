"""The deliverer's HTTP/1.1 client against a real local HTTP server on a real socket: one
connection kept for many requests, chunked and close-delimited answers read to their end, a
connection the server closes opened again, a receiver that never answers, a 500, TLS."""

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.webhooks.client import HTTPError, Lane

HEADERS = {"content-type": "application/json", "webhook-id": "msg_1"}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    """An HTTP/1.1 server whose answer depends on the path asked (see `answer`)."""

    port: int = 0
    connections: int = 0
    requests: list[Received] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (x.partition(":") for x in lines[1:] if x)
                }
                body = await reader.readexactly(int(headers["content-length"]))
                self.requests.append(Received(path, headers, body))
                if not await self.answer(path, writer):
                    return
        except asyncio.CancelledError:
            return  # the test is over (a `/slow` answer still waiting)
        finally:
            writer.close()

    async def answer(self, path: str, writer: asyncio.StreamWriter) -> bool:
        """Writes the answer; whether the connection stays open."""
        path = path.partition("?")[0]
        if path == "/ok":
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        elif path == "/chunked":
            writer.write(
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
                b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nx-trailer: 1\r\n\r\n"
            )
        elif path == "/continue":
            writer.write(
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\nok"
            )
        elif path == "/close":  # says so
            writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok")
            await writer.drain()
            return False
        elif path == "/hangup":  # answers, then closes without a word (an idle timeout)
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(0.05)
            return False
        elif path == "/until-close":  # HTTP/1.0, the body ends with the connection
            writer.write(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 100_000)
            await writer.drain()
            return False
        elif path == "/fail":
            writer.write(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 5\r\n\r\noops!")
        elif path == "/slow":
            await asyncio.sleep(30)
        elif path == "/garbage":
            writer.write(b"SMTP ready\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        return True


Scenario = Callable[[Server, str], Awaitable[None]]


def run(scenario: Scenario, tls: ssl.SSLContext | None = None) -> Server:
    server = Server()

    async def main() -> None:
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=tls)
        server.port = listening.sockets[0].getsockname()[1]
        scheme = "https" if tls else "http"
        async with listening:
            await scenario(server, f"{scheme}://127.0.0.1:{server.port}")

    # A thread of its own: the worker may hold a running loop (a browser session of another test).
    with ThreadPoolExecutor(max_workers=1) as apart:
        apart.submit(asyncio.run, main()).result()
    return server


def test_requests_share_one_kept_connection() -> None:
    async def scenario(server: Server, base: str) -> None:
        lane = Lane(timeout=5)
        for i in range(20):
            assert await lane.post(f"{base}/ok?n={i}", b'{"n": %d}' % i, HEADERS) == 204
        await lane.close()

    server = run(scenario)
    assert server.connections == 1
    assert [r.path for r in server.requests] == [f"/ok?n={i}" for i in range(20)]
    first = server.requests[0]
    assert first.body == b'{"n": 0}'
    assert first.headers["content-length"] == "8"
    assert first.headers["webhook-id"] == "msg_1"
    assert first.headers["host"].startswith("127.0.0.1:")


def test_chunked_interim_and_close_delimited_answers_are_read_to_their_end() -> None:
    async def scenario(server: Server, base: str) -> None:
        lane = Lane(timeout=5)
        assert await lane.post(f"{base}/chunked", b"{}", HEADERS) == 200
        assert await lane.post(f"{base}/continue", b"{}", HEADERS) == 202
        assert await lane.post(f"{base}/ok", b"{}", HEADERS) == 204
        assert server.connections == 1, "the chunked body was read whole: the connection serves on"
        assert await lane.post(f"{base}/until-close", b"{}", HEADERS) == 200
        assert await lane.post(f"{base}/ok", b"{}", HEADERS) == 204
        await lane.close()

    assert run(scenario).connections == 2


def test_a_connection_the_server_closes_is_opened_again() -> None:
    async def scenario(server: Server, base: str) -> None:
        lane = Lane(timeout=5)
        assert await lane.post(f"{base}/close", b"{}", HEADERS) == 200
        assert await lane.post(f"{base}/ok", b"{}", HEADERS) == 204
        assert server.connections == 2
        assert await lane.post(f"{base}/hangup", b"{}", HEADERS) == 204
        await asyncio.sleep(0.2)  # the server has closed the idle connection
        assert await lane.post(f"{base}/ok", b"{}", HEADERS) == 204
        assert server.connections == 3
        await lane.close()

    server = run(scenario)
    assert [r.path for r in server.requests] == ["/close", "/ok", "/hangup", "/ok"]


def test_a_reused_connection_found_closed_sends_the_request_again_on_a_new_one() -> None:
    async def scenario(server: Server, base: str) -> None:
        lane = Lane(timeout=5)
        assert await lane.post(f"{base}/hangup", b"{}", HEADERS) == 204
        # at once: the close may not be seen yet, the request then finds the connection dead
        assert await lane.post(f"{base}/ok", b"{}", HEADERS) == 204
        await lane.close()

    server = run(scenario)
    assert server.requests[-1].path == "/ok"
    assert server.connections == 2


def test_a_receiver_that_never_answers_is_a_timeout_then_the_lane_serves_on() -> None:
    async def scenario(server: Server, base: str) -> None:
        lane = Lane(timeout=0.3)
        with pytest.raises(HTTPError, match=r"^Timeout"):
            await lane.post(f"{base}/slow", b"{}", HEADERS)
        assert await lane.post(f"{base}/ok", b"{}", HEADERS) == 204
        await lane.close()

    assert run(scenario).connections == 2


def test_a_500_is_an_answer_and_keeps_the_connection() -> None:
    async def scenario(server: Server, base: str) -> None:
        lane = Lane(timeout=5)
        assert await lane.post(f"{base}/fail", b"{}", HEADERS) == 500
        assert await lane.post(f"{base}/ok", b"{}", HEADERS) == 204
        await lane.close()

    assert run(scenario).connections == 1


def test_no_receiver_and_no_http_are_errors_named_for_their_step() -> None:
    async def scenario(server: Server, base: str) -> None:
        lane = Lane(timeout=5)
        with pytest.raises(HTTPError, match=r"^ProtocolError"):
            await lane.post(f"{base}/garbage", b"{}", HEADERS)
        with pytest.raises(HTTPError, match=r"^ConnectError"):
            await lane.post("http://127.0.0.1:1/hooks", b"{}", HEADERS)
        with pytest.raises(HTTPError, match="not an http"):
            await lane.post("ftp://127.0.0.1/hooks", b"{}", HEADERS)
        with pytest.raises(HTTPError, match="header unfit"):
            await lane.post(f"{base}/ok", b"{}", {"x-evil": "a\r\nx-injected: 1"})
        assert await lane.post(f"{base}/ok", b"{}", HEADERS) == 204
        await lane.close()

    run(scenario)


def _certificate(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1, and a client context trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "parcours test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


def test_https_goes_through_tls_and_checks_the_certificate(tmp_path: Path) -> None:
    server_tls, trusting = _certificate(tmp_path)

    async def scenario(server: Server, base: str) -> None:
        lane = Lane(timeout=5, tls=trusting)
        for _ in range(3):
            assert await lane.post(f"{base}/ok", b"{}", HEADERS) == 204
        await lane.close()
        with pytest.raises(HTTPError, match=r"^ConnectError.*CERTIFICATE_VERIFY_FAILED"):
            await Lane(timeout=5).post(f"{base}/ok", b"{}", HEADERS)  # the system's CAs

    server = run(scenario, tls=server_tls)
    assert server.connections == 1, "the refused handshake never reached the server"
    assert len(server.requests) == 3
