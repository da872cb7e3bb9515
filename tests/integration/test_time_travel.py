"""The recording-time index and the département's folds as known at a moment, on both stores.

Recording times out of log order (concurrent writers, imported histories) are written on
purpose; each answer is written out by hand. Then a synthetic département, corrected here and
there, folded as known at many moments and as of many days, must equal case by case the pure
fold of each case's own history."""

import random
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from adapters.eventlog.reading import case_history
from adapters.eventlog.store import Parcours
from adapters.readmodels.models import open_suivi_store
from adapters.readmodels.projector import Projector
from adapters.readmodels.recording_index import (
    open_recording_index,
    position_known_at,
    prefix_known_at,
    read_known_at,
)
from adapters.synthetic import load
from api.services.audit import episodes_at, states_at
from api.services.cases import handle
from api.services.commands import Author
from domain.bitemporal import known_at
from domain.commands import AnnulerEtape, RectifierEtape
from domain.errors import DomainError
from domain.events import DroitRepris, DroitSuspendu, EntreeEnregistree, Meta, Recorded
from domain.vocabulary import OrganismePayeur
from projections.case_state import case_row
from projections.suivi import suivre

A, B, C, D = (UUID(int=n) for n in (10, 11, 12, 13))
T0 = datetime(2024, 3, 1, 10, tzinfo=UTC)


def ms(n: int) -> datetime:
    return T0 + timedelta(milliseconds=n)


def meta(n: int) -> Meta:
    return Meta(recorded_at=ms(n), recorded_by="agent", request_id=f"r{n}")


def entree(n: int) -> EntreeEnregistree:
    return EntreeEnregistree(
        effective_on=date(2024, 2, 1),
        meta=meta(n),
        numero_dossier="CAF-1",
        organisme_payeur=OrganismePayeur.CAF,
        date_flux=date(2024, 2, 1),
        date_reception_flux=date(2024, 2, 2),
        soumis_droits_devoirs=True,
    )


def stamped_out_of_order(app: Parcours) -> None:
    """pos 1: A v1 at .100; pos 2: B v1 at .050 (its writer read the clock first); pos 3: C v1
    at .200; pos 4: A v2 at .300; pos 5: D v1 at .150 (imported); pos 6: A v3 at .120 (a
    skewed clock)."""
    for recorded in [
        Recorded(A, 1, entree(100)),
        Recorded(B, 1, entree(50)),
        Recorded(C, 1, entree(200)),
        Recorded(A, 2, DroitSuspendu(effective_on=date(2024, 2, 10), meta=meta(300))),
        Recorded(D, 1, entree(150)),
        Recorded(A, 3, DroitRepris(effective_on=date(2024, 2, 20), meta=meta(120))),
    ]:
        app.append_many([recorded])


def positions(app: Parcours, moment: datetime) -> list[int]:
    return [r.position for batch in read_known_at(app, moment, batch=2) for r in batch]


def test_the_index_finds_what_was_known(parcours: Parcours) -> None:
    app = parcours
    stamped_out_of_order(app)
    bounds = {
        n: (prefix_known_at(app, ms(n)), position_known_at(app, ms(n)))
        for n in (0, 50, 100, 150, 250, 300)
    }
    assert bounds == {
        0: (0, 0),
        50: (0, 2),
        100: (2, 2),
        150: (2, 6),
        250: (3, 6),
        300: (6, 6),
    }
    assert positions(app, ms(0)) == []
    assert positions(app, ms(50)) == [2]
    assert positions(app, ms(100)) == [1, 2]
    # A's v2 (.300) is not known at .150: its v3 (.120) is not shown without it.
    assert positions(app, ms(150)) == [1, 2, 5]
    assert positions(app, ms(250)) == [1, 2, 3, 5]
    assert positions(app, ms(300)) == [1, 2, 3, 4, 5, 6]
    # One case read alone follows the same rule.
    assert [r.originator_version for r in known_at(case_history(app, A), ms(250))] == [1]


def test_the_projector_keeps_the_index_and_a_rebuild_gives_the_same(parcours: Parcours) -> None:
    app = parcours
    stamped_out_of_order(app)
    projector = Projector(app)
    projector.catch_up()
    assert projector.positions()["recording_index"] == projector.positions()["case_state"] == 6
    view = open_recording_index(app)
    assert view.prefix_known_at(int(ms(250).timestamp() * 1_000_000)) == 3
    projector.rebuild()
    assert projector.positions()["recording_index"] == 6
    assert position_known_at(app, ms(150)) == 6
    assert prefix_known_at(app, ms(250)) == 3


def _corrected_departement(app: Parcours) -> None:
    """A synthetic département, then corrections on some cases: the last step of one case in
    three voided, the second step of others moved one day earlier (when the rules accept)."""
    load(app, people=60, years=2, seed=7, start=date(2023, 1, 1))
    rng = random.Random(3)
    author = Author(user="controleur", request_id="audit")
    cases = sorted({r.originator_id for r in _log(app)}, key=str)
    for case_id in rng.sample(cases, 30):
        history = app.history(case_id)
        try:
            if rng.random() < 0.5 and len(history) > 1:
                command: AnnulerEtape | RectifierEtape = AnnulerEtape(
                    effective_on=app.today(), version_annulee=len(history), motif="erreur"
                )
            else:
                step = history[min(1, len(history) - 1)].event
                command = RectifierEtape(
                    effective_on=app.today(),
                    version_rectifiee=min(2, len(history)),
                    effective_on_corrige=step.effective_on - timedelta(days=1),
                    motif="date",
                )
            handle(app, case_id, command, author)
        except DomainError:
            continue


def _log(app: Parcours) -> list[Recorded]:
    return [r for batch in read_known_at(app, datetime.now(UTC) + timedelta(days=1)) for r in batch]


def test_the_departement_as_known_at_equals_each_case_folded_alone(parcours: Parcours) -> None:
    app = parcours
    _corrected_departement(app)
    log = _log(app)
    corrections = [r for r in log if type(r.event).__name__.startswith("Etape")]
    assert len(corrections) >= 10
    stamps = sorted(r.event.meta.recorded_at for r in log)
    moments = [stamps[len(stamps) * k // 6] for k in range(1, 6)]
    moments.append(corrections[len(corrections) // 2].event.meta.recorded_at)
    days = [None, date(2023, 6, 30), date(2024, 2, 29)]
    histories = {case_id: case_history(app, case_id) for case_id in {r.originator_id for r in log}}
    for moment in [*moments, None]:
        for day in days:
            expected = {}
            for case_id, history in histories.items():
                known = history if moment is None else known_at(history, moment)
                row = case_row(known, day)
                if row is not None:
                    expected[case_id] = row
            got = states_at(app, moment, day).rows
            assert got == expected, (moment, day)
    # Now, the read model the projector keeps holds the same rows.
    projector = Projector(app)
    projector.catch_up()
    assert projector.view.all_rows() == states_at(app).rows
    # And a correction seen by the projector in a later batch refolds the case.
    case_id, history = next(
        (k, h) for k, h in sorted(histories.items(), key=lambda kv: str(kv[0])) if len(h) > 3
    )
    try:
        handle(
            app,
            case_id,
            AnnulerEtape(effective_on=app.today(), version_annulee=len(history), motif="x"),
            Author(user="controleur", request_id="audit-2"),
        )
    except DomainError:
        return
    projector.catch_up()
    assert projector.view.get(case_id) == case_row(case_history(app, case_id))


def test_the_follow_up_as_known_at_equals_each_case_folded_alone(parcours: Parcours) -> None:
    """The episodes the délais indicators read, as known at a moment about a day, are each
    case's raw history cut at what was known, folded alone; now, they are the read model's."""
    app = parcours
    _corrected_departement(app)
    log = _log(app)
    corrections = [r for r in log if type(r.event).__name__.startswith("Etape")]
    stamps = sorted(r.event.meta.recorded_at for r in log)
    moments = [stamps[len(stamps) * k // 4] for k in range(1, 4)]
    moments.append(corrections[len(corrections) // 2].event.meta.recorded_at)
    histories = {case_id: case_history(app, case_id) for case_id in {r.originator_id for r in log}}
    for moment in [*moments, None]:
        for day in (None, date(2023, 6, 30), date(2024, 2, 29)):
            expected = {}
            for case_id, history in histories.items():
                episodes = suivre(history if moment is None else known_at(history, moment), day)
                if episodes:
                    expected[case_id] = episodes
            assert episodes_at(app, moment, day).cases == expected, (moment, day)
    Projector(app).catch_up()
    stored = {case[0].case_id: case for case in open_suivi_store(app).scan()}
    assert stored == episodes_at(app).cases
