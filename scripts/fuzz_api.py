"""schemathesis over every operation of the API, with every role's token, on a SQLite file and on
PostgreSQL: `--checks all`, a fixed seed, and the server's own log searched for 500s.

Too slow for the test suite; run it by hand after a change at the edge (docs/reliability.md
records the last counts):

    python3 -m uv run python -m scripts.fuzz_api [--max-examples 20] [--stores sqlite,postgres]

Starts `parcours serve` in local token mode on a fresh store (PostgreSQL: a new schema of the
database `--dbname`, dropped afterwards), records one oriented case, then runs
`schemathesis run` once per role. Prints, per store and role, the operations, test cases and
failures by check, and every 500 the server logged; exits non-zero on a server error.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from adapters.settings import Settings, ensure_postgres_database
from adapters.tokens import sign_local
from api.http.auth import Role
from api.http.steps import ENTREE as STEP_ENTREE
from api.http.steps import STEPS

ROOT = Path(__file__).resolve().parents[1]
SECRET = "fuzz-only-local-signing-key-0123456789abcdef"
STRUCTURE = "ccas-creteil"
ENTREE = STEP_ENTREE.example
ORIENTATION = next(step.example for step in STEPS if step.slug == "orientation")
"""The documented examples: an entry, then its orientation to `STRUCTURE`."""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def store_env(store: str, tmp: Path, dbname: str, schema: str) -> dict[str, str]:
    return {
        **os.environ,
        "PARCOURS_STORE": store,
        "PARCOURS_DATA_DIR": str(tmp / "data"),
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_SCHEMA": schema,
        "PARCOURS_AUTH_MODE": "local",
        "PARCOURS_JWT_SECRET": SECRET,
        "PARCOURS_LOG_LEVEL": "INFO",
    }


def token(settings: Settings, role: Role) -> str:
    now = int(time.time())
    claims = {
        "sub": f"fuzz-{role.value}",
        "roles": [role.value],
        "structures": [STRUCTURE] if role is Role.AGENT else [],
        "iat": now,
        "exp": now + 8 * 3600,
    }
    return sign_local(settings, claims)


def serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**env, "PARCOURS_API_HOST": "127.0.0.1", "PARCOURS_API_PORT": str(port)}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli.main", "serve", "--avec-projection"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not answer within 60 s")


def seed(base: str, settings: Settings) -> None:
    """One case oriented to the agent's structure, so that reads find something."""
    staff = {"Authorization": f"Bearer {token(settings, Role.ORIENTATION)}"}
    entry = httpx.post(f"{base}/dossiers", json=ENTREE, headers=staff, timeout=30)
    entry.raise_for_status()
    case_id = entry.json()["case_id"]
    oriented = httpx.post(
        f"{base}/dossiers/{case_id}/orientation", json=ORIENTATION, headers=staff, timeout=30
    )
    oriented.raise_for_status()


def run_role(
    base: str, settings: Settings, role: Role, examples: int, seed_value: int, out: Path
) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {token(settings, role)}",
        "--max-examples",
        str(examples),
        "--seed",
        str(seed_value),
        "--request-timeout",
        "60",
        "--continue-on-failure",
        "--no-color",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    (out / f"{role.value}.txt").write_text(done.stdout + done.stderr)
    return summarise(done.stdout)


_TESTED = re.compile(r"Tested: (\d+)")
_CASES = re.compile(r"(\d+) generated")
_FAILURE = re.compile(r"❌ (ST\d+ [^:]+): (\d+)")


def summarise(stdout: str) -> dict[str, Any]:
    """Operations, test cases and failures by check, from schemathesis' summary."""
    tested = _TESTED.search(stdout)
    cases = _CASES.search(stdout)
    return {
        "operations": int(tested[1]) if tested else 0,
        "cases": int(cases[1]) if cases else 0,
        "failures": {name: int(n) for name, n in _FAILURE.findall(stdout)},
    }


def server_errors(log: Path) -> Counter[str]:
    """The 500s the server logged: path and error type."""
    found: Counter[str] = Counter()
    for raw in log.read_text(errors="replace").splitlines():
        if not raw.startswith("{"):
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if line.get("event") == "request" and line.get("status", 0) >= 500:
            found[f"{line.get('method')} {line.get('path')} {line.get('error')}"] += 1
    return found


def fuzz_store(store: str, args: argparse.Namespace) -> tuple[list[dict[str, Any]], Counter[str]]:
    schema = f"fuzz_{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory() as raw_tmp:
        tmp = Path(raw_tmp)
        env = store_env(store, tmp, args.dbname, schema)
        settings = Settings.from_env(env)
        if store == "postgres":
            ensure_postgres_database(settings)  # the database and this run's schema
        log = tmp / "server.log"
        process, base = serve(env, log)
        rows = []
        try:
            seed(base, settings)
            out = Path(args.out) / store
            out.mkdir(parents=True, exist_ok=True)
            for role in Role:
                started = time.perf_counter()
                result = run_role(base, settings, role, args.max_examples, args.seed, out)
                result.update(store=store, role=role.value, s=time.perf_counter() - started)
                rows.append(result)
                print(
                    f"{store:8} {role.value:12} operations {result['operations']:3} "
                    f"cases {result['cases']:5} failures {result['failures']} "
                    f"({result['s']:.0f} s)",
                    flush=True,
                )
            errors = server_errors(log)
            (out / "server.log").write_text(log.read_text(errors="replace"))
        finally:
            process.terminate()
            process.wait(timeout=30)
            if store == "postgres":
                with psycopg.connect(**settings.postgres_conninfo(), autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    return rows, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--dbname", default=os.environ.get("PARCOURS_FUZZ_DBNAME", "parcours_fuzz"))
    parser.add_argument("--out", default="schemathesis-report")
    args = parser.parse_args()
    failed = False
    for store in args.stores.split(","):
        rows, errors = fuzz_store(store, args)
        total: Counter[str] = Counter()
        for row in rows:
            total.update(row["failures"])
        cases = sum(row["cases"] for row in rows)
        operations = max((row["operations"] for row in rows), default=0)
        print(f"\n{store}: {operations} operations, {cases} test cases, failures {dict(total)}")
        if errors:
            failed = True
            print(f"{store}: 500s logged by the server:")
            for what, count in errors.most_common():
                print(f"  {count:4}  {what}")
        else:
            print(f"{store}: no 500 logged by the server")
        if any("server error" in name.lower() for name in total):
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
