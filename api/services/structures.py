"""The structures registry on the store: declarations appended to each structure's aggregate,
and the registry read back from every declaration in the log."""

from datetime import date, datetime

from adapters.eventlog.store import Parcours
from api.services.commands import Author, execute, refused
from domain.decide import Contexte
from domain.events import Recorded
from domain.structures import (
    StructureDeclaree,
    StructureRegistry,
    structure_aggregate_id,
    valider,
)
from domain.vocabulary import TypeOrganisme


def declare_structure(
    app: Parcours,
    structure_id: str,
    nom: str,
    type_organisme: TypeOrganisme,
    etp: float | None,
    effective_on: date,
    author: Author,
) -> tuple[int, bool]:
    """Record the declaration; returns (version, created)."""

    def decide(_: list[Recorded], ctx: Contexte) -> list[StructureDeclaree]:
        valider(structure_id, nom, etp, effective_on, ctx.today)
        return [
            StructureDeclaree(
                effective_on=effective_on,
                meta=ctx.meta,
                structure_id=structure_id,
                nom=nom,
                type_organisme=type_organisme,
                etp=etp,
            )
        ]

    appended = execute(
        app,
        structure_aggregate_id(structure_id),
        decide,
        author,
        lost_race=refused(
            "structure_concurrente", "Structure déclarée en même temps.", "structure_id"
        ),
    )
    return appended.version, appended.created


def declarations(app: Parcours, structure_id: str) -> list[StructureDeclaree]:
    """One structure's declarations, in the order they were recorded."""
    out = []
    for r in app.events.get(structure_aggregate_id(structure_id)):
        assert isinstance(r, Recorded)
        assert isinstance(r.event, StructureDeclaree)
        out.append(r.event)
    return out


def load_structures(app: Parcours, known_at: datetime | None = None) -> StructureRegistry:
    """Every structure as declared, from the log's declarations in recording order (only
    those recorded by `known_at` when given, for a report regenerated as it was known)."""
    found = [
        event
        for event in app.of_kind(StructureDeclaree)
        if known_at is None or event.meta.recorded_at <= known_at
    ]
    return StructureRegistry(found)
