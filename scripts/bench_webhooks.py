"""Benchmark of outbound webhooks, in one run:

    python3 -m uv run python -m scripts.bench_webhooks --people 3000

A synthetic département is loaded into a store (SQLite by default, `--store postgres` for a
schema of the database parcours_bench, dropped afterwards); one subscription receives every case
event of every structure; the deliverer (`adapters.webhooks.deliverer`, as `parcours webhooks
deliver` runs it) delivers the whole log to a local receiver in another process. Measured: the
deliveries per second from the first to the last (log read, payload, signature, POST, cursor),
next to the raw rate of plain HTTP POSTs of the same size from the same client
(`adapters.webhooks.client`, same connections) to the same receiver in the same run, POSTs
written by hand on bare connections, and a sample of POSTs from httpx (the client the deliverer
had before). The receiver checks the signature of a sample of the deliveries. Rewrites its own
section of docs/benchmarks.md.
"""

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
import uuid
from datetime import date
from multiprocessing.sharedctypes import Synchronized
from typing import Any

import httpx

from adapters.eventlog.reading import read_batch
from adapters.eventlog.store import Parcours
from adapters.logging import configure_logging
from adapters.settings import Settings
from adapters.synthetic import load
from adapters.webhooks import payloads
from adapters.webhooks.client import Lane
from adapters.webhooks.deliverer import Deliverer, Policy, lanes
from adapters.webhooks.signing import new_secret, verify
from api.services.commands import Author
from api.services.subscriptions import find, status, subscribe
from domain.abonnements import TYPES_DIFFUSABLES, Finalite
from domain.events import is_fait
from scripts.benchlib import bench_settings, drop_schema, machine, write_section

BEGIN = "<!-- bench_webhooks: begin -->"
END = "<!-- bench_webhooks: end -->"
TARGET = 2000
"""Deliveries per second asked of the deliverer (issue 17)."""
HTTPX_SAMPLE = 1000
"""POSTs sent through httpx for comparison (it is slow: a sample is enough)."""
CHECKED = 200
"""Deliveries whose signature the receiver checks (the others are only counted)."""


class _Sink(asyncio.Protocol):
    """A minimal HTTP/1.1 endpoint: reads each request (headers, content-length body) and
    answers 204; checks the signature of the first CHECKED ones."""

    def __init__(self, count: "Synchronized[int]", bad: "Synchronized[int]", secret: str) -> None:
        self.count, self.bad, self.secret = count, bad, secret
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            lines = head.decode("latin-1").split("\r\n")
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
            }
            length = int(headers.get("content-length", "0"))
            if len(rest) < length:
                return
            body, self.buffer = rest[:length], rest[length:]
            with self.count.get_lock():
                self.count.value += 1
                n = self.count.value
            checked = n <= CHECKED and "webhook-id" in headers
            if checked and not verify(self.secret, headers, body, int(time.time())):
                with self.bad.get_lock():
                    self.bad.value += 1
            self.transport.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")


def _serve(port: int, count: "Synchronized[int]", bad: "Synchronized[int]", secret: str) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Sink(count, bad, secret), "127.0.0.1", port)
        await server.serve_forever()

    asyncio.run(main())


async def _raw_posts(url: str, n: int, size: int, policy: Policy) -> float:
    """Seconds for `n` plain POSTs of `size` bytes from the deliverer's own connections (one
    per lane, `concurrency` lanes), no log, no payload, no signature."""
    body = b"x" * size
    async with lanes(policy) as clients:
        pool = [clients.get_nowait() for _ in range(policy.concurrency)]
        await asyncio.gather(*(client.post(url, body, {}) for client in pool))
        share = _shares(n, len(pool))

        async def lane(client: Lane, k: int) -> None:
            for _ in range(k):
                assert await client.post(url, body, {}) == 204

        started = time.perf_counter()
        await asyncio.gather(*(lane(c, k) for c, k in zip(pool, share, strict=True)))
        spent = time.perf_counter() - started
        for client in pool:
            clients.put_nowait(client)
        return spent


async def _httpx_posts(url: str, n: int, size: int, policy: Policy) -> float:
    """Seconds for `n` plain POSTs from httpx clients of one connection each, `concurrency`
    of them: the deliverer's former client, for comparison."""
    body = b"x" * size
    pool = [
        httpx.AsyncClient(
            timeout=policy.timeout,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        for _ in range(policy.concurrency)
    ]
    await asyncio.gather(*(client.post(url, content=body) for client in pool))

    async def lane(client: httpx.AsyncClient, k: int) -> None:
        for _ in range(k):
            assert (await client.post(url, content=body)).status_code == 204

    started = time.perf_counter()
    await asyncio.gather(*(lane(c, k) for c, k in zip(pool, _shares(n, len(pool)), strict=True)))
    spent = time.perf_counter() - started
    for client in pool:
        await client.aclose()
    return spent


def _shares(n: int, lanes_count: int) -> list[int]:
    return [n // lanes_count + (1 if i < n % lanes_count else 0) for i in range(lanes_count)]


async def _socket_posts(port: int, n: int, size: int, lanes_count: int) -> float:
    """Seconds for `n` POSTs written by hand on `lanes_count` bare asyncio connections (no
    HTTP library): the machine's own limit for this receiver."""
    request = (
        f"POST /hooks HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: {size}\r\n\r\n".encode()
        + b"x" * size
    )
    share = _shares(n, lanes_count)

    async def lane(k: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(k):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 204")
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(lane(k) for k in share))
    return time.perf_counter() - started


def _deliver(app: Parcours, policy: Policy, target: int, count: "Synchronized[int]") -> float:
    """Seconds the deliverer takes from its start to `target` deliveries received."""

    async def main() -> float:
        stop = asyncio.Event()
        started = time.perf_counter()
        task = asyncio.create_task(Deliverer(app, policy).run(stop))
        while count.value < target:
            await asyncio.sleep(0.005)
        spent = time.perf_counter() - started
        stop.set()
        await task
        return spent

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING")

    scratch = tempfile.mkdtemp(prefix="bench_webhooks_")
    if args.store == "postgres":
        settings = bench_settings("parcours_bench", f"bench_webhooks_{uuid.uuid4().hex[:8]}")
    else:
        settings = Settings.from_env(
            {**os.environ, "PARCOURS_STORE": "sqlite", "PARCOURS_DATA_DIR": scratch}
        )
    app = Parcours(settings)
    figures: dict[str, Any] = {"store": args.store, "concurrency": args.concurrency}
    count: Synchronized[int] = multiprocessing.Value("q", 0)
    bad: Synchronized[int] = multiprocessing.Value("q", 0)
    secret = new_secret()
    port = 20000 + os.getpid() % 20000
    sink = multiprocessing.Process(target=_serve, args=(port, count, bad, secret), daemon=True)
    sink.start()
    url = f"http://127.0.0.1:{port}/hooks"
    try:
        print(f"loading {args.people:,} people…", flush=True)
        figures["events"] = load(app, args.people, 3, 2024, date(2022, 1, 1))
        created = subscribe(
            app,
            url=url,
            types=sorted(TYPES_DIFFUSABLES),
            structures=None,
            finalite=Finalite.SUIVI,
            motif="benchmark",
            author=Author(user="bench", request_id="bench"),
            secret=secret,
            position_depart=0,
        )
        name = created.abonnement.abonnement_id
        sample = [r for r in read_batch(app, 0, 1000) if is_fait(r.event)]
        figures["size"] = round(
            sum(len(payloads.body(find(app, name), r)) for r in sample) / len(sample)
        )
        time.sleep(0.5)  # the receiver is listening
        policy = Policy(concurrency=args.concurrency, batch=args.batch, poll=0.05)
        print("delivering…", flush=True)
        cpu = time.process_time()
        figures["deliver_s"] = _deliver(app, policy, figures["events"], count)
        figures["deliver_cpu"] = time.process_time() - cpu
        figures["delivered"] = count.value
        figures["bad"] = bad.value
        etat = status(app, name)
        figures["cursor"], figures["log"] = etat.position, etat.position_journal
        print("raw posts…", flush=True)
        count.value = 0
        cpu = time.process_time()
        figures["raw_s"] = asyncio.run(_raw_posts(url, figures["events"], figures["size"], policy))
        figures["raw_cpu"] = time.process_time() - cpu
        cpu = time.process_time()
        figures["socket_s"] = asyncio.run(
            _socket_posts(port, figures["events"], figures["size"], args.concurrency)
        )
        figures["socket_cpu"] = time.process_time() - cpu
        figures["httpx_n"] = min(HTTPX_SAMPLE, figures["events"])
        cpu = time.process_time()
        figures["httpx_s"] = asyncio.run(
            _httpx_posts(url, figures["httpx_n"], figures["size"], policy)
        )
        figures["httpx_cpu"] = time.process_time() - cpu
        figures["load"] = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    finally:
        sink.terminate()
        app.close()
        if args.store == "postgres":
            drop_schema(settings)
    lines = report(figures)
    print("\n".join(lines))
    if not args.no_doc:
        write_section(BEGIN, END, lines)


def report(f: dict[str, Any]) -> list[str]:
    rate = f["delivered"] / f["deliver_s"]
    raw = f["events"] / f["raw_s"]
    return [
        BEGIN,
        "## Outbound webhooks (`scripts/bench_webhooks.py`)",
        "",
        f"A synthetic département of {f['events']:,} case events in {f['store']}; one subscription "
        "to every kind of event of every structure; the deliverer and a local receiver (a minimal "
        "HTTP/1.1 endpoint in another process, answering 204) on the same machine: "
        f"{machine()}, load average {f['load']} at the end, {date.today().isoformat()}.",
        "",
        "| | requests | seconds | per second | client CPU ms per request | per second of client CPU |",
        "|---|---|---|---|---|---|",
        f"| deliveries (log read, payload, Standard Webhooks signature, POST, cursor; {f['concurrency']} cases at once) | {f['delivered']:,} | {f['deliver_s']:.2f} | {rate:,.0f} | {f['deliver_cpu'] * 1000 / f['delivered']:.2f} | {f['delivered'] / f['deliver_cpu']:,.0f} |",
        f"| plain POSTs of {f['size']} bytes (the deliveries' mean), same client (`adapters.webhooks.client`), same {f['concurrency']} connections | {f['events']:,} | {f['raw_s']:.2f} | {raw:,.0f} | {f['raw_cpu'] * 1000 / f['events']:.2f} | {f['events'] / f['raw_cpu']:,.0f} |",
        f"| the same POSTs written by hand on {f['concurrency']} bare asyncio connections (no HTTP library) | {f['events']:,} | {f['socket_s']:.2f} | {f['events'] / f['socket_s']:,.0f} | {f['socket_cpu'] * 1000 / f['events']:.2f} | {f['events'] / f['socket_cpu']:,.0f} |",
        f"| the same POSTs from httpx (the deliverer's former client), {f['concurrency']} clients of one connection | {f['httpx_n']:,} | {f['httpx_s']:.2f} | {f['httpx_n'] / f['httpx_s']:,.0f} | {f['httpx_cpu'] * 1000 / f['httpx_n']:.2f} | {f['httpx_n'] / f['httpx_cpu']:,.0f} |",
        "",
        f"Deliveries reach {rate / raw:.0%} of the raw rate of the client. "
        + (
            "Above the target of 2,000 deliveries/s. "
            if rate >= TARGET
            else f"Below the target of {TARGET:,} deliveries/s on this machine: row 2 is what "
            "the HTTP client alone allows, the difference between rows 1 and 2 the rest of a "
            "delivery (log read, payload, signature, cursor); the bare connections (row 3) show "
            "what the receiver and the machine allow. "
        )
        + "Signatures checked by "
        f"the receiver on the first {CHECKED}: {CHECKED - f['bad']} valid, {f['bad']} invalid. "
        f"Cursor at {f['cursor']:,} of {f['log']:,} at the end.",
        END,
    ]


if __name__ == "__main__":
    main()
