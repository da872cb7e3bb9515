"""Many clients writing to the same case: exactly the winners' events, no lost update; and an
idempotency key is written in the same transaction as its events."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from threading import Barrier
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from adapters.eventlog.recorders import IdempotencyRecord
from adapters.eventlog.store import Parcours
from api.services.cases import Outcome, handle
from api.services.commands import Author, IdempotencyKeyReused, VersionConflict
from domain.commands import DesignerReferent, EnregistrerEntree, PlanifierRdv
from domain.decide import Contexte, decide
from domain.dossier import Dossier
from domain.events import Meta, Recorded
from domain.vocabulary import ModeRdv, OrganismePayeur, TypeRdv

AUTHOR = Author(user="agent", request_id="r")
ENTREE = EnregistrerEntree(
    effective_on=date(2024, 1, 3),
    numero_dossier="CAF-1",
    organisme_payeur=OrganismePayeur.CAF,
    date_flux=date(2024, 1, 4),
    date_reception_flux=date(2024, 1, 8),
)
INFO = PlanifierRdv(
    effective_on=date(2024, 1, 10),
    type_rdv=TypeRdv.INFORMATION_COLLECTIVE,
    mode=ModeRdv.INVITATION,
    date_rdv=date(2024, 1, 20),
)


def _race(parcours: Parcours, clients: int, expected_version: int | None) -> list[object]:
    case_id = uuid4()
    handle(parcours, case_id, ENTREE, AUTHOR)
    start = Barrier(clients)

    def client(n: int) -> object:
        start.wait()
        try:
            return handle(parcours, case_id, INFO, AUTHOR, expected_version=expected_version)
        except VersionConflict as conflict:
            return conflict

    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(client, range(clients)))
    results.append(parcours.load(case_id))
    return results


def test_same_expected_version_only_one_client_wins(parcours: Parcours) -> None:
    *results, (state, version) = _race(parcours, clients=8, expected_version=1)
    winners = [r for r in results if not isinstance(r, VersionConflict)]
    assert len(winners) == 1
    assert all(r.actual >= 2 for r in results if isinstance(r, VersionConflict))  # type: ignore[attr-defined]
    assert version == 2
    assert sorted(state.rdvs) == [1]


def test_without_expected_version_every_write_lands_once(parcours: Parcours) -> None:
    *results, (state, version) = _race(parcours, clients=3, expected_version=None)
    assert not [r for r in results if isinstance(r, VersionConflict)]
    assert version == 4
    assert sorted(state.rdvs) == [1, 2, 3]


def test_a_replayed_key_writes_nothing_and_a_reused_key_is_refused(parcours: Parcours) -> None:
    case_id = uuid4()
    handle(parcours, case_id, ENTREE, AUTHOR)
    referent = DesignerReferent(effective_on=date(2024, 1, 29), referent_id="ref-1")
    first = handle(parcours, case_id, INFO, AUTHOR, idempotency_key="k", fingerprint="f1")
    again = handle(parcours, case_id, INFO, AUTHOR, idempotency_key="k", fingerprint="f1")
    assert again.replayed
    assert (again.version, again.position) == (first.version, first.position)
    with pytest.raises(IdempotencyKeyReused):
        handle(parcours, case_id, referent, AUTHOR, idempotency_key="k", fingerprint="f2")
    assert parcours.load(case_id)[1] == 2
    assert parcours.max_position() == first.position


def test_a_key_and_its_events_commit_together(parcours: Parcours) -> None:
    """A write whose key already exists rolls its events back too."""
    case_id = uuid4()
    handle(parcours, case_id, ENTREE, AUTHOR, idempotency_key="same", fingerprint="f")
    other = uuid4()
    record = parcours.recorder.find_idempotency("same")
    assert record is not None
    assert record.case_id == case_id
    ctx = Contexte(
        today=date(2024, 12, 1),
        meta=Meta(recorded_at=parcours.clock(), recorded_by="a", request_id="same"),
    )
    [event] = decide(Dossier(), ENTREE, ctx)
    with pytest.raises(IntegrityError):
        parcours.save(
            Recorded(other, 1, event),  # type: ignore[arg-type]
            idempotency=IdempotencyRecord(
                key="same", fingerprint="f", case_id=other, version=1, status=201
            ),
        )
    assert parcours.history(other) == []
    assert parcours.max_position() == 1


def _same_key_race(parcours: Parcours, clients: int, key: str) -> tuple[UUID, list[Outcome]]:
    case_id = uuid4()
    start = Barrier(clients)

    def client(_: int) -> Outcome:
        start.wait()
        return handle(parcours, case_id, ENTREE, AUTHOR, idempotency_key=key, fingerprint="f")

    with ThreadPoolExecutor(clients) as pool:
        return case_id, list(pool.map(client, range(clients)))


def test_clients_racing_on_one_key_each_get_the_one_write(parcours: Parcours) -> None:
    """Twelve clients sending the same entry with the same key, round after round: every one
    gets the case, one write is recorded, and a lost race never surfaces as a store failure
    (on PostgreSQL a statement queued behind the failing insert would be aborted)."""
    for n in range(40):
        case_id, outcomes = _same_key_race(parcours, 12, f"entry-{n}")
        assert {(o.case_id, o.version, o.position) for o in outcomes} == {
            (case_id, 1, outcomes[0].position)
        }
        assert sum(not o.replayed for o in outcomes) == 1
        assert len(parcours.history(case_id)) == 1
