"""The chain's walk over rows and links, without a store: each kind of break is named at its
position, once, whichever batch boundaries the rows fall on."""

from uuid import UUID, uuid4

import pytest

from adapters.eventlog.chain import GENESIS, Link, Row, Walk, link_hash, links_for

CASE = uuid4()


def _rows(positions: list[int]) -> list[Row]:
    return [(p, CASE, p, "RdvPlanifie", f'{{"n":{p}}}'.encode()) for p in positions]


def _walk(rows: list[Row], links: list[Link], batch: int) -> Walk:
    walk = Walk()
    end = max([r[0] for r in rows] + [x.position for x in links])
    after = 0
    while after < end:
        upto = min(after + batch, end)
        walk.feed(
            [r for r in rows if after < r[0] <= upto],
            [x for x in links if after < x.position <= upto],
        )
        after = upto
    return walk


@pytest.mark.parametrize("batch", [1, 3, 100])
def test_an_untouched_chain_with_gaps_walks_clean(batch: int) -> None:
    rows = _rows([1, 2, 5, 6, 9])  # gaps: PostgreSQL's lost races
    walk = _walk(rows, links_for(None, rows), batch)
    assert (walk.breaks, walk.events, walk.last) == ([], 5, 9)


def test_the_hash_covers_every_field() -> None:
    base = link_hash(GENESIS, 1, CASE.bytes, 1, b"A", b"x")
    others = [
        link_hash(bytes(31) + b"\1", 1, CASE.bytes, 1, b"A", b"x"),
        link_hash(GENESIS, 2, CASE.bytes, 1, b"A", b"x"),
        link_hash(GENESIS, 1, UUID(int=1).bytes, 1, b"A", b"x"),
        link_hash(GENESIS, 1, CASE.bytes, 2, b"A", b"x"),
        link_hash(GENESIS, 1, CASE.bytes, 1, b"Ax", b""),
        link_hash(GENESIS, 1, CASE.bytes, 1, b"A", b"y"),
    ]
    assert base not in others
    assert len(set(others)) == len(others)


@pytest.mark.parametrize("batch", [1, 4, 100])
def test_a_row_inserted_with_a_forged_link_is_named(batch: int) -> None:
    rows = _rows([1, 2, 3, 4])
    links = links_for(None, rows)
    # An intruder at position 3 whose link follows 2 correctly; the real 4th still names 2...
    real = _rows([1, 2, 4])
    links = [*links_for(None, real)[:2], links_for(links[1], _rows([3]))[0]]
    links.append(links_for(None, real)[2])
    walk = _walk(rows, links, batch)
    assert [(b.kind, b.position, b.case_id) for b in walk.breaks] == [("insere", 3, CASE)]


@pytest.mark.parametrize("batch", [1, 2, 100])
def test_a_row_deleted_with_its_link_is_named(batch: int) -> None:
    rows = _rows([1, 2, 3, 4])
    links = links_for(None, rows)
    walk = _walk([r for r in rows if r[0] != 3], [x for x in links if x.position != 3], batch)
    assert [(b.kind, b.position, b.case_id) for b in walk.breaks] == [("supprime", 3, None)]


def test_the_fast_paths_compute_the_reference_hash() -> None:
    rows = _rows([1, 2, 7])
    digest, expected = GENESIS, []
    for position, case, version, topic, state in rows:
        digest = link_hash(digest, position, case.bytes, version, topic.encode(), state)
        expected.append(digest)
    assert [x.hash for x in links_for(None, rows)] == expected
    as_text = [(p, c.hex, v, t, s) for p, c, v, t, s in rows]
    assert [x.hash for x in links_for(None, as_text)] == expected
