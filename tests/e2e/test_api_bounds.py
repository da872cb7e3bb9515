"""Bounds over HTTP, on both stores: a date outside any plausible window, a control character,
an oversized identifier or an absurd amount is a 422 problem naming the field, and nothing is
written (the case keeps its version, the log its position); what is accepted up to the bounds
is read back through the read model."""

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters.eventlog.store import Parcours
from adapters.schedule_files import shipped
from adapters.settings import Settings
from api.cli.main import main
from api.http.auth import Role
from api.http.steps import CORRECTIONS, STEPS
from domain.bounds import horizon
from domain.dates import fin_contrat
from tests.auth import bearer
from tests.e2e.helpers import (
    AGENT_CCAS,
    CER,
    ENTREE,
    FLUX_CAF,
    REFERENT,
    Json,
    api_client,
    create_case,
    orient,
)

FINANCE = bearer(Role.FINANCE, sub="finance-1")
EVALUATEUR = bearer(Role.EVALUATION, sub="eva")
PROBLEM = "application/problem+json"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with api_client(settings) as c:
        yield c


def _today() -> date:
    return datetime.now(ZoneInfo("Europe/Paris")).date()


def _position(client: TestClient) -> int:
    app: Parcours = client.app.state.parcours  # type: ignore[attr-defined]
    return app.max_position()


def _version(client: TestClient, case_id: str | None) -> str | None:
    if case_id is None:
        return None
    response = client.get(f"/dossiers/{case_id}")
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


def _refused(
    client: TestClient,
    method: str,
    url: str,
    body: Json,
    headers: dict[str, str],
    code: str,
    field: str,
    case_id: str | None = None,
) -> Json:
    before = (_position(client), _version(client, case_id))
    response = client.request(method, url, json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: Json = response.json()
    assert (problem["code"], problem["field"]) == (code, field), problem
    assert problem["errors"][0]["field"] == field
    assert (_position(client), _version(client, case_id)) == before, "a refusal wrote something"
    return problem


def test_a_contract_starting_in_year_9999_is_refused(client: TestClient) -> None:
    case_id = create_case(client)
    orient(client, case_id)
    body = {**CER, "date_debut": "9999-12-01"}
    url = f"/dossiers/{case_id}/cer"
    _refused(client, "POST", url, body, AGENT_CCAS, "date_hors_limites", "date_debut", case_id)
    # Up to the horizon a planned start is accepted, and the read model folds it.
    ahead = {**CER, "date_debut": horizon(_today()).isoformat()}
    accepted = client.post(url, json=ahead, headers=AGENT_CCAS)
    assert accepted.status_code == 200, accepted.text
    listed = client.get("/dossiers", params={"after": accepted.json()["position"]})
    assert listed.status_code == 200, listed.text
    (row,) = listed.json()["items"]
    assert (row["nb_cer"], row["date_fin_cer"]) == (
        1,
        fin_contrat(horizon(_today()), 6).isoformat(),
    )


ABSURD_ENTRIES: list[tuple[Json, str, str]] = [
    ({**ENTREE, "effective_on": "0001-01-01"}, "date_hors_limites", "effective_on"),
    ({**ENTREE, "date_flux": "1899-12-31"}, "date_hors_limites", "date_flux"),
    ({**ENTREE, "numero_dossier": "9" * 10_000}, "texte_trop_long", "numero_dossier"),
    ({**ENTREE, "numero_dossier": "CAF\u0000"}, "caractere_interdit", "numero_dossier"),
    (
        {**ENTREE, "profil": {"annee_naissance": 10**12}},
        "nombre_hors_limites",
        "profil.annee_naissance",
    ),
]


def test_an_absurd_entry_is_refused(client: TestClient) -> None:
    for body, code, field in ABSURD_ENTRIES:
        _refused(client, "POST", "/dossiers", body, FLUX_CAF, code, field)


def test_a_control_character_in_a_referent_is_refused(client: TestClient) -> None:
    case_id = create_case(client)
    orient(client, case_id)
    url = f"/dossiers/{case_id}/referent"
    body = {**REFERENT, "referent_id": "ref-\u0000durand"}
    _refused(client, "POST", url, body, AGENT_CCAS, "caractere_interdit", "referent_id", case_id)
    motif = {"effective_on": REFERENT["effective_on"], "type_sanction": "reduction"}
    _refused(
        client,
        "POST",
        f"/dossiers/{case_id}/sanction",
        {**motif, "motif": "x" * 10_000},
        AGENT_CCAS,
        "texte_trop_long",
        "motif",
        case_id,
    )


def test_a_correction_to_year_one_is_refused(client: TestClient) -> None:
    case_id = create_case(client)
    body = {
        "effective_on": _today().isoformat(),
        "version_rectifiee": 1,
        "effective_on_corrige": "0001-01-01",
        "motif": "date saisie de travers",
    }
    url = f"/dossiers/{case_id}/rectification"
    _refused(
        client, "POST", url, body, FLUX_CAF, "date_hors_limites", "effective_on_corrige", case_id
    )


def test_a_structure_declared_in_year_one_is_refused(client: TestClient) -> None:
    body = {"nom": "AAVE Melun", "type_organisme": "aave", "etp": 3.5}
    url = "/structures/aave-melun"
    _refused(
        client,
        "PUT",
        url,
        {**body, "effective_on": "0001-01-01"},
        FINANCE,
        "date_hors_limites",
        "effective_on",
    )
    _refused(
        client,
        "PUT",
        url,
        {**body, "nom": "AAVE\u0000", "effective_on": "2022-01-01"},
        FINANCE,
        "caractere_interdit",
        "nom",
    )


def _schedule() -> Any:
    return msgspec.to_builtins(shipped()["val-de-marne-2022"])


def test_a_schedule_with_absurd_amounts_or_dates_is_refused(client: TestClient) -> None:
    document = _schedule()
    huge = {**document, "tarifs": {**document["tarifs"], "ccas": {"cer": 1e308}}}
    url = "/finance/baremes"
    problem = _refused(
        client,
        "POST",
        url,
        {"motif": "essai", "bareme": huge},
        FINANCE,
        "bareme_invalide",
        "bareme.tarifs.ccas.cer",
    )
    assert "1000000" in problem["detail"]
    late = {**document, "du": "9999-01-01", "au": None}
    _refused(
        client,
        "POST",
        url,
        {"motif": "essai", "bareme": late},
        FINANCE,
        "date_hors_limites",
        "bareme.du",
    )


def test_a_cohort_over_year_one_is_refused(client: TestClient) -> None:
    _refused(
        client,
        "PUT",
        "/evaluation/cohortes/c2024",
        {"entree_du": "0001-01-01"},
        EVALUATEUR,
        "date_hors_limites",
        "entree_du",
    )


# --- any value into any command ---------------------------------------------------------------

_DATES = st.one_of(
    st.dates().map(date.isoformat),
    st.sampled_from(["0001-01-01", "9999-12-31", "1899-12-31", "2024-02-30", "2024-13-01"]),
)
_TEXTS = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["\u0000", "a\u0085b", "\ud800", "x" * 5_000, "é" * 81, " ", ""]),
)
_NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, 2, -1, 2**63, 1e308]),
)


def _extreme(example: Any) -> st.SearchStrategy[Any]:
    """A value of the example's JSON kind, extreme or absurd; sometimes of another kind."""
    if isinstance(example, bool):
        return st.booleans() | _TEXTS
    if isinstance(example, int):
        return _NUMBERS
    if isinstance(example, str) and len(example) == 10 and example[4] == "-":
        return _DATES
    return _TEXTS | _NUMBERS


@st.composite
def _requests(draw: st.DrawFn) -> tuple[str, Json]:
    step = draw(st.sampled_from([*STEPS, *CORRECTIONS]))
    body = dict(step.example)
    for name in draw(st.lists(st.sampled_from(sorted(body)), min_size=1, max_size=3)):
        body[name] = draw(_extreme(body[name]))
    return step.slug, body


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=_requests())
@example(request=("cer", {**CER, "date_debut": "9999-12-01"}))
@example(request=("referent", {**REFERENT, "referent_id": "ref-\u0000"}))
def test_any_value_into_any_step_is_refused_cleanly_or_folded(
    client: TestClient, case: str, request: tuple[str, Json]
) -> None:
    """No 5xx; a refusal writes nothing; what is accepted is folded by the read model (the
    list waits for the command's position) and the case still reads back."""
    slug, body = request
    before = (_position(client), _version(client, case))
    # Escaped JSON (\\ud800 and the like), so that a lone surrogate reaches the server as sent.
    response = client.post(
        f"/dossiers/{case}/{slug}",
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code < 500, (slug, body, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM
        assert (_position(client), _version(client, case)) == before, (slug, body)
        return
    listed = client.get("/dossiers", params={"after": response.json()["position"], "limit": 1})
    assert listed.status_code == 200, (slug, body, listed.text)
    assert client.get(f"/dossiers/{case}").status_code == 200
    assert client.get(f"/dossiers/{case}/evenements").status_code == 200


@pytest.fixture
def case(client: TestClient) -> str:
    """An oriented case steps may be recorded on."""
    case_id = create_case(client)
    orient(client, case_id)
    return case_id


def test_the_command_line_shares_the_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`parcours finance structure|adopt` go through the same rules: a refusal names the field
    and the exit status says it; nothing is written."""
    monkeypatch.setenv("PARCOURS_STORE", "sqlite")
    monkeypatch.setenv("PARCOURS_DATA_DIR", str(tmp_path))
    declare = ["finance", "structure", "aave-1", "--nom", "AAVE", "--type", "aave"]
    with pytest.raises(SystemExit) as refused:
        main([*declare, "--depuis", "0001-01-01"])
    assert refused.value.code == 2  # a user's mistake
    assert capsys.readouterr().err.startswith("parcours: effective_on: ")
    schedule = tmp_path / "bareme.json"
    document = {**_schedule(), "du": "2090-01-01", "au": None}
    schedule.write_bytes(msgspec.json.encode(document))
    with pytest.raises(SystemExit) as refused:
        main(["finance", "adopt", "--bareme", str(schedule), "--motif", "essai"])
    assert refused.value.code == 2
    assert "bareme.du" in capsys.readouterr().err
    app = Parcours(Settings.from_env())
    try:
        assert app.max_position() == 0
    finally:
        app.close()
    main([*declare, "--depuis", "2022-01-01"])
    assert "aave-1" in capsys.readouterr().out
