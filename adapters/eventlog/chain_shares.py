"""The hash chain checked in shares of the log, in parallel processes (`parcours audit verify`).

A link's stored hash is checked from the stored hash of the link before it and its own row
alone: an altered link fails its own check (and the next one's), so no share needs the hashes
recomputed before it. Each share takes up the walk from the last stored link before it (and
the linked rows just before, to name a row a later link skips), exactly where a walk over the
whole log would stand after resynchronising on that link; the shares' findings, merged in
position order, are those of one walk over the whole log (tests/integration/test_log_chain.py
holds them to it).

The log is cut into several shares per process: the other processes take them from the end,
this one from the start, and each share is walked once, by whoever reaches it first (a spawned
process takes about a second to start; meanwhile this one is already walking). This module
reads the chain's tables itself, importing only the walk and the database drivers, so that a
worker starts quickly; `reading.chained_batch` reads through it too.
"""

import multiprocessing
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, NamedTuple

import psycopg
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

from adapters.eventlog.chain import GENESIS, RECENT, Break, Link, Walk

MIN_SHARE = 500_000
"""Events per process below which an extra one costs more to start than it saves: a spawned
process takes about a second to start, when one process verifies 170,000 events a second on
PostgreSQL (screened by the database) and 260,000 on SQLite (scripts/bench_chain.py)."""

SHARES_PER_PROCESS = 4
"""Shares cut per process: the spare ones go to whoever is free (the start-up of a spawned
process, an uneven load)."""


class ChainTables(NamedTuple):
    """Where the log and its chain are stored: what a verifier needs to read them on a
    connection of its own (a worker process)."""

    postgres: bool
    connect: dict[str, Any]
    """PostgreSQL: the connection arguments; SQLite: {"file": path}."""
    schema: str
    events: str
    chain: str


Fetch = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]
"""A query's rows; the query's table names written `{events}` and `{chain}`."""


@contextmanager
def chain_reader(tables: ChainTables) -> Iterator[Fetch]:
    """One connection of its own over the log and its chain (binary and prepared statements
    on PostgreSQL, read-only on SQLite), for a verifier."""
    if tables.postgres:
        events = Identifier(tables.schema, tables.events)
        chain = Identifier(tables.schema, tables.chain)
        queries: dict[str, Composed] = {}
        with (
            psycopg.connect(**tables.connect, autocommit=True) as conn,
            conn.cursor(binary=True, row_factory=tuple_row) as cursor,
        ):

            def fetch_pg(query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
                composed = queries.get(query)
                if composed is None:
                    composed = queries[query] = SQL(query.replace("?", "%s")).format(
                        events=events, chain=chain
                    )
                cursor.execute(composed, params, prepare=True)
                return cursor.fetchall()

            yield fetch_pg
        return
    lite = sqlite3.connect(f"file:{tables.connect['file']}?mode=ro", uri=True, timeout=30)
    try:

        def fetch_lite(query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
            text = query.format(events=tables.events, chain=tables.chain)
            text = text.replace("uuid_send(e.originator_id)", "e.originator_id")
            return lite.execute(text.replace("notification_id", "rowid"), params).fetchall()

        yield fetch_lite
    finally:
        lite.close()


def chained_rows(
    fetch: Fetch, after: int, limit: int, stop: int
) -> tuple[list[tuple[Any, ...]], list[Link] | None]:
    """Up to `limit` stored rows after position `after` (up to `stop`), undecoded, each with
    its own link's previous position and hash (None for both when it has none); and, only
    when some link of the same range (up to the last row's position, or to `stop` when the
    rows ran out) has no row, every link of the range (else None). One query for the rows and
    their links, one count of the links."""
    rows = fetch(
        "SELECT e.notification_id, uuid_send(e.originator_id), e.originator_version, "
        "e.topic, e.state, c.precedente, c.empreinte FROM {events} e "
        "LEFT JOIN {chain} c ON c.position = e.notification_id "
        "WHERE e.notification_id > ? AND e.notification_id <= ? "
        "ORDER BY e.notification_id LIMIT ?",
        (after, stop, limit),
    )
    upper = rows[-1][0] if len(rows) == limit else stop
    links = fetch(
        "SELECT count(*) FROM {chain} WHERE position > ? AND position <= ?", (after, upper)
    )
    if links[0][0] == sum(1 for r in rows if r[6] is not None):
        return rows, None
    found = fetch(
        "SELECT position, precedente, empreinte FROM {chain} "
        "WHERE position > ? AND position <= ? ORDER BY position",
        (after, upper),
    )
    return rows, [Link(p, q, bytes(h)) for p, q, h in found]


def chain_before(fetch: Fetch, position: int, rows: int) -> tuple[Link | None, list[Any]]:
    """The last link at or before `position`, and the last `rows` linked rows up to it (in
    position order): where a verifier starting there takes up the walk."""
    found = fetch(
        "SELECT position, precedente, empreinte FROM {chain} "
        "WHERE position <= ? ORDER BY position DESC LIMIT 1",
        (position,),
    )
    recent = fetch(
        "SELECT e.notification_id, uuid_send(e.originator_id), e.originator_version, "
        "e.topic, e.state FROM {events} e JOIN {chain} c ON c.position = e.notification_id "
        "WHERE e.notification_id <= ? ORDER BY e.notification_id DESC LIMIT ?",
        (position, rows),
    )
    link = None if not found else Link(found[0][0], found[0][1], bytes(found[0][2]))
    return link, recent[::-1]


class Share(NamedTuple):
    """Positions (after, stop] of the log to check, from a walk starting at (start, digest)."""

    tables: ChainTables
    start: int
    digest: bytes
    after: int
    stop: int
    batch: int
    limit: int
    watch: int | None


class Found(NamedTuple):
    """What a share's walk found."""

    breaks: list[Break]
    events: int
    computed: dict[int, bytes]


SCREEN = (
    "WITH l AS (SELECT position, precedente, empreinte, "
    "coalesce(lag(position) OVER w, ?) AS before_position, "
    "coalesce(lag(empreinte) OVER w, ?) AS before_hash "
    "FROM {chain} WHERE position > ? AND position <= ? WINDOW w AS (ORDER BY position)), "
    "e AS (SELECT notification_id, originator_id, originator_version, topic, state "
    "FROM {events} WHERE notification_id > ? AND notification_id <= ?) "
    "SELECT count(e.notification_id), count(*) FILTER (WHERE l.position IS NULL "
    "OR e.notification_id IS NULL OR l.precedente <> l.before_position "
    "OR l.empreinte <> sha256(l.before_hash || int8send(l.position) "
    "|| uuid_send(e.originator_id) || int8send(e.originator_version::bigint) "
    "|| int4send(octet_length(convert_to(e.topic, 'UTF8'))) || int4send(octet_length(e.state)) "
    "|| convert_to(e.topic, 'UTF8') || e.state)), "
    "max(l.position) FROM l FULL JOIN e ON e.notification_id = l.position"
)
"""A range of the log screened by PostgreSQL: its rows, how many rows or links do not follow
(no link, no row, a link naming another previous one, a hash that the row and the stored link
before do not give: `chain.link_hash` in SQL), its last link. Only a range with one is walked
here, in Python, to name what it holds."""

SCREENED = 5
"""Batches of positions screened per query."""


def walk_share(share: Share) -> Found:
    """Walk one share on a connection of its own: on PostgreSQL, each range of the log is
    first screened by the database, and only a range it finds anything in is walked here."""
    with chain_reader(share.tables) as fetch:
        walk = Walk(share.start, share.digest, share.limit)
        if share.after > share.start:
            link, recent = chain_before(fetch, share.after, RECENT)
            if link is not None and link.position > share.start:
                walk.vouched(link.position, link.hash, 0)
            walk.take_up(r for r in recent if r[0] > share.start)
        if share.watch is not None:
            walk.watch(share.watch)
        after, stale = share.after, False
        span = share.batch * SCREENED
        while after < share.stop and not walk.full:
            upper = min(after + span, share.stop)
            if share.tables.postgres:
                rows, bad, last = fetch(
                    SCREEN, (walk.last, walk.digest, after, upper, after, upper)
                )[0]
                if not bad:
                    watched = share.watch is not None and after < share.watch <= upper
                    if watched and not walk.breaks:
                        held = _stored_hash(fetch, share.watch or 0)
                        if held is not None:
                            walk.computed[share.watch or 0] = held
                    if last is not None:
                        walk.vouched(last, _stored_hash(fetch, last) or b"", rows)
                        stale = True
                    after = upper
                    continue
                if stale:
                    _, recent = chain_before(fetch, after, RECENT)
                    walk.take_up(r for r in recent if r[0] > share.start)
                    stale = False
            _walk_range(fetch, walk, after, upper, share.batch)
            after = upper
    return Found(walk.breaks, walk.events, walk.computed)


def _stored_hash(fetch: Fetch, position: int) -> bytes | None:
    found = fetch("SELECT empreinte FROM {chain} WHERE position = ?", (position,))
    return bytes(found[0][0]) if found else None


def _walk_range(fetch: Fetch, walk: Walk, after: int, stop: int, batch: int) -> None:
    """Positions (after, stop] walked in Python, batch by batch."""
    while after < stop and not walk.full:
        rows, links = chained_rows(fetch, after, batch, stop)
        if links is None:
            walk.feed_joined(rows)
        else:
            walk.feed([r[:5] for r in rows], links)
        after = rows[-1][0] if len(rows) == batch else stop


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def walk_shares(
    tables: ChainTables,
    start: int,
    stop: int,
    *,
    digest: bytes = GENESIS,
    batch: int = 10_000,
    limit: int = 100,
    watch: int | None = None,
    workers: int | None = None,
    min_share: int = MIN_SHARE,
) -> Found:
    """The chain over positions (start, stop] walked by up to `workers` processes (one per
    core by default; this one alone when the log holds less than `min_share` events per
    process); the breaks in position order (at most `limit`), the events walked, the
    recomputed hash at `watch` (only when no break precedes it)."""
    wanted = cores() if workers is None else workers
    processes = max(1, min(wanted, (stop - start) // max(min_share, 1)))
    if processes == 1:
        return walk_share(Share(tables, start, digest, start, stop, batch, limit, watch))
    count = processes * SHARES_PER_PROCESS
    bounds = [start + (stop - start) * k // count for k in range(count + 1)]
    shares = [
        Share(tables, start, digest, bounds[k], bounds[k + 1], batch, limit, watch)
        for k in range(count)
    ]
    found: list[Found] = []
    with ProcessPoolExecutor(
        processes - 1, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        # The others take shares from the end; this process walks from the start each share
        # not yet taken (a queued share is cancelled and walked here).
        pending: dict[int, Future[Found]] = {
            k: pool.submit(walk_share, shares[k]) for k in reversed(range(1, count))
        }
        found.append(walk_share(shares[0]))
        for k in range(1, count):
            taken = pending[k]
            found.append(walk_share(shares[k]) if taken.cancel() else taken.result())
    breaks: list[Break] = []
    computed: dict[int, bytes] = {}
    for part in found:
        if not breaks:  # a recomputed hash stands only when no break precedes it
            computed.update(part.computed)
        breaks.extend(part.breaks)
    return Found(breaks[:limit], sum(part.events for part in found), computed)
