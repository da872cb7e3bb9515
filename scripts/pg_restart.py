"""Restart the local PostgreSQL server while `parcours serve` and `parcours project` run and
agents write: both recover without manual action and nothing is lost or doubled.

It disturbs every other user of the server, so it is a script, not a test:

    python3 -m uv run python -m scripts.pg_restart [--before 3] [--after 5] [--writers 4]

Needs root (or the postgres user) for `pg_ctlcluster`. Prints the counts recorded in
docs/reliability.md; exits non-zero when a check fails.
"""

import argparse
import os
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import jwt

from adapters.eventlog.reading import read_log
from adapters.eventlog.store import Parcours
from adapters.readmodels.projector import Projector
from adapters.settings import Settings, ensure_postgres_database
from projections.case_state import fold
from scripts.benchlib import drop_schema

ROOT = Path(__file__).resolve().parents[1]
ENTREE = {
    "effective_on": "2024-01-03",
    "numero_dossier": "CAF-1",
    "organisme_payeur": "caf",
    "date_flux": "2024-01-04",
    "date_reception_flux": "2024-01-08",
}
ORIENTATION = {
    "effective_on": "2024-01-25",
    "type_orientation": "sociale",
    "organisme": "ccas",
    "structure_id": "ccas-creteil",
}
RDV = {
    "effective_on": "2024-01-29",
    "type_rdv": "suivi",
    "mode": "convocation",
    "date_rdv": "2024-02-05",
}


def restart_postgres() -> float:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    started = time.perf_counter()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True
    )
    return time.perf_counter() - started


class Writers:
    """Agents entering a case each, then planning RDV on it; a failed request is retried with
    the same idempotency key until answered."""

    def __init__(self, base_url: str, token: str, count: int) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked: dict[str, tuple[str, int]] = {}
        self.failures: Counter[str] = Counter()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(count)]

    def send(self, client: httpx.Client, key: str, url: str, body: dict[str, Any]) -> str:
        while True:
            try:
                response = client.post(
                    url, json=body, headers={**self.headers, "Idempotency-Key": key}
                )
            except httpx.TransportError as e:
                self._failed(type(e).__name__)
                continue
            if response.status_code >= 500:
                self._failed(f"HTTP {response.status_code}")
                continue
            if response.status_code not in (200, 201):
                raise AssertionError(f"{key}: {response.status_code} {response.text}")
            answer = response.json()
            with self.lock:
                self.acked[key] = (answer["case_id"], answer["version"])
            case_id: str = answer["case_id"]
            return case_id

    def _failed(self, why: str) -> None:
        with self.lock:
            self.failures[why] += 1
        time.sleep(0.1)

    def run(self, i: int) -> None:
        with httpx.Client(base_url=self.base_url, timeout=15) as client:
            case_id = self.send(client, f"w{i}-entree", "/dossiers", ENTREE)
            self.send(client, f"w{i}-orientation", f"/dossiers/{case_id}/orientation", ORIENTATION)
            n = 0
            while not self.stop.is_set():
                self.send(client, f"w{i}-rdv-{n}", f"/dossiers/{case_id}/rdv", RDV)
                n += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=float, default=3.0, help="seconds of writing before")
    parser.add_argument("--after", type=float, default=5.0, help="seconds of writing after")
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()

    secret = secrets.token_hex(32)
    schema = f"pgrestart_{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "PARCOURS_STORE": "postgres",
        "POSTGRES_DBNAME": os.environ.get("POSTGRES_DBNAME", "parcours_test"),
        "POSTGRES_SCHEMA": schema,
        "PARCOURS_JWT_SECRET": secret,
        "PARCOURS_POLL_INTERVAL": "0.1",
        "PARCOURS_LOG_LEVEL": "WARNING",
        "PARCOURS_API_PORT": "8765",
    }
    settings = Settings.from_env(env)
    ensure_postgres_database(settings)
    now = int(time.time())
    token = jwt.encode(
        {
            "sub": "pg-restart",
            "roles": ["orientation"],
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "iat": now,
            "exp": now + 3600,
        },
        secret,
        algorithm="HS256",
    )
    logs = Path("/tmp") / schema
    logs.mkdir()
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-m", "api.cli.main", name],
            cwd=ROOT,
            env=env,
            stdout=(logs / f"{name}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for name in ("serve", "project")
    }
    base_url = f"http://127.0.0.1:{settings.api_port}"
    ok = False
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the server did not start")
            time.sleep(0.1)

        writers = Writers(base_url, token, args.writers)
        for t in writers.threads:
            t.start()
        time.sleep(args.before)
        acked_before = len(writers.acked)
        took = restart_postgres()
        print(f"PostgreSQL restarted in {took:.1f} s, {acked_before} steps acknowledged before")
        time.sleep(args.after)
        writers.stop.set()
        for t in writers.threads:
            t.join(timeout=120)
        alive = {name: p.poll() is None for name, p in processes.items()}

        app = Parcours(settings)
        try:
            last = app.max_position()
            projector = Projector(app)
            deadline = time.monotonic() + 60
            while projector.position() < last and time.monotonic() < deadline:
                time.sleep(0.2)
            records = [r for batch in read_log(app) for r in batch]
            keys = Counter(r.event.meta.request_id for r in records)
            rows = projector.view.all_rows()
            checks = {
                "server and worker still running, never restarted": all(alive.values()),
                "every acknowledged step in the log": set(writers.acked) <= set(keys),
                "no step recorded twice": max(keys.values()) == 1,
                "nothing in the log that was not acknowledged": set(keys) == set(writers.acked),
                "worker caught up without help": projector.position() == last,
                "view equals a fold of the log": rows == fold(records),
            }
        finally:
            app.close()
        print(
            f"{len(writers.acked)} steps acknowledged, {len(records)} events in the log, "
            f"{len(rows)} cases in the view at position {last}"
        )
        print(f"failed requests retried by the clients: {dict(writers.failures)}")
        for name, passed in checks.items():
            print(f"  {'ok ' if passed else 'FAIL'} {name}")
        ok = all(checks.values())
    finally:
        for p in processes.values():
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=20)
        drop_schema(settings)
    print(f"logs: {logs}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
