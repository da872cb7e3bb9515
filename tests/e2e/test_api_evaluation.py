"""The evaluation routes over HTTP on both stores: saving a cohort by name, streaming its
extract, its curves (JSON and chart) and its transitions; bad input is a problem naming the
field, with nothing written. And the `parcours cohort` commands on the same store."""

import io
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from adapters.eventlog.store import Parcours
from adapters.pseudonym_key import KEY_ENV
from adapters.settings import Settings
from api.cli.main import main
from api.http.app import create_app
from api.http.auth import Role
from tests.auth import STAFF, bearer
from tests.cohort_history import ALL, CASE_A, IDENTIFYING
from tests.e2e.helpers import cli_env

COHORT = {"entree_du": "2024-01-01", "entree_au": "2024-12-31"}
BASE = "/evaluation/cohortes"
EVALUATEUR = bearer(Role.EVALUATION, sub="eva")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = Parcours(settings)
    app.append_many(ALL)
    app.close()
    with TestClient(create_app(settings), headers=EVALUATEUR) as c:
        yield c


def _position(client: TestClient) -> int:
    return int(client.get("/health").json()["log_position"])


def test_save_then_replace_then_list(client: TestClient) -> None:
    created = client.put(f"{BASE}/c2024", json=COHORT)
    assert created.status_code == 201
    agent = bearer(Role.AGENT, structures=["ccas-creteil"], sub="agent-7")
    assert client.get(BASE, headers=agent).status_code == 403
    assert client.put(f"{BASE}/c2025", json=COHORT, headers=STAFF).status_code == 403
    assert created.json()["version"] == 1
    replaced = client.put(f"{BASE}/c2024", json={**COHORT, "communes": ["94028"]})
    assert (replaced.status_code, replaced.json()["version"]) == (200, 2)
    listed = client.get(BASE).json()
    assert [(c["nom"], c["definition"]["communes"]) for c in listed["items"]] == [
        ("c2024", ["94028"])
    ]
    assert (listed["total"], listed["limit"], listed["offset"]) == (1, 50, 0)
    assert client.get(f"{BASE}/c2024").json()["definition"]["entree_du"] == "2024-01-01"


@pytest.mark.parametrize(
    ("name", "body", "status", "field"),
    [
        ("c", {"entree_du": "2024-13-01"}, 422, "entree_du"),
        ("c", {"sexes": ["X"]}, 422, "sexes[0]"),
        ("c", {"age": 3}, 422, "age"),
        ("c", {"entree_du": "2024-02-01", "entree_au": "2024-01-01"}, 422, "entree_au"),
        ("c d", COHORT, 422, "nom"),
    ],
)
def test_bad_definition_is_a_problem_and_writes_nothing(
    client: TestClient, name: str, body: dict[str, object], status: int, field: str
) -> None:
    before = _position(client)
    response = client.put(f"{BASE}/{name}", json=body)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field
    assert _position(client) == before


def test_unknown_cohort_and_bad_parameters(client: TestClient) -> None:
    missing = client.get(f"{BASE}/absente/extrait")
    assert (missing.status_code, missing.json()["field"]) == (404, "nom")
    client.put(f"{BASE}/c2024", json=COHORT)
    bad = client.get(f"{BASE}/c2024/extrait", params={"format": "xlsx"})
    assert (bad.status_code, bad.json()["field"]) == (422, "format")
    bad = client.get(f"{BASE}/c2024/courbes", params={"jours": "30,abc"})
    assert (bad.status_code, bad.json()["field"]) == (422, "jours")


def test_extract_is_streamed_in_each_format(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "5e" * 32)  # the département's stable key, kept out of ./data
    client.put(f"{BASE}/c2024", json=COHORT)
    with client.stream(
        "GET", f"{BASE}/c2024/extrait", params={"forme": "evenements", "format": "csv"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "c2024-evenements.csv" in response.headers["content-disposition"]
        data = b"".join(response.iter_bytes())
    assert data.startswith(b"\xef\xbb\xbfCl\xc3\xa9 personne;")
    assert data.count(b"\r\n") == 1 + 16
    for text in (*IDENTIFYING, str(CASE_A), CASE_A.hex):
        assert text.encode() not in data

    parquet = client.get(f"{BASE}/c2024/extrait", params={"cle": "stable"})
    path = tmp_path / "e.parquet"
    path.write_bytes(parquet.content)
    assert duckdb.connect().execute(
        f"SELECT count(*), sum(dans_cohorte::int) FROM '{path}'"
    ).fetchone() == (
        3,
        2,
    )
    again = client.get(f"{BASE}/c2024/extrait", params={"cle": "stable", "format": "jsonl"})
    other = client.get(f"{BASE}/c2024/extrait", params={"cle": "rotative", "format": "jsonl"})
    keys = (
        duckdb.connect()
        .execute(f"SELECT DISTINCT cle_personne FROM '{path}' ORDER BY 1")
        .fetchall()
    )
    stable_keys = sorted({line.split('"')[3] for line in again.text.splitlines()})
    rotated_keys = sorted({line.split('"')[3] for line in other.text.splitlines()})
    assert [k[0] for k in keys] == stable_keys
    assert not set(stable_keys) & set(rotated_keys)


def test_curves_chart_and_transitions(client: TestClient) -> None:
    client.put(f"{BASE}/c2024", json=COHORT)
    client.put(f"{BASE}/c2025", json={"entree_du": "2025-01-01"})
    curves = client.get(
        f"{BASE}/c2024/courbes", params={"jours": "22,48,194", "comparer": "c2025"}
    ).json()
    assert [(c["cohorte"], c["episodes"]) for c in curves] == [("c2024", 2), ("c2025", 1)]
    assert curves[0]["courbes"][0] == {
        "jalon": "orientation",
        "jours": [22, 48, 194],
        "parts": [0.5, 0.5, 0.5],
    }
    assert curves[1]["courbes"][0]["parts"] == [1.0, 1.0, 1.0]  # A's re-entry, oriented day 17
    png = client.get(f"{BASE}/c2024/graphique", params={"comparer": "c2025"})
    assert (png.headers["content-type"], png.content[:8]) == ("image/png", b"\x89PNG\r\n\x1a\n")
    svg = client.get(f"{BASE}/c2024/graphique", params={"format": "svg", "jusqu_a": 365})
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    table = client.get(f"{BASE}/c2024/transitions").json()
    assert table[0] == {
        "depuis": "RdvPlanifie",
        "vers": "IssueRdvEnregistree",
        "nombre": 2,
        "jours_median": 6.5,
    }


def test_cli_define_extract_curves_transitions(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = Parcours(settings)
    app.append_many(ALL)
    app.close()
    for key, value in cli_env(settings).items():
        monkeypatch.setenv(key, value)
    main(["cohort", "define", "c2024", "--entree-du", "2024-01-01", "--entree-au", "2024-12-31"])
    out = tmp_path / "episodes.csv"
    main(["cohort", "extract", "c2024", "--sortie", str(out), "--format", "csv", "--silencieux"])
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 1 + 3
    chart = tmp_path / "courbes.svg"
    main(["cohort", "curves", "c2024", "--jours", "22", "--sortie", str(chart), "--silencieux"])
    assert chart.read_bytes().startswith(b"<?xml")
    main(["cohort", "transitions", "c2024", "--silencieux", "--sortie", str(tmp_path / "t.csv")])
    printed = capsys.readouterr().out
    assert "c2024: 2 épisodes" in printed
    assert "orientation 50.0%" in printed
    assert "2 personnes, 3 lignes" in printed
    transitions = io.StringIO((tmp_path / "t.csv").read_text(encoding="utf-8-sig"))
    assert transitions.readline().strip() == "Depuis;Vers;Nombre;Jours (médiane)"
    assert transitions.readline().strip() == "RdvPlanifie;IssueRdvEnregistree;2;6,5"
    with pytest.raises(SystemExit) as refused:
        main(["cohort", "extract", "absente", "--sortie", str(out)])
    assert refused.value.code == 2
    assert "absente" in capsys.readouterr().err


def test_openapi_documents_the_evaluation_routes(sqlite_settings: Settings) -> None:
    with TestClient(create_app(sqlite_settings), headers=EVALUATEUR) as c:
        spec = c.get("/openapi.json").json()
    problems = {
        (method, path, code): set(response["content"])
        for path, ops in spec["paths"].items()
        if path.startswith(BASE)
        for method, op in ops.items()
        for code, response in op["responses"].items()
        if code.startswith("4")
    }
    assert all(types == {"application/problem+json"} for types in problems.values()), problems
    documented = {
        (method, path): {code for code in op["responses"] if code.startswith("4")}
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if path.startswith(BASE)
    }
    assert documented == {
        ("get", BASE): {"422"},
        ("put", BASE + "/{nom}"): {"400", "422"},
        ("get", BASE + "/{nom}"): {"404", "422"},
        ("get", BASE + "/{nom}/extrait"): {"404", "422"},
        ("get", BASE + "/{nom}/courbes"): {"404", "422"},
        ("get", BASE + "/{nom}/graphique"): {"404", "422"},
        ("get", BASE + "/{nom}/transitions"): {"404", "422"},
    }
