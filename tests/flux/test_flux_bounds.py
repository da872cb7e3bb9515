"""The flux goes through the same bounds as the API: a household whose dates lie outside any
plausible window is reported with its line and the bound it breaks, and nothing of it is
written; the other households of the file are imported."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.eventlog.store import Parcours
from adapters.settings import Settings
from api.services.flux_import import FluxImporter
from tests.flux.helpers import FIXTURES, clock, events, variant


@pytest.fixture
def app(settings: Settings) -> Parcours:
    return Parcours(settings, clock=clock(datetime(2022, 6, 1, 9, 0, tzinfo=UTC)))


def test_an_application_dated_year_one_is_reported_not_written(
    app: Parcours, tmp_path: Path
) -> None:
    path = variant(
        tmp_path,
        "RSABEM-ouvert.xml",
        "an-un.xml",
        ("<DTDEMRSA>2018-08-06</DTDEMRSA>", "<DTDEMRSA>0001-01-01</DTDEMRSA>"),
    )
    rapport = FluxImporter(app).import_file(path)
    assert rapport.foyers_rejetes == 1
    assert rapport.rejets[0].ligne > 0
    assert rapport.rejets[0].motif.startswith("date_hors_limites: effective_on")
    assert events(app) == []
    # The same file with a plausible date is imported as before.
    assert FluxImporter(app).import_file(FIXTURES / "RSABEM-ouvert.xml").foyers_importes == 1
