"""The access log as data, on both stores: every access to a case is a row (who, as what, when,
which route, the reason given), counted after each read; the auditors' routes filter it (by
case, agent, period; JSON pages and CSV), a person's consultations list the granted ones; an
erasure of the identity keeps it; and a read whose row cannot be written fails."""

import csv
import io
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from adapters.access_log import AccessFilter, AccessLog
from adapters.eventlog.store import Parcours
from adapters.settings import Settings
from api.http.app import create_app
from api.http.auth import Role
from api.services.audit import purge_accesses
from tests.auth import STAFF, bearer
from tests.e2e.helpers import (
    AGENT_CCAS,
    AUDITEUR,
    CONSEILLER_FT,
    ENTREE,
    FLUX_CAF,
    ORIENTATION,
    ORIENTEUR,
    ROOT,
    process_env,
)

ADMIN = bearer(Role.ADMIN, sub="admin-1")


class Clock:
    """A second passes at each reading: accesses come one after the other."""

    def __init__(self) -> None:
        self.now = datetime(2024, 3, 1, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def served(settings: Settings) -> Iterator[tuple[TestClient, Parcours, Clock, str]]:
    """A case entered by the flux and oriented to the CCAS (two accesses: the steps)."""
    clock = Clock()
    app = Parcours(settings, clock=clock)
    with TestClient(create_app(settings, app), headers=STAFF) as client:
        case = client.post("/dossiers", json=ENTREE, headers=FLUX_CAF).json()["case_id"]
        answer = client.post(f"/dossiers/{case}/orientation", json=ORIENTATION, headers=ORIENTEUR)
        assert answer.status_code == 200, answer.text
        yield client, app, clock, case
    app.close()


def rows(app: Parcours, **f: Any) -> list[Any]:
    found, total = AccessLog.of(app).find(AccessFilter(**f))
    assert total == len(found)
    return found


def test_every_read_of_a_case_is_a_row(
    served: tuple[TestClient, Parcours, Clock, str],
) -> None:
    client, app, clock, case = served
    before = len(rows(app))
    assert before == 2  # the entry and the orientation

    clock.now = datetime(2024, 3, 2, 10, tzinfo=UTC)
    headers = {**AGENT_CCAS, "X-Motif-Acces": "préparation du RDV".encode()}
    assert client.get(f"/dossiers/{case}", headers=headers).status_code == 200  # type: ignore[arg-type]
    assert len(rows(app)) == before + 1
    latest = rows(app)[0]
    assert (latest.agent, latest.roles, latest.structures) == (
        "agent-7",
        ["agent"],
        ["ccas-creteil"],
    )
    assert (latest.method, latest.path, latest.outcome) == ("GET", f"/dossiers/{case}", "granted")
    assert latest.purpose == "lecture de l'état du dossier"
    assert latest.motif == "préparation du RDV"
    assert datetime(2024, 3, 2, 10, tzinfo=UTC) < latest.at <= clock.now

    timeline = client.get(f"/dossiers/{case}/evenements", params={"motif": "contrôle"})
    assert timeline.status_code == 200
    assert rows(app)[0].motif == "contrôle"
    assert rows(app)[0].agent == "staff"

    # An agent outside the case: hidden (404) but recorded; the identity read recorded too.
    assert client.get(f"/dossiers/{case}", headers=CONSEILLER_FT).status_code == 404
    assert rows(app)[0].outcome == "hidden"
    assert rows(app)[0].agent == "conseiller-12"
    assert client.get(f"/personnes/{case}/identite", headers=AUDITEUR).status_code == 404
    assert rows(app)[0].path == f"/personnes/{case}/identite"
    assert rows(app)[0].motif is None  # a reason is optional
    export = client.get(f"/audit/dossiers/{case}/export", headers=AUDITEUR)
    assert export.status_code == 200
    assert len(rows(app)) == before + 5
    assert len(rows(app, case_id=UUID(case))) == before + 5


def test_auditors_filter_the_log_by_case_agent_and_period(
    served: tuple[TestClient, Parcours, Clock, str],
) -> None:
    client, _app, clock, case = served
    other = client.post("/dossiers", json={**ENTREE, "numero_dossier": "CAF-2"}, headers=FLUX_CAF)
    other_id = other.json()["case_id"]
    clock.now = datetime(2024, 3, 5, 10, tzinfo=UTC)
    client.get(f"/dossiers/{case}", headers=AGENT_CCAS)
    clock.now = datetime(2024, 3, 9, 10, tzinfo=UTC)
    client.get(f"/dossiers/{other_id}", headers=AUDITEUR)
    client.get(f"/dossiers/{case}", headers=AUDITEUR)

    def page(**params: Any) -> Any:
        answer = client.get("/audit/acces", params=params, headers=AUDITEUR)
        assert answer.status_code == 200, answer.text
        return answer.json()

    everything = page()
    assert everything["total"] == 6
    assert [i["at"] for i in everything["items"]] == sorted(
        (i["at"] for i in everything["items"]), reverse=True
    )
    by_case = page(case_id=case)
    assert by_case["total"] == 4
    assert {i["case_id"] for i in by_case["items"]} == {case}
    by_agent = page(agent="agent-7")
    assert by_agent["total"] == 1
    assert by_agent["items"][0]["case_id"] == case
    march_9 = page(du="2024-03-09", au="2024-03-09")
    assert march_9["total"] == 2
    assert page(case_id=case, du="2024-03-02", au="2024-03-08")["total"] == 1
    paged = page(limit=2, offset=1)
    assert (paged["total"], len(paged["items"])) == (6, 2)
    assert paged["items"][0] == everything["items"][1]

    inverted = client.get("/audit/acces", params={"du": "2024-03-09", "au": "2024-03-01"})
    assert inverted.status_code == 422
    assert inverted.json()["field"] == "au"
    assert client.get("/audit/acces", params={"du": "hier"}).status_code == 422
    assert client.get("/audit/acces", headers=AGENT_CCAS).status_code == 403
    assert client.get("/audit/acces", headers=ADMIN).status_code == 200

    sheet = client.get(
        "/audit/acces", params={"case_id": case}, headers={**AUDITEUR, "Accept": "text/csv"}
    )
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][:3] == ["Date (UTC)", "Agent", "Rôles"]
    assert len(lines) == 1 + 4
    assert lines[1][1] == "auditeur-1"
    assert lines[1][4] == case


def test_a_persons_consultations_are_the_granted_accesses_and_outlive_erasure(
    served: tuple[TestClient, Parcours, Clock, str],
) -> None:
    client, _app, _, case = served
    client.get(f"/dossiers/{case}", headers=AGENT_CCAS)
    client.get(f"/dossiers/{case}", headers=CONSEILLER_FT)  # hidden: not a consultation

    def consultations() -> Any:
        answer = client.get(f"/personnes/{case}/consultations", headers=AUDITEUR)
        assert answer.status_code == 200, answer.text
        return answer.json()

    seen = consultations()
    assert seen["total"] == 3
    assert [i["agent"] for i in seen["items"]] == ["agent-7", "orienteur-cd94", "flux-caf"]
    assert client.get(f"/personnes/{case}/consultations", headers=ADMIN).status_code == 403
    assert client.get(f"/personnes/{case}/consultations", headers=AGENT_CCAS).status_code == 403
    unknown = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/personnes/{unknown}/consultations", headers=AUDITEUR).status_code == 404

    assert client.delete(f"/personnes/{case}/identite", headers=ADMIN).status_code in (204, 404)
    after = consultations()
    assert after["items"][1:] == seen["items"]  # the erasure is one more access, the rest kept
    assert after["items"][0]["purpose"] == "effacement de l'identité"


def test_old_accesses_are_purged_at_the_end_of_their_retention(
    served: tuple[TestClient, Parcours, Clock, str],
) -> None:
    client, app, clock, case = served
    clock.now = datetime(2025, 3, 1, 9, 0, 30, tzinfo=UTC)
    client.get(f"/dossiers/{case}", headers=AGENT_CCAS)
    before, count = purge_accesses(app)  # a year: the steps of 1 March 2024 go
    assert before > datetime(2024, 3, 1, 9, 0, 30, tzinfo=UTC)
    assert count == 2
    assert [a.agent for a in rows(app)] == ["agent-7"]


def test_the_command_line_purges_what_is_past_its_retention(
    served: tuple[TestClient, Parcours, Clock, str], settings: Settings
) -> None:
    _, app, _, _ = served
    assert len(rows(app)) == 2  # recorded on 1 March 2024: past a year today
    done = subprocess.run(
        [sys.executable, "-m", "api.cli.main", "audit", "purger-acces"],
        cwd=ROOT,
        env=process_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2 accès antérieurs au "), done.stdout
    assert rows(app) == []


def test_a_read_whose_access_cannot_be_recorded_fails(
    served: tuple[TestClient, Parcours, Clock, str],
) -> None:
    client, app, _, case = served
    table = AccessLog.of(app).table
    with table.writing() as tx:
        tx.run(f"DROP TABLE {table.ref}")
    answer = client.get(f"/dossiers/{case}", headers=AGENT_CCAS)
    assert answer.status_code >= 500
    assert "ccas-creteil" not in answer.text
