"""The structures registry on the store: declarations appended to each structure's aggregate,
and the registry read back from every declaration in the log."""

from datetime import date, datetime

from eventsourcing.persistence import IntegrityError

from adapters.eventlog.reading import events_of
from adapters.eventlog.store import Author, Parcours
from domain.errors import DomainError
from domain.events import Meta, Recorded
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
    valider(structure_id, nom, etp, effective_on, app.today())
    aggregate = structure_aggregate_id(structure_id)
    for _ in range(3):
        version = len(list(app.events.get(aggregate)))
        event = StructureDeclaree(
            effective_on=effective_on,
            meta=Meta(
                recorded_at=app.clock(),
                recorded_by=author.user,
                structure_id=author.structure_id,
                request_id=author.request_id,
            ),
            structure_id=structure_id,
            nom=nom,
            type_organisme=type_organisme,
            etp=etp,
        )
        try:
            app.events.put([Recorded(aggregate, version + 1, event)])
        except IntegrityError:
            continue
        return version + 1, version == 0
    raise DomainError(
        "structure_concurrente", "Structure déclarée en même temps.", field="structure_id"
    )


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
        e
        for e in events_of(app, StructureDeclaree)
        if known_at is None or e.meta.recorded_at <= known_at
    ]
    return StructureRegistry(found)
