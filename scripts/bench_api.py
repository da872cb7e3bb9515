"""The API under a mixed load, open loop, with the projector running; then every acknowledged
write checked in the log.

    python3 -m uv run python -m scripts.bench_api --rates 50,100,300 --seconds 20

On each store (a throw-away SQLite directory; a throw-away schema of the PostgreSQL database
parcours_bench) it writes a synthetic département, starts `parcours serve` and a separate
`parcours project` worker, enters and orients `--cases` cases through the API, then offers
each rate in turn: 50 % steps recorded (a RDV planned on one of those cases, each with its own
`Idempotency-Key`), 30 % case reads, 20 % worklists of the structure. Each request is sent when
it is due whatever the answers (a slow answer delays no later send), its latency counted from
then. Side by side, the raw limit of the same run: a trivial route of the same server
(`/health/live`) at the same rate. Afterwards the log is read: every acknowledged write is in
it once, at the version answered. Rewrites its own section of docs/benchmarks.md.

Against a server already running (anyone's, e.g. a staging one), `--url` and `--token` (a
token with the `orientation` role), and the store's usual environment variables so that the
acknowledged writes can be counted in the log afterwards:

    python3 -m uv run python -m scripts.bench_api --url http://127.0.0.1:8000 --token "$T"
"""

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from adapters.settings import Settings
from scripts.bench_rdvi import _cpu_ms, _env, _free_port, percentiles
from scripts.benchlib import bench_settings, drop_schema, machine, write_section

BEGIN = "<!-- bench_api: begin -->"
END = "<!-- bench_api: end -->"
ROOT = Path(__file__).resolve().parents[1]
TARGET_RATE = 300.0
TARGET_P99_MS = 50.0
STRUCTURE = "ccas-creteil"
ENTREE = {
    "effective_on": "2024-01-03",
    "numero_dossier": "CAF-0123456",
    "organisme_payeur": "caf",
    "date_flux": "2024-01-04",
    "date_reception_flux": "2024-01-08",
    "soumis_droits_devoirs": True,
}
ORIENTATION = {
    "effective_on": "2024-01-25",
    "type_orientation": "sociale",
    "organisme": "ccas",
    "structure_id": STRUCTURE,
    "mode": "decidee",
}
RDV = {
    "effective_on": "2024-01-29",
    "type_rdv": "premier_accompagnement",
    "mode": "convocation",
    "date_rdv": "2024-02-05",
}
KINDS = ("step", "read", "worklist")
MIX = (0.5, 0.3, 0.2)


@dataclass
class Ledger:
    """What was sent and what was acknowledged (key -> case id, version)."""

    acked: dict[str, tuple[str, int]] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


Send = Callable[[httpx.AsyncClient], Any]


def _requests(
    cases: list[str], n: int, seed: int, ledger: Ledger, run: str
) -> list[tuple[str, Send]]:
    """`n` requests of the mix, drawn once (the same for every store)."""
    rng = random.Random(seed)
    out: list[tuple[str, Send]] = []
    for i in range(n):
        kind = rng.choices(KINDS, MIX)[0]
        case = rng.choice(cases)
        if kind == "step":
            key = f"{run}-{i}"

            async def step(c: httpx.AsyncClient, case: str = case, key: str = key) -> Any:
                answer = await c.post(
                    f"/dossiers/{case}/rdv", json=RDV, headers={"Idempotency-Key": key}
                )
                if answer.status_code in (200, 201):
                    body = answer.json()
                    ledger.acked[key] = (body["case_id"], body["version"])
                return answer

            out.append((kind, step))
        elif kind == "read":

            def read(c: httpx.AsyncClient, case: str = case) -> Any:
                return c.get(f"/dossiers/{case}")

            out.append((kind, read))
        else:
            out.append((kind, lambda c: c.get("/a-traiter", params={"structure_id": STRUCTURE})))
    return out


async def _open_loop(
    url: str, token: str, rate: float, requests: list[tuple[str, Send]], ledger: Ledger
) -> None:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=url, timeout=60, limits=limits, headers=headers
    ) as client:

        async def one(due: float, kind: str, send: Send) -> None:
            try:
                answer = await send(client)
                ledger.statuses[answer.status_code] += 1
                if answer.status_code >= 400:
                    ledger.errors.append(f"{kind} {answer.status_code} {answer.text[:200]}")
            except httpx.HTTPError as e:
                ledger.statuses[0] += 1
                ledger.errors.append(f"{kind} {type(e).__name__}")
            ledger.latencies.setdefault(kind, []).append((time.perf_counter() - due) * 1000)

        start = time.perf_counter() + 0.2
        tasks = []
        for i, (kind, send) in enumerate(requests):
            due = start + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            tasks.append(asyncio.create_task(one(due, kind, send)))
        await asyncio.gather(*tasks)


def _prepare(url: str, token: str, count: int) -> list[str]:
    """`count` cases entered and oriented to the structure, through the API."""
    cases = []
    with httpx.Client(
        base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        for _ in range(count):
            entered = client.post("/dossiers", json=ENTREE)
            entered.raise_for_status()
            case = entered.json()["case_id"]
            client.post(f"/dossiers/{case}/orientation", json=ORIENTATION).raise_for_status()
            cases.append(case)
    return cases


def check_log(settings: Settings, ledger: Ledger) -> tuple[int, int]:
    """(acknowledged writes found once at their version, writes of the run in the log):
    raises when one acknowledged write is missing or doubled."""
    from adapters.eventlog.reading import case_histories
    from adapters.eventlog.store import Parcours

    app = Parcours(settings)
    try:
        wanted = {uuid.UUID(case) for case, _ in ledger.acked.values()}
        found = case_histories(app, sorted(wanted))
    finally:
        app.close()
    by_key = Counter(
        r.event.meta.request_id
        for history in found.values()
        for r in history
        if r.event.meta.request_id in ledger.acked
    )
    versions = {
        (str(r.originator_id), r.originator_version)
        for history in found.values()
        for r in history
        if r.event.meta.request_id in ledger.acked
    }
    missing = set(ledger.acked) - set(by_key)
    doubled = [k for k, n in by_key.items() if n > 1]
    if missing or doubled or set(ledger.acked.values()) - versions:
        raise SystemExit(f"acknowledged writes missing {sorted(missing)[:5]} doubled {doubled[:5]}")
    return len(ledger.acked), sum(by_key.values())


def measure(
    settings: Settings, url: str, token: str, rates: list[float], seconds: float, cases: int
) -> list[dict[str, Any]]:
    prepared = _prepare(url, token, cases)
    results = []
    for rate in rates:
        n = int(rate * seconds)
        ledger = Ledger()
        run = f"bench-{uuid.uuid4().hex[:8]}-{rate:g}"
        asyncio.run(_open_loop(url, token, rate, _requests(prepared, n, 7, ledger, run), ledger))
        trivial = Ledger()
        asyncio.run(
            _open_loop(
                url,
                token,
                rate,
                [("trivial", lambda c: c.get("/health/live"))] * int(rate * min(seconds, 10)),
                trivial,
            )
        )
        acked, in_log = check_log(settings, ledger)
        every = [v for kind in KINDS for v in ledger.latencies.get(kind, [])]
        results.append(
            {
                "store": settings.store,
                "rate": rate,
                "n": n,
                "all": percentiles(every),
                **{kind: percentiles(ledger.latencies[kind]) for kind in ledger.latencies},
                "trivial": percentiles(trivial.latencies["trivial"]),
                "errors": sum(v for k, v in ledger.statuses.items() if k == 0 or k >= 500),
                "refused": sum(v for k, v in ledger.statuses.items() if 400 <= k < 500),
                "acked": acked,
                "in_log": in_log,
                "first_errors": ledger.errors[:3],
            }
        )
        print(results[-1], flush=True)
    return results


@contextmanager
def serving(settings: Settings, log: Path) -> Iterator[tuple[str, list[int]]]:
    """`parcours serve` and `parcours project`, each its own process."""
    port = _free_port()
    env = _env(settings, port)
    processes = []
    with log.open("ab") as out:
        for command in ("serve", "project"):
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "api.cli.main", command],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if any(p.poll() is not None for p in processes):
                raise SystemExit(f"a process exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        yield url, [p.pid for p in processes]
    finally:
        for p in processes:
            p.send_signal(signal.SIGTERM)
        for p in processes:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()


def _local_token(settings: Settings) -> str:
    from adapters.tokens import sign_local

    now = int(time.time())
    claims = {"sub": "bench", "roles": ["orientation"], "iat": now, "exp": now + 36_000}
    return sign_local(settings, claims)


def run_store(
    settings: Settings, args: argparse.Namespace, log: Path
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    from adapters.eventlog.store import Parcours
    from adapters.synthetic import load

    app = Parcours(settings)
    try:
        events = load(app, people=args.people, years=3, seed=2024, start=date(2022, 1, 1))
    finally:
        app.close()
    with serving(settings, log) as (url, pids):
        before = [_cpu_ms(pid) for pid in pids]
        results = measure(
            settings, url, _local_token(settings), args.rate_list, args.seconds, args.cases
        )
        cpu = [_cpu_ms(pid) - b for pid, b in zip(pids, before, strict=True)]
    return results, {"events": events, "server_cpu_s": cpu[0] / 1000, "worker_cpu_s": cpu[1] / 1000}


def _ms(p: tuple[float, ...]) -> str:
    return " / ".join(f"{v:.0f}" for v in p)


def report(
    results: list[dict[str, Any]], sizes: dict[str, dict[str, float]], args: argparse.Namespace
) -> list[str]:
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    lines = [
        BEGIN,
        "## The API under a mixed load (`scripts/bench_api.py`)",
        "",
        f"`parcours serve` and `parcours project` in their own processes, on a synthetic "
        f"département of {args.people:,} people; {args.cases} cases entered and oriented "
        f"through the API, then each rate offered open loop for {args.seconds:g} s: 50 % RDV "
        "recorded (each with its `Idempotency-Key`), 30 % case reads, 20 % worklists of the "
        "structure; latency counted from when each request was due. The raw limit of the same "
        "run: a trivial route of the same server at the same rate. Afterwards every "
        "acknowledged write was found in the log once, at the version answered. "
        f"{machine()}, load average {load} at the end, {date.today().isoformat()}. Target: "
        f"{TARGET_RATE:g} req/s offered with p99 under {TARGET_P99_MS:g} ms, no error.",
        "",
        "| store | offered req/s | requests | p50 / p95 / p99 ms, all | steps | case reads | "
        "worklists | trivial route (raw limit) | 5xx or no answer | 409 (a race lost too "
        "often) | acknowledged writes, in the log once |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['store']} | {r['rate']:g} | {r['n']:,} | {_ms(r['all'])} | "
            f"{_ms(r.get('step', ()))} | {_ms(r.get('read', ()))} | "
            f"{_ms(r.get('worklist', ()))} | {_ms(r['trivial'])} | {r['errors']} | {r['refused']} | "
            f"{r['acked']:,} / {r['in_log']:,} |"
        )
    lines.append("")
    for store, size in sizes.items():
        lines.append(
            f"- {store}: {size['events']:,.0f} events before the run; CPU over the whole run: "
            f"server {size['server_cpu_s']:.1f} s, projector {size['worker_cpu_s']:.1f} s."
        )
    met = [
        r
        for r in results
        if r["rate"] >= TARGET_RATE and r["all"][2] < TARGET_P99_MS and r["errors"] == 0
    ]
    lines += [
        "",
        "Target met on: " + (", ".join(r["store"] for r in met) if met else "no store") + ".",
        END,
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", default="50,100,300")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--url", help="a server already running (with --token)")
    parser.add_argument("--token", help="a bearer token with the orientation role")
    parser.add_argument("--no-write", action="store_true", help="print, leave the docs alone")
    args = parser.parse_args()
    args.rate_list = [float(r) for r in args.rates.split(",")]
    results: list[dict[str, Any]] = []
    if args.url:
        if not args.token:
            raise SystemExit("--url needs --token")
        settings = Settings.from_env()
        results = measure(settings, args.url, args.token, args.rate_list, args.seconds, args.cases)
        print("\n".join(report(results, {}, args)))
        return
    sizes: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        log = Path(tmp) / "server.log"
        for store in args.stores.split(","):
            if store == "sqlite":
                settings = Settings.from_env(
                    {**os.environ, "PARCOURS_STORE": "sqlite", "PARCOURS_DATA_DIR": f"{tmp}/data"}
                )
                found, sizes[store] = run_store(settings, args, log)
            else:
                settings = bench_settings("parcours_bench", f"bench_api_{uuid.uuid4().hex[:8]}")
                try:
                    found, sizes[store] = run_store(settings, args, log)
                finally:
                    drop_schema(settings)
            results += found
    lines = report(results, sizes, args)
    print("\n".join(lines))
    if not args.no_write:
        write_section(BEGIN, END, lines)


if __name__ == "__main__":
    main()
