"""Benchmark of the flux import on PostgreSQL, next to raw psycopg COPY of the same rows.

    python3 -m uv run python -m scripts.bench_flux --households 100000

Generates a monthly CAF flux (scripts/flux_generator.py), imports it into a fresh schema of its
own database (POSTGRES_DBNAME, default parcours_bench_flux) through the whole import (schema
validation, extraction, identity sealing and blind index, every rule of `decide`, one
transaction per batch), then copies the same stored event rows with COPY into a bare table.
Resident memory is sampled after each batch: flat means the last sample is close to the first.

    python3 -m uv run python -m scripts.bench_flux --unknown-mb 200

imports instead a valid header followed by that many MB of elements the schema does not know
(never a usable flux): the outcome, the time to it and the peak resident memory of the
importing and the validating process, which the reading limits keep bounded.
"""

import argparse
import os
import resource
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from adapters.eventlog.store import Parcours
from adapters.flux import reader
from adapters.settings import Settings
from api.services.flux_import import FluxImporter
from scripts.benchlib import bench_settings, copy_rows, drop_schema, machine, raw_events_table
from scripts.flux_generator import write, write_unknown


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument(
        "--unknown-mb",
        type=int,
        default=0,
        help="import a header and that many MB of unknown elements",
    )
    args = parser.parse_args()

    schema = f"flux_{uuid.uuid4().hex[:8]}"
    settings = bench_settings(os.environ.get("POSTGRES_DBNAME", "parcours_bench_flux"), schema)
    conninfo = settings.postgres_conninfo()
    if args.unknown_mb:
        unknown(settings, args.unknown_mb)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "RSABEM_bench.xml"
        started = time.perf_counter()
        write(path, args.households)
        print(
            f"generated {args.households:,} households, {path.stat().st_size / 1e6:,.0f} MB "
            f"in {time.perf_counter() - started:.1f} s"
        )
        with tempfile.TemporaryFile() as spill:
            started = time.perf_counter()
            reader.scan(path, spill)
            scan = time.perf_counter() - started
        app = Parcours(settings, clock=lambda: datetime(2024, 3, 8, 8, 0, tzinfo=UTC))
        samples: list[float] = []

        def progress(total: int) -> Callable[[int], None]:
            def advance(n: int) -> None:
                samples.append(rss_mb())

            return advance

        try:
            importer = FluxImporter(app, batch_size=args.batch)
            started = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            sampler = ChildrenPeak()
            sampler.start()
            rapport = importer.import_file(path, progress=progress)
            sampler.done.set()
            sampler.join()
            total = time.perf_counter() - started
            # Peaks now, before the rows are read back in memory for the raw COPY below.
            peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            peak_children = sampler.peak_kb / 1024
            n = rapport.evenements_total
            assert n == app.max_position()
            with psycopg.connect(**conninfo, autocommit=True) as conn:
                table = raw_events_table(conn, schema)
                rows = conn.execute(
                    sql.SQL(
                        "SELECT originator_id, originator_version, topic, state FROM {}"
                    ).format(sql.Identifier(schema, "parcours_events"))
                ).fetchall()
                started = time.perf_counter()
                copy_rows(conn, table, rows)
                raw = time.perf_counter() - started
                del rows
        finally:
            app.close()
            drop_schema(settings)

    write_phase = total - importer.validated_after
    print(f"machine: {machine()}")
    print(f"events written: {n:,} ({rapport.evenements}); households {rapport.foyers:,}")
    print(
        f"validation + extraction pass alone: {scan:.1f} s "
        f"({args.households / scan:,.0f} households/s)"
    )
    print(f"whole import: {total:.1f} s -> {n / total:,.0f} events/s end to end")
    print(
        f"within it, file validated (another process) and every batch prepared meanwhile "
        f"after {importer.validated_after:.1f} s; writing after that: {write_phase:.1f} s -> "
        f"{n / write_phase:,.0f} events/s"
    )
    print(f"raw COPY of the same rows: {raw:.2f} s -> {n / raw:,.0f} events/s")
    tenth = samples[max(len(samples) // 10 - 1, 0)]
    print(
        f"resident memory (MB) after batch 1 / 10% / last / peak: {samples[0]:.0f} / "
        f"{tenth:.0f} / {samples[-1]:.0f} / {max(samples):.0f}"
    )
    print(
        f"peak resident memory (ru_maxrss) at the end of the import: importing process "
        f"{peak_self:.0f} MB (before it {before:.0f} MB), validating process {peak_children:.0f} MB"
    )


class ChildrenPeak(threading.Thread):
    """The largest peak resident memory (VmHWM) of this process's children while it runs,
    sampled every 10 ms: `ru_maxrss` of a child counts the parent's memory at the fork."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            for children in Path("/proc/self/task").glob("*/children"):
                for pid in children.read_text().split():
                    try:
                        status = Path(f"/proc/{pid}/status").read_text()
                    except OSError:
                        continue
                    for line in status.splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kb = max(self.peak_kb, int(line.split()[1]))


def unknown(settings: Settings, megabytes: int) -> None:
    """A header followed by `megabytes` MB of unknown elements: outcome, time, peak memory."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "RSABEM_inconnu.xml"
        size = write_unknown(path, megabytes)
        app = Parcours(settings, clock=lambda: datetime(2024, 3, 8, 8, 0, tzinfo=UTC))
        try:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            sampler = ChildrenPeak()
            sampler.start()
            started = time.perf_counter()
            rapport = FluxImporter(app).import_file(path)
            total = time.perf_counter() - started
            sampler.done.set()
            sampler.join()
            peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            peak_children = sampler.peak_kb / 1024
            written = app.max_position()
        finally:
            app.close()
            drop_schema(settings)
    print(f"machine: {machine()}")
    print(f"file: valid header then {size / 1e6:,.0f} MB of unknown elements")
    print(
        f"outcome: {rapport.statut}, households {rapport.foyers}, events written {written}, "
        f"first refusal {rapport.rejets[0] if rapport.rejets else None}"
    )
    print(f"time to the outcome: {total:.1f} s")
    print(
        f"peak resident memory (ru_maxrss): importing process {peak_self:.0f} MB (before the "
        f"import {before:.0f} MB), validating process {peak_children:.0f} MB"
    )


if __name__ == "__main__":
    main()
