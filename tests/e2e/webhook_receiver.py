"""A partner's webhook endpoint for the tests: a small HTTP server in a thread that checks each
delivery's Standard Webhooks signature with the partner's secret, and keeps what it accepted in
arrival order. It can answer 500 to everything for a while (`failing`)."""

import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec

from adapters.webhooks.signing import verify


@dataclass
class Received:
    webhook_id: str
    body: dict[str, Any]


@dataclass
class Receiver:
    secret: str
    url: str = ""
    accepted: list[Received] = field(default_factory=list)
    refused_signatures: int = 0
    answered_500: int = 0
    failing: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ids(self) -> set[str]:
        with self.lock:
            return {r.webhook_id for r in self.accepted}

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.accepted)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle(self) -> None:
            with contextlib.suppress(ConnectionError):  # a sender killed mid-request
                super().handle()

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            if len(body) < length:  # the sender died mid-request: nothing was delivered
                self.close_connection = True
                return
            if receiver.failing.is_set():
                with receiver.lock:
                    receiver.answered_500 += 1
                self._answer(500)
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            if not verify(receiver.secret, headers, body, int(time.time())):
                with receiver.lock:
                    receiver.refused_signatures += 1
                self._answer(401)
                return
            with receiver.lock:
                receiver.accepted.append(Received(headers["webhook-id"], msgspec.json.decode(body)))
            self._answer(204)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def receiving(secret: str) -> Iterator[Receiver]:
    receiver = Receiver(secret)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
