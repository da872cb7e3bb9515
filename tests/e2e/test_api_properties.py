"""Random and extreme values through HTTP: dates far in the past or future, very long strings,
control characters, huge or negative numbers, NaN-like strings, any unicode, into every command
body and every query parameter of the list and statistics routes. Whatever is sent: no 5xx,
every refusal is problem+json and writes nothing, and the read models keep up with what was
accepted. On both stores, a fixed number of derandomized examples."""

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from adapters.settings import Settings
from api.http.app import create_app
from api.http.steps import CORRECTIONS, ENTREE, STEPS
from tests.auth import STAFF
from tests.e2e.helpers import (
    EPISODE_1,
    Json,
    assert_read_models_healthy,
    post_steps,
    step_url,
)

COMMAND_EXAMPLES = 200
QUERY_EXAMPLES = 150

_dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01", "9999-12-31", "1899-12-31", "2024-02-30", "2024-13-01", ""]),
)
_any_date = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2035, 12, 31)).map(date.isoformat),
    st.sampled_from(["0001-01-01", "9999-12-31", "1899-12-31", "9999-12-01"]),
)
"""Valid dates, from the first day to the last the calendar holds."""
_strings = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "x" * 100_000,
            "a\x00b",
            "\x1b[31mrouge",
            "ligne\nligne",
            "é🙂\u202e",
            "\ud7ff\ufffd",
            "NaN",
            "Infinity",
            "-0",
            "1e308",
            "null",
            "ccas-creteil",
        ]
    ),
)
_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**30]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 5e-324, 0.1]),
)
EXTREME = st.one_of(
    _dates,
    _strings,
    _numbers,
    st.booleans(),
    st.none(),
    st.lists(_strings, max_size=3),
    st.dictionaries(st.text(max_size=5), _numbers, max_size=2),
)
"""Any one value a client might put in a body field or a query parameter."""


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def extreme_like(example: Any) -> st.SearchStrategy[Any]:
    """Extreme values of the example's own kind, most of the time; anything, sometimes."""
    if isinstance(example, bool):
        same: st.SearchStrategy[Any] = st.booleans()
    elif isinstance(example, int):
        same = _numbers
    elif isinstance(example, str) and _DATE.fullmatch(example):
        same = _any_date
    elif isinstance(example, str):
        same = _strings
    else:
        same = EXTREME
    return st.one_of(same, same, same, same, EXTREME)


@st.composite
def commands(draw: st.DrawFn) -> tuple[str, Json]:
    """A command route and its documented example, moved after the known case's last step,
    with up to two fields replaced by extreme values (or dropped), sometimes an unknown
    field added."""
    step = draw(st.sampled_from([ENTREE, *STEPS, *CORRECTIONS]))
    body: Json = {**step.example, "effective_on": date.today().isoformat()}
    for field in draw(st.lists(st.sampled_from(sorted(body)), max_size=2, unique=True)):
        if draw(st.integers(0, 9)) == 9:
            body.pop(field, None)
        else:
            body[field] = draw(extreme_like(body[field]))
    if draw(st.integers(0, 19)) == 19:
        body[draw(st.text(min_size=1, max_size=8))] = draw(EXTREME)
    return step.slug, body


LIST_ROUTES: dict[str, list[str]] = {
    "/dossiers": ["structure_id", "referent_id", "statut", "limit", "offset", "after"],
    "/audit/dossiers": [
        "known_at",
        "as_of",
        "structure_id",
        "referent_id",
        "statut",
        "limit",
        "offset",
    ],
    "/audit/diff": ["known_at", "as_of", "limit", "offset"],
    "/audit/journal": ["from", "to"],
    "/a-traiter": ["structure_id", "referent_id", "motif", "tri", "limit", "offset", "regles"],
    "/statistiques/table-3-1": ["du", "au", "par", "regles", "commune", "known_at", "as_of"],
    "/statistiques/taux": ["du", "au", "par", "regles", "commune", "known_at", "as_of"],
    "/statistiques/complementaires": ["du", "au", "par", "commune", "known_at", "as_of"],
    "/statistiques/drees": ["annee", "par", "commune", "known_at", "as_of"],
    "/statistiques/aave": ["du", "au", "structure_id", "known_at", "as_of"],
    "/statistiques/ecarts": ["famille", "du", "au", "known_at", "as_of", "par", "limit"],
    "/finance/lignes": ["periode", "partenaire"],
    "/finance/etats": ["partenaire", "limit", "offset"],
    "/flux/imports": ["limit", "offset"],
}
"""The list and statistics routes and their query parameters (charts are left out: drawing
them costs seconds, and their parameters are those of `/statistiques/taux`)."""
PLAUSIBLE: Json = {
    "du": "2024-01-01",
    "au": "2024-12-31",
    "annee": "2024",
    "known_at": "2024-06-01T00:00:00",
    "famille": "taux",
    "periode": "2024",
}
"""A valid value for the required parameters, so that the others are reached too."""


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


NUMERIC = frozenset({"limit", "offset", "after", "annee"})
DATES = frozenset({"du", "au", "as_of"})
INSTANTS = frozenset({"known_at", "from", "to"})


def parameter_values(name: str) -> st.SearchStrategy[Any]:
    """Extreme values of the parameter's own kind, most of the time; anything, sometimes."""
    if name in NUMERIC:
        same: st.SearchStrategy[Any] = _numbers
    elif name in DATES:
        same = _any_date
    elif name in INSTANTS:
        same = _any_date.map(lambda d: f"{d}T00:00:00")
    else:
        same = _strings
    return st.one_of(same, same, same, same, EXTREME)


@st.composite
def queries(draw: st.DrawFn) -> tuple[str, Json]:
    path = draw(st.sampled_from(sorted(LIST_ROUTES)))
    names = LIST_ROUTES[path]
    params = {n: v for n, v in PLAUSIBLE.items() if n in names}
    for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)):
        params[name] = _query_value(draw(parameter_values(name)))[:2000]
    return path, params


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app with its projector running, holding one case along a first episode."""
    with TestClient(create_app(settings, run_projector=True), headers=STAFF) as c:
        case_id, _ = post_steps(c, EPISODE_1[:6])
        c.app.state.known_case = case_id  # type: ignore[attr-defined]
        yield c


def _refusal_is_a_problem(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text
        problem = response.json()
        assert problem["status"] == response.status_code
        assert problem["detail"]


SPECIAL: dict[str, list[Any]] = {
    "number": [2**63, 10**21, -1, "NaN", 1e308],
    "date": ["0001-01-01", "9999-12-31", "2024-02-30"],
    "instant": ["0001-01-01T00:00:00", "9999-12-31T23:59:59"],
    "text": ["a\x00b", "\x1b[31m", "x" * 100_000, "é🙂\u202e"],
}
"""The values that once answered 500 or poisoned a read model, for every field of their kind."""


def kind_of(name: str, example: Any) -> str:
    if name in NUMERIC or (isinstance(example, int) and not isinstance(example, bool)):
        return "number"
    if name in INSTANTS:
        return "instant"
    if name in DATES or (isinstance(example, str) and _DATE.fullmatch(example)):
        return "date"
    return "text"


def sweep_commands() -> Iterator[tuple[str, Json]]:
    """Every field of every command at each extreme of its kind, the rest as documented."""
    for step in [ENTREE, *STEPS, *CORRECTIONS]:
        base: Json = {**step.example, "effective_on": date.today().isoformat()}
        for field, example in base.items():
            if isinstance(example, bool):
                continue
            for value in SPECIAL[kind_of(field, example)]:
                yield step.slug, {**base, field: value}


def sweep_queries() -> Iterator[tuple[str, Json]]:
    """Every query parameter of the list and statistics routes at each extreme of its kind."""
    for path, names in LIST_ROUTES.items():
        plausible = {n: v for n, v in PLAUSIBLE.items() if n in names}
        for name in names:
            for value in SPECIAL[kind_of(name, None)]:
                yield path, {**plausible, name: _query_value(value)[:2000]}


PROFILE = hypothesis_settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_extreme_values_in_commands_get_no_5xx_refusals_write_nothing(
    client: TestClient,
) -> None:
    app: Any = client.app
    case_id = app.state.known_case

    @hypothesis_settings(PROFILE, max_examples=COMMAND_EXAMPLES)
    @given(command=commands())
    def check(command: tuple[str, Json]) -> None:
        slug, body = command
        before = app.state.parcours.max_position()
        response = client.post(step_url(case_id, slug), json=body)
        _refusal_is_a_problem(response)
        if response.status_code >= 400:
            assert app.state.parcours.max_position() == before, (slug, body, response.text)

    for command in sweep_commands():
        check.hypothesis.inner_test(command)  # type: ignore[attr-defined]
    check()
    assert_read_models_healthy(client)


def test_extreme_values_in_query_parameters_get_no_5xx(client: TestClient) -> None:
    app: Any = client.app

    @hypothesis_settings(PROFILE, max_examples=QUERY_EXAMPLES)
    @given(query=queries())
    def check(query: tuple[str, Json]) -> None:
        path, params = query
        before = app.state.parcours.max_position()
        response = client.get(path, params=params)
        _refusal_is_a_problem(response)
        assert app.state.parcours.max_position() == before

    check()
    for query in sweep_queries():
        check.hypothesis.inner_test(query)  # type: ignore[attr-defined]
    assert_read_models_healthy(client)
