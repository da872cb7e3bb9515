"""`parcours retention run` on both stores: a case closed two years and a day ago has its
identity erased, one closed two years less a day ago keeps it, an open case and a re-opened one
always do; each erasure is in the access log; à blanc nothing is erased; a second run erases
nothing more; the access log past its year is purged in the same run."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID

import msgspec
import pytest
from structlog.testing import capture_logs

from adapters.access_log import Acces, AccessFilter, AccessLog
from adapters.eventlog.store import Parcours
from adapters.identity import Identite, IdentityStore
from adapters.readmodels.projector import Projector
from adapters.settings import Settings
from api.cli.main import main
from api.services.retention_run import AGENT, run
from domain import events as ev
from domain.vocabulary import MotifCloture, TypeSortie
from tests.delais_history import Person

NOW = datetime(2026, 6, 15, 10, tzinfo=UTC)
TODAY = date(2026, 6, 15)
TWO_YEARS = 730


class Closed(Person):
    def clos(self, day: date) -> "Closed":
        self._add(ev.DroitClos(effective_on=day, meta=self.meta(day), motif=MotifCloture.RADIATION))
        return self


def departement() -> dict[str, Closed]:
    long_ago = TODAY - timedelta(days=TWO_YEARS + 1)
    not_yet = TODAY - timedelta(days=TWO_YEARS - 1)
    people = {
        "closed_long_ago": Closed(1, "94028").entree(date(2020, 1, 6), date(2020, 1, 6)),
        "closed_recently": Closed(2, "94028").entree(date(2020, 1, 6), date(2020, 1, 6)),
        "exited_long_ago": Closed(3, "94028").entree(date(2020, 1, 6), date(2020, 1, 6)),
        "open": Closed(4, "94028").entree(date(2020, 1, 6), date(2020, 1, 6)),
        "reopened": Closed(5, "94028").entree(date(2020, 1, 6), date(2020, 1, 6)),
    }
    people["closed_long_ago"].clos(long_ago)
    people["closed_recently"].clos(not_yet)
    people["exited_long_ago"].sortie(long_ago, TypeSortie.EMPLOI_CDI)
    people["reopened"].clos(long_ago)
    people["reopened"].rouvert(date(2025, 2, 3), date(2025, 2, 3))
    return people


def _identite(n: int) -> Identite:
    return Identite(organisme="caf", matricule=f"77{n:05d}", nom=f"Martin{n}", prenoms=["Paul"])


@pytest.fixture
def app(settings: Settings) -> Parcours:
    parcours = Parcours(settings, clock=lambda: NOW)
    people = departement()
    parcours.append_many(
        sorted(
            (r for p in people.values() for r in p.events),
            key=lambda r: (r.event.meta.recorded_at, r.originator_id.int),
        )
    )
    Projector(parcours).catch_up()
    vault = IdentityStore(settings)
    with vault.db.transaction() as tx:
        vault.insert(
            tx,
            [
                (vault.blind_index("caf", f"77{p.case_id.int:05d}", None), p.case_id, i)
                for p in people.values()
                for i in [_identite(p.case_id.int)]
            ],
        )
    journal = AccessLog.of(parcours)
    for age in (400, 10):  # one access past its year, one within it
        journal.record(
            Acces(
                at=NOW - timedelta(days=age),
                agent="agent-7",
                roles=["agent"],
                structures=["ccas-a"],
                case_id=people["open"].case_id,
                method="GET",
                path="/dossiers",
                purpose="lecture",
                motif=None,
                outcome="granted",
            )
        )
    return parcours


def test_identities_past_retention_are_erased_and_only_those(app: Parcours) -> None:
    people = departement()
    ids = {name: p.case_id for name, p in people.items()}
    vault = IdentityStore(app.settings)
    assert vault.held(list(ids.values())) == set(ids.values())

    dry = run(app, a_blanc=True)
    due = {ids["closed_long_ago"], ids["exited_long_ago"]}
    assert {e.case_id for e in dry.identites} == due
    assert dry.acces_purges == 1
    assert vault.held(list(ids.values())) == set(ids.values())  # à blanc: nothing erased
    assert AccessLog.of(app).find(AccessFilter())[1] == 2

    with capture_logs() as logged:
        report = run(app)
    assert {e.case_id for e in report.identites} == due
    erased_lines = [e for e in logged if e["event"] == "retention.identite_effacee"]
    assert {UUID(e["case_id"]) for e in erased_lines} == due
    by_case = {e.case_id: e for e in report.identites}
    assert by_case[ids["closed_long_ago"]].fin_parcours == TODAY - timedelta(days=TWO_YEARS + 1)
    assert vault.held(list(ids.values())) == set(ids.values()) - due
    for name in ("closed_recently", "open", "reopened"):
        assert vault.read(ids[name]) == _identite(ids[name].int)
    for case_id in due:
        assert vault.read(case_id) is None
        assert vault.search([f"martin{case_id.int}"], 10) == []
        erasures, _ = AccessLog.of(app).find(AccessFilter(case_id=case_id))
        assert [(a.agent, a.purpose) for a in erasures] == [
            (AGENT, "effacement de l'identité (fin de la durée de conservation)")
        ]
    assert report.acces_purges == 1
    assert report.livraisons_rdvi_purgees == 0

    again = run(app)
    assert again.identites == []
    assert again.acces_purges == 0
    assert AccessLog.of(app).find(AccessFilter())[1] == 3  # the recent access + 2 erasures


def test_a_read_model_behind_the_log_erases_nothing(app: Parcours) -> None:
    """A re-opening recorded but not folded yet: the log, not the lagging row, decides."""
    case_id = departement()["closed_long_ago"].case_id
    reopened = ev.DroitRouvert(
        effective_on=date(2026, 6, 1),
        meta=Person.meta(date(2026, 6, 1)),
        date_flux=date(2026, 6, 1),
        date_reception_flux=date(2026, 6, 1),
        soumis_droits_devoirs=True,
    )
    app.append_many([ev.Recorded(case_id, len(app.history(case_id)) + 1, reopened)])
    report = run(app)
    assert case_id in report.ecartes
    assert case_id not in {e.case_id for e in report.identites}
    assert IdentityStore(app.settings).read(case_id) is not None


def test_the_command(
    app: Parcours,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    if settings.store == "postgres":
        pytest.skip("the command's clock is the machine's: its store does not matter here")
    for key, value in {
        "PARCOURS_STORE": settings.store,
        "PARCOURS_DATA_DIR": str(settings.data_dir),
        "PARCOURS_LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(key, value)
    main(["retention", "run", "--a-blanc", "--json"])
    report = msgspec.json.decode(capsys.readouterr().out)
    assert report["a_blanc"] is True
    # Today is the machine's: every closed case of 2024 and before is past two years by now.
    assert len(report["identites"]) >= 2
    main(["retention", "run"])
    out = capsys.readouterr().out
    assert "Identités effacées" in out
    main(["retention", "run", "--json"])
    assert msgspec.json.decode(capsys.readouterr().out)["identites"] == []
    with pytest.raises(SystemExit) as refused:
        main(["retention", "run", "--jours", "0"])
    assert refused.value.code == 2
