"""A délais report regenerated as it was known, on both stores: the first quarter of 2024 is
reported on 1 April; in April an orientation date is rectified, an entry of March is keyed late,
an orientation is voided and a structure's ETP is corrected back to January. Today's figures
move; the report asked "as known at" 1 April comes out as it was produced, and the differences
name the cases and the events behind them. Every figure is worked out by hand below.

Table 3.1 under the 2018 rules (entrant: flux date in the quarter; oriented within a month of the
flux date; first accompaniment RDV within 14 days of the orientation in force when it was fixed;
first CER within 2 months of its orientation):
- A: flux 4 Jan; social orientation to the CCAS on 10 Feb (deadline 4 Feb: late), rectified in
  April to 30 Jan (in time); first RDV fixed 12 Feb for 20 Feb (deadline 24 Feb from 10 Feb: in
  time; 13 Feb from 30 Jan: late); CER signed 1 March (in time either way).
- B: flux 1 Feb; professional orientation to France Travail on 15 Feb (deadline 1 March: in
  time), voided in April. France Travail: no RDV nor CER counted.
- C: flux 6 March, keyed on 8 April.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.eventlog.store import Parcours
from adapters.settings import Settings
from api.cli.main import main
from api.http.app import create_app
from api.http.auth import Role
from tests.auth import STAFF, bearer
from tests.e2e.helpers import (
    AGENT_CCAS,
    AUDITEUR,
    ENTREE,
    FLUX_CAF,
    ORIENTEUR,
    Json,
    cli_env,
    wait_projected,
)

FINANCE = bearer(Role.FINANCE, sub="finance-1")
QUARTER = {"du": "2024-01-01", "au": "2024-03-31"}
REPORT = "2024-04-01T12:00:00+00:00"
"""When the quarter's report was produced."""
MIDDLE = "2024-04-06T00:00:00+00:00"
"""After the rectification, before the late entry and the voiding."""
FIELDS = (
    "nouveaux_entrants",
    "orientes_dans_le_delai",
    "premiers_rdv",
    "premiers_rdv_dans_le_delai",
    "premiers_cer",
    "premiers_cer_dans_le_delai",
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Story:
    def __init__(self, client: TestClient, clock: Clock) -> None:
        self.client, self.clock = client, clock

    def send(self, iso: str, method: str, url: str, body: Json, headers: dict[str, str]) -> Json:
        self.clock.now = datetime.fromisoformat(iso)
        response = self.client.request(method, url, json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        answer: Json = response.json()
        return answer

    def entry(self, iso: str, numero: str, effet: str, flux: str, reception: str) -> str:
        body = {
            **ENTREE,
            "numero_dossier": numero,
            "effective_on": effet,
            "date_flux": flux,
            "date_reception_flux": reception,
        }
        case_id: str = self.send(iso, "POST", "/dossiers", body, FLUX_CAF)["case_id"]
        return case_id

    def until_report(self) -> tuple[str, str]:
        aave = {
            "nom": "AAVE Melun",
            "type_organisme": "aave",
            "etp": 2.0,
            "effective_on": "2024-01-01",
        }
        self.send("2024-01-02T09:00:00+00:00", "PUT", "/structures/aave-77", aave, FINANCE)
        a = self.entry(
            "2024-01-08T09:00:00+00:00", "CAF-A", "2024-01-03", "2024-01-04", "2024-01-08"
        )
        b = self.entry(
            "2024-02-02T09:00:00+00:00", "CAF-B", "2024-01-31", "2024-02-01", "2024-02-02"
        )
        sociale = {
            "effective_on": "2024-02-10",
            "type_orientation": "sociale",
            "organisme": "ccas",
            "structure_id": "ccas-creteil",
            "mode": "decidee",
        }
        self.send(
            "2024-02-12T09:00:00+00:00", "POST", f"/dossiers/{a}/orientation", sociale, ORIENTEUR
        )
        rdv = {
            "effective_on": "2024-02-12",
            "type_rdv": "premier_accompagnement",
            "mode": "convocation",
            "date_rdv": "2024-02-20",
        }
        self.send("2024-02-12T10:00:00+00:00", "POST", f"/dossiers/{a}/rdv", rdv, AGENT_CCAS)
        pro = {
            "effective_on": "2024-02-15",
            "type_orientation": "professionnelle",
            "organisme": "france_travail",
            "structure_id": "ft-creteil",
            "mode": "decidee",
        }
        self.send("2024-02-16T09:00:00+00:00", "POST", f"/dossiers/{b}/orientation", pro, ORIENTEUR)
        cer = {"effective_on": "2024-03-01", "date_debut": "2024-03-01", "duree_mois": 6}
        self.send("2024-03-02T09:00:00+00:00", "POST", f"/dossiers/{a}/cer", cer, AGENT_CCAS)
        self.clock.now = datetime.fromisoformat(REPORT)
        return a, b

    def april(self, a: str, b: str) -> str:
        rectification = {
            "effective_on": "2024-04-05",
            "version_rectifiee": 2,
            "effective_on_corrige": "2024-01-30",
            "motif": "date de la notification",
        }
        self.send(
            "2024-04-05T09:00:00+00:00",
            "POST",
            f"/dossiers/{a}/rectification",
            rectification,
            ORIENTEUR,
        )
        c = self.entry(
            "2024-04-08T09:00:00+00:00", "CAF-C", "2024-03-05", "2024-03-06", "2024-03-07"
        )
        aave = {
            "nom": "AAVE Melun",
            "type_organisme": "aave",
            "etp": 4.0,
            "effective_on": "2024-01-01",
        }
        self.send("2024-04-09T09:00:00+00:00", "PUT", "/structures/aave-77", aave, FINANCE)
        voiding = {
            "effective_on": "2024-04-10",
            "version_annulee": 2,
            "motif": "orientation saisie sur le mauvais dossier",
        }
        self.send(
            "2024-04-10T09:00:00+00:00", "POST", f"/dossiers/{b}/annulation", voiding, ORIENTEUR
        )
        self.clock.now = datetime(2024, 6, 1, 9, tzinfo=UTC)
        return c


def get(client: TestClient, url: str, **params: Any) -> Any:
    response = client.get(url, params=params, headers=AUDITEUR)
    assert response.status_code == 200, response.text
    return response.json()


def figures(table: Json) -> tuple[int, ...]:
    (line,) = table["lignes"]
    return tuple(line[f] for f in FIELDS)


REPORTS = {
    "table-3-1": QUARTER,
    "taux": QUARTER,
    "complementaires": QUARTER,
    "aave": {**QUARTER, "structure_id": "aave-77"},
    "drees": {"annee": "2024"},
}


@pytest.fixture
def story(settings: Settings) -> Iterator[tuple[TestClient, Story, dict[str, Json], str, str]]:
    clock = Clock()
    app = Parcours(settings, clock=clock)
    with TestClient(create_app(settings, app, run_projector=True), headers=STAFF) as client:
        told = Story(client, clock)
        a, b = told.until_report()
        wait_projected(client)
        produced = {name: get(client, f"/statistiques/{name}", **q) for name, q in REPORTS.items()}
        yield client, told, produced, a, b
    app.close()


def test_a_report_regenerated_as_known_then_gives_the_figures_produced_then(
    story: tuple[TestClient, Story, dict[str, Json], str, str],
) -> None:
    client, told, produced, a, b = story
    assert figures(produced["table-3-1"]) == (2, 1, 1, 1, 1, 1)
    assert produced["table-3-1"]["known_at"] is None
    (aave,) = produced["aave"]["lignes"]
    assert aave["etp"] == 2.0

    told.april(a, b)
    wait_projected(client)

    today = get(client, "/statistiques/table-3-1", **QUARTER)
    assert figures(today) == (3, 1, 1, 0, 1, 1)
    assert get(client, "/statistiques/aave", **REPORTS["aave"])["lignes"][0]["etp"] == 4.0

    for name, params in REPORTS.items():
        again = get(client, f"/statistiques/{name}", known_at=REPORT, **params)
        assert again.pop("known_at") == "2024-04-01T12:00:00Z"
        original = dict(produced[name])
        original.pop("known_at")
        assert again == original, name

    # Between the two: the rectification is known, not yet the late entry nor the voiding.
    middle = get(client, "/statistiques/table-3-1", known_at=MIDDLE, **QUARTER)
    assert figures(middle) == (2, 2, 1, 0, 1, 1)


def test_as_of_a_day_as_known_now_and_as_known_then(
    story: tuple[TestClient, Story, dict[str, Json], str, str],
) -> None:
    client, told, _, a, b = story
    told.april(a, b)
    wait_projected(client)
    # As of 29 February: C had not entered, A's CER was not signed. Known now: A oriented in
    # time (30 Jan) but its RDV late, B's orientation void.
    now = get(client, "/statistiques/table-3-1", as_of="2024-02-29", **QUARTER)
    assert (figures(now), now["as_of"]) == ((2, 1, 1, 0, 0, 0), "2024-02-29")
    # Known on 1 April: A oriented late (10 Feb) and its RDV in time, B oriented in time.
    then = get(client, "/statistiques/table-3-1", as_of="2024-02-29", known_at=REPORT, **QUARTER)
    assert figures(then) == (2, 1, 1, 1, 0, 0)


def test_differences_list_the_cells_and_the_cases_that_changed_and_why(
    story: tuple[TestClient, Story, dict[str, Json], str, str],
) -> None:
    client, told, produced, a, b = story
    c = told.april(a, b)
    wait_projected(client)
    result = get(client, "/statistiques/ecarts", famille="table-3-1", known_at=REPORT, **QUARTER)
    assert figures(result["avant"]) == figures(produced["table-3-1"])
    assert figures(result["maintenant"]) == (3, 1, 1, 0, 1, 1)
    assert [(e["colonne"], e["avant"], e["maintenant"]) for e in result["ecarts"]] == [
        ("nouveaux_entrants", 2, 3),
        ("premiers_rdv_dans_le_delai", 1, 0),
    ]
    assert result["total_dossiers"] == 3
    changes = {d["case_id"]: d for d in result["dossiers"]}
    assert {k: v["change"] for k, v in changes.items()} == {
        a: "modifie",
        b: "modifie",
        c: "nouveau",
    }
    assert [(e["type"], e["corrige"], e["motif"]) for e in changes[a]["events"]] == [
        ("EtapeRectifiee", 2, "date de la notification")
    ]
    assert [(e["type"], e["corrige"]) for e in changes[b]["events"]] == [("EtapeAnnulee", 2)]
    assert [(e["type"], e["effective_on"]) for e in changes[c]["events"]] == [
        ("EntreeEnregistree", "2024-03-05")
    ]
    assert changes[c]["events"][0]["recorded_at"] == "2024-04-08T09:00:00Z"


def test_bad_moments_are_refused_with_the_parameter_at_fault(
    story: tuple[TestClient, Story, dict[str, Json], str, str],
) -> None:
    client = story[0]
    bad = client.get(
        "/statistiques/table-3-1", params={**QUARTER, "known_at": "hier"}, headers=AUDITEUR
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "known_at" in bad.text
    missing = client.get(
        "/statistiques/ecarts", params={**QUARTER, "famille": "table-3-1"}, headers=AUDITEUR
    )
    assert missing.status_code == 422
    assert "known_at" in missing.text
    unknown = client.get(
        "/statistiques/ecarts",
        params={**QUARTER, "famille": "inconnue", "known_at": REPORT},
        headers=AUDITEUR,
    )
    assert unknown.status_code == 422
    # The differences name cases and who keyed what: auditors only.
    refused = client.get(
        "/statistiques/ecarts",
        params={**QUARTER, "famille": "table-3-1", "known_at": REPORT},
        headers=ORIENTEUR,
    )
    assert refused.status_code == 403
    assert "famille" in unknown.text


def test_the_command_line_prints_the_report_as_known_then_and_the_differences(
    story: tuple[TestClient, Story, dict[str, Json], str, str],
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, told, _, a, b = story
    told.april(a, b)
    wait_projected(client)
    for key, value in cli_env(settings).items():
        monkeypatch.setenv(key, value)
    period = ["--du", "2024-01-01", "--au", "2024-03-31"]
    main(["stats", "table-3-1", *period, "--connu-le", REPORT])
    then = capsys.readouterr().out
    assert "Nouveaux entrants" in then
    assert "dont 1ers RDV dans le délai" in then
    line = next(x for x in then.splitlines() if x.startswith("Nouveaux entrants "))
    assert line.split()[-1] == "2"
    main(["stats", "table-3-1", *period, "--connu-le", REPORT, "--ecarts"])
    out = capsys.readouterr().out
    assert "Nouveaux entrants: 2 → 3" in out
    assert "3 dossier(s) modifié(s) depuis" in out
    assert "EtapeAnnulee du 2024-04-10" in out
    assert "(orientation saisie sur le mauvais" in out
