"""Rebuilding the follow-up read model from the whole log on PostgreSQL, on every core.

The projector's path (read a batch, fold it, upsert the touched cases with their tracking row)
suits a live log; a rebuild folds every case from nothing, so it can do less per event: each
worker process reads the events of its share of the cases (a pure function of the case id,
so every case's events reach one worker), only of the types the follow-up folds, folds them
in memory, refolds from their histories the few cases with a correction, and copies its rows
into a staging table by binary COPY. The staging table is then swapped in with the tracking
position in one transaction (`PostgresTable.swap_in`).

A case the fold cannot apply, or whose row the table would refuse (a NUL in a text column), is
refolded from its history up to the event before the first it cannot apply and quarantined,
as the projector's path does (`adapters.readmodels.quarantine`): one case never stops a rebuild.
"""

import contextlib
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
import structlog
from eventsourcing.persistence import Tracking
from psycopg.rows import tuple_row
from psycopg.sql import Identifier

from adapters.collector import collector_paused
from adapters.eventlog.mapper import DECODERS, topics_of
from adapters.eventlog.reading import legible_histories, share_rows
from adapters.eventlog.store import Parcours
from adapters.logging import configure_logging
from adapters.readmodels.quarantine import (
    Quarantined,
    entry_for,
    entry_for_illegible,
    open_quarantine,
)
from adapters.readmodels.suivi_store import SUIVI, refused, suivi_rows
from adapters.readmodels.tables import PostgresTable, Tx, copy_rows
from domain.events import CORRECTION_TYPES, Recorded
from projections.suivi import FOLDED, Suivi, evolve_event, suivre

CORRECTIONS = frozenset(topics_of(*CORRECTION_TYPES))
READ = sorted(set(topics_of(*FOLDED)) | CORRECTIONS)
"""Every version's topic of the types the follow-up folds (older ones are upcast)."""
ITERSIZE = 20_000
MODEL = "suivi"

log = structlog.get_logger("projection")


@dataclass(frozen=True)
class Share:
    """One worker's part of a rebuild: the cases whose id falls in `part` of `parts`."""

    conninfo: dict[str, Any]
    schema: str
    events: str
    staging: str
    stop: int
    parts: int
    part: int


def _checked(history: list[Recorded]) -> list[Suivi]:
    """The case's episodes, raising what the fold or the table would refuse."""
    episodes = suivre(history)
    if episodes and (reason := refused(episodes)) is not None:
        raise ValueError(reason)
    return episodes


def _set_aside(
    case_id: UUID, history: list[Recorded], now: datetime
) -> tuple[list[Suivi], Quarantined | None]:
    """The case's episodes, or, when its history cannot be applied, those before the first
    event that cannot and the quarantine entry naming it."""
    with contextlib.suppress(Exception):
        return _checked(history), None
    before: list[Suivi] = []
    for k in range(1, len(history) + 1):
        try:
            before = _checked(history[:k])
        except Exception as e:
            return before, entry_for(MODEL, history[k - 1], e, now)
    return before, None  # pragma: no cover - the whole failed, so a prefix does


def fold_share(share: Share) -> tuple[int, list[Quarantined]]:
    """Fold and copy one share of the cases; returns how many events it read and the cases
    it quarantined."""
    started = time.perf_counter()
    folded: dict[bytes, tuple[UUID, list[Suivi]]] = {}
    corrected: set[UUID] = set()
    failed: set[UUID] = set()
    read = 0
    decoders = DECODERS
    table = Identifier(share.schema, share.events)
    with psycopg.connect(**share.conninfo) as conn, collector_paused():
        with conn.cursor(name="suivi_rebuild", binary=True, row_factory=tuple_row) as cursor:
            for rows in share_rows(
                cursor, table, share.stop, READ, share.parts, share.part, ITERSIZE
            ):
                read += len(rows)
                for key, topic, state in rows:
                    if topic in CORRECTIONS:
                        corrected.add(UUID(bytes=key))
                        continue
                    case = folded.get(key)
                    if case is None:
                        case = folded[key] = (UUID(bytes=key), [])
                    try:
                        evolve_event(case[1], case[0], decoders[topic].decode(state))
                    except Exception:
                        failed.add(case[0])
        cases = dict(folded.values())
        fold_s = time.perf_counter() - started
        failed |= {i for i, episodes in cases.items() if episodes and refused(episodes)}
        entries: list[Quarantined] = []
        if corrected or failed:
            now = datetime.now(UTC)
            histories, illegible = legible_histories(conn, table, corrected | failed, share.stop)
            for case_id, history in histories.items():
                cases[case_id], entry = _set_aside(case_id, history, now)
                if entry is None and case_id in illegible:
                    entry = entry_for_illegible(MODEL, illegible[case_id], now)
                if entry is not None:
                    entries.append(entry)
        refold_s = time.perf_counter() - started - fold_s
        copy_rows(conn, SUIVI, Identifier(share.schema, share.staging), suivi_rows(cases))
        conn.commit()
    log.info(
        "suivi.rebuild.share",
        part=share.part,
        events=read,
        cases=len(cases),
        corrected=len(corrected),
        quarantined=len(entries),
        fold_s=round(fold_s, 2),
        refold_s=round(refold_s, 2),
        total_s=round(time.perf_counter() - started, 2),
    )
    return read, entries


def rebuild_suivi(
    app: Parcours,
    table: PostgresTable,
    tracking_name: str,
    workers: int = 2,
    min_share: int = 50_000,
    then: Callable[[Tx], None] = lambda tx: None,
) -> int:
    """Rebuild the follow-up up to the log's current position with up to `workers` processes
    (one runs in this process), each with at least `min_share` positions of the log (starting
    a process costs about a second); returns how many events were read. `then` writes in the
    swap's transaction (a read-model upgrade records the new version there)."""
    stop = app.max_position()
    workers = max(1, min(workers, stop // max(min_share, 1)))
    s = app.settings
    conninfo = {
        **s.postgres_conninfo(),
        # Each worker has a core already: no parallel scan workers nor JIT for one index scan.
        # Its staging rows need no flush of their own: the swap's commit flushes the WAL
        # before them, and a crash before the swap leaves only a staging table to drop.
        "options": "-c max_parallel_workers_per_gather=0 -c jit=off -c synchronous_commit=off",
    }
    schema, events = table.schema, app.recorder.events_table_name
    shares = [
        Share(conninfo, schema, events, table.staging_name, stop, workers, k)
        for k in range(workers)
    ]
    table.begin_staging()
    try:
        if workers == 1:
            read, entries = fold_share(shares[0])
        else:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                workers - 1,
                mp_context=context,
                initializer=configure_logging,
                initargs=(s.log_level,),
            ) as pool:
                others = [pool.submit(fold_share, share) for share in shares[1:]]
                read, entries = fold_share(shares[0])
                for other in others:
                    more_read, more = other.result()
                    read += more_read
                    entries += more
        swap_started = time.perf_counter()
        table.swap_in(Tracking(tracking_name, stop), then)
        open_quarantine(app).replace(MODEL, entries)
        log.info(
            "suivi.rebuild.swapped",
            position=stop,
            swap_s=round(time.perf_counter() - swap_started, 2),
        )
    except BaseException:
        table.abandon_staging()
        raise
    return read
