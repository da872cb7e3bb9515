"""Benchmark of the event store on PostgreSQL: our path next to the raw limit, in one run.

    python3 -m uv run python -m scripts.bench_store --events 1000000

Appends a synthetic département through our path (mapper, msgspec, the library's recorder with its
table lock) and copies the same rows with psycopg COPY; reads and decodes the log through our path
(what the projector does) and with a raw cursor plus msgspec; rebuilds the case-state read model.
Results are printed and written to docs/benchmarks.md (rows owned by this script are replaced).
"""

import argparse
import uuid
from datetime import date

import msgspec
import psycopg
from psycopg import sql

from adapters.eventlog.mapper import TOPICS
from adapters.eventlog.store import Parcours
from adapters.readmodels.projector import Projector
from adapters.synthetic import generate
from domain.events import Recorded
from scripts.benchlib import (
    DOC,
    bench_settings,
    copy_rows,
    drop_schema,
    machine,
    raw_events_table,
    timed,
)

HEADER = "| what | ours | raw | ratio | machine | date |\n|---|---|---|---|---|---|\n"


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
    settings = bench_settings("parcours_bench", schema)
    conninfo = settings.postgres_conninfo()
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
        with psycopg.connect(**conninfo, autocommit=True) as conn:
            table = raw_events_table(conn, schema)

            def copy() -> int:
                copy_rows(
                    conn,
                    table,
                    ((s.originator_id, s.originator_version, s.topic, s.state) for s in stored),
                )
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
            with psycopg.connect(**conninfo) as conn, conn.cursor(name="raw") as cur:
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
        drop_schema(settings)

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
