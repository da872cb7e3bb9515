"""The HTTP edge: whatever a client sends, the answer is problem+json naming the field, nothing
is written, and an unexpected error is a problem+json 500 with the request id, logged once on
the request's line. Each case here answered a plain-text 500 before. On both stores."""

import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import structlog
from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from adapters.logging import configure_logging
from adapters.settings import Settings
from api.http.app import create_app
from api.http.auth import Role
from api.http.limits import MAX_JSON_BODY
from tests.auth import STAFF, bearer
from tests.e2e.helpers import (
    REFERENT,
    api_client,
    create_case,
    log_position,
    orient,
)
from tests.e2e.test_api_errors import assert_problem, nothing_written

FINANCE = bearer(Role.FINANCE, sub="finance-1")
EVALUATEUR = bearer(Role.EVALUATION, sub="eva")
ADMIN = bearer(Role.ADMIN, sub="admin-1")
JSON = {"content-type": "application/json"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with api_client(settings) as c:
        yield c


@pytest.fixture
def oriented(client: TestClient) -> str:
    case_id = create_case(client)
    orient(client, case_id)
    return case_id


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


# --- the exception boundary ---------------------------------------------------------------


def failing_router() -> APIRouter:
    """Routes failing the ways a route can: in the event loop, in the threadpool, and in a
    streamed body before its first byte."""
    router = APIRouter(prefix="/test-echec")

    @router.get("/async")
    async def fail_async() -> None:
        raise RuntimeError("boom async")

    @router.get("/sync")
    def fail_sync() -> None:
        raise KeyError("boom sync")

    @router.get("/flux")
    def fail_stream() -> StreamingResponse:
        def body() -> Iterator[bytes]:
            raise ZeroDivisionError("boom stream")
            yield b""  # pragma: no cover

        return StreamingResponse(body(), media_type="text/plain")

    return router


def json_lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/test-echec/async", "RuntimeError"),
        ("/test-echec/sync", "KeyError"),
        ("/test-echec/flux", "ZeroDivisionError"),
    ],
)
def test_an_unexpected_error_is_a_problem_500_logged_once_on_the_request_line(
    settings: Settings, capsys: pytest.CaptureFixture[str], path: str, error: str
) -> None:
    app = create_app(settings)
    app.include_router(failing_router())
    configure_logging("INFO")
    try:
        with TestClient(app, headers=STAFF) as client:
            capsys.readouterr()
            response = client.get(path, headers={"X-Request-ID": "req-boom-1"})
            lines = json_lines(capsys.readouterr().err)
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    assert response.status_code == 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["X-Request-ID"] == "req-boom-1"
    problem = response.json()
    assert problem["type"] == "/problemes/erreur_interne"
    assert problem["title"] == "Erreur interne"
    assert problem["status"] == 500
    assert problem["request_id"] == "req-boom-1"
    assert "req-boom-1" in problem["detail"]
    assert problem["instance"] == path
    requests = [line for line in lines if line.get("event") == "request"]
    assert len(requests) == 1, lines
    (line,) = requests
    assert line["status"] == 500
    assert line["method"] == "GET"
    assert line["path"] == path
    assert line["request_id"] == "req-boom-1"
    assert line["error"] == error
    assert line["level"] == "error"
    assert f"{error}: " in line["exception"]  # the traceback, on the same line
    tracebacks = [x for x in lines if "exception" in x or "exc_info" in x]
    assert tracebacks == [line], "the error is logged once"


def test_a_malformed_request_id_is_replaced(client: TestClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "x" * 5000})
    assert response.status_code == 200
    assert len(response.headers["X-Request-ID"]) == 32


# --- bodies ---------------------------------------------------------------------------------


def test_a_body_that_is_not_utf8_is_a_400_naming_the_body(
    client: TestClient, oriented: str
) -> None:
    raw = b'{"effective_on": "2024-01-29", "referent_id": "r\xff\xfe"}'
    with nothing_written(client, oriented):
        response = client.post(f"/dossiers/{oriented}/referent", content=raw, headers=JSON)
        assert_problem(response, 400, "encodage_invalide", "body")
        response = client.put(
            "/structures/aave-77",
            content=b'{"nom": "AAVE \xe9", "type_organisme": "aave", "effective_on": "2022-01-01"}',
            headers={**JSON, **ADMIN},
        )
        assert_problem(response, 400, "encodage_invalide", "body")


def test_a_body_nested_too_deep_is_a_400_naming_the_body(client: TestClient, oriented: str) -> None:
    for depth in (33, 50_000):
        assert_too_deep(client, oriented, depth)


def assert_too_deep(client: TestClient, oriented: str, depth: int) -> None:
    schedule = b'{"periode": "2021", "bareme": {"nom": "x", "tarifs": ' + nested(depth) + b"}}"
    with nothing_written(client, oriented):
        response = client.post(
            "/finance/simulations", content=schedule, headers={**JSON, **FINANCE}
        )
        assert_problem(response, 400, "json_trop_profond", "body")
        adopted = client.post(
            "/finance/baremes",
            content=b'{"motif": "m", "bareme": ' + nested(depth) + b"}",
            headers={**JSON, **FINANCE},
        )
        assert_problem(adopted, 400, "json_trop_profond", "body")
        step = b'{"effective_on": "2024-01-29", "referent_id": ' + nested(depth) + b"}"
        response = client.post(f"/dossiers/{oriented}/referent", content=step, headers=JSON)
        assert_problem(response, 400, "json_trop_profond", "body")


def test_brackets_inside_strings_do_not_count_as_nesting(client: TestClient, oriented: str) -> None:
    body = {
        "effective_on": "2024-05-02",
        "motif_saisine": "sanction",
        "ep_id": "ep-creteil",
        "manquement": "[{" * 40,
    }
    response = client.post(f"/dossiers/{oriented}/saisine-ep", json=body)
    assert response.status_code == 200, response.text


def test_a_body_over_the_limit_is_a_413_and_the_flux_route_has_its_own(
    client: TestClient, oriented: str
) -> None:
    big = b'{"effective_on": "2024-01-29", "referent_id": "' + b"x" * MAX_JSON_BODY + b'"}'
    with nothing_written(client, oriented):
        response = client.post(f"/dossiers/{oriented}/referent", content=big, headers=JSON)
        assert_problem(response, 413, "corps_trop_volumineux", "body")
        streamed = client.post(
            f"/dossiers/{oriented}/referent",
            content=iter([big[:1000], big[1000:]]),  # no Content-Length: counted as it comes
            headers=JSON,
        )
        assert_problem(streamed, 413, "corps_trop_volumineux", "body")
        flux = client.post(
            "/flux/imports",
            content=b"<?xml version='1.0'?>" + b" " * (2 * MAX_JSON_BODY),
            headers={"content-type": "application/xml"},
        )
        # Past the JSON limit, read by the flux reader and refused for its content (2 MiB of
        # blanks outside any household: over the flux's own limit, not the body's).
        assert flux.status_code == 422, flux.text
        assert flux.json()["code"] == "flux_hors_limites"


# --- headers --------------------------------------------------------------------------------


def test_an_if_match_beyond_a_version_is_a_400(client: TestClient, oriented: str) -> None:
    with nothing_written(client, oriented):
        for value in ['"' + "9" * 5000 + '"', '"9223372036854775808"', '"-1"', '"1e3"']:
            response = client.post(
                f"/dossiers/{oriented}/referent", json=REFERENT, headers={"If-Match": value}
            )
            assert_problem(response, 400, "if_match_invalide", "If-Match")


# --- query and path parameters --------------------------------------------------------------


OUT_OF_BOUNDS: list[tuple[str, dict[str, Any], str]] = [
    ("/dossiers", {"offset": 10**21}, "offset"),
    ("/dossiers", {"offset": 2**63}, "offset"),
    ("/dossiers", {"after": 2**63}, "after"),
    ("/audit/dossiers", {"offset": 10**21}, "offset"),
    ("/audit/diff", {"known_at": "2024-01-01T00:00:00", "offset": 2**64}, "offset"),
    ("/a-traiter", {"offset": 10**21}, "offset"),
    ("/statistiques/taux", {"du": "9999-01-01", "au": "9999-12-31", "par": "mois"}, "du"),
    ("/statistiques/graphique", {"du": "2024-01-01", "au": "9999-12-31"}, "au"),
    ("/statistiques/table-3-1", {"du": "0001-01-01", "au": "0001-12-31"}, "du"),
    ("/statistiques/drees", {"annee": 2099}, "annee"),
    ("/audit/journal", {"from": "0001-01-01T00:00:00"}, "from"),
    ("/audit/dossiers", {"as_of": "9999-12-31"}, "as_of"),
]
"""(path, parameters, the parameter at fault): each was a 500 or a meaningless 200 before."""


def test_numbers_and_dates_out_of_bounds_are_a_422_naming_the_parameter(
    client: TestClient,
) -> None:
    for path, params, field in OUT_OF_BOUNDS:
        assert_problem(client.get(path, params=params), 422, "parametre_invalide", field)


def test_dates_of_a_case_read_are_bounded(client: TestClient, oriented: str) -> None:
    for params, field in [
        ({"as_of": "9999-12-31"}, "as_of"),
        ({"known_at": "0001-01-01"}, "known_at"),
    ]:
        for path in (f"/dossiers/{oriented}", f"/dossiers/{oriented}/evenements"):
            assert_problem(client.get(path, params=params), 422, "parametre_invalide", field)


def test_a_control_character_in_a_query_parameter_is_a_422(client: TestClient) -> None:
    for path, field in [
        ("/dossiers", "referent_id"),
        ("/dossiers", "structure_id"),
        ("/audit/dossiers", "referent_id"),
        ("/a-traiter", "referent_id"),
        ("/finance/etats", "partenaire"),
    ]:
        headers = FINANCE if path.startswith("/finance") else STAFF
        for char in ["\x00", "\x1b", "\n", "\x7f"]:
            response = client.get(path, params={field: f"ref{char}x"}, headers=headers)
            assert_problem(response, 422, "parametre_invalide", field)


def test_a_control_character_in_a_path_parameter_is_a_422(client: TestClient) -> None:
    before = log_position(client)
    for path, field, headers in [
        ("/structures/{}", "structure_id", ADMIN),
        ("/evaluation/cohortes/{}", "nom", EVALUATEUR),
        ("/finance/etats/{}/2024", "partenaire", FINANCE),
    ]:
        url = path.format(quote("ccas\x00creteil"))
        assert_problem(client.get(url, headers=headers), 422, "parametre_invalide", field)
    response = client.put(
        "/evaluation/cohortes/" + quote("c\x00"),
        json={"entree_du": "2023-01-01", "entree_au": "2023-12-31"},
        headers=EVALUATEUR,
    )
    assert_problem(response, 422, "parametre_invalide", "nom")
    assert log_position(client) == before


def test_an_overlong_query_parameter_is_a_422(client: TestClient) -> None:
    response = client.get("/dossiers", params={"referent_id": "r" * 5000})
    assert_problem(response, 422, "parametre_invalide", "referent_id")


# --- downloads ------------------------------------------------------------------------------


def test_a_cohort_with_a_non_ascii_name_is_extracted(client: TestClient) -> None:
    name = "créteil-été"
    definition = {"entree_du": "2023-01-01", "entree_au": "2023-12-31"}
    saved = client.put(f"/evaluation/cohortes/{name}", json=definition, headers=EVALUATEUR)
    assert saved.status_code == 201, saved.text
    response = client.get(
        f"/evaluation/cohortes/{name}/extrait", params={"format": "csv"}, headers=EVALUATEUR
    )
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="creteil-ete-episodes.csv"')
    assert "filename*=UTF-8''" + quote(f"{name}-episodes.csv", safe="") in disposition
    assert response.text.lstrip("\ufeff").startswith("Clé personne")
