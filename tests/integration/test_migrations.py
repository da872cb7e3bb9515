"""One ordered list of migrations, on both stores: a new database gets today's schema and its
record; a database created before migrations existed is recognised and left as it was; a
second run does nothing; concurrent starts apply each migration once; a database migrated by
a newer release stops every start with a clear message."""

import json
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.eventlog.store import Parcours
from adapters.flux.reports import ReportStore
from adapters.migrations import INITIAL, MIGRATIONS, DatabaseTooNew, migrate, recorded
from adapters.readmodels.models import open_read_models
from adapters.settings import Settings
from adapters.sql import Db
from api.cli.main import main
from api.http.app import create_app
from tests.integration.schema_catalog import catalog

FIXTURES = Path(__file__).parent.parent / "fixtures" / "schema"
LATEST = [m.id for m in MIGRATIONS]
NEW_TABLES = {"schema_migration", "read_model_version"}
MIGRATION_1_TABLES = {
    "flux_import",
    "identite",
    "identite_cle",
    "identite_recherche",
    "rdvi_livraison",
    "rdvi_ressource",
    "rdvi_participation",
    "rdvi_a_revoir",
    "rdvi_lien",
    "rdvi_invitation",
    "webhook_curseur",
    "webhook_rebut",
    "journal_acces",
    "projection_quarantine",
}


def _today(settings: Settings) -> dict[str, object]:
    """The catalogue the code before migrations created (captured from it, both stores)."""
    found: dict[str, object] = json.loads((FIXTURES / f"v1-{settings.store}.json").read_text())
    return found


def test_a_new_database_migrates_to_the_latest_with_todays_tables(settings: Settings) -> None:
    applied = migrate(settings)
    assert [a.id for a in applied] == LATEST
    assert [(r.id, r.name) for r in recorded(settings)] == [(m.id, m.name) for m in MIGRATIONS]
    expected = {k: v for k, v in _today(settings).items() if k in MIGRATION_1_TABLES}
    assert catalog(settings, MIGRATION_1_TABLES) == expected
    assert set(catalog(settings)) == MIGRATION_1_TABLES | NEW_TABLES
    before = catalog(settings)
    assert migrate(settings) == []  # a second run does nothing
    assert catalog(settings) == before
    assert [r.id for r in recorded(settings)] == LATEST


def test_a_database_of_the_schema_before_migrations_is_recorded_not_altered(
    settings: Settings,
) -> None:
    app = Parcours(settings)
    open_read_models(app)  # the library's tables and the read models', as they are made today
    store = "postgres" if settings.store == "postgres" else "sqlite"
    db = Db(settings)
    with db.transaction() as tx:  # what the stores created themselves before migrations
        for statement in MIGRATIONS[0].sql(store):
            tx.execute(statement)
        tx.execute("INSERT INTO flux_import VALUES (%s, %s, %s)", ("a1", "2024-01-01", '{"x": 1}'))
        tx.execute(
            "INSERT INTO webhook_curseur (abonnement_id, position) VALUES (%s, %s)", ("s", 7)
        )
    assert len(INITIAL) == len(MIGRATIONS[0].statements)
    before = catalog(settings)
    assert {k: v for k, v in before.items() if k in MIGRATION_1_TABLES} == {
        k: v for k, v in _today(settings).items() if k in MIGRATION_1_TABLES
    }
    applied = migrate(settings)
    assert [a.id for a in applied] == LATEST  # migration 1 only recorded: its tables were there
    after = catalog(settings)
    assert {k: v for k, v in after.items() if k not in NEW_TABLES} == before
    with db.transaction() as tx:
        assert tx.execute("SELECT id, rapport FROM flux_import") == [("a1", '{"x": 1}')]
        assert tx.execute("SELECT abonnement_id, position FROM webhook_curseur") == [("s", 7)]
    assert migrate(settings) == []
    app.close()


def test_concurrent_starts_apply_each_migration_once(settings: Settings) -> None:
    errors: list[BaseException] = []
    results: list[list[int]] = []

    def start() -> None:
        try:
            results.append([a.id for a in migrate(settings)])
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(i for ids in results for i in ids) == LATEST
    assert [r.id for r in recorded(settings)] == LATEST


def _env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line's environment pointing at `settings`' store."""
    monkeypatch.setenv("PARCOURS_STORE", settings.store)
    monkeypatch.setenv("PARCOURS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PARCOURS_SQLITE_PATH", str(settings.sqlite_file))
    for name, value in (
        ("POSTGRES_HOST", settings.postgres_host),
        ("POSTGRES_PORT", str(settings.postgres_port)),
        ("POSTGRES_USER", settings.postgres_user),
        ("POSTGRES_DBNAME", settings.postgres_dbname),
        ("POSTGRES_SCHEMA", settings.postgres_schema),
    ):
        monkeypatch.setenv(name, value)


def test_a_database_newer_than_the_code_refuses_every_start(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate(settings)
    with Db(settings).transaction() as tx:
        tx.execute(
            "INSERT INTO schema_migration VALUES (%s, %s, %s)",
            (99, "colonne d'une version future", "2030-01-01T00:00:00+00:00"),
        )
    with pytest.raises(DatabaseTooNew, match="99 \\(colonne d'une version future\\)"):
        migrate(settings)
    _env(settings, monkeypatch)
    with pytest.raises(SystemExit) as exit_:
        main(["migrate"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "base de données plus récente que cette version de parcours" in err
    assert "Traceback" not in err
    with pytest.raises(SystemExit) as exit_:
        main(["project", "--once"])
    assert exit_.value.code == 1
    with pytest.raises(DatabaseTooNew), TestClient(create_app(settings)):
        pass
    # Nothing was written meanwhile: the newer release's record is still the last.
    assert [r.id for r in recorded(settings)] == [*LATEST, 99]


def test_the_command_says_what_it_did_and_a_store_opens_its_tables(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(settings, monkeypatch)
    main(["migrate", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert [a["id"] for a in report["schema"]["appliquees"]] == LATEST
    assert report["schema"]["version"] == LATEST[-1]
    assert {p["nom"] for p in report["projections"]} == {
        "case_state",
        "suivi",
        "recording_index",
        "financement",
    }
    assert not any(p["reconstruite"] for p in report["projections"])
    main(["migrate"])
    out = capsys.readouterr().out
    assert f"schéma à jour : version {LATEST[-1]}" in out
    assert "projection suivi : version 1 (inchangée)" in out
    assert ReportStore(settings).page() == ([], 0)


def test_an_unreachable_store_is_said_with_exit_status_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PARCOURS_STORE", "postgres")
    monkeypatch.setenv("POSTGRES_HOST", "127.0.0.1")
    monkeypatch.setenv("POSTGRES_PORT", "1")  # nothing listens there
    with pytest.raises(SystemExit) as exit_:
        main(["migrate"])
    assert exit_.value.code == 3
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # after a log line on development keys, if any
    assert last.startswith("parcours: stockage injoignable (PostgreSQL 127.0.0.1:1/")
    assert "Traceback" not in err
