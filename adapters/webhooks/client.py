"""A small HTTP/1.1 client on asyncio streams, for the deliverer's POSTs.

Why not httpx: it costs about 2 ms of CPU per request on this machine, which bounds the
deliverer near 500 deliveries/s of CPU whatever the receiver (docs/benchmarks.md); a webhook
needs only a fraction of HTTP. What this client does: one keep-alive connection per `Lane`
(`http` or `https`, TLS through the default `ssl` context), each request written at once with
a `Content-Length` body, the status line and headers read, the answer's body (`Content-Length`,
chunked, or up to the close) read and discarded, the whole exchange under one timeout. A
connection the receiver closed is opened again; a request that finds its reused connection
closed before any byte of the answer is sent once more on a new one (a webhook carries its
`webhook-id`, so a receiver that got it twice drops the second). Any error closes the
connection: the next request starts on a new one.
"""

import asyncio
import contextlib
import functools
import ssl
from collections.abc import Mapping
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024
"""Bytes of status line and headers accepted in an answer."""
CHUNK = 64 * 1024
"""Bytes of an answer's body read (and discarded) at a time."""
NO_BODY = {204, 304}


class HTTPError(Exception):
    """A request that got no answer: connection refused or lost, timeout, unreadable answer."""


class ProtocolError(Exception):
    """An answer that is not HTTP/1.x as this client reads it."""


class _Stale(Exception):
    """A reused connection was found closed before any byte of the answer."""


@functools.cache
def _tls() -> ssl.SSLContext:
    """The system's certificate authorities, checked names (loaded once: it is slow)."""
    return ssl.create_default_context()


class Target:
    """Where a URL's requests go, and what their request line and `Host` header say."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HTTPError(f"not an http(s) URL: {url!r}")
        self.url = url
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.tls else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default = self.port == (443 if self.tls else 80)
        name = f"[{self.host}]" if ":" in self.host else self.host
        self.authority = name if default else f"{name}:{self.port}"
        self.origin = (self.tls, self.host, self.port)
        for text in (self.path, self.authority):
            if any(c in text for c in "\r\n "):
                raise HTTPError(f"URL unfit for a request line: {url!r}")


class Lane:
    """One keep-alive connection, used by one request at a time."""

    def __init__(self, timeout: float, tls: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self._tls = tls
        self._target: Target | None = None
        """The last URL asked: its connection is kept open for the next request to its origin."""
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.connections = 0
        """Connections opened so far (for tests and measures)."""

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body` to `url`; the answer's status code. Raises `HTTPError` when no answer
        came within the timeout, its message naming the step that failed (`ConnectError`,
        `Timeout`, `ReadError`, `ProtocolError`) as partners' logs usually do."""
        target = self._target if self._target and self._target.url == url else Target(url)
        request = _request(target, body, headers)
        step = "ConnectError"
        try:
            async with asyncio.timeout(self.timeout):
                reused = self._usable(target)
                if reused:
                    self._target = target
                else:
                    await self._connect(target)
                step = "ReadError"
                try:
                    return await self._exchange(request, fresh=not reused)
                except _Stale:
                    step = "ConnectError"
                    await self._connect(target)
                    step = "ReadError"
                    return await self._exchange(request, fresh=True)
        except ProtocolError as e:
            await self.close()
            raise HTTPError(f"ProtocolError: {e}") from e
        except TimeoutError:
            await self.close()
            raise HTTPError(f"Timeout: no answer within {self.timeout:g} s") from None
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as e:
            await self.close()
            raise HTTPError(f"{step}: {str(e) or type(e).__name__}") from e
        except BaseException:
            await self.close()  # cancelled mid-exchange: the connection's state is unknown
            raise

    def _usable(self, target: Target) -> bool:
        return (
            self._writer is not None
            and self._reader is not None
            and self._target is not None
            and self._target.origin == target.origin
            and not self._writer.is_closing()
            and not self._reader.at_eof()
        )

    async def _connect(self, target: Target) -> None:
        await self.close()
        tls = (self._tls or _tls()) if target.tls else None
        self._reader, self._writer = await asyncio.open_connection(
            target.host,
            target.port,
            ssl=tls,
            server_hostname=target.host if tls else None,
            limit=MAX_HEAD,
        )
        self._target = target
        self.connections += 1

    async def _exchange(self, request: bytes, *, fresh: bool) -> int:
        reader, writer = self._reader, self._writer
        assert reader is not None
        assert writer is not None
        try:
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
        except (ConnectionError, asyncio.IncompleteReadError) as e:
            if fresh or (isinstance(e, asyncio.IncompleteReadError) and e.partial):
                raise
            raise _Stale from e
        while True:
            status, keep, length, chunked = _parse_head(head)
            if 100 <= status < 200:  # an interim answer: the final one follows
                head = await reader.readuntil(b"\r\n\r\n")
                continue
            break
        if status in NO_BODY:
            pass
        elif chunked:
            await _skip_chunked(reader)
        elif length is not None:
            await _skip(reader, length)
        else:
            while await reader.read(CHUNK):  # the body ends with the connection
                pass
            keep = False
        if not keep:
            await self.close()
        return status

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)


def _request(target: Target, body: bytes, headers: Mapping[str, str]) -> bytes:
    lines = [
        f"POST {target.path} HTTP/1.1",
        f"host: {target.authority}",
        f"content-length: {len(body)}",
        "user-agent: parcours-webhooks",
    ]
    for name, value in headers.items():
        if any(c in name or c in value for c in "\r\n\0") or ":" in name:
            raise HTTPError(f"header unfit for HTTP: {name!r}")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _parse_head(head: bytes) -> tuple[int, bool, int | None, bool]:
    """Status, keep-alive, `Content-Length`, chunked, from an answer's status line and headers."""
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if version not in ("HTTP/1.1", "HTTP/1.0") or not code.isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    keep = version == "HTTP/1.1"
    length: int | None = None
    chunked = False
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError(f"header line without a colon: {line[:80]!r}")
        name, value = name.strip().lower(), value.strip()
        if name == "content-length":
            if not value.isdigit():
                raise ProtocolError(f"content-length: {value[:40]!r}")
            length = int(value)
        elif name == "transfer-encoding":
            chunked = value.lower().split(",")[-1].strip() == "chunked"
        elif name == "connection":
            tokens = {t.strip() for t in value.lower().split(",")}
            if "close" in tokens:
                keep = False
            elif "keep-alive" in tokens:
                keep = True
    return int(code), keep, length, chunked


async def _skip(reader: asyncio.StreamReader, length: int) -> None:
    while length > 0:
        data = await reader.read(min(length, CHUNK))
        if not data:
            raise asyncio.IncompleteReadError(b"", length)
        length -= len(data)


async def _skip_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        line = await reader.readuntil(b"\r\n")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ProtocolError(f"chunk size: {size_text[:40]!r}") from None
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, up to the empty line
                pass
            return
        await _skip(reader, size + 2)
