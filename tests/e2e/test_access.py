"""Who may see and do what, through the API: each role's reach, both what it can and what it
cannot do; a refusal writes nothing and, for a case outside an agent's structures, answers
exactly as an unknown case would. On both stores."""

import json
import logging
import time
import uuid
from collections.abc import Iterator

import pytest
import structlog
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from adapters.logging import configure_logging
from adapters.settings import Settings
from api.http.access import STEP_ROLES
from api.http.app import create_app
from api.http.auth import OPEN_PATHS, Role
from api.http.deps import api_routes, declared_roles, require, undeclared
from api.http.steps import CORRECTIONS, STEPS
from api.http.steps import ENTREE as ENTREE_STEP
from tests.auth import bearer, token
from tests.e2e.helpers import (
    AGENT_AAVE,
    AGENT_CCAS,
    AUDITEUR,
    CLOTURE,
    ENTREE,
    FLUX_CAF,
    ORIENTATION,
    ORIENTEUR,
    RDV,
    REFERENT,
    Json,
    create_case,
    log_position,
    orient,
)

FINANCE = bearer(Role.FINANCE, sub="finance-1")
EVALUATION = bearer(Role.EVALUATION, sub="evaluation-1")
ADMIN = bearer(Role.ADMIN, sub="admin-1")
NOBODY = bearer(sub="sans-role")

finance_router = APIRouter(
    prefix="/essai-financement", dependencies=[Depends(require(Role.FINANCE, Role.AUDITEUR))]
)


@finance_router.get("")
def financing() -> dict[str, str]:
    return {"ok": "financement"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app with no default caller, plus a router declared for finance and auditors."""
    app = create_app(settings)
    app.include_router(finance_router)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def ccas_case(client: TestClient) -> str:
    """A case oriented to the CCAS of Créteil."""
    case_id = create_case(client, headers=FLUX_CAF)
    orient(client, case_id)
    return case_id


def _problem(response: object, status: int, code: str) -> Json:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: Json = response.json()  # type: ignore[attr-defined]
    assert body["code"] == code
    return body


def _case_routes(case_id: str) -> list[tuple[str, str, Json | None]]:
    return [
        ("GET", f"/dossiers/{case_id}", None),
        ("GET", f"/dossiers/{case_id}/evenements", None),
        ("GET", "/dossiers", None),
        ("POST", "/dossiers", ENTREE),
        ("POST", f"/dossiers/{case_id}/referent", REFERENT),
    ]


# --- authentication -----------------------------------------------------------------------


def test_only_health_and_the_schema_answer_without_a_token(
    client: TestClient, ccas_case: str
) -> None:
    assert client.get("/health").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200
    before = log_position(client)
    for method, url, body in [*_case_routes(ccas_case), ("GET", "/essai-financement", None)]:
        response = client.request(method, url, json=body)
        problem = _problem(response, 401, "authentification_requise")
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), url
        assert problem["field"] == "Authorization"
    assert log_position(client) == before


@pytest.mark.parametrize(
    "bad",
    [
        "not-a-jwt",
        token(Role.ORIENTATION, ttl=-3600),
        token(Role.ORIENTATION, secret="another-key-of-sufficient-length-0123456789"),
        token(Role.ORIENTATION, aud="autre-application"),
        token(Role.ORIENTATION, iss="https://idp.example.org"),
    ],
    ids=["garbage", "expired", "wrong-key", "wrong-audience", "wrong-issuer"],
)
def test_an_invalid_token_is_refused_and_writes_nothing(client: TestClient, bad: str) -> None:
    before = log_position(client)
    response = client.post("/dossiers", json=ENTREE, headers={"Authorization": f"Bearer {bad}"})
    _problem(response, 401, "authentification_requise")
    assert log_position(client) == before


def test_an_unsigned_token_is_refused(client: TestClient) -> None:
    header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  # {"alg":"none","typ":"JWT"}
    import base64

    now = int(time.time())
    payload = {"sub": "x", "roles": ["orientation"], "iss": "parcours-local", "aud": "parcours"}
    payload |= {"iat": now, "exp": now + 60}
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    response = client.get("/dossiers", headers={"Authorization": f"Bearer {header}.{body}."})
    _problem(response, 401, "authentification_requise")


# --- agent ----------------------------------------------------------------------------------


def test_an_agent_reads_and_records_on_its_structure_s_cases(
    client: TestClient, ccas_case: str
) -> None:
    state = client.get(f"/dossiers/{ccas_case}", headers=AGENT_CCAS)
    assert state.status_code == 200, state.text
    assert state.json()["structure_id"] == "ccas-creteil"
    assert client.get(f"/dossiers/{ccas_case}/evenements", headers=AGENT_CCAS).status_code == 200
    step = client.post(f"/dossiers/{ccas_case}/referent", json=REFERENT, headers=AGENT_CCAS)
    assert step.status_code == 200, step.text
    assert step.json()["version"] == 3
    page = client.get("/dossiers", params={"after": step.json()["position"]}, headers=AGENT_CCAS)
    assert page.status_code == 200, page.text
    assert [row["case_id"] for row in page.json()["items"]] == [ccas_case]


def test_another_structure_s_case_looks_unknown_to_an_agent_and_stays_untouched(
    client: TestClient, ccas_case: str
) -> None:
    before = log_position(client)
    unknown = str(uuid.uuid4())
    for url in ("/dossiers/{}", "/dossiers/{}/evenements"):
        hidden = client.get(url.format(ccas_case), headers=AGENT_AAVE)
        missing = client.get(url.format(unknown), headers=AGENT_AAVE)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["detail"].replace(ccas_case, "X") == missing.json()["detail"].replace(
            unknown, "X"
        )
    write = client.post(f"/dossiers/{ccas_case}/rdv", json=RDV, headers=AGENT_AAVE)
    _problem(write, 404, "dossier_inconnu")
    assert log_position(client) == before
    assert len(client.get(f"/dossiers/{ccas_case}/evenements", headers=AUDITEUR).json()) == 2


def test_a_case_not_yet_oriented_is_no_agent_s(client: TestClient) -> None:
    case_id = create_case(client, headers=FLUX_CAF)
    _problem(client.get(f"/dossiers/{case_id}", headers=AGENT_CCAS), 404, "dossier_inconnu")


def test_an_agent_neither_enters_nor_orients_nor_closes_a_right(
    client: TestClient, ccas_case: str
) -> None:
    before = log_position(client)
    _problem(client.post("/dossiers", json=ENTREE, headers=AGENT_CCAS), 403, "acces_refuse")
    fresh = create_case(client, headers=FLUX_CAF)
    orientation = client.post(
        f"/dossiers/{fresh}/orientation", json=ORIENTATION, headers=AGENT_CCAS
    )
    _problem(orientation, 403, "acces_refuse")
    cloture = client.post(f"/dossiers/{ccas_case}/cloture", json=CLOTURE, headers=AGENT_CCAS)
    _problem(cloture, 403, "acces_refuse")
    assert log_position(client) == before + 1


def test_an_agent_lists_only_its_own_structures(client: TestClient, ccas_case: str) -> None:
    other = client.get("/dossiers", params={"structure_id": "aave-77"}, headers=AGENT_CCAS)
    assert _problem(other, 403, "acces_refuse")["field"] == "structure_id"
    two = bearer(Role.AGENT, structures=["ccas-creteil", "aave-77"], sub="agent-2")
    ambiguous = client.get("/dossiers", headers=two)
    assert _problem(ambiguous, 403, "acces_refuse")["field"] == "structure_id"
    mine = client.get("/dossiers", params={"structure_id": "aave-77"}, headers=two)
    assert mine.status_code == 200, mine.text


def test_once_reoriented_elsewhere_the_case_leaves_the_agent_s_reach(
    client: TestClient, ccas_case: str
) -> None:
    reorientation = {
        "effective_on": "2024-03-01",
        "type_orientation": "socio_professionnelle",
        "organisme": "aave",
        "structure_id": "aave-77",
        "motif": "projet",
    }
    moved = client.post(
        f"/dossiers/{ccas_case}/reorientation", json=reorientation, headers=AGENT_CCAS
    )
    assert moved.status_code == 200, moved.text
    _problem(client.get(f"/dossiers/{ccas_case}", headers=AGENT_CCAS), 404, "dossier_inconnu")
    assert client.get(f"/dossiers/{ccas_case}", headers=AGENT_AAVE).status_code == 200


# --- orientation officer, flux, auditor -------------------------------------------------------


def test_an_orientation_officer_enters_orients_and_reads_any_case(client: TestClient) -> None:
    case_id = create_case(client, headers=ORIENTEUR)
    oriented = client.post(f"/dossiers/{case_id}/orientation", json=ORIENTATION, headers=ORIENTEUR)
    assert oriented.status_code == 200, oriented.text
    assert client.get(f"/dossiers/{case_id}", headers=ORIENTEUR).status_code == 200
    page = client.get("/dossiers", params={"after": oriented.json()["position"]}, headers=ORIENTEUR)
    assert page.json()["total"] == 1
    _problem(client.get("/essai-financement", headers=ORIENTEUR), 403, "acces_refuse")


def test_the_flux_records_rights_but_reads_no_case(client: TestClient, ccas_case: str) -> None:
    closed = client.post(f"/dossiers/{ccas_case}/cloture", json=CLOTURE, headers=FLUX_CAF)
    assert closed.status_code == 200, closed.text
    _problem(client.get(f"/dossiers/{ccas_case}", headers=FLUX_CAF), 403, "acces_refuse")
    refused = client.post(f"/dossiers/{ccas_case}/referent", json=REFERENT, headers=FLUX_CAF)
    _problem(refused, 403, "acces_refuse")


def test_an_auditor_reads_everything_and_writes_nothing(client: TestClient, ccas_case: str) -> None:
    assert client.get(f"/dossiers/{ccas_case}", headers=AUDITEUR).status_code == 200
    assert client.get(f"/dossiers/{ccas_case}/evenements", headers=AUDITEUR).status_code == 200
    listed = client.get("/dossiers", params={"structure_id": "ccas-creteil"}, headers=AUDITEUR)
    assert listed.status_code == 200
    assert client.get("/essai-financement", headers=AUDITEUR).status_code == 200
    before = log_position(client)
    _problem(client.post("/dossiers", json=ENTREE, headers=AUDITEUR), 403, "acces_refuse")
    step = client.post(f"/dossiers/{ccas_case}/referent", json=REFERENT, headers=AUDITEUR)
    _problem(step, 403, "acces_refuse")
    assert log_position(client) == before


@pytest.mark.parametrize(
    "caller", [FINANCE, EVALUATION, ADMIN, NOBODY], ids=["finance", "evaluation", "admin", "none"]
)
def test_roles_without_case_access_get_403_on_every_case_route(
    client: TestClient, ccas_case: str, caller: dict[str, str]
) -> None:
    before = log_position(client)
    for method, url, body in _case_routes(ccas_case):
        _problem(client.request(method, url, json=body, headers=caller), 403, "acces_refuse")
    assert log_position(client) == before


def test_a_router_declares_its_roles_in_one_line(client: TestClient) -> None:
    assert client.get("/essai-financement", headers=FINANCE).json() == {"ok": "financement"}
    for caller in (EVALUATION, ADMIN, AGENT_CCAS):
        _problem(client.get("/essai-financement", headers=caller), 403, "acces_refuse")


# --- access log -----------------------------------------------------------------------------


def test_every_access_to_a_case_is_logged_with_who_and_why(
    sqlite_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO")
    try:
        with TestClient(create_app(sqlite_settings)) as client:
            case_id = create_case(client, headers=FLUX_CAF)
            orient(client, case_id)
            capsys.readouterr()
            why = {"X-Access-Reason": "preparation EP 2024-03-12"}
            client.get(f"/dossiers/{case_id}", headers={**AGENT_CCAS, **why})
            client.get(f"/dossiers/{case_id}/evenements", headers=AGENT_AAVE)
            lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    accesses = [line for line in lines if line.get("event") == "case.access"]
    assert [(a["user"], a["case_id"], a["outcome"]) for a in accesses] == [
        ("agent-7", case_id, "granted"),
        ("agent-aave-3", case_id, "hidden"),
    ]
    assert accesses[0]["reason"] == "preparation EP 2024-03-12"
    assert accesses[0]["roles"] == ["agent"]
    assert accesses[0]["structures"] == ["ccas-creteil"]
    assert accesses[1]["reason"] == "lecture de la chronologie du dossier"


def test_a_refusal_on_a_case_is_logged_with_the_case(
    sqlite_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A step or an identity read refused for the caller's role names the case in the access
    log, as every access to a case does, granted or not."""
    configure_logging("INFO")
    try:
        with TestClient(create_app(sqlite_settings)) as client:
            case_id = create_case(client, headers=FLUX_CAF)
            orient(client, case_id)
            capsys.readouterr()
            referent = {"effective_on": "2024-02-01", "referent_id": "ref-1"}
            posted = client.post(f"/dossiers/{case_id}/referent", json=referent, headers=AUDITEUR)
            _problem(posted, 403, "acces_refuse")
            _problem(
                client.get(f"/personnes/{case_id}/identite", headers=FINANCE), 403, "acces_refuse"
            )
            lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    accesses = [line for line in lines if line.get("event") == "case.access"]
    assert [(a["case_id"], a["outcome"], a["reason"]) for a in accesses] == [
        (case_id, "refused", "Désigner le référent unique"),
        (case_id, "refused", "identité de la personne"),
    ]


# --- declared roles -------------------------------------------------------------------------


def test_every_route_but_the_open_ones_declares_its_roles(settings: Settings) -> None:
    app = create_app(settings)
    routes = list(api_routes(app))
    assert len(routes) > 50
    for route in routes:
        assert route.path in OPEN_PATHS or declared_roles(route.dependant), route
    assert undeclared(app) == []
    careless = APIRouter(prefix="/sans-roles")

    @careless.get("")
    def anyone() -> dict[str, str]:
        return {"ok": "tous"}

    app.include_router(careless)
    assert undeclared(app) == ["GET /sans-roles"]


def test_each_step_route_declares_the_roles_of_its_step(settings: Settings) -> None:
    posts = {r.path: r for r in api_routes(create_app(settings)) if r.method == "POST"}
    for step in [ENTREE_STEP, *STEPS, *CORRECTIONS]:
        path = "/dossiers" + (f"/{{case_id}}/{step.slug}" if step.slug else "")
        assert STEP_ROLES[step.slug] in declared_roles(posts[path].dependant), path
