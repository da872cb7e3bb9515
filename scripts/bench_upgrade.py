"""Benchmark of a read-model upgrade: every read model's version bumped, rebuilt from the log
into staging tables and swapped in, while a reader keeps reading, in one run:

    python3 -m uv run python -m scripts.bench_upgrade --events 1000000 --store postgres

Next to it, the raw limit of the same run: reading and decoding the whole log once (each
model's rebuild reads it once). The reader counts its reads, their errors and the slowest one
(how long a read waited for the swap). PostgreSQL: its own schema of the database
parcours_bench (dropped afterwards); SQLite: a temporary file. Rewrites its section of
docs/benchmarks.md.
"""

import argparse
import os
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime

from adapters.eventlog.reading import read_log
from adapters.eventlog.store import Parcours
from adapters.logging import configure_logging
from adapters.migrations import migrate
from adapters.readmodels.case_store import CASE_STATE
from adapters.readmodels.models import MODEL_TYPES
from adapters.readmodels.projector import Projector
from adapters.readmodels.tables import open_table
from adapters.readmodels.versions import upgrade_read_models
from adapters.settings import Settings
from adapters.synthetic import load
from scripts.benchlib import bench_settings, drop_schema, machine, timed, write_section


def markers(store: str) -> tuple[str, str]:
    """The section's markers (one section per store)."""
    return f"<!-- bench_upgrade {store}: begin -->", f"<!-- bench_upgrade {store}: end -->"


EVENTS_PER_PERSON = 6.4
"""About how many events the synthetic département writes per person over three years."""


def _settings(store: str, folder: str) -> Settings:
    if store == "postgres":
        return bench_settings("parcours_bench", f"bench_upgrade_{uuid.uuid4().hex[:8]}")
    return Settings.from_env({"PARCOURS_STORE": "sqlite", "PARCOURS_DATA_DIR": folder})


def _read_all(app: Parcours) -> int:
    return sum(len(batch) for batch in read_log(app, 0, app.max_position()))


def run(events: int, store: str) -> list[str]:
    folder = tempfile.mkdtemp(prefix="bench_upgrade_")
    settings = _settings(store, folder)
    try:
        migrate(settings)
        app = Parcours(settings)
        people = max(1, int(events / EVENTS_PER_PERSON))
        _, load_s = timed(lambda: load(app, people, 3, 2024, date(2021, 1, 1)))
        upgrade_read_models(app)
        _, first_s = timed(Projector(app).catch_up)
        logged = app.max_position()
        read, raw_s = timed(lambda: _read_all(app))
        table = open_table(app, CASE_STATE)
        latencies: list[float] = []
        errors: list[str] = []
        done = threading.Event()

        def reader() -> None:
            while not done.is_set():
                started = time.perf_counter()
                try:
                    table.select(("count(*)",), "statut = %s", ("oriente",))
                except Exception as e:
                    errors.append(type(e).__name__)
                latencies.append(time.perf_counter() - started)
                time.sleep(0.01)

        thread = threading.Thread(target=reader)
        thread.start()
        for kind in MODEL_TYPES:
            kind.version += 1
        try:
            upgrades, upgrade_s = timed(lambda: upgrade_read_models(app))
        finally:
            done.set()
            thread.join()
        app.close()
    finally:
        if store == "postgres":
            drop_schema(settings)
    per_million = upgrade_s * 1_000_000 / logged
    raw_rate = read / raw_s
    today = datetime.now(UTC).date().isoformat()
    begin, end = markers(store)
    lines = [
        begin,
        f"## Read-model upgrade: rebuilt beside, swapped in (`scripts/bench_upgrade.py`, {store})",
        "",
        f"{logged:,} events ({people:,} people, loaded in {load_s:.0f} s; first fold by the "
        f"projector {first_s:.1f} s), {machine()}, {today}. Every read model's version bumped, "
        "then `upgrade_read_models` (what the worker runs at start).",
        "",
        "| step | events | seconds | events/s | vs raw read+decode |",
        "|---|---|---|---|---|",
        f"| raw limit: read and decode the whole log once | {read:,} | {raw_s:.1f} | "
        f"{raw_rate:,.0f} | 1.00 |",
    ]
    for u in upgrades:
        rate = u.events / u.seconds if u.seconds else 0.0
        lines.append(
            f"| {u.name}: staging fold + swap | {u.events:,} | {u.seconds:.1f} | {rate:,.0f} | "
            f"{rate / raw_rate:.2f} |"
        )
    lines += [
        f"| every read model, one after the other (the log read once per model) | {logged:,} | "
        f"{upgrade_s:.1f} | {logged / upgrade_s:,.0f} | {logged / upgrade_s / raw_rate:.2f} |",
        "",
        f"Per million events: **{per_million:.0f} s** for every read model ({store}). "
        f"A reader querying the case state every 10 ms meanwhile: {len(latencies):,} reads, "
        f"{len(errors)} errors, slowest {max(latencies, default=0) * 1000:.0f} ms "
        f"(a count over the case state, a swap's wait included). Load average at the end: "
        f"{os.getloadavg()[0]:.1f} (other work shared the machine).",
        end,
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="postgres")
    args = parser.parse_args()
    configure_logging("WARNING")
    lines = run(args.events, args.store)
    print("\n".join(lines))
    write_section(*markers(args.store), lines)


if __name__ == "__main__":
    main()
