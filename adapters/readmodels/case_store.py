"""Store of the case-state read model: one row per case, the filters of case lists as columns
and the whole row as one msgspec document."""

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import msgspec

from adapters.readmodels.tables import Column, Index, Kind, Store, TableSpec
from projections.case_state import CaseRow

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(CaseRow).decode

CASE_STATE = TableSpec(
    "case_state",
    columns=(
        Column("case_id", Kind.UUID),
        Column("structure_id", Kind.TEXT, null=True),
        Column("referent_id", Kind.TEXT, null=True),
        Column("statut", Kind.TEXT),
        Column("date_entree", Kind.DATE, null=True),
        Column("version", Kind.INT),
        Column("data", Kind.BYTES),
    ),
    key=("case_id",),
    indexes=(
        Index("structure", ("structure_id", "statut")),
        Index("referent", ("referent_id", "statut")),
        Index("statut", ("statut",)),
    ),
)


class CaseFilter(msgspec.Struct, frozen=True, kw_only=True):
    structure_id: str | None = None
    referent_id: str | None = None
    statut: str | None = None


def _where(f: CaseFilter) -> tuple[str, list[str]]:
    clauses, values = [], []
    for column in ("structure_id", "referent_id", "statut"):
        value = getattr(f, column)
        if value is not None:
            clauses.append(f"{column} = %s")
            values.append(value)
    return " AND ".join(clauses), values


class CaseStateView(Store[Sequence[CaseRow]]):
    """What the projector and the API read and write of the case state."""

    def rows(self, values: Sequence[CaseRow]) -> list[tuple[Any, ...]]:
        return [
            (
                r.case_id,
                r.structure_id,
                r.referent_id,
                r.statut.value,
                r.date_entree,
                r.version,
                _encode(r),
            )
            for r in values
        ]

    def cases(self, case_ids: Iterable[UUID]) -> dict[UUID, CaseRow]:
        rows = [_decode(data) for (data,) in self.table.by_key(("data",), case_ids)]
        return {r.case_id: r for r in rows}

    def get(self, case_id: UUID) -> CaseRow | None:
        return self.cases([case_id]).get(case_id)

    def find(self, f: CaseFilter, limit: int, offset: int) -> tuple[list[CaseRow], int]:
        where, values = _where(f)
        with self.table.reading() as tx:
            total = tx.count(where, values)
            rows = tx.select(
                ("data",), where, values, order="date_entree, case_id", limit=limit, offset=offset
            )
        return [_decode(data) for (data,) in rows], total

    def all_rows(self) -> dict[UUID, CaseRow]:
        rows = [_decode(data) for (data,) in self.table.select(("data",))]
        return {r.case_id: r for r in rows}
