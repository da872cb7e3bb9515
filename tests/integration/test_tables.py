"""The read-model table layer behaves the same on both stores: typed values come back as they
went in, an upsert replaces a row but its kept columns, a batch already applied is refused,
keys are read and deleted in bulk, a probe writes nothing, a reset forgets rows and position."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from adapters.eventlog.store import Parcours
from adapters.readmodels.tables import (
    SQLITE_CHUNK,
    Column,
    Index,
    Kind,
    Store,
    Table,
    TableSpec,
    open_table,
)
from adapters.settings import Settings

SPEC = TableSpec(
    "table_test",
    columns=(
        Column("case_id", Kind.UUID),
        Column("label", Kind.TEXT, null=True),
        Column("n", Kind.INT),
        Column("open", Kind.BOOL),
        Column("day", Kind.DATE, null=True),
        Column("since", Kind.TIME),
        Column("data", Kind.BYTES),
    ),
    key=("case_id",),
    indexes=(Index("label", ("label", "open")), Index("big", ("n",), where="n > 10")),
    keep=("since",),
)
T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


class Rows(Store[list[tuple[object, ...]]]):
    def rows(self, values: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
        return values


@pytest.fixture
def table(settings: Settings) -> Iterator[Table]:
    app = Parcours(settings)
    yield open_table(app, SPEC)
    app.close()


def _row(case_id: UUID, n: int, since: datetime = T0) -> tuple[object, ...]:
    return (case_id, f"l{n % 3}", n, n % 2 == 0, date(2024, 1, 1 + n % 28), since, b"\x00%d" % n)


def test_typed_values_round_trip_and_upsert_keeps_its_kept_columns(table: Table) -> None:
    store = Rows(table)
    ids = [uuid4() for _ in range(SQLITE_CHUNK + 20)]
    store.save([_row(i, n) for n, i in enumerate(ids)], Tracking("t", 1))
    later = datetime(2025, 1, 1, tzinfo=UTC)
    store.save([_row(ids[0], 99, since=later)], Tracking("t", 2))
    got = {r[0]: r for r in table.by_key(SPEC.names, ids)}
    assert len(got) == len(ids)
    assert got[ids[0]] == (ids[0], "l0", 99, False, date(2024, 1, 1 + 99 % 28), T0, b"\x0099")
    assert got[ids[1]] == _row(ids[1], 1)
    assert table.max_tracking_id("t") == 2
    with table.reading(snapshot=True) as tx:
        assert tx.position("t") == 2
        assert tx.count("open") == sum(1 for n in range(1, len(ids)) if n % 2 == 0)
        first = tx.select(("n",), "label = %s", ("l1",), order="n", limit=2, offset=1)
    assert first == [(4,), (7,)]
    assert table.select(("max(n)",), "n > 10 AND n < %s", (10**6,), index="big") == [
        (len(ids) - 1,)
    ]
    assert sorted(n for (n,) in table.scan(("n",), "n < %s", (3,))) == [1, 2]


def test_a_batch_applied_twice_is_refused_and_a_probe_writes_nothing(table: Table) -> None:
    store = Rows(table)
    case = uuid4()
    store.save([_row(case, 1)], Tracking("t", 5))
    with pytest.raises(IntegrityError):
        store.save([_row(case, 2)], Tracking("t", 5))
    store.probe([_row(uuid4(), 3)])
    assert table.select(("n",)) == [(1,)]


def test_keys_deleted_in_bulk_and_reset(table: Table) -> None:
    store = Rows(table)
    ids = [uuid4() for _ in range(4)]
    store.save([_row(i, n) for n, i in enumerate(ids)], Tracking("t", 1))
    with table.writing() as tx:
        tx.delete_keys([(ids[0],), (ids[1],)])
    assert {i for (i,) in table.select(("case_id",))} == set(ids[2:])
    with table.writing() as tx:
        tx.insert([_row(uuid4(), 7)])
        tx.delete("n = %s", (2,))
    assert sorted(n for (n,) in table.select(("n",))) == [3, 7]
    table.reset("t")
    assert table.select(("n",)) == []
    assert table.max_tracking_id("t") is None
