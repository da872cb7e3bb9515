"""Store of the financing activity (`projections.activity`).

One row per case: its priced activity and its follow-up episodes as two msgpack documents, and
whether the case was ever oriented to an AAVE (only those episodes are read back, by the AAVE
indicators). A snapshot reads the rows and the model's position in one transaction, so a
statement says exactly which state of the log it priced.
"""

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import msgspec

from adapters.collector import collector_paused
from adapters.readmodels.tables import Column, Kind, Store, TableSpec
from projections.activity import Activite, FicheActivite
from projections.suivi import Suivi

_encode = msgspec.msgpack.Encoder().encode
_activite = msgspec.msgpack.Decoder(Activite).decode
_suivi = msgspec.msgpack.Decoder(list[Suivi]).decode

ACTIVITE = TableSpec(
    "financement_activite",
    columns=(
        Column("case_id", Kind.UUID),
        Column("version", Kind.INT),
        Column("aave", Kind.BOOL),
        Column("activite", Kind.BYTES),
        Column("suivi", Kind.BYTES),
    ),
    key=("case_id",),
)


class Snapshot(msgspec.Struct):
    position: int
    activites: list[Activite]
    suivis: list[Suivi]
    """Episodes of the cases ever oriented to an AAVE (when asked for)."""


class ActiviteStore(Store[Iterable[FicheActivite]]):
    def rows(self, values: Iterable[FicheActivite]) -> list[tuple[Any, ...]]:
        return [
            (
                d.activite.case_id,
                d.activite.version,
                d.activite.aave,
                _encode(d.activite),
                _encode(d.suivi),
            )
            for d in values
        ]

    def cases(self, case_ids: Iterable[UUID]) -> dict[UUID, FicheActivite]:
        return {
            case_id: FicheActivite(activite=_activite(activite), suivi=_suivi(suivi))
            for case_id, activite, suivi in self.table.by_key(
                ("case_id", "activite", "suivi"), case_ids
            )
        }

    def snapshot(self, tracking_name: str, with_aave: bool) -> Snapshot:
        with self.table.reading(snapshot=True) as tx:
            position = tx.position(tracking_name)
            rows = tx.select(("activite",))
            with collector_paused():
                activites = [_activite(data) for (data,) in rows]
            suivis: list[Suivi] = []
            if with_aave:
                for (data,) in tx.select(("suivi",), "aave"):
                    suivis.extend(_suivi(data))
        return Snapshot(position, activites, suivis)
