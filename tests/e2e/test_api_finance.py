"""Partner financing over HTTP on both stores: the structures registry, adopting schedules (an
auditable event), payable lines under the schedules in force, statements issued and read back
exactly as issued after a late event and a new adoption, adjustments after a cancellation,
simulations that write nothing, CSV with French labels, roles and problem+json; and the
`parcours finance` commands on the same store. Expected euros are those of
tests/finance_history.py, computed by hand."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from fastapi.testclient import TestClient

from adapters.eventlog.store import Parcours
from adapters.readmodels.projector import Projector
from adapters.schedule_files import shipped
from adapters.settings import Settings
from api.cli.main import main
from api.http.app import create_app
from api.http.auth import Role
from domain import events as ev
from domain.tariffs import Bareme
from domain.vocabulary import TypeOrganisme
from tests.auth import bearer
from tests.delais_history import SOCIALE
from tests.e2e.helpers import cli_env, wait_projected
from tests.finance_history import CCAS, Allocataire, D, everyone, log_events, structures

FINANCE = bearer(Role.FINANCE, sub="finance-1")
ADMIN = bearer(Role.ADMIN, sub="admin-1")
AUDITEUR = bearer(Role.AUDITEUR, sub="auditeur-1")
ORIENTEUR = bearer(Role.ORIENTATION, sub="orienteur-1")
AGENT = bearer(Role.AGENT, structures=["ccas-a"], sub="agent-1")
SHIPPED = shipped()
PROBLEM = "application/problem+json"


def document(bareme: Bareme) -> Any:
    return msgspec.json.decode(msgspec.json.encode(bareme))


def _declare_all(client: TestClient) -> None:
    for s in structures():
        body = {
            "nom": s.nom,
            "type_organisme": s.type_organisme.value,
            "etp": s.etp,
            "effective_on": s.effective_on.isoformat(),
        }
        response = client.put(f"/structures/{s.structure_id}", json=body, headers=FINANCE)
        assert response.status_code == 201, response.text


def _adopt(client: TestClient, bareme: Bareme, motif: str = "convention votée") -> Any:
    response = client.post(
        "/finance/baremes", json={"motif": motif, "bareme": document(bareme)}, headers=FINANCE
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def app(settings: Settings) -> Iterator[Parcours]:
    parcours = Parcours(settings, clock=lambda: datetime(2023, 1, 15, 9, tzinfo=UTC))
    parcours.append_many(log_events(everyone()))
    yield parcours
    parcours.close()


@pytest.fixture
def client(app: Parcours) -> Iterator[TestClient]:
    with TestClient(create_app(parcours=app, run_projector=True), headers=FINANCE) as c:
        _declare_all(c)
        for name in ("val-de-marne-2018-2021", "val-de-marne-2022", "seine-et-marne-aave-2022"):
            _adopt(c, SHIPPED[name])
        wait_projected(c)
        yield c


def _totals(lines: list[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in lines:
        out[line["partenaire"]] = out.get(line["partenaire"], 0) + line["montant"]
    return out


# --- structures -------------------------------------------------------------------------------


def test_structures_registry_over_http(client: TestClient) -> None:
    listed = client.get("/structures", headers=ORIENTEUR).json()
    assert [s["structure_id"] for s in listed["items"]] == [
        "aave-c",
        "aave-d",
        "asso-b",
        "ccas-a",
        "mds-1",
    ]
    assert (listed["total"], listed["limit"], listed["offset"]) == (5, 50, 0)
    second = client.get("/structures", params={"limit": 2, "offset": 2}, headers=ORIENTEUR).json()
    assert [s["structure_id"] for s in second["items"]] == ["asso-b", "ccas-a"]
    again = client.put(
        "/structures/aave-c",
        json={"nom": "AAVE C", "type_organisme": "aave", "etp": 0.1, "effective_on": "2022-07-01"},
        headers=ADMIN,
    )
    assert again.status_code == 200, again.text
    one = client.get("/structures/aave-c", headers=AUDITEUR).json()
    assert one["declarations"] == [["2018-01-01", 0.05], ["2022-07-01", 0.1]]
    assert one["etp"] == 0.1
    missing = client.get("/structures/nulle-part")
    assert missing.status_code == 404
    assert missing.json()["field"] == "structure_id"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"nom": "X", "type_organisme": "cafe", "effective_on": "2022-01-01"}, "type_organisme"),
        ({"nom": "X", "type_organisme": "aave", "etp": -1, "effective_on": "2022-01-01"}, "etp"),
        ({"nom": "", "type_organisme": "aave", "effective_on": "2022-01-01"}, "nom"),
        ({"nom": "X", "type_organisme": "aave"}, "effective_on"),
    ],
)
def test_structure_refusals_name_the_field_and_write_nothing(
    client: TestClient, app: Parcours, body: dict[str, Any], field: str
) -> None:
    before = app.max_position()
    response = client.put("/structures/nouvelle", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == field
    assert app.max_position() == before


def test_structure_roles(client: TestClient) -> None:
    body = {"nom": "X", "type_organisme": "ccas", "effective_on": "2022-01-01"}
    assert client.put("/structures/x", json=body, headers=AGENT).status_code == 403
    assert client.put("/structures/x", json=body, headers=ORIENTEUR).status_code == 403
    assert client.get("/structures", headers=AGENT).status_code == 403
    assert client.get("/structures", headers={"Authorization": ""}).status_code == 401


# --- schedules --------------------------------------------------------------------------------


def test_adoption_is_an_auditable_event(client: TestClient, app: Parcours) -> None:
    listed = client.get("/finance/baremes", headers=AUDITEUR).json()
    adopted = listed["adoptes"]
    assert [(a["version"], a["bareme"]["nom"], a["adopte_par"]) for a in adopted] == [
        (1, "val-de-marne-2018-2021", "finance-1"),
        (2, "val-de-marne-2022", "finance-1"),
        (3, "seine-et-marne-aave-2022", "finance-1"),
    ]
    assert adopted[1]["motif"] == "convention votée"
    assert adopted[1]["empreinte"] == SHIPPED["val-de-marne-2022"].empreinte()
    assert adopted[1]["adopte_le"].startswith("2023-01-15T09:00:00")
    assert sorted(b["nom"] for b in listed["livres"]) == sorted(SHIPPED)
    # In the log: the adoption event, its author, effective from the schedule's start.
    [_, second, _] = [r for r in app.events.get(_tariff_book())]
    assert second.event.meta.recorded_by == "finance-1"
    assert second.event.effective_on == D(2022, 1, 1)


def _tariff_book() -> Any:
    from domain.tariffs import TARIFF_BOOK_ID

    return TARIFF_BOOK_ID


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tarifs": {"ccas": {"cer": "beaucoup"}}}, "bareme.tarifs.ccas.cer"),
        ({"tarifs": {"cafe": {"cer": 1}}}, "bareme.tarifs.cafe"),
        ({"options": {"cer_court": "moitie"}}, "bareme.options.cer_court"),
        ({"du": None}, "bareme.du"),
    ],
)
def test_invalid_schedule_refused_naming_the_field(
    client: TestClient, app: Parcours, change: dict[str, Any], field: str
) -> None:
    before = app.max_position()
    bad = {**document(SHIPPED["val-de-marne-2022"]), **change}
    response = client.post("/finance/baremes", json={"motif": "essai", "bareme": bad})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == field
    assert app.max_position() == before
    no_reason = client.post(
        "/finance/baremes", json={"motif": " ", "bareme": document(SHIPPED["val-de-marne-2022"])}
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["field"] == "motif"
    assert app.max_position() == before


# --- lines --------------------------------------------------------------------------------------


def test_lines_under_the_schedules_in_force(client: TestClient) -> None:
    y2021 = client.get("/finance/lignes", params={"periode": "2021"}).json()
    assert _totals(y2021["lignes"]) == {"ccas-a": 974_00, "asso-b": 1_100_00}
    assert y2021["total"] == 2_074_00
    y2022 = client.get("/finance/lignes", params={"periode": "2022"}, headers=AUDITEUR).json()
    assert _totals(y2022["lignes"]) == {
        "aave-c": 3_025_00,
        "aave-d": 2_750_00,
        "asso-b": 1_300_00,
        "ccas-a": 550_00,
    }
    one = client.get("/finance/lignes", params={"periode": "2022-T1", "partenaire": "ccas-a"})
    assert [(x["etape"], x["montant"], x["regle"]) for x in one.json()["lignes"]] == [
        ("bonus_premier_entretien", 50_00, "val-de-marne-2022@v1/ccas/bonus_premier_entretien"),
        ("cer", 400_00, "val-de-marne-2022@v1/ccas/cer"),
    ]
    bad = client.get("/finance/lignes", params={"periode": "2022-T9"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "periode"


# --- statements ---------------------------------------------------------------------------------


def _late_case() -> list[ev.Recorded]:
    """Recorded in March 2023 for a CER signed in February 2022 at ccas-a."""
    late = (
        Allocataire(901, "94028")
        .entre(D(2022, 1, 10), D(2022, 1, 10))
        .oriente(D(2022, 1, 15), SOCIALE, CCAS, "ccas-a")
        .cer(D(2022, 2, 1), 12)
    )
    return late.events


def test_statement_issued_stays_as_issued_after_a_late_event_and_a_new_adoption(
    client: TestClient, app: Parcours
) -> None:
    issued = client.post("/finance/etats/ccas-a/2022-T1")
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert (body["statut"], body["emis_par"], body["total"]) == ("emis", "finance-1", 450_00)
    assert body["position"] == app.max_position() - 1  # the log before the statement itself
    assert len(body["baremes"]) == 3
    again = client.post("/finance/etats/ccas-a/2022-T1")
    assert again.status_code == 409
    assert again.json()["field"] == "periode"

    app.append_many(_late_case())
    revised = msgspec.structs.replace(
        SHIPPED["val-de-marne-2022"],
        version=2,
        tarifs={
            TypeOrganisme.CCAS: msgspec.structs.replace(
                SHIPPED["val-de-marne-2022"].tarifs[TypeOrganisme.CCAS], cer=Decimal(420)
            )
        },
    )
    _adopt(client, revised, "révision: CER CCAS à 420 € depuis le 1er janvier 2022")
    wait_projected(client)

    as_issued = client.get("/finance/etats/ccas-a/2022-T1", headers=AUDITEUR)
    assert as_issued.json() == body
    # The next statement carries what changed in Q1, not a silent change of the issued one:
    # B1's CER re-priced 400 → 420, and the late case's CER of 2022-02-01 (420 €).
    q2 = client.get("/finance/etats/ccas-a/2022-T2").json()
    assert q2["statut"] == "projet"
    assert q2["lignes"] == []
    assert [
        (a["case_id"][-3:], a["etape"], a["motif"], a["montant_emis"], a["montant"])
        for a in q2["ajustements"]
    ] == [
        ("0c9", "cer", "modifiee", 400_00, 20_00),  # B1: UUID(int=201) ends in …0c9
        ("385", "cer", "tardive", 0, 420_00),  # the late case: UUID(int=901) ends in …385
    ]
    assert q2["total"] == 440_00


def test_adjustment_line_after_a_cancellation(client: TestClient, app: Parcours) -> None:
    year = client.post("/finance/etats/ccas-a/2022")
    assert year.json()["total"] == 550_00
    b1 = [r for r in app.events.get(everyone()["B1"].case_id)]
    assert isinstance(b1[5].event, ev.SortieEnregistree)
    app.append_many(
        [
            ev.Recorded(
                b1[0].originator_id,
                len(b1) + 1,
                ev.EtapeAnnulee(
                    effective_on=D(2023, 1, 10),
                    meta=ev.Meta(
                        recorded_at=datetime(2023, 1, 10, 9, tzinfo=UTC),
                        recorded_by="agent-1",
                        request_id="annulation",
                    ),
                    version_annulee=6,
                    motif="sortie saisie sur le mauvais dossier",
                ),
            )
        ]
    )
    wait_projected(client)
    assert client.get("/finance/etats/ccas-a/2022").json() == year.json()
    nxt = client.get("/finance/etats/ccas-a/2023-01").json()
    assert [(a["etape"], a["motif"], a["montant"], a["etats"]) for a in nxt["ajustements"]] == [
        ("bonus_sortie_positive", "annulee", -100_00, ["ccas-a/2022"])
    ]
    assert nxt["total"] == -100_00
    csv = client.get("/finance/etats/ccas-a/2023-01", headers={"Accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith("\ufeff".encode())  # a spreadsheet reads the accents right
    rows = csv.content.decode("utf-8-sig").splitlines()
    assert rows[0] == (
        "Nature;Partenaire;Dossier;Étape;Référence;Du;Au;Date;Montant (€);"
        "Montant déjà payé (€);Règle;Événements (versions);Détail"
    )
    assert rows[1].startswith("Ajustement (étape annulée);ccas-a;")
    assert ";-100,00;100,00;" in rows[1]
    assert rows[-1].startswith("Total;ccas-a;;;2023-01;;;;-100,00")


def test_statement_csv_lines(client: TestClient) -> None:
    csv = client.get("/finance/etats/asso-b/2022-T2", headers={"Accept": "text/csv"})
    csv = csv.content.decode("utf-8-sig")
    rows = csv.splitlines()
    assert rows[1].split(";")[:9] == [
        "Ligne",
        "asso-b",
        "00000000-0000-0000-0000-0000000000ca",
        "CER signé",
        "cer-1",
        "2022-04-20",
        "2022-10-19",
        "2022-04-20",
        "500,00",
    ]
    assert rows[-1].startswith("Total;asso-b;;;2022-T2;;;;500,00")


def test_statement_refusals_and_roles(client: TestClient, app: Parcours) -> None:
    before = app.max_position()
    assert client.post("/finance/etats/inconnu/2022").status_code == 404
    assert client.post("/finance/etats/ccas-a/2022-99").status_code == 422
    assert client.post("/finance/etats/ccas-a/2022", headers=AUDITEUR).status_code == 403
    assert client.post("/finance/etats/ccas-a/2022", headers=ADMIN).status_code == 403
    assert client.get("/finance/etats/ccas-a/2022", headers=AGENT).status_code == 403
    assert (
        client.get("/finance/lignes", params={"periode": "2022"}, headers=ORIENTEUR).status_code
        == 403
    )
    assert client.get("/finance/etats/ccas-a/2022", headers=ADMIN).status_code == 200
    refused = client.post("/finance/baremes", json={"motif": "x", "bareme": {}}, headers=AUDITEUR)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    assert app.max_position() == before
    assert client.get("/finance/etats", params={"partenaire": "ccas-a"}).json()["items"] == []


# --- simulations --------------------------------------------------------------------------------


def test_simulation_writes_nothing_and_its_lines_add_up(client: TestClient, app: Parcours) -> None:
    before = app.max_position()
    body = {"periode": "2021", "bareme": document(SHIPPED["val-de-marne-2022"])}
    sim = client.post("/finance/simulations", json=body, headers=AUDITEUR).json()
    assert (sim["actuel"], sim["simule"], sim["ecart"]) == (2_074_00, 2_150_00, 76_00)
    assert [(p["groupe"], p["ecart"]) for p in sim["par_partenaire"]] == [
        ("asso-b", 50_00),
        ("ccas-a", 26_00),
    ]
    assert sum(x["ecart"] for x in sim["lignes_modifiees"]) == sim["ecart"]
    assert sum(p["simule"] for p in sim["par_partenaire"]) == sim["simule"]
    csv = client.post("/finance/simulations", json=body, headers={"Accept": "text/csv"})
    csv = csv.content.decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("Niveau;Partenaire ou étape;Dossier;Référence;")
    assert csv.splitlines()[-1] == "Total;;;;2074,00;2150,00;76,00;;"
    bad = client.post("/finance/simulations", json={"periode": "2021", "bareme": {"nom": "x"}})
    assert bad.status_code == 422
    assert bad.json()["field"] == "bareme.du"
    assert app.max_position() == before


def _undeclared_partners() -> list[ev.Recorded]:
    """A CER signed in 2021 while oriented to ccas-x and an orientation interview it held, and
    two ASC interviews at asso-z: neither structure is declared."""
    person = (
        Allocataire(902, "94028")
        .entre(D(2021, 3, 1), D(2021, 3, 2))
        .eio(D(2021, 3, 5), "ccas-x")
        .oriente(D(2021, 3, 10), SOCIALE, CCAS, "ccas-x")
        .cer(D(2021, 4, 1), 12)
        .asc(D(2021, 5, 3), "asso-z")
        .asc(D(2021, 6, 3), "asso-z")
    )
    return person.events


def test_simulation_names_the_structures_not_declared_and_their_unpriced_facts(
    client: TestClient, app: Parcours
) -> None:
    app.append_many(_undeclared_partners())
    wait_projected(client)
    body = {"periode": "2021", "bareme": document(SHIPPED["val-de-marne-2022"])}
    sim = client.post("/finance/simulations", json=body).json()
    # The existing figures are those of the declared partners alone, unchanged.
    assert (sim["actuel"], sim["simule"], sim["ecart"]) == (2_074_00, 2_150_00, 76_00)
    assert [p["groupe"] for p in sim["par_partenaire"]] == ["asso-b", "ccas-a"]
    assert sim["structures_non_declarees"] == [
        {"structure_id": "asso-z", "contrats": 0, "entretiens_asc": 2, "eio": 0, "faits": 2},
        {"structure_id": "ccas-x", "contrats": 1, "entretiens_asc": 0, "eio": 1, "faits": 2},
    ]
    later = client.post("/finance/simulations", json={**body, "periode": "2022"}).json()
    assert later["structures_non_declarees"] == []  # nothing of theirs dated in 2022

    declared = client.put(
        "/structures/ccas-x",
        json={"nom": "CCAS X", "type_organisme": "ccas", "effective_on": "2018-01-01"},
    )
    assert declared.status_code == 201, declared.text
    again = client.post("/finance/simulations", json=body).json()
    assert [s["structure_id"] for s in again["structures_non_declarees"]] == ["asso-z"]
    ccas_x = next(p for p in again["par_partenaire"] if p["groupe"] == "ccas-x")
    assert ccas_x["actuel"] == 400_00 + 24_00  # its CER and its EIO under the 2018-2021 grid
    assert again["actuel"] == 2_074_00 + 424_00


# --- the commands -------------------------------------------------------------------------------


def test_cli_simulate_adopt_and_statement(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = Parcours(settings)
    app.append_many(log_events(everyone()))
    app.close()
    for key, value in cli_env(settings).items():
        monkeypatch.setenv(key, value)
    root = Path(__file__).resolve().parents[2] / "schedules"
    for s in structures():
        args = ["--nom", s.nom, "--type", s.type_organisme.value, "--depuis", "2018-01-01"]
        main(
            [
                "finance",
                "structure",
                s.structure_id,
                *args,
                *(["--etp", str(s.etp)] if s.etp else []),
            ]
        )
    main(
        [
            "finance",
            "adopt",
            "--bareme",
            str(root / "val-de-marne-2018-2021.toml"),
            "--motif",
            "convention",
        ]
    )
    csv, chart = tmp_path / "sim.csv", tmp_path / "sim.svg"
    main(
        [
            "finance",
            "simulate",
            "--bareme",
            str(root / "val-de-marne-2022.toml"),
            "--periode",
            "2021",
            "--sortie",
            str(csv),
            "--sortie",
            str(chart),
        ]
    )
    main(["finance", "statement", "ccas-a", "2021", "--emettre", "--auteur", "finance-1"])
    printed = capsys.readouterr().out
    assert "asso-b                           1100,00         1150,00           50,00" in printed
    assert "total                            2074,00         2150,00           76,00" in printed
    assert "État ccas-a/2021 (emis): 4 ligne(s) 974,00 €" in printed
    assert csv.read_text(encoding="utf-8").splitlines()[-1] == "Total;;;;2074,00;2150,00;76,00;;"
    assert chart.read_text().lstrip().startswith("<?xml")
    bad = tmp_path / "bad.toml"
    bad.write_text('nom = "x"\ndu = 2022-01-01\n[tarifs.ccas]\ncer = -1\n')
    capsys.readouterr()
    with pytest.raises(SystemExit) as refused:
        main(["finance", "simulate", "--bareme", str(bad), "--periode", "2021"])
    assert refused.value.code == 2
    assert re.search(r"bad\.toml: tarifs\.ccas\.cer", capsys.readouterr().err)
    check = Parcours(settings)
    Projector(check).catch_up()
    check.close()
