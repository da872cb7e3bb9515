"""Tariff schedules in the log: adoptions appended to the département's tariff book, and the
schedules in force they make (the documents on disk: adapters/schedule_files.py)."""

from adapters.eventlog.store import Parcours
from api.services.commands import Author, execute, refused
from domain.decide import Contexte
from domain.events import Recorded
from domain.tariffs import (
    TARIFF_BOOK_ID,
    Adoption,
    Bareme,
    BaremeAdopte,
    EnVigueur,
    valider_adoption,
)


def adopt(app: Parcours, bareme: Bareme, motif: str, author: Author) -> Adoption:
    """Record the adoption of `bareme` from its start date; returns the adoption."""

    def decide(_: list[Recorded], ctx: Contexte) -> list[BaremeAdopte]:
        valider_adoption(bareme, motif, ctx.today)
        return [
            BaremeAdopte(
                effective_on=bareme.du,
                meta=ctx.meta,
                motif=motif,
                empreinte=bareme.empreinte(),
                bareme=bareme,
            )
        ]

    appended = execute(
        app,
        TARIFF_BOOK_ID,
        decide,
        author,
        lost_race=refused("adoption_concurrente", "Barème adopté en même temps.", "bareme"),
    )
    event = appended.recorded[-1].event
    assert isinstance(event, BaremeAdopte)
    return _adoption(appended.version, event)


def _adoption(version: int, event: BaremeAdopte) -> Adoption:
    return Adoption(
        version=version,
        bareme=event.bareme,
        empreinte=event.empreinte,
        motif=event.motif,
        adopte_le=event.meta.recorded_at,
        adopte_par=event.meta.recorded_by,
    )


def adoptions(app: Parcours) -> list[Adoption]:
    """Every adoption, in the order recorded."""
    out = []
    for r in app.events.get(TARIFF_BOOK_ID):
        assert isinstance(r, Recorded)
        assert isinstance(r.event, BaremeAdopte)
        out.append(_adoption(r.originator_version, r.event))
    return out


def en_vigueur(app: Parcours) -> EnVigueur:
    return EnVigueur(adoptions(app))
