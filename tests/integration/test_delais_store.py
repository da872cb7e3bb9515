"""The délais indicators and worklists read from the follow-up read model on a real SQLite file and
a real PostgreSQL: the same figures as the hand-checked pure fold (tests/unit/test_indicators.py),
whether the model was built batch by batch as events arrived or rebuilt from the log, and after a
correction voids a step."""

from datetime import date
from uuid import UUID, uuid4

import msgspec
import psycopg
import pytest
from psycopg import sql

from adapters.eventlog.store import Parcours
from adapters.readmodels.models import SuiviModel
from adapters.readmodels.projector import Projector
from adapters.readmodels.suivi_rebuild import rebuild_suivi
from adapters.readmodels.tables import PostgresTable
from adapters.settings import Settings
from api.services.statistics import FAMILLES, Statistiques
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


@pytest.mark.postgres
@pytest.mark.parametrize("workers", [1, 3])
def test_the_follow_up_rebuilt_on_every_core_is_the_pure_fold(
    pg_settings: Settings, workers: int
) -> None:
    """The PostgreSQL rebuild (cases shared out between processes, a correction refolding its
    case, rows copied then swapped in) holds each case's pure fold, at the log's position."""
    app = Parcours(pg_settings)
    people = departement()
    people["P1"].annule(date(2024, 12, 20), 6)
    events = all_events(people)
    app.append_many(events)
    projector = Projector(app)
    projector.catch_up()
    incremental = sorted_cases(app)
    model = projector.model("suivi")
    assert isinstance(model, SuiviModel)
    assert isinstance(model.store.table, PostgresTable)
    tracking = projector.tracking_name(model)
    read = rebuild_suivi(app, model.store.table, tracking, workers=workers, min_share=1)
    assert read == len(events)
    assert sorted_cases(app) == incremental == sorted(folded_by_case(events).items())
    assert projector.positions()["suivi"] == app.max_position()
    app.close()


@pytest.mark.postgres
def test_a_payload_no_decoder_reads_is_set_aside_by_the_parallel_rebuild(
    pg_settings: Settings,
) -> None:
    """A payload altered in the database does not stop the rebuild on every core: its case is
    quarantined, every other case is rebuilt as it was, and nothing is left of the staging
    table."""
    app = Parcours(pg_settings)
    app.append_many(all_events(departement()))
    projector = Projector(app)
    projector.catch_up()
    before = sorted_cases(app)
    broken = uuid4()
    with psycopg.connect(**conninfo(pg_settings), autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (originator_id, originator_version, topic, state) "
                "VALUES (%s, 1, 'OrientationDecidee', %s)"
            ).format(sql.Identifier(pg_settings.postgres_schema, "parcours_events")),
            (broken, b'{"effective_on": "not a date"}'),
        )
    model = projector.model("suivi")
    assert isinstance(model, SuiviModel)
    assert isinstance(model.store.table, PostgresTable)
    rebuild_suivi(app, model.store.table, projector.tracking_name(model), workers=2, min_share=1)
    assert sorted_cases(app) == before
    assert projector.positions()["suivi"] == app.max_position()
    assert {(e.model, e.case_id) for e in projector.quarantine.entries()} == {("suivi", broken)}
    with psycopg.connect(**conninfo(pg_settings)) as conn:
        staging = conn.execute(
            "SELECT to_regclass(%s)", (f"{pg_settings.postgres_schema}.suivi_rebuild",)
        ).fetchone()
    assert staging == (None,)
    app.close()


def sorted_cases(app: Parcours) -> list[tuple[UUID, list[Suivi]]]:
    store = Statistiques(app).store
    return sorted((episodes[0].case_id, episodes) for episodes in store.scan())


def folded_by_case(events: list[Recorded]) -> dict[UUID, list[Suivi]]:
    by_case: dict[UUID, list[Recorded]] = {}
    for r in events:
        by_case.setdefault(r.originator_id, []).append(r)
    return {case_id: suivre(history) for case_id, history in by_case.items()}


def conninfo(settings: Settings) -> dict[str, object]:
    return {
        "host": settings.postgres_host,
        "port": settings.postgres_port,
        "user": settings.postgres_user,
        "dbname": settings.postgres_dbname,
    }
