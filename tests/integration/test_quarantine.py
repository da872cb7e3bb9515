"""Events that got into the log under the rules' back, on a real SQLite file and PostgreSQL: the
projector quarantines their case and goes on with every other, `parcours status` exits 1 and
names the case, `parcours rebuild` completes with the same rows and the same quarantine, and
voiding the step refolds the case and clears it. On PostgreSQL, a NUL in a text field (which the
read-model tables refuse) is set aside the same way."""

import argparse
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence, Set
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import psycopg.sql
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from adapters.eventlog.store import Parcours
from adapters.readmodels.models import CaseStateModel, history_of, open_case_view
from adapters.readmodels.projector import Projector, health
from adapters.readmodels.quarantine import Quarantined, SystemicFailure
from adapters.settings import Settings
from api.cli.main import cmd_status
from api.services.cases import handle
from api.services.commands import Author
from domain.commands import AnnulerEtape, DeciderOrientation, EnregistrerEntree
from domain.errors import DomainError
from domain.events import CerSigne, DroitSuspendu, Evenement, Meta, Recorded, ReferentDesigne
from domain.vocabulary import OrganismePayeur, TypeOrganisme, TypeOrientation
from tests.conftest import fresh_schema
from tests.strategies import START, STEPS, at

AUTHOR = Author(user="orienteur-cd94", request_id="r-1")


def open_case(app: Parcours) -> UUID:
    case = uuid4()
    entree = EnregistrerEntree(
        effective_on=date(2024, 1, 3),
        numero_dossier=f"CAF-{case.hex[:7]}",
        organisme_payeur=OrganismePayeur("caf"),
        date_flux=date(2024, 1, 4),
        date_reception_flux=date(2024, 1, 8),
    )
    handle(app, case, entree, AUTHOR)
    orientation = DeciderOrientation(
        effective_on=date(2024, 1, 25),
        type_orientation=TypeOrientation("sociale"),
        organisme=TypeOrganisme("ccas"),
        structure_id="ccas-creteil",
    )
    handle(app, case, orientation, AUTHOR)
    return case


def under_the_rules_back(app: Parcours, case: UUID, make: Callable[[Meta], Evenement]) -> int:
    """Append an event without `decide`; returns its version."""
    version = len(app.history(case)) + 1
    meta = Meta(recorded_at=datetime.now(UTC), recorded_by="reprise", request_id="r-bad")
    app.append_many([Recorded(case, version, make(meta))])
    return version


def far_cer(meta: Meta) -> Evenement:
    return CerSigne(
        effective_on=date(2024, 2, 20),
        meta=meta,
        numero=1,
        date_debut=date(9999, 12, 1),
        duree_mois=6,
        renouvellement=False,
    )


def nul_referent(meta: Meta) -> Evenement:
    return ReferentDesigne(effective_on=date(2024, 1, 29), meta=meta, referent_id="ref\x00durand")


def good_referent(meta: Meta) -> Evenement:
    return ReferentDesigne(effective_on=date(2024, 1, 30), meta=meta, referent_id="ref-martin")


def suspension(meta: Meta) -> Evenement:
    return DroitSuspendu(effective_on=date(2024, 2, 1), meta=meta, motif="ressources")


def void(app: Parcours, case: UUID, version: int) -> None:
    command = AnnulerEtape(
        effective_on=date.today(), version_annulee=version, motif="saisie erronée"
    )
    handle(app, case, command, AUTHOR)


def held(projector: Projector) -> dict[str, set[UUID]]:
    out: dict[str, set[UUID]] = {}
    for entry in projector.quarantine.entries():
        out.setdefault(entry.model, set()).add(entry.case_id)
    return out


def rows(projector: Projector) -> dict[str, Any]:
    """What the case-state and follow-up models hold."""
    view = projector.view
    suivi = projector.model("suivi").store  # type: ignore[attr-defined]
    ids = set(view.all_rows())
    return {"case_state": view.all_rows(), "suivi": suivi.cases(ids)}


def status_code(settings: Settings) -> int:
    try:
        cmd_status(settings, argparse.Namespace(json=False))
    except SystemExit as e:
        return int(e.code or 0)
    return 0


@pytest.mark.parametrize("bad", [far_cer, nul_referent], ids=["year-9999", "nul"])
def test_a_bad_event_is_quarantined_rebuilt_alike_and_cleared_by_its_correction(
    parcours: Parcours,
    settings: Settings,
    bad: Callable[[Meta], Evenement],
    capsys: pytest.CaptureFixture[str],
) -> None:
    if bad is nul_referent and settings.store == "sqlite":
        pytest.skip("SQLite keeps a NUL in a text column: nothing to refuse")
    projector = Projector(parcours)
    broken, other = open_case(parcours), open_case(parcours)
    projector.catch_up()
    poisoned = under_the_rules_back(parcours, broken, bad)
    under_the_rules_back(parcours, other, good_referent)
    under_the_rules_back(parcours, broken, suspension)  # a later event of the broken case

    projector.catch_up()
    end = parcours.max_position()
    assert set(projector.positions().values()) == {end}
    assert projector.view.get(other) is not None
    assert projector.view.get(other).referent_id == "ref-martin"  # type: ignore[union-attr]
    quarantined = held(projector)
    assert quarantined["case_state"] == {broken}
    assert quarantined["suivi"] == {broken}
    entry: Quarantined = next(e for e in projector.quarantine.entries() if e.model == "suivi")
    assert entry.position == end - 2  # the bad event itself, not the one after it
    assert entry.event_type == ("CerSigne" if bad is far_cer else "ReferentDesigne")

    report = health(projector)
    assert report.status == "degraded"
    assert status_code(settings) == 1
    assert str(broken) in capsys.readouterr().out

    incremental = rows(projector)
    projector.rebuild()
    assert set(projector.positions().values()) == {end}
    assert held(projector) == quarantined
    assert rows(projector) == incremental

    void(parcours, broken, poisoned)
    projector.catch_up()
    assert held(projector) == {}
    assert health(projector).status == "ok"
    assert status_code(settings) == 0
    row = projector.view.get(broken)
    assert row is not None
    assert row.version == poisoned + 2
    assert (row.nb_cer, row.referent_id, row.droit_suspendu) == (0, None, True)


def test_the_projector_loop_outlives_a_bad_event(parcours: Parcours) -> None:
    projector = Projector(parcours)
    stop = threading.Event()
    loop = threading.Thread(target=projector.run_forever, args=(stop,), daemon=True)
    loop.start()
    try:
        broken = open_case(parcours)
        under_the_rules_back(parcours, broken, far_cer)
        other = open_case(parcours)
        deadline = time.monotonic() + 300
        while projector.position() < parcours.max_position():
            assert loop.is_alive()
            assert time.monotonic() < deadline, projector.positions()
            time.sleep(0.05)
        assert loop.is_alive()
        assert projector.view.get(other) is not None
        assert held(projector)["case_state"] == {broken}
    finally:
        stop.set()
        loop.join(timeout=10)


Store = Callable[[], AbstractContextManager[Settings]]


@contextmanager
def _sqlite() -> Iterator[Settings]:
    with tempfile.TemporaryDirectory() as tmp:
        yield Settings(store="sqlite", data_dir=Path(tmp))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Store:
    """A fresh store per hypothesis example (a function fixture would be shared by all)."""
    if request.param == "postgres":
        request.getfixturevalue("pg_database")
        return fresh_schema
    return _sqlite


@hsettings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=STEPS,
    batch=st.integers(1, 7),
    poisoned_at=st.integers(0, 30),
    voided_at=st.none() | st.integers(0, 30),
)
def test_incremental_and_rebuilt_agree_with_a_bad_event(
    store: Store,
    steps: list[Any],
    batch: int,
    poisoned_at: int,
    voided_at: int | None,
) -> None:
    """Whatever the batches, the catch-up points and when the bad event comes (and whether it
    is voided later), the live path and a rebuild hold the same rows and the same quarantine."""
    cases = [UUID(int=i + 1) for i in range(4)]
    with store() as settings:
        app = Parcours(settings)
        projector = Projector(app, batch=batch)
        for case in cases:
            entree = EnregistrerEntree(
                effective_on=START,
                numero_dossier="CAF-1",
                organisme_payeur=OrganismePayeur("caf"),
                date_flux=START,
                date_reception_flux=START,
            )
            handle(app, case, entree, AUTHOR)
        day = START
        poisoned: int | None = None
        for i, (index, command, gap, catch_up) in enumerate(steps):
            day += timedelta(days=gap)
            if i == poisoned_at:
                poisoned = under_the_rules_back(app, cases[0], far_cer)
            if poisoned is not None and i == voided_at:
                void(app, cases[0], poisoned)
            with suppress(DomainError, ValueError):  # the rules cannot fold a poisoned case
                handle(app, cases[index], at(command, day), AUTHOR)
            if catch_up:
                projector.catch_up()
        if poisoned is None:
            under_the_rules_back(app, cases[0], far_cer)
        projector.catch_up()
        assert set(projector.positions().values()) == {app.max_position()}
        incremental, quarantined = rows(projector), held(projector)
        projector.rebuild()
        assert rows(projector) == incremental
        assert held(projector) == quarantined
        app.close()


class _FaultyCaseState(CaseStateModel):
    """The case-state model with a fault of its own: it cannot fold any case."""

    def fold(self, records: Sequence[Recorded], refold: Set[UUID]) -> dict[UUID, Any]:
        raise KeyError("a rule file the fold needs is missing")


def test_a_fault_of_the_model_quarantines_nothing_and_stops_it_where_it_is(
    parcours: Parcours,
) -> None:
    """When most cases of a batch fail at once, the model is at fault, not the cases: nothing
    is set aside, the position stays, and the repaired model then folds every case."""
    for _ in range(12):
        open_case(parcours)
    faulty = Projector(
        parcours, models=[_FaultyCaseState(open_case_view(parcours), history_of(parcours))]
    )
    with pytest.raises(SystemicFailure):
        faulty.catch_up()
    assert faulty.position() == 0
    assert faulty.quarantine.entries() == []

    repaired = Projector(parcours)
    repaired.catch_up()
    assert repaired.position() == parcours.max_position()
    assert len(repaired.view.all_rows()) == 12
    assert repaired.quarantine.entries() == []


def _alter_payload(app: Parcours, position: int) -> None:
    """Overwrite a stored event's payload in the database, as a faulty disk or a hand-made
    UPDATE would: no decoder reads it any more."""
    table, garbage = app.recorder.events_table_name, b'{"type":"ReferentDesigne","effective_on":'
    if app.settings.store == "sqlite":
        with sqlite3.connect(app.settings.sqlite_file) as conn:
            conn.execute(f"UPDATE {table} SET state = ? WHERE rowid = ?", (garbage, position))
        return
    with psycopg.connect(**app.settings.postgres_conninfo(), autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("UPDATE {} SET state = %s WHERE notification_id = %s").format(
                psycopg.sql.Identifier(app.settings.postgres_schema, table)
            ),
            (garbage, position),
        )


def test_an_event_no_decoder_reads_sets_its_case_aside_and_stops_nothing(
    parcours: Parcours,
) -> None:
    """A payload altered in the database: every read model sets the case aside and goes on
    with the others, live and in a rebuild; health says so."""
    before, broken = open_case(parcours), open_case(parcours)
    under_the_rules_back(
        parcours,
        broken,
        lambda meta: ReferentDesigne(effective_on=date(2024, 1, 29), meta=meta, referent_id="r1"),
    )
    _alter_payload(parcours, parcours.max_position())
    after = open_case(parcours)
    projector = Projector(parcours, batch=3)

    projector.catch_up()

    assert set(projector.positions().values()) == {parcours.max_position()}
    assert {model: ids for model, ids in held(projector).items()} == {
        name: {broken} for name in projector.positions()
    }
    assert {before, after} <= set(projector.view.all_rows())
    assert health(projector).status == "degraded"
    projected = rows(projector)["case_state"]

    projector.rebuild()

    assert set(projector.positions().values()) == {parcours.max_position()}
    assert held(projector)["case_state"] == held(projector)["suivi"] == {broken}
    assert {i: r for i, r in rows(projector)["case_state"].items() if i != broken} == {
        i: r for i, r in projected.items() if i != broken
    }
