"""The financing activity read model on both stores: folded batch by batch it equals a rebuild
from zero and the pure fold of each history; a cancellation refolds its case."""

from datetime import UTC, datetime
from uuid import UUID

from adapters.eventlog.store import Parcours
from adapters.readmodels.models import open_read_models
from adapters.readmodels.projector import Projector
from api.services.finance import Finance
from domain import events as ev
from projections.activity import Activite, activite
from tests.finance_history import D, everyone, log_events


def _by_case(finance: Finance) -> dict[UUID, Activite]:
    snap = finance.snapshot(with_aave=True)
    return {a.case_id: a for a in snap.activites}


def test_incremental_equals_rebuild_and_pure_fold(parcours: Parcours) -> None:
    people = everyone()
    events = log_events(people)
    projector = Projector(parcours, batch=7, models=open_read_models(parcours))
    for start in range(0, len(events), 40):
        parcours.append_many(events[start : start + 40])
        projector.catch_up()
    finance = Finance(parcours)
    incremental = _by_case(finance)
    expected = {p.case_id: activite(p.events).activite for p in people.values()}
    assert incremental == expected
    snap = finance.snapshot(with_aave=True)
    assert snap.position == parcours.max_position()
    assert len(snap.suivis) == 6  # the six AAVE cases' episodes only
    projector.rebuild()
    assert _by_case(finance) == incremental


def test_a_cancellation_refolds_its_case(parcours: Parcours) -> None:
    people = everyone()
    parcours.append_many(log_events(people))
    projector = Projector(parcours)
    projector.catch_up()
    b1 = people["B1"]
    cancel = ev.EtapeAnnulee(
        effective_on=D(2023, 1, 10),
        meta=ev.Meta(
            recorded_at=datetime(2023, 1, 10, tzinfo=UTC), recorded_by="agent", request_id="x"
        ),
        version_annulee=6,
        motif="mauvais dossier",
    )
    parcours.append_many([ev.Recorded(b1.case_id, 7, cancel)])
    projector.catch_up()
    stored = _by_case(Finance(parcours))[b1.case_id]
    assert stored == activite(parcours.history(b1.case_id)).activite
    assert stored.sorties == []
    assert stored.version == 7
