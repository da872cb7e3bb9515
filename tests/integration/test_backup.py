"""`parcours backup` then `parcours restore` into an empty database then a rebuild give back the
same département, on both stores and across them: the same case states, table 3.1 and finance
figures, the same identities readable with the same keys, the log's bytes and positions
unchanged. A corrupted backup is refused before anything is written; so is a non-empty target."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest

from adapters import backup
from adapters.access_log import Acces, AccessFilter, AccessLog
from adapters.eventlog.store import Parcours
from adapters.flux.reports import Rapport, ReportStore
from adapters.identity import Identite, IdentityStore
from adapters.readmodels.models import open_case_view
from adapters.readmodels.projector import Projector
from adapters.schedule_files import shipped
from adapters.settings import Settings
from adapters.synthetic import load
from api.cli.main import main
from api.services import ledger
from api.services.commands import Author, execute
from api.services.finance import Finance
from api.services.schedules import adopt
from api.services.statistics import Statistiques
from api.services.structures import declare_structure
from domain.structures import StructureDeclaree, structure_aggregate_id
from domain.vocabulary import TypeOrganisme
from projections.indicateurs import Periode
from tests.conftest import fresh_schema
from tests.finance_history import everyone, log_events, structures

CLOCK = datetime(2023, 1, 15, 9, tzinfo=UTC)
AUTHOR = Author(user="finance-1", request_id="sauvegarde")
YEAR_2022 = Periode(date(2022, 1, 1), date(2022, 12, 31))


def _app(settings: Settings) -> Parcours:
    return Parcours(settings, clock=lambda: CLOCK)


def _identite(n: int) -> Identite:
    return Identite(
        organisme="caf",
        matricule=f"00{n:05d}",
        nir=f"1850775{n:06d}",
        nom=f"Dupont{n}",
        prenoms=["Jeanne", "Marie"],
        date_naissance=date(1985, 7, n % 28 + 1),
        adresse=[f"{n} rue de la Paix"],
        code_postal="94000",
        commune="Créteil",
    )


def populate(app: Parcours) -> dict[UUID, Identite]:
    """A generated département, the finance tests' one, structures, tariff schedules, a
    request with an idempotency key, three identities, two accesses and an import report."""
    load(app, 120, 2, 11, date(2021, 1, 1))
    app.append_many(log_events(everyone()))
    for s in structures():
        declare_structure(
            app, s.structure_id, s.nom, s.type_organisme, s.etp, s.effective_on, AUTHOR
        )
    books = shipped()
    for name in ("val-de-marne-2018-2021", "val-de-marne-2022", "seine-et-marne-aave-2022"):
        adopt(app, books[name], "convention votée", AUTHOR)

    def declare(_: Any, ctx: Any) -> list[StructureDeclaree]:
        return [
            StructureDeclaree(
                effective_on=date(2022, 1, 1),
                meta=ctx.meta,
                structure_id="mds-9",
                nom="MDS 9",
                type_organisme=TypeOrganisme.DEPARTEMENT,
                etp=None,
            )
        ]

    execute(app, structure_aggregate_id("mds-9"), declare, AUTHOR, idempotency_key="cle-1")
    cases = _some_cases(app, 3)
    people = {case_id: _identite(n) for n, case_id in enumerate(cases, 1)}
    vault = IdentityStore(app.settings)
    with vault.db.transaction() as tx:
        vault.insert(
            tx,
            [
                (vault.blind_index(i.organisme, i.matricule, i.nir), case_id, i)
                for case_id, i in people.items()
            ],
        )
    journal = AccessLog.of(app)
    for n, case_id in enumerate(cases[:2]):
        journal.record(
            Acces(
                at=datetime(2023, 1, 10 + n, 8, 30, tzinfo=UTC),
                agent="agent-7",
                roles=["agent"],
                structures=["ccas-a"],
                case_id=case_id,
                method="GET",
                path=f"/personnes/{case_id}/identite",
                purpose="identité de la personne",
                motif="préparation du RDV",
                outcome="granted",
            )
        )
    ReportStore(app.settings).save(
        Rapport(id=uuid4(), fichier="RSABEM.xml", sha256="0" * 64, recu_le=CLOCK, statut="importe")
    )
    return people


def _some_cases(app: Parcours, n: int) -> list[UUID]:
    from adapters.eventlog.reading import read_batch

    found: list[UUID] = []
    for r in read_batch(app, 0, 200):
        if r.originator_id not in found:
            found.append(r.originator_id)
    return found[:n]


def figures(app: Parcours) -> dict[str, Any]:
    """What users read: every case's state, table 3.1 and the finance lines of 2022."""
    rows = open_case_view(app).all_rows()
    table = Statistiques(app).calculer("table-3-1", YEAR_2022)
    _, lines = Finance(app).price(YEAR_2022)
    return {
        "cases": {k: msgspec.json.encode(v) for k, v in rows.items()},
        "table_3_1": msgspec.json.encode(table),
        # The lines' order follows the store's row order; across stores, compare them as a set.
        "finance": sorted(msgspec.json.encode(line) for line in lines),
    }


@contextmanager
def empty_like(settings: Settings, tmp_path: Path, store: str | None = None) -> Iterator[Settings]:
    """Settings of a new, empty database of `store` (default: the same as `settings`)."""
    if (store or settings.store) == "postgres":
        with fresh_schema() as target:
            yield target
        return
    yield Settings.from_env(
        {"PARCOURS_STORE": "sqlite", "PARCOURS_DATA_DIR": str(tmp_path / f"cible-{uuid4().hex}")}
    )


def _sections(manifest: backup.Manifest) -> list[tuple[str, int, str]]:
    return [(s.name, s.rows, s.sha256) for s in manifest.sections]


def _round_trip(source: Settings, target: Settings, tmp_path: Path) -> None:
    app = _app(source)
    people = populate(app)
    Projector(app).catch_up()
    before = figures(app)
    assert len(before["cases"]) > 100
    assert len(before["finance"]) >= 10
    assert b'"lignes":[{' in before["table_3_1"]
    point = ledger.checkpoint(app, "avant la sauvegarde")
    signer = ledger.trusted_key(app)
    file = tmp_path / "parcours.sauvegarde"
    written = backup.write_backup(app, file)
    assert written.last_position == app.max_position()
    counts = {s.name: s.rows for s in written.sections}
    assert counts["evenements"] == app.max_position()
    assert counts["identite"] == counts["identite_cle"] == 3
    assert counts["journal_acces"] == 2
    assert counts["idempotence"] == counts["flux_import"] == counts["point_controle"] == 1
    assert counts["chaine"] == app.max_position()
    app.close()

    restored = _app(target)
    backup.restore(restored, file)
    assert restored.max_position() == written.last_position
    # The chain came back with the log: it verifies, and so does the checkpoint made before.
    assert ledger.verify(restored).conforme
    assert ledger.verify(restored, point=point, public=signer).conforme
    assert [p.racine for p in ledger.checkpoints(restored)] == [point.racine]
    Projector(restored).rebuild()
    assert figures(restored) == before
    vault = IdentityStore(target)
    for case_id, identite in people.items():
        assert vault.read(case_id) == identite
    assert vault.search(["dupont1"], 10) == [next(iter(people))]
    accesses, total = AccessLog.of(restored).find(AccessFilter())
    assert total == 2
    assert {a.motif for a in accesses} == {"préparation du RDV"}
    assert restored.idempotency("cle-1") is not None
    # Backed up again, every section is the same bytes: the log's payloads, ids and order.
    again = backup.write_backup(restored, tmp_path / "encore.sauvegarde")
    assert _sections(again) == _sections(written)
    # The next event follows the restored log (PostgreSQL: its sequence was set).
    declare_structure(
        restored, "apres", "Après", TypeOrganisme.CCAS, None, date(2023, 1, 2), AUTHOR
    )
    assert restored.max_position() == written.last_position + 1
    restored.close()


def test_backup_restore_rebuild_gives_the_same_departement(
    settings: Settings, tmp_path: Path
) -> None:
    with empty_like(settings, tmp_path) as target:
        _round_trip(settings, target, tmp_path)


@pytest.mark.postgres
@pytest.mark.parametrize(("source", "target"), [("sqlite", "postgres"), ("postgres", "sqlite")])
def test_a_backup_restores_into_the_other_store(
    source: str, target: str, tmp_path: Path, pg_database: str
) -> None:
    sqlite = Settings.from_env(
        {"PARCOURS_STORE": "sqlite", "PARCOURS_DATA_DIR": str(tmp_path / "source")}
    )
    with fresh_schema() as pg:
        origin = sqlite if source == "sqlite" else pg
        with empty_like(origin, tmp_path, target) as destination:
            _round_trip(origin, destination, tmp_path)


def _small(settings: Settings, tmp_path: Path) -> tuple[Path, backup.Manifest, list[UUID]]:
    app = _app(settings)
    people = populate(app)
    file = tmp_path / "petite.sauvegarde"
    manifest = backup.write_backup(app, file)
    app.close()
    return file, manifest, list(people)


def _flip(file: Path, at: int) -> None:
    data = bytearray(file.read_bytes())
    data[at] ^= 0x01
    file.write_bytes(bytes(data))


def _where(manifest: backup.Manifest, size: int, place: str) -> int:
    if place == "en-tete":
        return 3
    if place == "manifeste":
        return size - backup.TRAILER.size - 20
    if place == "fin":
        return size - 2
    entry = manifest.section(place)
    assert entry is not None
    assert entry.length > 10
    return entry.offset + entry.length // 2


@pytest.mark.parametrize(
    "place", ["en-tete", "evenements", "identite_cle", "journal_acces", "manifeste", "fin"]
)
def test_a_corrupted_byte_is_refused_before_anything_is_written(
    settings: Settings, tmp_path: Path, place: str
) -> None:
    file, manifest, people = _small(settings, tmp_path)
    _flip(file, _where(manifest, file.stat().st_size, place))
    with pytest.raises(backup.CorruptBackup):
        backup.verify(file)
    with empty_like(settings, tmp_path) as target:
        app = _app(target)
        with pytest.raises(backup.CorruptBackup):
            backup.restore(app, file)
        assert app.max_position() == 0
        assert IdentityStore(target).held(people) == set()
        app.close()


def test_a_truncated_file_is_refused(settings: Settings, tmp_path: Path) -> None:
    file, _, _ = _small(settings, tmp_path)
    file.write_bytes(file.read_bytes()[:-100])
    with pytest.raises(backup.CorruptBackup):
        backup.verify(file)


def test_restore_into_a_database_holding_records_is_refused(
    settings: Settings, tmp_path: Path
) -> None:
    file, manifest, _ = _small(settings, tmp_path)
    app = _app(settings)
    with pytest.raises(backup.TargetNotEmpty, match="evenements"):
        backup.restore(app, file)
    assert app.max_position() == manifest.last_position
    app.close()
    with empty_like(settings, tmp_path) as target:
        other = _app(target)
        journal = AccessLog.of(other)
        journal.record(
            Acces(
                at=CLOCK,
                agent="a",
                roles=[],
                structures=[],
                case_id=uuid4(),
                method="GET",
                path="/",
                purpose="p",
                motif=None,
                outcome="granted",
            )
        )
        with pytest.raises(backup.TargetNotEmpty, match="journal_acces"):
            backup.restore(other, file)
        assert other.max_position() == 0
        other.close()


def _env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    for key, value in {
        "PARCOURS_STORE": settings.store,
        "PARCOURS_DATA_DIR": str(settings.data_dir),
        "POSTGRES_DBNAME": settings.postgres_dbname,
        "POSTGRES_SCHEMA": settings.postgres_schema,
        "PARCOURS_LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(key, value)


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as ended:
        main(argv)
    return int(ended.value.code or 0)


def test_the_commands_and_their_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = Settings.from_env(
        {"PARCOURS_STORE": "sqlite", "PARCOURS_DATA_DIR": str(tmp_path / "source")}
    )
    app = _app(source)
    load(app, 30, 1, 3, date(2021, 1, 1))
    position = app.max_position()
    app.close()
    file = tmp_path / "cli.sauvegarde"
    _env(monkeypatch, source)
    main(["backup", "--sortie", str(file), "--json"])
    summary = msgspec.json.decode(capsys.readouterr().out)
    assert summary["derniere_position"] == position
    assert summary["sections"]["evenements"] == position
    assert os.stat(file).st_mode & 0o077 == 0  # sealed identities, access log: owner only

    assert _exit_code(["restore", str(file)]) == 2  # the source holds records
    assert "pas vide" in capsys.readouterr().err
    assert _exit_code(["restore", str(tmp_path / "absent")]) == 2
    assert _exit_code(["backup", "--sortie", str(tmp_path / "nulle-part" / "f")]) == 2

    target = Settings.from_env(
        {"PARCOURS_STORE": "sqlite", "PARCOURS_DATA_DIR": str(tmp_path / "cible")}
    )
    _env(monkeypatch, target)
    capsys.readouterr()
    main(["restore", str(file), "--reconstruire"])
    out = capsys.readouterr().out
    assert f"{position} événements rejoués" in out
    restored = _app(target)
    assert restored.max_position() == position
    assert len(open_case_view(restored).all_rows()) == 30
    restored.close()

    _flip(file, file.stat().st_size // 2)
    assert _exit_code(["restore", str(file), "--verifier"]) == 1
    err = capsys.readouterr().err
    assert "altérée" in err or "illisible" in err
    assert "Traceback" not in err


def test_an_unreachable_store_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PARCOURS_STORE", "postgres")
    monkeypatch.setenv("POSTGRES_HOST", "127.0.0.1")
    monkeypatch.setenv("POSTGRES_PORT", "1")
    monkeypatch.setenv("PARCOURS_LOG_LEVEL", "WARNING")
    assert _exit_code(["backup", "--sortie", str(tmp_path / "f")]) == 3
    err = capsys.readouterr().err
    assert "injoignable" in err
    assert "Traceback" not in err


def _rows(file: Path, name: str) -> list[list[Any]]:
    with file.open("rb") as source:
        manifest = backup.read_manifest(source)
        entry = manifest.section(name)
        assert entry is not None
        return [row for batch in backup._batches(source, entry) for row in batch]


def test_a_backup_taken_while_requests_are_recorded_is_one_moment(
    settings: Settings, tmp_path: Path
) -> None:
    """Requests with an idempotency key keep being recorded (event and key in one transaction)
    while the backup reads one section after the other, slowly: every key in the file has its
    event in the file, and the log's section ends at the manifest's position."""
    import threading

    app = _app(settings)
    stop = threading.Event()
    recorded: list[int] = []

    def declare(n: int) -> Any:
        def decide(_: Any, ctx: Any) -> list[StructureDeclaree]:
            return [
                StructureDeclaree(
                    effective_on=date(2022, 1, 1),
                    meta=ctx.meta,
                    structure_id=f"s-{n}",
                    nom=f"S {n}",
                    type_organisme=TypeOrganisme.CCAS,
                    etp=None,
                )
            ]

        return decide

    def writer() -> None:
        n = 0
        while not stop.is_set():
            execute(
                app, structure_aggregate_id(f"s-{n}"), declare(n), AUTHOR, idempotency_key=f"k-{n}"
            )
            recorded.append(n)
            n += 1

    for n in range(-20, 0):  # some before the backup starts
        execute(app, structure_aggregate_id(f"s-{n}"), declare(n), AUTHOR, idempotency_key=f"k{n}")
    thread = threading.Thread(target=writer)
    thread.start()
    file = tmp_path / "pendant.sauvegarde"
    try:
        manifest = backup.write_backup(app, file, progress=lambda section, rows: stop.wait(0.3))
    finally:
        stop.set()
        thread.join()
    assert recorded, "nothing was recorded during the backup"
    events = {(UUID(hex=row[1]), row[2]): row[0] for row in _rows(file, "evenements")}
    keys = _rows(file, "idempotence")
    assert len(keys) >= 20
    for key in keys:
        columns = manifest.section("idempotence")
        assert columns is not None
        values = dict(zip(columns.columns, key, strict=True))
        assert (UUID(hex=values["case_id"]), values["version"]) in events
    assert max(events.values()) == manifest.last_position
    assert app.max_position() > manifest.last_position  # the writer went on past the snapshot
    app.close()
