"""The statistics and worklist routes over HTTP on both stores: JSON and CSV with French labels,
breakdowns and rule sets, refusals as problems naming the parameter, roles, and an agent's
worklist limited to its structure; the `parcours stats` command on the same store."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.eventlog.store import Parcours
from adapters.settings import Settings
from api.cli.main import main
from api.http.app import create_app
from api.http.auth import Role
from api.services.statistics import Statistiques
from projections.indicateurs import annee
from projections.worklists import Filtre, Motif, selectionner
from tests.auth import bearer
from tests.delais_history import all_events, departement
from tests.e2e.helpers import cli_env, wait_projected

ORIENTEUR = bearer(Role.ORIENTATION, sub="orienteur")
AGENT_AAVE = bearer(Role.AGENT, structures=["aave-1"], sub="agent-aave")
YEAR = {"du": "2024-01-01", "au": "2024-12-31"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = Parcours(settings, clock=lambda: datetime(2024, 12, 31, 12, tzinfo=UTC))
    app.append_many(all_events(departement()))
    with TestClient(create_app(parcours=app, run_projector=True), headers=ORIENTEUR) as c:
        wait_projected(c)
        yield c
    app.close()


def test_table31_json_and_csv(client: TestClient) -> None:
    body = client.get("/statistiques/table-3-1", params=YEAR).json()
    assert body["regles"] == ["strategie-2018"]
    assert body["lignes"] == [
        {
            "nouveaux_entrants": 6,
            "orientes_dans_le_delai": 3,
            "premiers_rdv": 3,
            "premiers_rdv_dans_le_delai": 1,
            "premiers_cer": 2,
            "premiers_cer_dans_le_delai": 1,
        }
    ]
    csv = client.get(
        "/statistiques/table-3-1",
        params={**YEAR, "par": "territoire"},
        headers={"Accept": "text/csv"},
    )
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith("\ufeff".encode())  # a spreadsheet reads the accents right
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Commune (INSEE);Nouveaux entrants;")
    assert lines[2] == "77001;2;1;1;0;1;0"


def test_rules_by_name_and_the_list_of_rule_sets(client: TestClient) -> None:
    named = client.get("/statistiques/table-3-1", params={**YEAR, "regles": "plein-emploi-2025"})
    assert named.json()["lignes"][0]["orientes_dans_le_delai"] == 4
    rules = client.get("/statistiques/regles").json()
    assert [(r["nom"], r["du"], r.get("au")) for r in rules] == [
        ("strategie-2018", "2018-01-01", "2024-12-31"),
        ("plein-emploi-2025", "2025-01-01", None),
    ]


def test_every_family_answers(client: TestClient) -> None:
    drees = client.get("/statistiques/drees", params={"annee": 2024}).json()
    assert drees["lignes"][0]["delai_moyen_orientation"] == 28
    rates = client.get("/statistiques/taux", params={**YEAR, "commune": ["94028", "77001"]})
    # P1 P2 P3 P4 P7 live there; P1 P2 P3 oriented on 31/12
    assert rates.json()["lignes"][0]["taux_orientation"] == 60.0
    aave = client.get("/statistiques/aave", params=YEAR).json()
    assert [line["structure"] for line in aave["lignes"]] == ["aave-1"]
    more = client.get("/statistiques/complementaires", params={**YEAR, "par": "mois"}).json()
    assert sum(line["sanctions"] for line in more["lignes"]) == 2
    chart = client.get("/statistiques/graphique", params={**YEAR, "format": "svg"})
    assert chart.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in chart.content


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/statistiques/table-3-1", {"du": "2024-12-31", "au": "2024-01-01"}, "au"),
        ("/statistiques/table-3-1", {"du": "2024-02-30", "au": "2024-12-31"}, "du"),
        ("/statistiques/graphique", {"du": "2000-01-01", "au": "9999-12-31"}, "au"),
        ("/statistiques/taux", {**YEAR, "regles": "inconnues"}, "regles"),
        ("/statistiques/taux", {**YEAR, "par": "age"}, "par"),
        ("/statistiques/drees", {"annee": 1999}, "annee"),
        ("/statistiques/drees", {"annee": 2024, "par": "mois"}, "par"),
        ("/statistiques/complementaires", {"du": "2024-01-01"}, "au"),
        ("/a-traiter", {"tri": "nom"}, "tri"),
        ("/a-traiter", {"motif": "inconnu"}, "motif"),
    ],
)
def test_bad_parameters_are_problems_naming_them(
    client: TestClient, path: str, params: dict[str, str], field: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"].split(".")[0] for e in response.json()["errors"]}


def test_roles(client: TestClient) -> None:
    assert client.get("/statistiques/taux", params=YEAR, headers=AGENT_AAVE).status_code == 403
    evaluation = bearer(Role.EVALUATION, sub="eva")
    assert client.get("/a-traiter", headers=evaluation).status_code == 403
    for role in (Role.AUDITEUR, Role.FINANCE):
        ok = client.get("/statistiques/taux", params=YEAR, headers=bearer(role, sub="x"))
        assert ok.status_code == 200


def test_worklist_paged_sorted_and_scoped(client: TestClient) -> None:
    everyone = client.get("/a-traiter", params={"limit": 4}).json()
    assert (everyone["total"], len(everyone["items"])) == (10, 4)
    assert [line["jours"] for line in everyone["items"]] == [259, 173, 137, 90]
    assert everyone["par_motif"]["sans_rdv"] == 3
    page3 = client.get("/a-traiter", params={"limit": 4, "offset": 8}).json()
    assert [line["jours"] for line in page3["items"]] == [25, 9]
    late = client.get("/a-traiter", params={"motif": "orientation_en_retard", "tri": "depuis"})
    assert [(line["depuis"], line["jours"]) for line in late.json()["items"]] == [
        ("2024-11-03", 58),
        ("2024-12-22", 9),
    ]
    mine = client.get("/a-traiter", headers=AGENT_AAVE).json()
    assert sorted((line["motif"], line["jours"]) for line in mine["items"]) == [
        ("cer_echu", 72),
        ("sans_rdv", 71),
        ("sans_rdv", 173),
    ]
    assert {line["structure_id"] for line in mine["items"]} == {"aave-1"}
    other = client.get("/a-traiter", params={"structure_id": "ccas-creteil"}, headers=AGENT_AAVE)
    assert other.status_code == 403
    csv = client.get("/a-traiter", headers={**AGENT_AAVE, "Accept": "text/csv"})
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Dossier;Motif;Libellé;Échéance;Depuis le;Jours")
    assert len(text.splitlines()) == 4


def test_worklist_filters_by_motive_referent_and_days_overdue(client: TestClient) -> None:
    everyone = client.get("/a-traiter").json()
    lines = everyone["items"]
    old = client.get("/a-traiter", params={"jours_min": 90}).json()
    assert [line["jours"] for line in old["items"]] == [
        j for j in (x["jours"] for x in lines) if j >= 90
    ]
    assert old["total"] == sum(old["par_motif"].values()) == 4
    two = client.get("/a-traiter", params={"motif": ["sans_rdv", "cer_echu"], "jours_min": 72})
    body = two.json()
    assert {line["motif"] for line in body["items"]} <= {"sans_rdv", "cer_echu"}
    assert all(line["jours"] >= 72 for line in body["items"])
    assert set(body["par_motif"]) <= {"sans_rdv", "cer_echu"}
    assert sum(body["par_motif"].values()) == body["total"] == len(body["items"])
    referent = next(line["referent_id"] for line in lines if line["referent_id"])
    theirs = client.get("/a-traiter", params={"referent_id": referent}).json()
    assert theirs["total"] >= 1
    assert {line["referent_id"] for line in theirs["items"]} == {referent}
    by_deadline = client.get("/a-traiter", params={"tri": "-echeance"}).json()["items"]
    assert [x["echeance"] for x in by_deadline] == sorted(
        (x["echeance"] for x in lines), reverse=True
    )
    bad = client.get("/a-traiter", params={"jours_min": -1})
    assert bad.status_code == 422
    assert "jours_min" in bad.text


def test_the_worklist_and_tables_kept_per_position_equal_the_ones_computed_afresh(
    client: TestClient,
) -> None:
    """The fast path (kept while the follow-up model stays at a position) against the slow one
    (computed from the model on each call), before and after a new event is projected."""
    app = client.app.state.parcours  # type: ignore[attr-defined]
    stats = Statistiques(app)
    today = app.today()
    year = annee(2024)

    def same() -> None:
        for structure in (None, "aave-1", "ccas-creteil"):
            kept = stats.worklist(today, structure)
            assert stats.worklist(today, structure) is kept  # the second read is the kept one
            assert kept == stats.worklist_lines(today, structure)
            for filtre, tri, premier in (
                (Filtre(), "-jours", None),
                (Filtre(motifs=frozenset({Motif.SANS_RDV}), jours_min=30), "echeance", None),
                (Filtre(), "depuis", "ref-aave"),
            ):
                chosen = stats.selection(today, structure, filtre, tri, None, premier)
                assert stats.selection(today, structure, filtre, tri, None, premier) is chosen
                fresh = selectionner(stats.worklist_lines(today, structure), filtre, tri, premier)
                assert chosen == fresh
        for famille in ("table-3-1", "taux", "complementaires", "drees"):
            fresh = stats.calculer(famille, year, "structure", episodes=stats.episodes())
            assert stats.calculer(famille, year, "structure") == fresh

    same()
    before = stats.worklist(today, "aave-1")
    planned = client.post(
        "/dossiers/00000000-0000-0000-0000-000000000003/rdv",
        json={
            "effective_on": "2024-12-30",
            "type_rdv": "suivi",
            "mode": "convocation",
            "date_rdv": "2024-12-31",
        },
    )
    assert planned.status_code == 200, planned.text
    wait_projected(client)
    assert len(stats.worklist(today, "aave-1")) == len(before) - 1
    same()


def test_worklist_refreshes_as_events_arrive(client: TestClient) -> None:
    before = client.get("/a-traiter", params={"structure_id": "aave-1"}).json()["total"]
    case = "00000000-0000-0000-0000-000000000003"
    planned = client.post(
        f"/dossiers/{case}/rdv",
        json={
            "effective_on": "2024-12-30",
            "type_rdv": "suivi",
            "mode": "convocation",
            "date_rdv": "2024-12-31",
        },
    )
    assert planned.status_code == 200, planned.text
    wait_projected(client)
    after = client.get("/a-traiter", params={"structure_id": "aave-1"}).json()
    # P3 has a RDV today: no longer "no RDV for 2 months"
    assert after["total"] == before - 1


def test_cli_prints_and_writes_csv(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = Parcours(settings)
    app.append_many(all_events(departement()))
    app.close()
    for key, value in cli_env(settings).items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "t31.csv"
    main(["stats", "table-3-1", "--annee", "2024", "--sortie", str(out)])
    main(["stats", "a-traiter", "--structure", "aave-1", "--date", "2024-12-31"])
    printed = capsys.readouterr().out
    assert "Nouveaux entrants" in printed
    assert "3 ligne(s) au 2024-12-31." in printed
    assert out.read_text(encoding="utf-8").splitlines()[1] == "6;3;3;1;2;1"
