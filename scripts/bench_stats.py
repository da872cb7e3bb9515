"""Benchmark of the délais statistics on PostgreSQL: rebuild of their read model from the log and
the full indicator set for a year, next to the raw read+decode of the same log, in one run.

    python3 -m uv run python -m scripts.bench_stats --events 1000000

Loads a synthetic département (its own schema in database parcours_bench, dropped afterwards),
then measures: (1) raw read+decode: a binary server-side cursor over the events table and one
msgspec decoder per event type, nothing else; (2) the rebuild of the follow-up read model (what
indicators and worklists read) through the projector, and of every read model; (3) every
indicator family with every breakdown for one year, from the read model. Writes its section of
docs/benchmarks.md.
"""

import argparse
import os
import uuid
from datetime import date
from typing import Any

import msgspec
import psycopg
from psycopg import sql

from adapters.eventlog.mapper import TOPICS
from adapters.eventlog.store import Parcours
from adapters.readmodels.models import SuiviModel, open_suivi_store
from adapters.readmodels.projector import Projector
from adapters.synthetic import generate
from api.services.statistics import FAMILLES, Statistiques
from projections.indicateurs import annee
from scripts.benchlib import bench_settings, drop_schema, platform_summary, timed, write_section

BEGIN = "<!-- bench_stats: begin -->"
END = "<!-- bench_stats: end -->"
BREAKDOWNS = (None, "territoire", "structure", "type_orientation", "mois")


def load(app: Parcours, n: int) -> int:
    written, batch = 0, []
    for person in generate(n // 7 + 1000, 5, 2024, date(2020, 1, 1), today=date(2024, 12, 31)):
        batch.extend(person)
        if len(batch) >= 10_000:
            app.append_many(batch)
            written += len(batch)
            batch = []
            if written >= n:
                return written
    app.append_many(batch)
    return written + len(batch)


def raw_read(conninfo: dict[str, Any], schema: str) -> int:
    decoders = {topic: msgspec.json.Decoder(kind) for topic, kind in TOPICS.items()}
    count = 0
    with (
        psycopg.connect(**conninfo) as conn,
        conn.cursor(name="raw", binary=True) as cur,
    ):
        cur.itersize = 10_000
        cur.execute(
            sql.SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM {} ORDER BY notification_id"
            ).format(sql.Identifier(schema, "parcours_events"))
        )
        for _position, _id, _version, topic, state in cur:
            decoders[topic].decode(state)
            count += 1
    return count


def indicators(stats: Statistiques, year: int) -> int:
    episodes = stats.episodes()
    tables = 0
    for famille in FAMILLES:
        for par in BREAKDOWNS:
            if (famille == "aave" and par is not None) or (famille == "drees" and par == "mois"):
                continue
            stats.calculer(famille, annee(year), par, episodes=episodes)
            tables += 1
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=20_000, help="events per projection batch")
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--no-doc", action="store_true", help="print only")
    parser.add_argument(
        "--dbname",
        default=os.environ.get("PARCOURS_BENCH_DBNAME", "parcours_bench"),
        help="database to load into (its own schema, dropped afterwards)",
    )
    args = parser.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    settings = bench_settings(args.dbname, schema, PARCOURS_LOG_LEVEL="WARNING")
    conninfo = settings.postgres_conninfo()
    app = Parcours(settings)
    load_before = os.getloadavg()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    try:
        n, seconds = timed(lambda: load(app, args.events))
        print(f"loaded {n:,} events in {seconds:.1f} s")
        raw_n, raw_s = timed(lambda: raw_read(conninfo, schema))
        assert raw_n == n
        print(f"raw read+decode: {raw_s:.2f} s, {n / raw_s:,.0f} events/s")
        suivi = Projector(app, batch=args.batch, models=[SuiviModel(app, open_suivi_store(app))])
        suivi_runs = []
        for _ in range(2):
            suivi_read, seconds = timed(suivi.rebuild)
            suivi_runs.append(seconds)
            print(
                f"follow-up rebuild: {seconds:.2f} s, {n / seconds:,.0f} events/s "
                f"({suivi_read:,} events of its types read, {settings.rebuild_workers} processes)"
            )
        suivi_s = min(suivi_runs)
        everything = Projector(app, batch=args.batch)
        _, all_s = timed(everything.rebuild)
        print(f"all read models rebuild: {all_s:.2f} s, {n / all_s:,.0f} events/s")
        stats = Statistiques(app)
        cases = sum(1 for _ in stats.store.scan())
        episodes, load_s = timed(stats.episodes)
        tables, ind_s = timed(lambda: indicators(stats, args.year))
        print(
            f"indicators for {args.year}: {tables} tables in {ind_s:.2f} s "
            f"({len(episodes):,} episodes of {cases:,} cases; reading them {load_s:.2f} s)"
        )
        _, raw2_s = timed(lambda: raw_read(conninfo, schema))
        print(f"raw read+decode again: {raw2_s:.2f} s, {n / raw2_s:,.0f} events/s")
        load_after = os.getloadavg()
        print(f"load average after: {' '.join(f'{x:.2f}' for x in load_after)}")
    finally:
        app.close()
        drop_schema(settings)
    if args.no_doc:
        return
    raw_best = min(raw_s, raw2_s)
    machine = platform_summary()
    section = [
        BEGIN,
        "## Délais statistics (`scripts/bench_stats.py`)",
        "",
        f"A synthetic département of {n:,} events ({cases:,} cases, {len(episodes):,} episodes)",
        f"in PostgreSQL; projection batches of {args.batch:,} events; {machine},",
        f"{date.today().isoformat()}; load average (1 min) {load_before[0]:.2f} before the run,",
        f"{load_after[0]:.2f} after.",
        "",
        "| what | s | events/s | vs raw read+decode |",
        "|---|---|---|---|",
        f"| raw read+decode (binary cursor + msgspec, nothing else; best of two runs) "
        f"| {raw_best:.2f} | {n / raw_best:,.0f} | 1.00 |",
        f"| rebuild of the follow-up read model ({settings.rebuild_workers} processes: read, decode, "
        f"fold, copy, swap in; best of two runs: {suivi_runs[0]:.2f} s, {suivi_runs[1]:.2f} s) "
        f"| {suivi_s:.2f} | {n / suivi_s:,.0f} | {raw_best / suivi_s:.2f} |",
        f"| rebuild of every read model (case state, recording index and financed activity "
        f"through the projector; the follow-up as above) "
        f"| {all_s:.2f} | {n / all_s:,.0f} | {raw_best / all_s:.2f} |",
        f"| reading the {len(episodes):,} episodes from the read model | {load_s:.2f} | | |",
        f"| full indicator set for {args.year} ({tables} tables: every family, every breakdown) "
        f"| {ind_s:.2f} | | |",
        "",
        f"Target for the rebuild of what the indicators read, 150,000 events/s on PostgreSQL: "
        f"{'met' if n / suivi_s >= 150_000 else '**not met**'} ({n / suivi_s:,.0f} events/s "
        f"over the {n:,} events of the log).",
        "",
        "How the follow-up is rebuilt (`adapters/readmodels/suivi_rebuild.py`): each process reads the",
        "events of its share of the cases (a pure function of the case id), only of the types",
        f"the follow-up folds ({suivi_read:,} of the log's {n:,}), in log order; folds them in",
        "memory with the cyclic collector paused; refolds from its history any case with a",
        "correction; copies its rows into a staging table by binary COPY. The staging table then",
        "replaces the model, with the tracking position, in one transaction: readers see the old",
        "model until then, and a failed rebuild leaves it as it was. The raw read+decode is one",
        "process reading and decoding every event, nothing else. The other read models are",
        "rebuilt through the projector (read a batch, fold, upsert with the tracking row).",
        "",
        "Re-run with `python3 -m uv run python -m scripts.bench_stats --events 1000000`.",
        END,
    ]
    write_section(BEGIN, END, section)


if __name__ == "__main__":
    main()
