"""Benchmark of decoding the log's rows: our decode paths next to the raw limit, in one run.

    python3 -m uv run python -m scripts.bench_versions --events 200000 --rounds 5

No database: the synthetic département is encoded into stored rows once (what the tables hold),
then decoded, best of `rounds`, by
- the batch path of `adapters.eventlog.reading` (what the projector and every bulk reader run),
- the mapper's row-by-row path (what the library's reads run: a case's history, the rebuild),
- the raw limit: a list comprehension over one msgspec decoder per event type.
With `--old`, the same rows are also read as an older version of their type (the topic of
version 1 under a registry where every type is at version 2, upcast by an identity step), to
measure what a log of old versions costs. The figures go to docs/benchmarks.md ("Event
versions") by hand: the script prints them. Only functions that existed before versions are
timed on the current rows, so the same script runs on an export of the earlier commit.
"""

import argparse
import gc
import time
from collections.abc import Callable
from datetime import date
from typing import Any, cast
from uuid import UUID

import msgspec
from eventsourcing.persistence import StoredEvent

from adapters.eventlog import reading
from adapters.eventlog.mapper import EventMapper
from adapters.eventlog.transcoder import MsgspecTranscoder
from adapters.synthetic import generate
from domain.catalogue import ALL_EVENT_TYPES
from domain.events import Recorded


def _events(n: int) -> list[Recorded]:
    out: list[Recorded] = []
    for person in generate(n // 7 + 1000, 4, 2024, date(2021, 1, 1), today=date(2025, 1, 1)):
        out.extend(person)
        if len(out) >= n:
            break
    return out[:n]


def best(fn: Callable[[], Any], rounds: int) -> float:
    """The fastest of `rounds` runs, in seconds."""
    times = []
    for _ in range(rounds):
        gc.collect()
        gc.disable()  # the same for every path: no collection walking what the round built
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
        gc.enable()
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--old", action="store_true", help="also time a log of old versions")
    args = parser.parse_args()

    recorded = _events(args.events)
    mapper = EventMapper(transcoder=MsgspecTranscoder())
    stored = [mapper.to_stored_event(r) for r in recorded]
    rows = [
        (i + 1, cast(UUID, s.originator_id), s.originator_version, s.topic, s.state)
        for i, s in enumerate(stored)
    ]
    n = len(rows)
    raw_decoders = {kind.__name__: msgspec.json.Decoder(kind) for kind in ALL_EVENT_TYPES}

    def raw() -> None:
        [
            Recorded(case_id, version, raw_decoders[topic].decode(state), position)
            for position, case_id, version, topic, state in rows
        ]

    def batch() -> None:
        reading._decoded(rows, None)

    def row_by_row() -> None:
        [mapper.to_domain_event(s) for s in stored]

    figures = [
        ("raw limit (one msgspec decoder per type)", best(raw, args.rounds)),
        ("reading batch path (`read_batch`)", best(batch, args.rounds)),
        ("mapper row by row (`to_domain_event`)", best(row_by_row, args.rounds)),
    ]
    if args.old:
        figures += _old_versions(rows, args.rounds)
    print(f"{n:,} events, best of {args.rounds}")
    print("| path | events/s | vs raw |\n|---|---|---|")
    limit = figures[0][1]
    for what, seconds in figures:
        print(f"| {what} | {n / seconds:,.0f} | {limit / seconds:.2f} |")


def _old_versions(rows: list[tuple[int, UUID, int, str, bytes]], rounds: int) -> list[Any]:
    """The same rows read as version 1 of types whose current version is 2 (identity upcast)."""
    from adapters.eventlog.mapper import Codec

    codec = Codec(
        ALL_EVENT_TYPES,
        upcasters={(kind, 1): dict for kind in ALL_EVENT_TYPES},
        versions=dict.fromkeys(ALL_EVENT_TYPES, 2),
    )
    decoders = codec.decoders

    def old() -> None:
        [
            Recorded(case_id, version, decoders[topic].decode(state), position)
            for position, case_id, version, topic, state in rows
        ]

    stored = [StoredEvent(c, v, t, s) for _, c, v, t, s in rows]
    return [
        ("old versions, batch path (upcast, one identity step)", best(old, rounds)),
        (
            "old versions, row by row (`Codec.decode`)",
            best(lambda: [codec.decode(s.topic, s.state) for s in stored], rounds),
        ),
    ]


if __name__ == "__main__":
    main()
