"""One bad event stops nothing, through HTTP, on both stores.

A CER starting on 9999-12-01 is written straight into the log, under the rules' back (its end
date cannot be computed). The in-process projector sets the case aside and keeps folding the
others; `/health` says so (503) while `/health/live` still answers; reads of that case answer
409 `dossier_en_quarantaine`, the département-wide audit lists leave it out and name it.
Voiding the step through the API refolds the case: it leaves quarantine, health is 200 again."""

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from uuid import UUID

import msgspec
import pytest
from fastapi.testclient import TestClient

from adapters.eventlog.store import Parcours
from adapters.settings import Settings
from api.http.app import create_app
from api.http.auth import Role
from domain.events import CerSigne, Meta, Recorded
from tests.auth import STAFF, bearer
from tests.e2e.helpers import (
    ORIENTEUR,
    REFERENT,
    Json,
    create_case,
    orient,
)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, run_projector=True), headers=STAFF) as c:
        yield c


def poison(app: Parcours, case_id: str) -> int:
    """Append a CER the fold cannot apply, without the rules; returns its version."""
    case = UUID(case_id)
    version = len(app.history(case)) + 1
    meta = Meta(recorded_at=datetime.now(UTC), recorded_by="import-ancien", request_id="r-poison")
    event = CerSigne(
        effective_on=date(2024, 2, 20),
        meta=meta,
        numero=1,
        date_debut=date(9999, 12, 1),
        duree_mois=6,
        renouvellement=False,
    )
    app.append_many([Recorded(case, version, event)])
    return version


def settled(client: TestClient, ok: bool = False) -> Json:
    """/health once the projector has reached the end of the log, and with `ok` once it
    answers 200 (a case leaves quarantine just after its model's batch commits); polled,
    60 s at most."""
    deadline = time.monotonic() + 300
    while True:
        answer = client.get("/health")
        health: Json = answer.json()
        health["http_status"] = answer.status_code
        if health["projection_position"] == health["log_position"] and (
            not ok or answer.status_code == 200
        ):
            return health
        assert time.monotonic() < deadline, health
        time.sleep(0.05)


def test_a_poison_event_sets_its_case_aside_and_a_correction_brings_it_back(
    client: TestClient,
) -> None:
    app: Parcours = client.app.state.parcours  # type: ignore[attr-defined]
    broken, healthy = create_case(client), create_case(client)
    for case_id in (broken, healthy):
        orient(client, case_id)
    voided = poison(app, broken)
    # Recorded after the poison event: still projected.
    answer = client.post(f"/dossiers/{healthy}/referent", json=REFERENT, headers=ORIENTEUR)
    assert answer.status_code == 200, answer.text

    health = settled(client)
    assert health["http_status"] == 503
    assert health["status"] == "degraded"
    models = {m["name"]: m for m in health["models"]}
    for name in ("case_state", "suivi"):
        assert models[name]["quarantaine_total"] == 1
        assert models[name]["quarantaine"] == []  # an open probe names no case
        assert models[name]["lag"] == 0
    held = client.get("/audit/quarantaine").json()["items"]
    for name in ("case_state", "suivi"):
        (entry,) = [e for e in held if e["model"] == name]
        assert entry["case_id"] == broken
        assert entry["event_type"] == "CerSigne"
        assert "year" in entry["error"]
    agent = bearer(Role.AGENT, structures=["ccas-creteil"])
    assert client.get("/audit/quarantaine", headers=agent).status_code == 403
    assert any("quarantaine" in reason for reason in health["reasons"])
    assert client.get("/health/live", headers={"Authorization": ""}).status_code == 200

    listed = client.get("/dossiers", params={"referent_id": REFERENT["referent_id"]}).json()
    assert [row["case_id"] for row in listed["items"]] == [healthy]

    for path in (f"/dossiers/{broken}", f"/dossiers/{broken}/evenements"):
        answer = client.get(path)
        assert answer.status_code == 409, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "dossier_en_quarantaine"
    assert client.get(f"/dossiers/{healthy}").status_code == 200
    step = client.post(f"/dossiers/{broken}/referent", json=REFERENT, headers=ORIENTEUR)
    assert step.status_code == 409, step.text
    assert step.json()["code"] == "dossier_en_quarantaine"
    assert len(app.history(UUID(broken))) == voided  # nothing written

    audit = client.get("/audit/dossiers")
    assert audit.status_code == 200, audit.text
    assert audit.json()["quarantaine"] == [broken]
    assert [row["case_id"] for row in audit.json()["items"]] == [healthy]
    diff = client.get("/audit/diff", params={"known_at": "2000-01-01T00:00:00Z"})
    assert diff.status_code == 200, diff.text
    assert diff.json()["quarantaine"] == [broken]
    assert [c["case_id"] for c in diff.json()["items"]] == [healthy]

    annulation = {
        "effective_on": date.today().isoformat(),
        "version_annulee": voided,
        "motif": "date de début saisie par erreur",
    }
    answer = client.post(f"/dossiers/{broken}/annulation", json=annulation, headers=ORIENTEUR)
    assert answer.status_code == 200, answer.text

    health = settled(client, ok=True)
    assert health["status"] == "ok"
    assert all(m["quarantaine"] == [] for m in health["models"])
    state = client.get(f"/dossiers/{broken}")
    assert state.status_code == 200, state.text
    assert state.json()["nb_cer"] == 0
    assert client.get("/audit/dossiers").json()["quarantaine"] == []


def test_health_answers_503_while_a_read_model_lags_more_than_the_threshold(
    settings: Settings,
) -> None:
    lagging = msgspec.structs.replace(settings, health_max_lag=1)
    with TestClient(create_app(lagging), headers=STAFF) as c:  # no projector: nothing follows
        create_case(c)
        assert c.get("/health").status_code == 200  # one event behind: within the threshold
        create_case(c)
        answer = c.get("/health")
        assert answer.status_code == 503, answer.text
        health = answer.json()
        assert health["status"] == "degraded"
        assert {m["lag"] for m in health["models"]} == {2}
        assert all("retard" in reason for reason in health["reasons"])
        assert c.get("/health/live").status_code == 200
        c.app.state.projector.catch_up()  # type: ignore[attr-defined]
        assert c.get("/health").status_code == 200
