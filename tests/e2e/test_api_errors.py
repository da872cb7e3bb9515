"""Every refusal is an RFC 9457 problem (application/problem+json) with its status, a stable
`code` and the `field` at fault, and a refused request writes nothing: the case keeps its
timeline and version, and the log its last position. On both stores."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from tests.e2e.helpers import (
    AGENT_CCAS,
    CER,
    CLOTURE,
    ENTREE,
    ISSUE_RDV,
    ORIENTATION,
    RDV,
    REFERENT,
    SANCTION,
    SORTIE,
    Json,
    api_client,
    create_case,
    log_position,
    orient,
    without,
)

UNKNOWN_CASE = "0b7c3a9e-4f7e-4c8e-9d4a-000000000000"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with api_client(settings) as c:
        yield c


@pytest.fixture
def entered(client: TestClient) -> str:
    """A case at version 1: entered, not yet oriented."""
    return create_case(client)


@pytest.fixture
def oriented(client: TestClient, entered: str) -> str:
    """A case at version 2: oriented to the CCAS of Créteil."""
    orient(client, entered)
    return entered


def _recorded(client: TestClient, case_id: str | None) -> tuple[int, Any, Any]:
    """What a write would change: the log's position, the case's timeline and its ETag."""
    if case_id is None:
        return log_position(client), None, None
    timeline = client.get(f"/dossiers/{case_id}/evenements")
    state = client.get(f"/dossiers/{case_id}")
    return log_position(client), timeline.json(), state.headers.get("ETag")


@contextmanager
def nothing_written(client: TestClient, case_id: str | None = None) -> Iterator[None]:
    before = _recorded(client, case_id)
    yield
    assert _recorded(client, case_id) == before, "a refused request wrote something"


def assert_problem(response: Any, status: int, code: str, field: str) -> Json:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: Json = response.json()
    assert problem["type"] == f"/problemes/{code}"
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["field"] == field
    assert problem["errors"][0]["field"] == field
    assert problem["instance"] == response.request.url.path
    assert problem["title"]
    assert problem["detail"]
    return problem


def refused(
    client: TestClient,
    case_id: str | None,
    url: str,
    status: int,
    code: str,
    field: str,
    **request: Any,
) -> Json:
    """POST `url`, expect the problem, and check that nothing was written."""
    with nothing_written(client, case_id):
        response = client.post(url, **request)
        return assert_problem(response, status, code, field)


def _url(case_id: str, slug: str) -> str:
    return "/dossiers" if slug == "" else f"/dossiers/{case_id}/{slug}"


# --- unreadable bodies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", [b'{"effective_on": "2024-01-25",', b"effective_on=2024-01-25", b""]
)
@pytest.mark.parametrize("slug", ["", "orientation"])
def test_malformed_json_is_a_400(client: TestClient, entered: str, slug: str, raw: bytes) -> None:
    refused(
        client,
        entered,
        _url(entered, slug),
        400,
        "json_invalide",
        "body",
        content=raw,
        headers={"content-type": "application/json"},
    )


def test_a_body_that_is_not_an_object(client: TestClient, entered: str) -> None:
    refused(
        client, entered, _url(entered, "orientation"), 422, "champ_invalide", "body", json=[1, 2]
    )


# --- fields ---------------------------------------------------------------------------------

UNKNOWN_CODES = [
    ("", ENTREE, "organisme_payeur", "cnaf"),
    ("orientation", ORIENTATION, "type_orientation", "magique"),
    ("orientation", ORIENTATION, "type_orientation", "SOCIALE"),
    ("orientation", ORIENTATION, "organisme", "pole_emploi"),
    ("orientation", ORIENTATION, "mode", "manuelle"),
    ("rdv", RDV, "type_rdv", "visio"),
    ("rdv", RDV, "mode", "sms"),
    ("issue-rdv", ISSUE_RDV, "issue", "absent"),
    ("cer", CER, "duree_mois", 7),
    ("sanction", SANCTION, "type_sanction", "amende"),
    ("sortie", SORTIE, "type_sortie", "cdi"),
    ("cloture", CLOTURE, "motif", "inconnu"),
]


@pytest.mark.parametrize(("slug", "body", "field", "value"), UNKNOWN_CODES)
def test_a_value_outside_its_vocabulary_names_the_field(
    client: TestClient, oriented: str, slug: str, body: Json, field: str, value: Any
) -> None:
    problem = refused(
        client,
        oriented,
        _url(oriented, slug),
        422,
        "champ_invalide",
        field,
        json={**body, field: value},
    )
    assert problem["errors"] == [{"field": field, "message": problem["detail"]}]


IMPOSSIBLE_DATES = [
    ("", ENTREE, "date_flux", "2024-02-30"),
    ("orientation", ORIENTATION, "effective_on", "2023-02-29"),
    ("rdv", RDV, "date_rdv", "2024-13-01"),
    ("cer", CER, "date_debut", "2024-04-31"),
    ("referent", REFERENT, "effective_on", "29/01/2024"),
    ("referent", REFERENT, "effective_on", "2024-01-29T10:00:00"),
]


@pytest.mark.parametrize(("slug", "body", "field", "value"), IMPOSSIBLE_DATES)
def test_an_impossible_date_names_the_field(
    client: TestClient, oriented: str, slug: str, body: Json, field: str, value: str
) -> None:
    refused(
        client,
        oriented,
        _url(oriented, slug),
        422,
        "champ_invalide",
        field,
        json={**body, field: value},
    )


@pytest.mark.parametrize(
    ("slug", "body", "field"),
    [
        ("", ENTREE, "numero_dossier"),
        ("orientation", ORIENTATION, "structure_id"),
        ("issue-rdv", ISSUE_RDV, "numero"),
        ("referent", REFERENT, "effective_on"),
    ],
)
def test_a_missing_required_field_is_named(
    client: TestClient, oriented: str, slug: str, body: Json, field: str
) -> None:
    refused(
        client,
        oriented,
        _url(oriented, slug),
        422,
        "champ_invalide",
        field,
        json=without(body, field),
    )


@pytest.mark.parametrize(("slug", "body"), [("", ENTREE), ("orientation", ORIENTATION)])
def test_an_unknown_field_is_named(client: TestClient, entered: str, slug: str, body: Json) -> None:
    refused(
        client,
        entered,
        _url(entered, slug),
        422,
        "champ_invalide",
        "commentaire",
        json={**body, "commentaire": "à revoir"},
    )


@pytest.mark.parametrize(
    ("slug", "body", "field", "value"),
    [
        ("issue-rdv", ISSUE_RDV, "numero", "un"),
        ("", ENTREE, "soumis_droits_devoirs", "oui"),
        ("orientation", ORIENTATION, "structure_id", None),
    ],
)
def test_a_value_of_the_wrong_type_names_the_field(
    client: TestClient, oriented: str, slug: str, body: Json, field: str, value: Any
) -> None:
    refused(
        client,
        oriented,
        _url(oriented, slug),
        422,
        "champ_invalide",
        field,
        json={**body, field: value},
    )


# --- the calendar ---------------------------------------------------------------------------


def _today() -> datetime:
    return datetime.now(ZoneInfo("Europe/Paris"))


def test_an_effective_date_in_the_future_is_refused(client: TestClient, entered: str) -> None:
    in_two_days = (_today() + timedelta(days=2)).date().isoformat()
    refused(
        client,
        entered,
        _url(entered, "orientation"),
        422,
        "date_future",
        "effective_on",
        json={**ORIENTATION, "effective_on": in_two_days},
    )
    refused(
        client,
        None,
        "/dossiers",
        422,
        "date_future",
        "date_flux",
        json={**ENTREE, "date_flux": in_two_days, "date_reception_flux": in_two_days},
    )


def test_today_is_not_in_the_future(client: TestClient, entered: str) -> None:
    today = _today().date().isoformat()
    response = client.post(
        _url(entered, "orientation"), json={**ORIENTATION, "effective_on": today}
    )
    assert response.status_code == 200, response.text


def test_an_opinion_date_in_the_future_is_refused(client: TestClient, oriented: str) -> None:
    in_two_days = (_today() + timedelta(days=2)).date().isoformat()
    refused(
        client,
        oriented,
        _url(oriented, "reorientation"),
        422,
        "date_future",
        "date_avis_ep",
        json={
            "effective_on": "2024-03-01",
            "type_orientation": "professionnelle",
            "organisme": "france_travail",
            "structure_id": "ft-creteil",
            "motif": "projet professionnel défini",
            "date_avis_ep": in_two_days,
        },
    )


def test_a_step_dated_before_the_entry_is_refused(client: TestClient, entered: str) -> None:
    refused(
        client,
        entered,
        _url(entered, "orientation"),
        422,
        "date_anterieure",
        "effective_on",
        json={**ORIENTATION, "effective_on": "2023-12-29"},
    )


# --- the order of the path ------------------------------------------------------------------


def test_a_contract_before_any_orientation_is_refused(client: TestClient, entered: str) -> None:
    problem = refused(
        client, entered, _url(entered, "cer"), 422, "orientation_requise", "effective_on", json=CER
    )
    assert problem["title"] == "Étape refusée"


@pytest.mark.parametrize("numero", [1, 2])
def test_an_outcome_for_an_unknown_rdv_is_refused(
    client: TestClient, oriented: str, numero: int
) -> None:
    if numero == 2:  # one RDV is planned: n°2 still does not exist
        assert client.post(_url(oriented, "rdv"), json=RDV).status_code == 200
    refused(
        client,
        oriented,
        _url(oriented, "issue-rdv"),
        422,
        "rdv_inconnu",
        "numero",
        json={**ISSUE_RDV, "numero": numero},
    )


def test_lifting_a_sanction_not_in_force_is_refused(client: TestClient, oriented: str) -> None:
    refused(
        client,
        oriented,
        _url(oriented, "levee-sanction"),
        422,
        "sanction_non_en_vigueur",
        "numero",
        json={"effective_on": "2024-05-02", "numero": 1},
    )


def test_a_second_orientation_is_refused(client: TestClient, oriented: str) -> None:
    refused(
        client,
        oriented,
        _url(oriented, "orientation"),
        422,
        "deja_oriente",
        "type_orientation",
        json={**ORIENTATION, "structure_id": "ccas-vitry"},
    )


# --- versions -------------------------------------------------------------------------------


@pytest.mark.parametrize("stale", ['"1"', '"3"', "1"])
def test_a_stale_if_match_is_a_412(client: TestClient, oriented: str, stale: str) -> None:
    problem = refused(
        client,
        oriented,
        _url(oriented, "referent"),
        412,
        "version_perimee",
        "If-Match",
        json=REFERENT,
        headers={"If-Match": stale},
    )
    assert "version 2" in problem["detail"]


@pytest.mark.parametrize("value", ["latest", "", '"v2"', '"-1"'])
def test_an_invalid_if_match_is_a_400(client: TestClient, oriented: str, value: str) -> None:
    refused(
        client,
        oriented,
        _url(oriented, "referent"),
        400,
        "if_match_invalide",
        "If-Match",
        json=REFERENT,
        headers={"If-Match": value},
    )


# --- idempotency keys -----------------------------------------------------------------------


def test_a_replayed_step_answers_as_the_first_time_and_writes_nothing(
    client: TestClient, oriented: str
) -> None:
    url = _url(oriented, "referent")
    headers = {**AGENT_CCAS, "Idempotency-Key": "referent-2024-01-29"}
    first = client.post(url, json=REFERENT, headers=headers)
    assert first.status_code == 200
    assert first.json()["version"] == 3
    assert "Idempotent-Replayed" not in first.headers
    # The case moves on; the replay still answers what the first request did.
    later = client.post(_url(oriented, "rdv"), json=RDV)
    assert later.json()["version"] == 4

    with nothing_written(client, oriented):
        again = client.post(url, json=REFERENT, headers=headers)
    assert again.status_code == first.status_code
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["ETag"] == first.headers["ETag"] == '"3"'
    assert without(again.json(), "replayed") == without(first.json(), "replayed")
    assert (first.json()["replayed"], again.json()["replayed"]) == (False, True)


def test_a_replayed_entry_answers_the_same_case_and_writes_nothing(client: TestClient) -> None:
    headers = {"Idempotency-Key": "flux-2024-01-08-CAF-0123456"}
    first = client.post("/dossiers", json=ENTREE, headers=headers)
    assert first.status_code == 201
    with nothing_written(client, first.json()["case_id"]):
        again = client.post("/dossiers", json=ENTREE, headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert without(again.json(), "replayed") == without(first.json(), "replayed")


def test_a_key_reused_for_another_body_is_refused(client: TestClient, oriented: str) -> None:
    url = _url(oriented, "referent")
    headers = {"Idempotency-Key": "k-referent"}
    assert client.post(url, json=REFERENT, headers=headers).status_code == 200
    refused(
        client,
        oriented,
        url,
        422,
        "cle_idempotence_reutilisee",
        "Idempotency-Key",
        json={**REFERENT, "referent_id": "ref-martin"},
        headers=headers,
    )


def test_a_key_reused_for_another_case_is_refused(client: TestClient, oriented: str) -> None:
    other = create_case(client, {**ENTREE, "numero_dossier": "CAF-7654321"})
    headers = {"Idempotency-Key": "k-rdv"}
    assert client.post(_url(oriented, "rdv"), json=RDV, headers=headers).status_code == 200
    orient(client, other)
    refused(
        client,
        other,
        _url(other, "rdv"),
        422,
        "cle_idempotence_reutilisee",
        "Idempotency-Key",
        json=RDV,
        headers=headers,
    )


def test_a_refused_request_does_not_use_up_its_key(client: TestClient, entered: str) -> None:
    headers = {"Idempotency-Key": "k-orientation"}
    url = _url(entered, "orientation")
    refused(
        client,
        entered,
        url,
        422,
        "date_anterieure",
        "effective_on",
        json={**ORIENTATION, "effective_on": "2023-12-29"},
        headers=headers,
    )
    corrected = client.post(url, json=ORIENTATION, headers=headers)
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["version"] == 2


def test_an_overlong_key_is_a_400(client: TestClient, entered: str) -> None:
    refused(
        client,
        entered,
        _url(entered, "orientation"),
        400,
        "cle_idempotence_invalide",
        "Idempotency-Key",
        json=ORIENTATION,
        headers={"Idempotency-Key": "k" * 201},
    )


# --- case ids -------------------------------------------------------------------------------


def test_an_unknown_case_is_a_404(client: TestClient, entered: str) -> None:
    refused(
        client,
        None,
        _url(UNKNOWN_CASE, "orientation"),
        404,
        "dossier_inconnu",
        "case_id",
        json=ORIENTATION,
    )
    for path in (f"/dossiers/{UNKNOWN_CASE}", f"/dossiers/{UNKNOWN_CASE}/evenements"):
        assert_problem(client.get(path), 404, "dossier_inconnu", "case_id")


@pytest.mark.parametrize("bad", ["pas-un-uuid", "12345", "0b7c3a9e-4f7e-4c8e-9d4a"])
def test_a_malformed_case_id_is_a_422(client: TestClient, entered: str, bad: str) -> None:
    refused(
        client,
        None,
        _url(bad, "orientation"),
        422,
        "parametre_invalide",
        "case_id",
        json=ORIENTATION,
    )
    for path in (f"/dossiers/{bad}", f"/dossiers/{bad}/evenements"):
        assert_problem(client.get(path), 422, "parametre_invalide", "case_id")


# --- lists ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"statut": "en_cours"}, "statut"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
        ({"after": "hier"}, "after"),
    ],
)
def test_a_list_with_an_invalid_parameter_is_a_422(
    client: TestClient, params: Json, field: str
) -> None:
    assert_problem(client.get("/dossiers", params=params), 422, "parametre_invalide", field)
