"""Benchmark of the log's hash chain, on PostgreSQL and SQLite, in one run.

    python3 -m uv run python -m scripts.bench_chain --events 200000

Append throughput with and without the chain: the same events appended to two fresh stores of
the same kind, one whose recorder writes links and one whose recorder does not, in alternating
slices (the machine's load falls on both alike); in batches of `--batch` events (a flux import,
`parcours generate`) and one event per transaction (a request). Then `audit verify` over the
chained log next to the raw read+decode of the same log (a bare cursor and msgspec, as
scripts/bench_store.py measures it), both in one process and both in one process per core
(spawned like the verifier's, start-up included). Written to docs/benchmarks.md, section "Hash
chain". The links' hashing alone is `chain.chain_hashes`, what an append runs.
"""

import argparse
import multiprocessing
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import psycopg
from psycopg import sql

from adapters.eventlog.chain import GENESIS, chain_hashes
from adapters.eventlog.chain_shares import cores
from scripts.benchlib import bench_settings, drop_schema, machine, timed, write_section

if TYPE_CHECKING:  # the rest is imported where used: a process that `audit verify` or the
    # raw read spawns imports this module again, and must start as fast as under the CLI
    from adapters.eventlog.store import Parcours
    from domain.events import Recorded

BEGIN = "<!-- bench_chain -->"
END = "<!-- /bench_chain -->"


def events(n: int) -> list["Recorded"]:
    from adapters.synthetic import generate

    out: list[Recorded] = []
    for person in generate(n // 7 + 1000, 4, 2024, date(2021, 1, 1)):
        out.extend(person)
        if len(out) >= n:
            break
    return out[:n]


@contextmanager
def store(kind: str, chained: bool, folder: Path) -> Iterator["Parcours"]:
    """A fresh store of `kind`, writing links or not."""
    from adapters.eventlog.store import Parcours
    from adapters.settings import Settings

    settings: Settings
    if kind == "postgres":
        settings = bench_settings("parcours_bench", f"bench_{uuid.uuid4().hex[:8]}")
    else:
        data = folder / uuid.uuid4().hex[:8]
        settings = Settings.from_env({"PARCOURS_STORE": "sqlite", "PARCOURS_DATA_DIR": str(data)})
    app = Parcours(settings)
    app.recorder.chained = chained
    try:
        yield app
    finally:
        app.close()
        if kind == "postgres":
            drop_schema(settings)


def alternate(
    plain: Callable[[list["Recorded"]], None],
    chained: Callable[[list["Recorded"]], None],
    recorded: list["Recorded"],
    slice_size: int,
) -> tuple[float, float]:
    """Seconds spent by each writer over the same events, slice after slice."""
    spent = [0.0, 0.0]
    for n, start in enumerate(range(0, len(recorded), slice_size)):
        part = recorded[start : start + slice_size]
        order = [(0, plain), (1, chained)]
        for i, write in order if n % 2 == 0 else order[::-1]:  # who goes first alternates
            began = time.perf_counter()
            write(part)
            spent[i] += time.perf_counter() - began
    return spent[0], spent[1]


def raw_share(postgres: bool, connect: dict[str, Any], table: str, after: int, stop: int) -> int:
    """The stored rows of positions (after, stop] read by a bare cursor and decoded by
    msgspec: the limit."""
    from adapters.eventlog.mapper import TOPICS

    decoders = {topic: msgspec.json.Decoder(kind) for topic, kind in TOPICS.items()}
    count = 0
    if postgres:
        schema, name = table.split(".")
        with psycopg.connect(**connect) as conn, conn.cursor(name="raw") as cur:
            cur.itersize = 10_000
            cur.execute(
                sql.SQL(
                    "SELECT originator_id, originator_version, topic, state FROM {} "
                    "WHERE notification_id > %s AND notification_id <= %s "
                    "ORDER BY notification_id"
                ).format(sql.Identifier(schema, name)),
                (after, stop),
            )
            for _id, _version, topic, state in cur:
                decoders[topic].decode(state)
                count += 1
        return count
    with sqlite3.connect(f"file:{connect['file']}?mode=ro", uri=True) as lite:
        rows = lite.execute(
            "SELECT originator_id, originator_version, topic, state "
            f"FROM {table} WHERE rowid > ? AND rowid <= ? ORDER BY rowid",
            (after, stop),
        )
        while batch := rows.fetchmany(10_000):
            for _id, _version, topic, state in batch:
                decoders[topic].decode(state)
                count += 1
    return count


def raw_read_decode(app: "Parcours", processes: int = 1) -> int:
    """Every stored row read and decoded, in `processes` shares of the log (spawned like
    the verifier's: the same start-up cost)."""
    s = app.settings
    postgres = s.store == "postgres"
    connect = s.postgres_conninfo() if postgres else {"file": str(s.sqlite_file)}
    table = app.recorder.events_table_name
    if postgres:
        table = f"{s.postgres_schema}.{table}"
    stop = app.max_position()
    bounds = [stop * k // processes for k in range(processes + 1)]
    shares = [(postgres, connect, table, bounds[k], bounds[k + 1]) for k in range(processes)]
    if processes == 1:
        return raw_share(*shares[0])
    with ProcessPoolExecutor(
        processes - 1, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        others = [pool.submit(raw_share, *share) for share in shares[1:]]
        return raw_share(*shares[0]) + sum(other.result() for other in others)


def bench(kind: str, recorded: list["Recorded"], batch: int, singles: int, runs: int) -> list[str]:
    from adapters.eventlog.store import Parcours
    from api.services import ledger
    from domain.events import Recorded

    label = f"{len(recorded):,} events, {'PostgreSQL' if kind == 'postgres' else 'SQLite'}"
    lines = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        store(kind, False, Path(tmp)) as plain,
        store(kind, True, Path(tmp)) as chained,
    ):

        def bulk(app: Parcours) -> Callable[[list[Recorded]], None]:
            def write(part: list[Recorded]) -> None:
                for start in range(0, len(part), batch):
                    app.append_many(part[start : start + batch])

            return write

        def one_by_one(app: Parcours) -> Callable[[list[Recorded]], None]:
            def write(part: list[Recorded]) -> None:
                for r in part:
                    app.append_many([r])

            return write

        first, rest = recorded[:singles], recorded[singles:]
        off, on = alternate(one_by_one(plain), one_by_one(chained), first, 50)
        lines.append(
            f"| append, one event per transaction ({singles:,} events, "
            f"{label.split(', ')[1]}) | {singles / on:,.0f} | {singles / off:,.0f} | "
            f"{(on - off) / off:+.1%} |"
        )
        off, on = alternate(bulk(plain), bulk(chained), rest, batch)
        lines.append(
            f"| append, {batch:,} events per transaction ({len(rest):,} events, "
            f"{label.split(', ')[1]}) | {len(rest) / on:,.0f} | {len(rest) / off:,.0f} | "
            f"{(on - off) / off:+.1%} |"
        )
        stored = [chained.mapper.to_stored_event(r) for r in recorded]
        rows = [
            (i, s.originator_id, s.originator_version, s.topic, s.state)
            for i, s in enumerate(stored, 1)
        ]
        _, hashing = timed(lambda: chain_hashes(GENESIS, rows))
        lines.append(
            f"| the links' SHA-256 alone, in Python ({label}) | {len(rows) / hashing:,.0f} | "
            f"| {len(rest) / off / (len(rows) / hashing):.1%} of an append without the chain |"
        )
        many = cores()
        best = {key: float("inf") for key in ("verify1", "verifyN", "raw1", "rawN")}
        n = 0
        for _ in range(runs):  # best of each, alternating: the machine is shared
            for key, run in (
                ("verify1", lambda: ledger.verify(chained, workers=1)),
                ("raw1", lambda: raw_read_decode(chained, 1)),
                ("verifyN", lambda: ledger.verify(chained, workers=many, min_share=1)),
                ("rawN", lambda: raw_read_decode(chained, many)),
            ):
                result, seconds = timed(run)
                if isinstance(result, ledger.Verification):
                    assert result.conforme, result.premiere_rupture
                    assert result.evenements == len(recorded)
                elif isinstance(result, int):
                    n = result
                best[key] = min(best[key], seconds)
        assert n == len(recorded)
        for ours, raw, what in (
            ("verify1", "raw1", "one process each"),
            ("verifyN", "raw1", f"{many} processes vs raw in one"),
            ("verifyN", "rawN", f"{many} processes each"),
        ):
            lines.append(
                f"| `audit verify` vs raw read+decode, {what} ({label}) | "
                f"{n / best[ours]:,.0f} | {n / best[raw]:,.0f} | "
                f"{best[raw] / best[ours]:.2f} of raw |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--singles", type=int, default=3000, help="appended one at a time")
    parser.add_argument("--stores", default="postgres,sqlite")
    parser.add_argument("--runs", type=int, default=3, help="verifications of each kind (best)")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    args = parser.parse_args()

    load = os.getloadavg()
    print(f"generating {args.events:,} events…")
    recorded = events(args.events)
    lines: list[str] = []
    for kind in args.stores.split(","):
        print(f"{kind}…")
        lines += bench(kind, recorded, args.batch, args.singles, args.runs)
    table = [
        "| what | with the chain (events/s) | without / raw (events/s) | cost or ratio |",
        "|---|---|---|---|",
        *lines,
    ]
    print("\n".join(table))
    if not args.no_doc:
        write_section(
            BEGIN,
            END,
            [
                BEGIN,
                "## Hash chain (`scripts/bench_chain.py`)",
                "",
                f"Measured {date.today().isoformat()} on {machine()} (load average "
                f"{load[0]:.1f} before, {os.getloadavg()[0]:.1f} after: a shared machine); "
                "the same events appended "
                "to two fresh stores in alternating slices, one writing the chain's links and "
                "one not; then `parcours audit verify` (`api.services.ledger.verify`) over the "
                "chained log next to a bare cursor reading and decoding the same rows (msgspec), "
                "each in one process and in one per core (spawned, start-up included; forced "
                "whatever the log's size), best of "
                f"{args.runs}.",
                "",
                *table,
                END,
            ],
        )


if __name__ == "__main__":
    main()
