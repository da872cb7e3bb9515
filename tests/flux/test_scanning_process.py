"""The validating pass run in another process (large files): batches are prepared while the
file is read and written only once it has validated; a file refused whole writes nothing, even
when it breaks after batches were prepared."""

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters.application import Parcours
from adapters.flux.importer import FluxImporter
from adapters.settings import Settings
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
