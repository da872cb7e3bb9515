"""Benchmark of the event store on PostgreSQL: our path next to the raw limit, in one run.

    python3 -m uv run python -m scripts.bench_store --events 1000000

Appends a synthetic département through our path (mapper, msgspec, the library's recorder with its
table lock) and copies the same rows with psycopg COPY; reads and decodes the log through our path
(what the projector does) and with a raw cursor plus msgspec; rebuilds the case-state read model.
Results are printed and written to docs/benchmarks.md (rows owned by this script are replaced).
"""

import argparse
import os
import platform
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import msgspec
import psycopg
from psycopg import sql

from adapters.eventlog.mapper import TOPICS
from adapters.eventlog.store import Parcours
from adapters.readmodels.projector import Projector
from adapters.settings import Settings, ensure_postgres_database
from adapters.synthetic import generate
from domain.events import Recorded

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = "| what | ours | raw | ratio | machine | date |\n|---|---|---|---|---|---|\n"


def machine() -> str:
    model = "unknown cpu"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def timed(fn: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    count = fn()
    return count, time.perf_counter() - started


def events(n: int) -> list[Recorded]:
    out: list[Recorded] = []
    for person in generate(n // 7 + 1000, 4, 2024, date(2021, 1, 1)):
        out.extend(person)
        if len(out) >= n:
            break
    return out[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--no-doc", action="store_true", help="print only")
    args = parser.parse_args()

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    settings = Settings.from_env(
        {
            **os.environ,
            "PARCOURS_STORE": "postgres",
            "POSTGRES_DBNAME": "parcours_bench",
            "POSTGRES_SCHEMA": schema,
        }
    )
    ensure_postgres_database(settings)
    conninfo = dict(
        host=settings.postgres_host,
        port=settings.postgres_port,
        user=settings.postgres_user,
        password=settings.postgres_password,
        dbname=settings.postgres_dbname,
    )
    print(f"generating {args.events:,} events…")
    recorded = events(args.events)
    app = Parcours(settings)
    rows: list[tuple[str, float, float]] = []
    try:
        # (a) append: our path vs COPY of the same stored rows
        def append() -> int:
            for start in range(0, len(recorded), args.batch):
                app.append_many(recorded[start : start + args.batch])
            return len(recorded)

        n, ours = timed(append)
        stored = [app.mapper.to_stored_event(r) for r in recorded]
        with psycopg.connect(**conninfo, autocommit=True) as conn:  # type: ignore[arg-type]
            table = sql.Identifier(schema, "raw_events")
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (originator_id uuid NOT NULL, originator_version bigint NOT NULL,"
                    " topic text, state bytea, notification_id bigserial, "
                    "PRIMARY KEY (originator_id, originator_version))"
                ).format(table)
            )

            def copy() -> int:
                with (
                    conn.cursor() as cur,
                    cur.copy(
                        sql.SQL(
                            "COPY {} (originator_id, originator_version, topic, state) FROM STDIN"
                        ).format(table)
                    ) as cp,
                ):
                    for s in stored:
                        cp.write_row((s.originator_id, s.originator_version, s.topic, s.state))
                return len(stored)

            _, raw = timed(copy)
        rows.append(("append events/s (our path vs psycopg COPY)", n / ours, n / raw))

        # (b) read + decode: our path vs raw cursor + msgspec typed decode
        def read_ours() -> int:
            count, position = 0, 0
            while True:
                page = app.recorder.select_notifications(position, 5000, inclusive_of_start=False)
                if not page:
                    return count
                for notification in page:
                    app.mapper.to_domain_event(notification)
                count += len(page)
                position = page[-1].id

        decoders = {topic: msgspec.json.Decoder(kind) for topic, kind in TOPICS.items()}

        def read_raw() -> int:
            count = 0
            with psycopg.connect(**conninfo) as conn, conn.cursor(name="raw") as cur:  # type: ignore[arg-type]
                cur.itersize = 5000
                cur.execute(
                    sql.SQL(
                        "SELECT originator_id, originator_version, topic, state FROM {} "
                        "ORDER BY notification_id"
                    ).format(sql.Identifier(schema, "parcours_events"))
                )
                for _id, _version, topic, state in cur:
                    decoders[topic].decode(state)
                    count += 1
            return count

        n, ours = timed(read_ours)
        m, raw = timed(read_raw)
        assert n == m == len(recorded)
        rows.append(("read+decode events/s (our path vs raw cursor + msgspec)", n / ours, n / raw))

        # (c) case-state rebuild, next to the raw read+decode of the same log
        n, rebuild = timed(Projector(app).rebuild)
        rows.append(("case-state rebuild events/s (vs raw read+decode)", n / rebuild, m / raw))
    finally:
        app.close()
        with psycopg.connect(**conninfo, autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))

    label = f"{args.events:,} events, PostgreSQL"
    lines = [
        f"| {what} ({label}) | {ours:,.0f} | {raw:,.0f} | {ours / raw:.2f} | {machine()} | "
        f"{date.today().isoformat()} |"
        for what, ours, raw in rows
    ]
    print(HEADER + "\n".join(lines))
    if not args.no_doc:
        record(lines, [what for what, _, _ in rows])


def record(lines: list[str], owned: list[str]) -> None:
    """Replace this script's rows in docs/benchmarks.md, keep everyone else's."""
    text = DOC.read_text() if DOC.exists() else ""
    head, _, table = text.partition(HEADER)
    kept = [
        line
        for line in table.splitlines()
        if line.startswith("|") and not any(line.startswith(f"| {what} (") for what in owned)
    ]
    DOC.write_text(head + HEADER + "\n".join([*kept, *lines]) + "\n")


if __name__ == "__main__":
    main()
