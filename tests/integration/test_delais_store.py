"""The délais indicators and worklists read from the follow-up read model on a real SQLite file and
a real PostgreSQL: the same figures as the hand-checked pure fold (tests/unit/test_indicators.py),
whether the model was built batch by batch as events arrived or rebuilt from the log, and after a
correction voids a step."""

from datetime import date
from uuid import UUID

import msgspec

from adapters.application import Parcours
from adapters.projector import Projector
from adapters.statistics import FAMILLES, Statistiques
from domain.events import Recorded
from projections.indicateurs import annee
from projections.suivi import Suivi, suivre
from projections.worklists import Motif
from tests.delais_history import all_events, departement

Y2024 = annee(2024)
BREAKDOWNS = (None, "territoire", "structure", "type_orientation", "mois")


def tables(stats: Statistiques, episodes: list[Suivi] | None = None) -> bytes:
    """Every family with every breakdown it allows, as one document."""
    out = [
        stats.calculer(famille, Y2024, par, episodes=episodes, etp={"aave-1": 0.5})
        for famille in FAMILLES
        for par in BREAKDOWNS
        if not ((famille == "aave" and par is not None) or (famille == "drees" and par == "mois"))
    ]
    return msgspec.json.encode(out)


def folded(events: list[Recorded]) -> list[Suivi]:
    by_case: dict[UUID, list[Recorded]] = {}
    for r in events:
        by_case.setdefault(r.originator_id, []).append(r)
    return [s for history in by_case.values() for s in suivre(history)]


def test_incremental_rebuilt_and_pure_agree(parcours: Parcours) -> None:
    events = all_events(departement())
    projector = Projector(parcours, batch=7)
    stats = Statistiques(parcours)
    third = len(events) // 3
    for chunk in (events[:third], events[third : 2 * third], events[2 * third :]):
        parcours.append_many(chunk)
        projector.catch_up()
    incremental = tables(stats)
    assert incremental == tables(stats, folded(events))
    drees = stats.calculer("drees", Y2024)
    assert drees.lignes[0]["soumis_droits_devoirs"] == 7
    assert drees.lignes[0]["delai_moyen_orientation"] == 28
    projector.rebuild()
    assert tables(stats) == incremental


def test_a_voided_contract_leaves_the_statistics(parcours: Parcours) -> None:
    people = departement()
    parcours.append_many(all_events(people))
    projector = Projector(parcours)
    projector.catch_up()
    stats = Statistiques(parcours)
    before = stats.calculer("table-3-1", Y2024).lignes[0]
    assert (before["premiers_cer"], before["premiers_cer_dans_le_delai"]) == (2, 1)
    # P1's first CER (version 6) was keyed on the wrong case
    p1 = people["P1"]
    p1.annule(date(2024, 12, 20), 6)
    parcours.append_many(p1.events[-1:])
    projector.catch_up()
    after = stats.calculer("table-3-1", Y2024).lignes[0]
    # P1 now has only its renewal: no first CER; P3's remains, late
    assert (after["premiers_cer"], after["premiers_cer_dans_le_delai"]) == (1, 0)
    incremental = tables(stats)
    projector.rebuild()
    assert tables(stats) == incremental


def test_worklist_of_a_structure_from_the_store(parcours: Parcours) -> None:
    parcours.append_many(all_events(departement()))
    Projector(parcours).catch_up()
    stats = Statistiques(parcours)
    lines = stats.worklist(date(2024, 12, 31), structure_id="aave-1")
    assert sorted((a.case_id.int, a.motif, a.jours) for a in lines) == [
        (3, Motif.SANS_RDV, 71),
        (5, Motif.CER_ECHU, 72),
        (5, Motif.SANS_RDV, 173),
    ]
    by_referent = stats.worklist(date(2024, 12, 31), referent_id="ref-1")
    assert [(a.case_id.int, a.motif) for a in by_referent] == [(1, Motif.SANS_RDV)]
    everyone = stats.worklist(date(2024, 12, 31))
    assert len(everyone) == 10
