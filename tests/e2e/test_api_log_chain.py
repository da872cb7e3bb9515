"""The verifiable log over HTTP and the command line, on both stores: a flux import and a
finance statement each leave a signed checkpoint, auditors list and sign checkpoints, an
identity erased leaves the chain intact, and `parcours audit verify` exits 0 on an untouched
log, 1 on a changed one, 2 on a user's mistake."""

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.sql import SQL, Identifier

from adapters.eventlog.store import Parcours
from adapters.readmodels.projector import Projector
from adapters.schedule_files import shipped
from adapters.settings import Settings
from api.cli.main import main
from api.http.app import create_app
from api.http.auth import Role
from api.services import ledger
from tests.auth import bearer
from tests.e2e.helpers import cli_env, wait_projected
from tests.finance_history import everyone, log_events, structures
from tests.flux.helpers import FIXTURES, clock

XML = {"Content-Type": "application/xml"}
FLUX = bearer(Role.FLUX, sub="flux-caf")
ADMIN = bearer(Role.ADMIN, sub="dpo-1")
AUDITEUR = bearer(Role.AUDITEUR, sub="auditeur-1")
FINANCE = bearer(Role.FINANCE, sub="finance-1")
AGENT = bearer(Role.AGENT, structures=["ccas-a"], sub="agent-1")


def test_import_erasure_and_checkpoints_over_http(settings: Settings) -> None:
    parcours = Parcours(settings, clock=clock())
    with TestClient(create_app(settings, parcours)) as client:
        body = (FIXTURES / "RSABEM-ouvert.xml").read_bytes()
        created = client.post(
            "/flux/imports?fichier=RSABEM-ouvert.xml", content=body, headers={**XML, **FLUX}
        )
        assert created.status_code == 201, created.text
        listed = client.get("/audit/points-de-controle", headers=AUDITEUR)
        assert listed.status_code == 200
        (point,) = listed.json()["items"]
        assert point["motif"] == "import:RSABEM-ouvert.xml"
        assert point["position"] == parcours.max_position() > 0
        assert point["cle"] == listed.json()["cle_publique"]

        projector = Projector(parcours)
        projector.catch_up()
        (case_id,) = projector.view.all_rows()
        assert client.delete(f"/personnes/{case_id}/identite", headers=ADMIN).status_code == 204

        # The identity lived outside the log: the chain and the import's checkpoint still hold.
        after = ledger.verify(parcours)
        assert after.conforme, after.ruptures
        signed = msgspec.json.decode(json.dumps(point), type=ledger.PointDeControle)
        proved = ledger.verify(parcours, point=signed)
        assert proved.conforme
        assert proved.point is not None
        assert proved.point.racine_recalculee == point["racine"]

        made = client.post("/audit/points-de-controle", headers=AUDITEUR)
        assert made.status_code == 201
        assert made.json()["motif"] == "demande"
        assert len(client.get("/audit/points-de-controle", headers=AUDITEUR).json()["items"]) == 2
        assert client.get("/audit/points-de-controle?limit=1", headers=AUDITEUR).json()[
            "items"
        ] == [made.json()]
        assert client.post("/audit/points-de-controle", headers=AGENT).status_code == 403
        assert client.get("/audit/points-de-controle", headers=FINANCE).status_code == 403
    parcours.close()


@pytest.fixture
def finance(settings: Settings) -> Iterator[tuple[Parcours, TestClient]]:
    parcours = Parcours(settings, clock=lambda: datetime(2023, 1, 15, 9, tzinfo=UTC))
    parcours.append_many(log_events(everyone()))
    with TestClient(create_app(parcours=parcours, run_projector=True), headers=FINANCE) as c:
        for s in structures():
            c.put(
                f"/structures/{s.structure_id}",
                json={
                    "nom": s.nom,
                    "type_organisme": s.type_organisme.value,
                    "etp": s.etp,
                    "effective_on": s.effective_on.isoformat(),
                },
            ).raise_for_status()
        for name in ("val-de-marne-2018-2021", "val-de-marne-2022", "seine-et-marne-aave-2022"):
            document = msgspec.json.decode(msgspec.json.encode(shipped()[name]))
            c.post(
                "/finance/baremes", json={"motif": "vote", "bareme": document}
            ).raise_for_status()
        wait_projected(c)
        yield parcours, c
    parcours.close()


def test_an_issued_statement_leaves_a_checkpoint(finance: tuple[Parcours, TestClient]) -> None:
    parcours, client = finance
    issued = client.post("/finance/etats/ccas-a/2022-T1")
    assert issued.status_code == 201, issued.text
    (point,) = ledger.checkpoints(parcours)
    assert point.motif == "etat:ccas-a/2022-T1"
    assert point.position == parcours.max_position()
    assert ledger.verify(parcours, point=point).conforme


def _alter(settings: Settings, position: int) -> None:
    if settings.store == "sqlite":
        with sqlite3.connect(settings.sqlite_file) as conn:
            conn.execute("UPDATE stored_events SET state = x'7b7d' WHERE rowid = ?", (position,))
        return
    with psycopg.connect(**settings.postgres_conninfo(), autocommit=True) as conn:
        conn.execute(
            SQL("UPDATE {} SET state = '\\x7b7d' WHERE notification_id = %s").format(
                Identifier(settings.postgres_schema, "parcours_events")
            ),
            (position,),
        )


def test_audit_verify_on_the_command_line(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in cli_env(settings).items():
        monkeypatch.setenv(name, value)
    parcours = Parcours(settings)
    parcours.append_many(log_events(everyone()))
    parcours.close()

    def run(*argv: str) -> tuple[int, Any]:
        with pytest.raises(SystemExit) as done:
            main(["audit", *argv])
        return int(done.value.code or 0), capsys.readouterr()

    code, out = run("verify")
    assert code == 0
    assert out.out.splitlines()[-1].startswith("Chaîne intacte")
    point_file = tmp_path / "point.json"
    main(["audit", "point-de-controle", "--sortie", str(point_file)])
    point = json.loads(point_file.read_text())
    assert point["position"] > 10
    capsys.readouterr()
    assert run("verify", "--point", str(point_file))[0] == 0

    _alter(settings, 7)
    code, out = run("verify", "--json")
    assert code == 1
    verdict = json.loads(out.out.splitlines()[-1])
    assert verdict["premiere_rupture"]["position"] == 7
    assert verdict["premiere_rupture"]["kind"] == "modifie"
    code, out = run("verify", "--point", str(point_file), "--json")
    assert code == 1
    assert json.loads(out.out.splitlines()[-1])["point"]["conforme"] is False

    tampered = tmp_path / "altere.json"
    tampered.write_text(json.dumps({**point, "horodatage": "2020-01-01T00:00:00+00:00"}))
    code, out = run("verify", "--depuis-point", str(tampered), "--json")
    assert code == 1
    assert json.loads(out.out.splitlines()[-1])["point"]["signature_valide"] is False

    code, out = run("verify", "--point", str(tmp_path / "absent.json"))
    assert code == 2
    assert (
        out.err.strip()
        == f"parcours: fichier de point de contrôle introuvable: {tmp_path / 'absent.json'}"
    )
    (tmp_path / "vide.json").write_text("{}")
    assert run("verify", "--point", str(tmp_path / "vide.json"))[0] == 2


def test_concurrent_flux_imports_keep_the_chain(settings: Settings, tmp_path: Path) -> None:
    """Two imports of one file at once, in batches (COPY on PostgreSQL), lost races replayed:
    every event they wrote is linked, and each import left its checkpoint."""
    import threading
    from datetime import date

    from api.services.flux_import import FluxImporter
    from scripts.flux_generator import write

    path = tmp_path / "mensuel.xml"
    write(path, 300, seed=5, created=date(2022, 3, 5), reference=date(2022, 2, 28))
    apps = [Parcours(settings, clock=clock()) for _ in range(2)]
    threads = [
        threading.Thread(target=FluxImporter(app, batch_size=10).import_file, args=(path,))
        for app in apps
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    app = apps[0]
    result = ledger.verify(app, batch=333)
    assert result.conforme, result.ruptures
    assert result.jusqu_a == app.max_position()  # gaps on PostgreSQL: lost races
    assert result.evenements > 300
    points = ledger.checkpoints(app)
    assert [p.motif for p in points] == ["import:mensuel.xml"] * 2
    for point in points:
        assert ledger.verify(app, point=point).conforme
    for opened in apps:
        opened.close()


def test_verify_exits_3_when_the_store_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PARCOURS_STORE", "postgres")
    monkeypatch.setenv("POSTGRES_HOST", "127.0.0.1")
    monkeypatch.setenv("POSTGRES_PORT", "1")  # nothing listens there
    with pytest.raises(SystemExit) as done:
        main(["audit", "verify"])
    assert done.value.code == 3
    assert "stockage injoignable (PostgreSQL 127.0.0.1:1/" in capsys.readouterr().err
