"""Bad input gets a problem+json naming the field at fault, and nothing is written."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.app import create_app
from tests.e2e.http import ENTREE, create

ORIENTATION = {
    "effective_on": "2024-01-25",
    "type_orientation": "sociale",
    "organisme": "ccas",
    "structure_id": "ccas-creteil",
}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _log_position(client: TestClient) -> int:
    position: int = client.get("/health").json()["log_position"]
    return position


def _refused(
    client: TestClient, url: str, status: int, code: str, field: str, **kwargs: Any
) -> dict[str, Any]:
    """Post, expect the problem, and check the log did not move."""
    before = _log_position(client)
    response = client.post(url, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["field"] == field
    assert problem["errors"][0]["field"] == field
    assert problem["instance"] == url
    assert _log_position(client) == before
    return problem


def test_malformed_json(client: TestClient) -> None:
    case_id = create(client)
    _refused(
        client,
        f"/dossiers/{case_id}/orientation",
        400,
        "json_invalide",
        "body",
        content=b'{"effective_on": "2024-01-25",',
        headers={"content-type": "application/json"},
    )


def test_unknown_enum_value(client: TestClient) -> None:
    case_id = create(client)
    problem = _refused(
        client,
        f"/dossiers/{case_id}/orientation",
        422,
        "champ_invalide",
        "type_orientation",
        json={**ORIENTATION, "type_orientation": "magique"},
    )
    assert "magique" in problem["detail"]


def test_impossible_date(client: TestClient) -> None:
    _refused(
        client,
        "/dossiers",
        422,
        "champ_invalide",
        "date_flux",
        json={**ENTREE, "date_flux": "2024-02-30"},
    )


def test_missing_and_unknown_fields(client: TestClient) -> None:
    case_id = create(client)
    body = {k: v for k, v in ORIENTATION.items() if k != "structure_id"}
    _refused(
        client, f"/dossiers/{case_id}/orientation", 422, "champ_invalide", "structure_id", json=body
    )
    _refused(
        client,
        f"/dossiers/{case_id}/orientation",
        422,
        "champ_invalide",
        "couleur",
        json={**ORIENTATION, "couleur": "bleu"},
    )


def test_effective_date_in_the_future(client: TestClient) -> None:
    case_id = create(client)
    _refused(
        client,
        f"/dossiers/{case_id}/orientation",
        422,
        "date_future",
        "effective_on",
        json={**ORIENTATION, "effective_on": "2999-01-01"},
    )


def test_step_before_the_entry(client: TestClient) -> None:
    case_id = create(client)
    _refused(
        client,
        f"/dossiers/{case_id}/orientation",
        422,
        "date_anterieure",
        "effective_on",
        json={**ORIENTATION, "effective_on": "2023-12-01"},
    )


def test_steps_out_of_order(client: TestClient) -> None:
    case_id = create(client)
    _refused(
        client,
        f"/dossiers/{case_id}/cer",
        422,
        "orientation_requise",
        "effective_on",
        json={"effective_on": "2024-02-20", "date_debut": "2024-03-01", "duree_mois": 6},
    )
    client.post(f"/dossiers/{case_id}/orientation", json=ORIENTATION)
    _refused(
        client,
        f"/dossiers/{case_id}/issue-rdv",
        422,
        "rdv_inconnu",
        "numero",
        json={"effective_on": "2024-02-05", "numero": 3, "issue": "seen"},
    )
    _refused(
        client,
        f"/dossiers/{case_id}/orientation",
        422,
        "deja_oriente",
        "type_orientation",
        json=ORIENTATION,
    )


def test_contract_length_outside_6_9_12(client: TestClient) -> None:
    case_id = create(client)
    client.post(f"/dossiers/{case_id}/orientation", json=ORIENTATION)
    _refused(
        client,
        f"/dossiers/{case_id}/cer",
        422,
        "champ_invalide",
        "duree_mois",
        json={"effective_on": "2024-02-20", "date_debut": "2024-03-01", "duree_mois": 7},
    )


def test_stale_version(client: TestClient) -> None:
    case_id = create(client)
    client.post(f"/dossiers/{case_id}/orientation", json=ORIENTATION)
    _refused(
        client,
        f"/dossiers/{case_id}/referent",
        409,
        "version_perimee",
        "If-Match",
        json={"effective_on": "2024-01-29", "referent_id": "ref-1"},
        headers={"If-Match": '"1"'},
    )
    assert client.get(f"/dossiers/{case_id}").json()["version"] == 2


def test_invalid_if_match(client: TestClient) -> None:
    case_id = create(client)
    _refused(
        client,
        f"/dossiers/{case_id}/orientation",
        400,
        "if_match_invalide",
        "If-Match",
        json=ORIENTATION,
        headers={"If-Match": "latest"},
    )


def test_unknown_case(client: TestClient) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    before = _log_position(client)
    response = client.post(f"/dossiers/{unknown}/orientation", json=ORIENTATION)
    assert response.status_code == 404
    assert response.json()["code"] == "dossier_inconnu"
    assert client.get(f"/dossiers/{unknown}").status_code == 404
    assert client.get(f"/dossiers/{unknown}/evenements").status_code == 404
    assert _log_position(client) == before


def test_malformed_case_id(client: TestClient) -> None:
    _refused(
        client,
        "/dossiers/pas-un-uuid/orientation",
        422,
        "parametre_invalide",
        "case_id",
        json=ORIENTATION,
    )


def test_replayed_idempotency_key_returns_the_first_answer_and_writes_nothing(
    client: TestClient,
) -> None:
    case_id = create(client)
    url = f"/dossiers/{case_id}/orientation"
    first = client.post(url, json=ORIENTATION, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 200
    position = _log_position(client)
    again = client.post(url, json=ORIENTATION, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _log_position(client) == position
    assert client.get(f"/dossiers/{case_id}").json()["version"] == 2


def test_replayed_creation_returns_the_same_case(client: TestClient) -> None:
    first = client.post("/dossiers", json=ENTREE, headers={"Idempotency-Key": "entree-1"})
    position = _log_position(client)
    again = client.post("/dossiers", json=ENTREE, headers={"Idempotency-Key": "entree-1"})
    assert again.status_code == first.status_code == 201
    assert again.json()["case_id"] == first.json()["case_id"]
    assert _log_position(client) == position


def test_idempotency_key_reused_for_another_request(client: TestClient) -> None:
    case_id = create(client)
    url = f"/dossiers/{case_id}/orientation"
    client.post(url, json=ORIENTATION, headers={"Idempotency-Key": "k-2"})
    _refused(
        client,
        url,
        422,
        "cle_idempotence_reutilisee",
        "Idempotency-Key",
        json={**ORIENTATION, "structure_id": "ccas-vitry"},
        headers={"Idempotency-Key": "k-2"},
    )
