"""Audit through HTTP, on both stores: a case keyed late and backdated, a report read on
15 March, then corrections and a backdated entry recorded in April. Each read answers, as of a
day and as known at a moment, the figures written out here by hand.

The application's clock is set step by step, so each event's recording time is known."""

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.eventlog.store import Parcours
from adapters.readmodels.projector import Projector
from adapters.settings import Settings
from api.http.app import create_app
from api.http.auth import Role
from tests.auth import STAFF, bearer
from tests.e2e.helpers import (
    AGENT_CCAS,
    AUDITEUR,
    ENTREE,
    FLUX_CAF,
    ORIENTATION,
    ORIENTEUR,
    ROOT,
    Json,
    process_env,
)

ADMIN = bearer(Role.ADMIN, sub="admin-1")
REPORT = "2024-03-15T12:00:00Z"
"""When the report was read: after the CER, before any correction."""


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, iso: str) -> None:
        self.now = datetime.fromisoformat(iso)


class Story:
    """Case A: v1 entry (3 Jan, keyed 8 Jan); v2 orientation of 25 Jan keyed on 10 Feb; v3 RDV
    planned 1 Feb for 5 Feb (keyed 12 Feb); v4 CER of 20 Feb (keyed 1 March). Read on 15 March.
    v5 (2 April): the orientation took effect on 20 Jan; v6 (3 April): the RDV was keyed on the
    wrong case. Case B: an entry of 10 March keyed on 5 April."""

    def __init__(self, client: TestClient, clock: Clock) -> None:
        self.client, self.clock = client, clock

    def post(self, iso: str, url: str, body: Json, headers: dict[str, str]) -> Json:
        self.clock.set(iso)
        response = self.client.post(url, json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        answer: Json = response.json()
        return answer

    def tell(self) -> tuple[str, str]:
        a = self.post("2024-01-08T09:00:00+00:00", "/dossiers", ENTREE, FLUX_CAF)["case_id"]
        self.post("2024-02-10T09:00:00+00:00", f"/dossiers/{a}/orientation", ORIENTATION, ORIENTEUR)
        rdv = {
            "effective_on": "2024-02-01",
            "type_rdv": "premier_accompagnement",
            "mode": "convocation",
            "date_rdv": "2024-02-05",
        }
        self.post("2024-02-12T09:00:00+00:00", f"/dossiers/{a}/rdv", rdv, AGENT_CCAS)
        cer = {"effective_on": "2024-02-20", "date_debut": "2024-03-01", "duree_mois": 6}
        self.post("2024-03-01T09:00:00+00:00", f"/dossiers/{a}/cer", cer, AGENT_CCAS)
        self.post(
            "2024-04-02T09:00:00+00:00",
            f"/dossiers/{a}/rectification",
            {
                "effective_on": "2024-04-02",
                "version_rectifiee": 2,
                "effective_on_corrige": "2024-01-20",
                "motif": "date de notification",
            },
            ORIENTEUR,
        )
        self.post(
            "2024-04-03T09:00:00+00:00",
            f"/dossiers/{a}/annulation",
            {"effective_on": "2024-04-03", "version_annulee": 3, "motif": "mauvais dossier"},
            AGENT_CCAS,
        )
        entree_b = {**ENTREE, "effective_on": "2024-03-10", "date_flux": "2024-03-11",
                    "date_reception_flux": "2024-03-12", "numero_dossier": "CAF-B"}  # fmt: skip
        b = self.post("2024-04-05T09:00:00+00:00", "/dossiers", entree_b, FLUX_CAF)["case_id"]
        self.clock.set("2024-06-01T09:00:00+00:00")
        return a, b


@pytest.fixture
def told(settings: Settings) -> Iterator[tuple[TestClient, Parcours, str, str]]:
    clock = Clock()
    app = Parcours(settings, clock=clock)
    with TestClient(create_app(settings, app), headers=STAFF) as client:
        a, b = Story(client, clock).tell()
        yield client, app, a, b
    app.close()


def get(client: TestClient, url: str, headers: dict[str, str] = AUDITEUR, **params: str) -> Any:
    response = client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_one_case_as_of_and_as_known_at(told: tuple[TestClient, Parcours, str, str]) -> None:
    client, _, a, _ = told
    now = get(client, f"/dossiers/{a}")
    assert (now["version"], now["date_orientation"], now["date_premier_rdv"], now["nb_cer"]) == (
        6,
        "2024-01-20",
        None,
        1,
    )
    then = get(client, f"/dossiers/{a}", known_at=REPORT)
    assert (then["version"], then["date_orientation"], then["date_premier_rdv"]) == (
        4,
        "2024-01-25",
        "2024-02-05",
    )
    # As of 22 January: oriented since 20 January as known now, not yet as known on 15 March.
    early_now = get(client, f"/dossiers/{a}", as_of="2024-01-22")
    assert (early_now["statut"], early_now["structure_id"], early_now["version"]) == (
        "oriente",
        "ccas-creteil",
        2,
    )
    early_then = get(client, f"/dossiers/{a}", as_of="2024-01-22", known_at=REPORT)
    assert (early_then["statut"], early_then["date_orientation"], early_then["version"]) == (
        "a_orienter",
        None,
        1,
    )
    # Naive moment: the département's time (Paris, UTC+1 in winter): 9:59 Paris is 8:59 UTC.
    assert get(client, f"/dossiers/{a}", known_at="2024-02-10T10:00:00")["version"] == 2
    assert get(client, f"/dossiers/{a}", known_at="2024-02-10T09:59:59")["version"] == 1
    missing = client.get(f"/dossiers/{a}", params={"known_at": "2024-01-08T08:59:59Z"})
    assert missing.status_code == 404
    assert (missing.json()["code"], missing.json()["field"]) == (
        "dossier_inexistant_a_date",
        "known_at",
    )
    before_entry = client.get(f"/dossiers/{a}", params={"as_of": "2024-01-02"})
    assert (before_entry.status_code, before_entry.json()["field"]) == (404, "as_of")


def test_the_timeline_shows_both_the_original_and_its_correction(
    told: tuple[TestClient, Parcours, str, str],
) -> None:
    client, _, a, _ = told
    entries = get(client, f"/dossiers/{a}/evenements")
    assert [(e["version"], e["type"], e["statut"], e["corrige"]) for e in entries] == [
        (1, "EntreeEnregistree", "valide", None),
        (2, "OrientationDecidee", "rectifiee", None),
        (3, "RdvPlanifie", "annulee", None),
        (4, "CerSigne", "valide", None),
        (5, "EtapeRectifiee", "correction", 2),
        (6, "EtapeAnnulee", "correction", 3),
    ]
    orientation = entries[1]
    assert (orientation["effective_on"], orientation["effective_on_enregistre"]) == (
        "2024-01-20",
        "2024-01-25",
    )
    assert (orientation["recorded_by"], orientation["structure_id"]) == ("orienteur-cd94", None)
    assert orientation["recorded_at"] == "2024-02-10T09:00:00Z"
    assert orientation["corrections"] == [
        {
            "version": 5,
            "type": "EtapeRectifiee",
            "motif": "date de notification",
            "effective_on_corrige": "2024-01-20",
            "recorded_at": "2024-04-02T09:00:00Z",
            "recorded_by": "orienteur-cd94",
            "structure_id": None,
        }
    ]
    voiding = entries[5]
    assert (voiding["recorded_by"], voiding["structure_id"], voiding["motif"]) == (
        "agent-7",
        "ccas-creteil",
        "mauvais dossier",
    )
    assert [e["position"] for e in entries] == sorted(e["position"] for e in entries)

    # As known on 15 March: the original, no correction.
    then = get(client, f"/dossiers/{a}/evenements", known_at=REPORT)
    assert [(e["version"], e["statut"], e["effective_on"]) for e in then] == [
        (1, "valide", "2024-01-03"),
        (2, "valide", "2024-01-25"),
        (3, "valide", "2024-02-01"),
        (4, "valide", "2024-02-20"),
    ]
    # As of 1 February: the steps in effect by then (the voided RDV shown, struck), and the
    # corrections of those steps.
    early = get(client, f"/dossiers/{a}/evenements", as_of="2024-02-01")
    assert [(e["version"], e["statut"]) for e in early] == [
        (1, "valide"),
        (2, "rectifiee"),
        (3, "annulee"),
        (5, "correction"),
        (6, "correction"),
    ]


def test_the_departement_as_known_at_and_as_of(
    told: tuple[TestClient, Parcours, str, str],
) -> None:
    client, app, a, b = told
    then = get(client, "/audit/dossiers", known_at=REPORT)
    assert (then["total"], then["position"]) == (1, 4)
    assert [(r["case_id"], r["date_orientation"], r["rdv_en_attente"]) for r in then["items"]] == [
        (a, "2024-01-25", 1)
    ]
    now = get(client, "/audit/dossiers", headers=ADMIN)
    assert (now["total"], now["position"]) == (2, 7)
    assert [r["case_id"] for r in now["items"]] == [a, b]  # by entry date
    assert now["items"][0]["date_orientation"] == "2024-01-20"
    # As of 12 March, known now: B had entered (10 March) though keyed on 5 April.
    march = get(client, "/audit/dossiers", as_of="2024-03-12")
    assert [(r["case_id"], r["statut"]) for r in march["items"]] == [
        (a, "oriente"),
        (b, "a_orienter"),
    ]
    march_then = get(client, "/audit/dossiers", as_of="2024-03-12", known_at=REPORT)
    assert [r["case_id"] for r in march_then["items"]] == [a]
    assert get(client, "/audit/dossiers", statut="a_orienter")["total"] == 1
    page = get(client, "/audit/dossiers", limit="1", offset="1")
    assert ([r["case_id"] for r in page["items"]], page["total"]) == ([b], 2)
    # The read model the projector keeps applies the corrections too, and equals the fold.
    projector = Projector(app)
    projector.catch_up()
    assert projector.view.get(_uuid(a)).date_orientation.isoformat() == "2024-01-20"  # type: ignore[union-attr]
    listed = get(client, "/dossiers", structure_id="ccas-creteil", headers=STAFF)
    assert [(r["case_id"], r["date_premier_rdv"]) for r in listed["items"]] == [(a, None)]


def _uuid(text: str) -> Any:
    from uuid import UUID

    return UUID(text)


def test_the_diff_lists_what_changed_and_why(told: tuple[TestClient, Parcours, str, str]) -> None:
    client, _, a, b = told
    page = get(client, "/audit/diff", known_at=REPORT)
    assert (page["position_then"], page["position_now"], page["total"]) == (4, 7, 2)
    changes = {c["case_id"]: c for c in page["items"]}
    assert [c["case_id"] for c in page["items"]] == sorted([a, b])
    assert changes[a]["change"] == "modifie"
    assert {f["field"]: (f["then"], f["now"]) for f in changes[a]["fields"]} == {
        "date_orientation": ("2024-01-25", "2024-01-20"),
        "date_premiere_orientation": ("2024-01-25", "2024-01-20"),
        "date_premier_rdv": ("2024-02-05", None),
        "date_dernier_rdv": ("2024-02-05", None),
        "rdv_en_attente": (1, 0),
    }
    assert [(e["version"], e["position"], e["type"], e["corrige"], e["motif"]) for e in changes[a]["events"]] == [
        (5, 5, "EtapeRectifiee", 2, "date de notification"),
        (6, 6, "EtapeAnnulee", 3, "mauvais dossier"),
    ]  # fmt: skip
    assert (changes[b]["change"], changes[b]["version_then"], changes[b]["version_now"]) == (
        "nouveau",
        None,
        1,
    )
    assert [(e["version"], e["position"]) for e in changes[b]["events"]] == [(1, 7)]
    # As of 31 January only the orientation's date and B's absence… B entered in March.
    january = get(client, "/audit/diff", known_at=REPORT, as_of="2024-01-31")
    assert [(c["case_id"], [f["field"] for f in c["fields"]]) for c in january["items"]] == [
        (a, ["date_orientation", "date_premiere_orientation"])
    ]
    assert get(client, "/audit/diff", known_at="2024-06-01T00:00:00Z")["total"] == 0


def test_exports_parse_and_name_every_author(told: tuple[TestClient, Parcours, str, str]) -> None:
    client, _, a, _ = told
    response = client.get(
        f"/audit/dossiers/{a}/export", params={"format": "json"}, headers=AUDITEUR
    )
    assert response.status_code == 200, response.text
    document = json.loads(response.content)
    assert (document["case_id"], document["generated_by"], document["position"]) == (
        a,
        "auditeur-1",
        6,  # the case's last event in the log
    )
    assert document["state"]["date_orientation"] == "2024-01-20"
    assert [e["version"] for e in document["timeline"]] == [1, 2, 3, 4, 5, 6]
    then = client.get(
        f"/audit/dossiers/{a}/export", params={"known_at": REPORT}, headers=AUDITEUR
    ).json()
    assert [e["statut"] for e in then["timeline"]] == ["valide"] * 4

    html = client.get(f"/audit/dossiers/{a}/export", params={"format": "html"}, headers=AUDITEUR)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    from lxml import html as lxml_html

    page = lxml_html.fromstring(html.content)
    rows = page.xpath("//table//tr[td]")
    assert [r.get("class") for r in rows] == [
        "valide",
        "rectifiee",
        "correction",
        "annulee",
        "correction",
        "valide",
    ]  # each correction right under the step it corrects
    text = html.text
    for author in ("flux-caf", "orienteur-cd94", "agent-7"):
        assert author in text
    assert "mauvais dossier" in text
    assert "date de notification" in text
    unknown = client.get(
        "/audit/dossiers/00000000-0000-4000-8000-000000000000/export", headers=AUDITEUR
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "dossier_inconnu")


def lines(client: TestClient, **params: str) -> list[Json]:
    response = client.get("/audit/journal", params=params, headers=AUDITEUR)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


def test_the_log_of_a_recording_window_is_exact(
    told: tuple[TestClient, Parcours, str, str],
) -> None:
    client, _, a, b = told
    everything = lines(client)
    assert [(x["position"], x["case_id"], x["version"], x["type"]) for x in everything] == [
        (1, a, 1, "EntreeEnregistree"),
        (2, a, 2, "OrientationDecidee"),
        (3, a, 3, "RdvPlanifie"),
        (4, a, 4, "CerSigne"),
        (5, a, 5, "EtapeRectifiee"),
        (6, a, 6, "EtapeAnnulee"),
        (7, b, 1, "EntreeEnregistree"),
    ]
    first = everything[1]
    assert (first["effective_on"], first["recorded_at"]) == ("2024-01-25", "2024-02-10T09:00:00Z")
    assert first["payload"]["structure_id"] == "ccas-creteil"
    assert first["payload"]["meta"]["recorded_by"] == "orienteur-cd94"
    assert [x["position"] for x in lines(client, to=REPORT)] == [1, 2, 3, 4]
    assert [x["position"] for x in lines(client, **{"from": REPORT})] == [5, 6, 7]
    # Bounds: after `from`, up to and including `to`.
    window = lines(client, **{"from": "2024-04-02T09:00:00Z", "to": "2024-04-03T09:00:00Z"})
    assert [x["position"] for x in window] == [6]
    assert lines(client, **{"from": "2024-04-03T09:00:00Z", "to": "2024-04-03T09:00:00Z"}) == []
    inverted = client.get(
        "/audit/journal", params={"from": REPORT, "to": "2024-01-01T00:00:00Z"}, headers=AUDITEUR
    )
    assert (inverted.status_code, inverted.json()["field"]) == (422, "to")
    for line in everything:  # no identity data: only opaque references
        assert not {"nom", "prenom", "nir", "date_naissance"} & set(line["payload"])


def test_corrections_follow_the_step_routes(told: tuple[TestClient, Parcours, str, str]) -> None:
    client, app, a, _ = told
    before = app.max_position()
    voiding = {"effective_on": "2024-05-02", "version_annulee": 4, "motif": "CER d'un autre"}
    # Stale version: refused like any step.
    stale = client.post(
        f"/dossiers/{a}/annulation", json=voiding, headers={**AGENT_CCAS, "If-Match": '"4"'}
    )
    assert (stale.status_code, stale.json()["field"]) == (412, "If-Match")
    # An agent may not correct an orientation (the département's decision) …
    refused = client.post(
        f"/dossiers/{a}/rectification",
        json={"effective_on": "2024-05-02", "version_rectifiee": 2,
              "effective_on_corrige": "2024-01-19", "motif": "x"},
        headers=AGENT_CCAS,
    )  # fmt: skip
    assert refused.status_code == 403
    # … nor an auditor anything; the field at fault is named.
    assert (
        client.post(f"/dossiers/{a}/annulation", json=voiding, headers=AUDITEUR).status_code == 403
    )
    missing = client.post(
        f"/dossiers/{a}/annulation",
        json={"effective_on": "2024-05-02", "motif": "x"},
        headers=AGENT_CCAS,
    )
    assert (missing.status_code, missing.json()["field"]) == (422, "version_annulee")
    twice = client.post(
        f"/dossiers/{a}/annulation", json={**voiding, "version_annulee": 3}, headers=AGENT_CCAS
    )
    assert (twice.status_code, twice.json()["code"], twice.json()["field"]) == (
        422,
        "etape_deja_annulee",
        "version_annulee",
    )
    assert app.max_position() == before
    # The agent voids its CER with the current version; the CER can then be signed again.
    done = client.post(
        f"/dossiers/{a}/annulation", json=voiding, headers={**AGENT_CCAS, "If-Match": '"6"'}
    )
    assert (done.status_code, done.json()["version"]) == (200, 7), done.text
    cer = {"effective_on": "2024-05-03", "date_debut": "2024-05-03", "duree_mois": 6}
    assert client.post(f"/dossiers/{a}/cer", json=cer, headers=AGENT_CCAS).status_code == 200
    assert get(client, f"/dossiers/{a}")["date_premier_cer"] == "2024-05-03"
    # The flux corrects what the flux records (an entry date), not the agent.
    entry = {"effective_on": "2024-05-04", "version_rectifiee": 1,
             "effective_on_corrige": "2024-01-02", "motif": "date du flux"}  # fmt: skip
    assert (
        client.post(f"/dossiers/{a}/rectification", json=entry, headers=AGENT_CCAS).status_code
        == 403
    )
    assert (
        client.post(f"/dossiers/{a}/rectification", json=entry, headers=FLUX_CAF).status_code == 200
    )


def test_audit_routes_are_for_auditors_and_admins(
    told: tuple[TestClient, Parcours, str, str],
) -> None:
    client, _, a, _ = told
    for headers in (AGENT_CCAS, ORIENTEUR, FLUX_CAF, bearer(Role.FINANCE)):
        for url in ("/audit/dossiers", f"/audit/dossiers/{a}/export", "/audit/journal"):
            assert client.get(url, headers=headers).status_code == 403, (url, headers)
        response = client.get("/audit/diff", params={"known_at": REPORT}, headers=headers)
        assert response.status_code == 403
    bad = client.get("/audit/diff", params={"known_at": "hier"}, headers=AUDITEUR)
    assert (bad.status_code, bad.json()["field"]) == (422, "known_at")


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli.main", "audit", *args],
        cwd=ROOT,
        env=process_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_the_cli_writes_the_window_and_the_diff(
    told: tuple[TestClient, Parcours, str, str], settings: Settings, tmp_path: Path
) -> None:
    _, _, a, b = told
    window = cli(settings, "log", "--depuis", REPORT, "--jusqua", "2024-04-03T09:00:00+00:00")
    assert [(x["position"], x["case_id"], x["type"]) for x in map(json.loads, window.stdout.splitlines())] == [
        (5, a, "EtapeRectifiee"),
        (6, a, "EtapeAnnulee"),
    ]  # fmt: skip
    changes = cli(settings, "diff", "--connu-le", REPORT, "--json")
    assert sorted((c["case_id"], c["change"], len(c["events"])) for c in map(json.loads, changes.stdout.splitlines())) == sorted(
        [(a, "modifie", 2), (b, "nouveau", 1)]
    )  # fmt: skip
    readable = cli(settings, "diff", "--connu-le", REPORT).stdout
    assert "date_orientation: 2024-01-25 → 2024-01-20" in readable
    assert "EtapeAnnulee de l'étape 3" in readable
    assert "mauvais dossier" in readable
    out = tmp_path / "dossier.html"
    cli(settings, "export", a, "--format", "html", "--sortie", str(out))
    assert out.read_text().count('class="correction"') == 2
