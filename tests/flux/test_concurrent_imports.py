"""Two imports of the same flux at once: each fact is written once, nothing is lost."""

import threading
from collections import Counter
from datetime import date
from pathlib import Path

from adapters.application import Parcours
from adapters.flux.importer import FluxImporter
from adapters.flux.reports import Rapport
from adapters.settings import Settings
from adapters.sql import Db
from scripts.flux_generator import write
from tests.flux.helpers import clock, events


def test_the_same_file_imported_twice_at_once(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "monthly.xml"
    write(path, 120, seed=11, created=date(2022, 3, 5), reference=date(2022, 2, 28))
    setup = Parcours(settings, clock=clock())
    FluxImporter(setup)  # the tables exist before the race (creating them is not what is tested)
    setup.close()
    reports: list[Rapport] = []
    errors: list[BaseException] = []

    def run() -> None:
        app = Parcours(settings, clock=clock())
        try:
            reports.append(FluxImporter(app, batch_size=20).import_file(path))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            app.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
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
