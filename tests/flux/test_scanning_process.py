"""The validating pass run in another process (large files): batches are prepared while the
file is read and written only once it has validated; a file refused whole writes nothing, even
when it breaks after batches were prepared."""

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters.eventlog.store import Parcours
from adapters.settings import Settings
from adapters.sql import Db
from api.services.flux_import import FluxImporter
from scripts.flux_generator import write
from tests.flux.helpers import FIXTURES, clock, events


@pytest.fixture
def app(settings: Settings) -> Parcours:
    return Parcours(settings, clock=clock(datetime(2022, 6, 1, 9, 0, tzinfo=UTC)))


def _write(path: Path) -> None:
    write(path, 120, seed=3, created=date(2022, 3, 5), reference=date(2022, 2, 28))


def _importer(app: Parcours) -> FluxImporter:
    return FluxImporter(app, batch_size=16, parallel_from=0)


def test_a_file_read_in_another_process_is_imported_once(app: Parcours, tmp_path: Path) -> None:
    path = tmp_path / "flux.xml"
    _write(path)
    rapport = _importer(app).import_file(path)
    assert (rapport.statut, rapport.foyers) == ("importe", 120)
    assert rapport.foyers_importes + rapport.foyers_inchanges == 120
    assert rapport.evenements_total == app.max_position() > 120
    written = Counter(type(e).__name__ for _, _, e in events(app))
    assert written == Counter(rapport.evenements)
    again = _importer(app).import_file(path)
    assert (again.evenements_total, again.foyers_inchanges) == (0, 120)
    assert app.max_position() == rapport.evenements_total


def test_a_file_broken_after_prepared_batches_writes_nothing(app: Parcours, tmp_path: Path) -> None:
    whole = tmp_path / "whole.xml"
    _write(whole)
    text = whole.read_bytes()
    broken = tmp_path / "broken.xml"
    broken.write_bytes(text[: len(text) - 200])  # cut in the last household
    importer = _importer(app)
    rapport = importer.import_file(broken)
    assert rapport.statut == "rejete"
    assert rapport.rejets[0].ligne > 100
    assert app.max_position() == 0
    with importer.identities.db.transaction() as tx:
        assert tx.execute("SELECT count(*) FROM identite") == [(0,)]
        assert tx.execute("SELECT count(*) FROM identite_cle") == [(0,)]


def test_a_refused_sample_read_in_another_process(app: Parcours) -> None:
    rapport = _importer(app).import_file(FIXTURES / "RSABEI_invalid.xml")
    assert (rapport.statut, rapport.rejets[0].ligne) == ("rejete", 12)
    assert "Expected is one of ( Personne, DonneesAdministratives )" in rapport.rejets[0].motif
    assert app.max_position() == 0


def test_a_household_named_again_in_a_later_batch_is_not_created_twice(
    app: Parcours, tmp_path: Path
) -> None:
    """The later batch was prepared before the earlier one was written: it loses the race on
    the blind index and is replayed against the case the earlier batch created."""
    once = tmp_path / "once.xml"
    _write(once)
    lines = once.read_text(encoding="cp1252").splitlines(keepends=True)
    households = [i for i, line in enumerate(lines) if line.startswith("<InfosFoyerRSA>")]
    first = next(
        lines[i]
        for i in households
        if "<ETATDOSRSA>2<" in lines[i] and "<TOPPERSDRODEVORSA>1<" in lines[i]
    )
    twice = tmp_path / "twice.xml"
    twice.write_text(
        "".join([*lines[: households[-1] + 1], first, *lines[households[-1] + 1 :]]),
        encoding="cp1252",
    )
    rapport = _importer(app).import_file(twice)
    assert (rapport.statut, rapport.foyers, rapport.foyers_rejetes) == ("importe", 121, 0)
    assert rapport.foyers_inchanges >= 1
    written = events(app)
    assert len(written) == rapport.evenements_total
    assert len({(case_id, version) for case_id, version, _ in written}) == len(written)
    cases = {case_id for case_id, _, _ in written}
    assert len(cases) == rapport.dossiers_crees
    with Db(app.settings).transaction() as tx:
        assert tx.execute("SELECT count(*) FROM identite") == [(len(cases),)]
    again = _importer(app).import_file(once)
    assert again.evenements_total == 0
