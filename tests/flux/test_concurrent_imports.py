"""Two imports of the same flux at once: each fact is written once, nothing is lost."""

import threading
from collections import Counter
from datetime import date
from pathlib import Path

from adapters.eventlog.store import Parcours
from adapters.flux.reports import Rapport
from adapters.settings import Settings
from adapters.sql import Db
from api.services.flux_import import FluxImporter
from scripts.flux_generator import write
from tests.flux.helpers import clock, events


def test_the_same_file_imported_twice_at_once(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "monthly.xml"
    write(path, 600, seed=11, created=date(2022, 3, 5), reference=date(2022, 2, 28))
    # Each import has its own application; they are opened (tables created) before the race.
    apps = [Parcours(settings, clock=clock()) for _ in range(2)]
    importers = [FluxImporter(app, batch_size=10) for app in apps]
    reports: list[Rapport] = []
    errors: list[BaseException] = []

    def run(importer: FluxImporter) -> None:
        try:
            reports.append(importer.import_file(path))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in importers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for opened in apps:
        opened.close()
    assert errors == []
    assert [r.foyers_rejetes for r in reports] == [0, 0]

    app = Parcours(settings, clock=clock())
    written = events(app)
    per_case = Counter(case for case, _, _ in written)
    entries = Counter(case for case, _, e in written if type(e).__name__ == "EntreeEnregistree")
    assert set(entries) == set(per_case)
    assert set(entries.values()) == {1}
    assert sum(r.evenements_total for r in reports) == len(written)
    with Db(settings).transaction() as tx:
        assert tx.execute("SELECT count(*) FROM identite") == [(len(per_case),)]
    # A third, sequential import finds every fact held.
    assert FluxImporter(app).import_file(path).evenements_total == 0
    app.close()
