"""The hash chain checked in shares of the log, one process per core (`parcours audit verify`).

A link's stored hash is checked from the stored hash of the link before it and its own row
alone: an altered link fails its own check (and the next one's), so no share needs the hashes
recomputed before it. Each share takes up the walk from the last stored link before it (and
the linked rows just before, to name a row a later link skips), exactly where a walk over the
whole log would stand after resynchronising on that link; the shares' findings, merged in
position order, are those of one walk over the whole log (tests/integration/test_log_chain.py
holds them to it). Worker processes are spawned (about a second each: imports, connection), so
a log shorter than `min_share` events per extra process is checked in this process alone.
"""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import NamedTuple

from adapters.eventlog.chain import GENESIS, RECENT, Break, Walk
from adapters.eventlog.reading import ChainTables, chain_before, chain_reader, chained_rows
from adapters.logging import configure_logging

MIN_SHARE = 100_000
"""Events per extra process below which it would cost more to start than it saves."""


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


def walk_share(share: Share) -> Found:
    """Walk one share on a connection of its own."""
    with chain_reader(share.tables) as fetch:
        if share.after == share.start:
            walk = Walk(share.start, share.digest, share.limit)
        else:
            link, recent = chain_before(fetch, share.after, RECENT)
            taken_up = [r for r in recent if r[0] > share.start]
            if link is None or link.position <= share.start:
                walk = Walk(share.start, share.digest, share.limit, taken_up)
            else:
                walk = Walk(link.position, link.hash, share.limit, taken_up)
        if share.watch is not None:
            walk.watch(share.watch)
        after = share.after
        while after < share.stop and not walk.full:
            rows, links = chained_rows(fetch, after, share.batch, share.stop)
            if links is None:
                walk.feed_joined(rows)
            else:
                walk.feed([r[:5] for r in rows], links)
            after = rows[-1][0] if len(rows) == share.batch else share.stop
    return Found(walk.breaks, walk.events, walk.computed)


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
    log_level: str = "INFO",
) -> Found:
    """The chain over positions (start, stop] walked in up to `workers` shares (one per core
    by default), one in this process and each other in a spawned one; the breaks in position
    order (at most `limit`), the events walked, the recomputed hash at `watch` (only when no
    break precedes it)."""
    wanted = cores() if workers is None else workers
    count = max(1, min(wanted, (stop - start) // max(min_share, 1)))
    bounds = [start + (stop - start) * k // count for k in range(count + 1)]
    shares = [
        Share(tables, start, digest, bounds[k], bounds[k + 1], batch, limit, watch)
        for k in range(count)
    ]
    if count == 1:
        return walk_share(shares[0])
    with ProcessPoolExecutor(
        count - 1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=configure_logging,
        initargs=(log_level,),
    ) as pool:
        others = [pool.submit(walk_share, share) for share in shares[1:]]
        found = [walk_share(shares[0]), *(other.result() for other in others)]
    breaks: list[Break] = []
    computed: dict[int, bytes] = {}
    for part in found:
        if not breaks:  # a recomputed hash stands only when no break precedes it
            computed.update(part.computed)
        breaks.extend(part.breaks)
    return Found(breaks[:limit], sum(part.events for part in found), computed)
