"""Store of the episodes' follow-up (`projections.suivi`).

One row per case: its episodes as one msgspec document, with the current structure, référent and
whether the last episode is open as columns, so a worklist reads only its structure's cases.
"""

from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

import msgspec

from adapters.readmodels.tables import Column, Index, Kind, Store, TableSpec
from projections.suivi import Suivi

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(list[Suivi]).decode

SUIVI = TableSpec(
    "suivi",
    columns=(
        Column("case_id", Kind.UUID),
        Column("structure_id", Kind.TEXT, null=True),
        Column("referent_id", Kind.TEXT, null=True),
        Column("ouvert", Kind.BOOL),
        Column("data", Kind.BYTES),
    ),
    key=("case_id",),
    # What worklists read by: a structure's or a référent's (open) cases.
    indexes=(
        Index("structure", ("structure_id", "ouvert")),
        Index("referent", ("referent_id", "ouvert")),
    ),
)


def _columns(episodes: list[Suivi]) -> tuple[str | None, str | None, bool]:
    last = episodes[-1]
    o = last.orientations[-1] if last.orientations else None
    referent = None
    if last.referents and (o is None or last.referents[-1][0] >= o.date_orientation):
        referent = last.referents[-1][1]
    return (o.structure_id if o else None), referent, last.date_fin is None


def suivi_rows(cases: dict[UUID, list[Suivi]]) -> Iterator[tuple[Any, ...]]:
    """The table's rows of the cases (a case without an episode has none)."""
    for case_id, episodes in cases.items():
        if episodes:
            yield (case_id, *_columns(episodes), _encode(episodes))


def refused(episodes: list[Suivi]) -> str | None:
    """Why PostgreSQL would refuse the case's row (a NUL in a text column), checked before a
    COPY, which cannot set one row aside."""
    structure, referent, _ = _columns(episodes)
    if "\x00" in (structure or "") + (referent or ""):
        return "caractère NUL dans une colonne texte (structure_id, referent_id)"
    return None


class SuiviStore(Store[dict[UUID, list[Suivi]]]):
    def rows(self, values: dict[UUID, list[Suivi]]) -> Iterable[tuple[Any, ...]]:
        return suivi_rows(values)

    def cases(self, case_ids: Iterable[UUID]) -> dict[UUID, list[Suivi]]:
        return {
            case_id: _decode(data)
            for case_id, data in self.table.by_key(("case_id", "data"), case_ids)
        }

    def scan(
        self,
        structure_id: str | None = None,
        referent_id: str | None = None,
        open_only: bool = False,
    ) -> Iterator[list[Suivi]]:
        where, values = _where(structure_id, referent_id, open_only)
        for (data,) in self.table.scan(("data",), where, values):
            yield _decode(data)

    def position(self, tracking_name: str) -> int:
        """The position of the log the model has applied (0 before any)."""
        return self.max_tracking_id(tracking_name) or 0

    def snapshot(
        self,
        tracking_name: str,
        structure_id: str | None = None,
        referent_id: str | None = None,
        open_only: bool = False,
    ) -> tuple[int, list[list[Suivi]]]:
        """The cases selected as `scan` does, and the position they stand at, read in one
        snapshot: what a cache keyed by position may keep."""
        where, values = _where(structure_id, referent_id, open_only)
        with self.table.reading(snapshot=True) as tx:
            position = tx.position(tracking_name)
            rows = tx.select(("data",), where, values)
        return position, [_decode(data) for (data,) in rows]


def _where(
    structure_id: str | None, referent_id: str | None, open_only: bool
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    values: list[Any] = []
    if structure_id is not None:
        clauses.append("structure_id = %s")
        values.append(structure_id)
    if referent_id is not None:
        clauses.append("referent_id = %s")
        values.append(referent_id)
    if open_only:
        clauses.append("ouvert")
    return " AND ".join(clauses), values
