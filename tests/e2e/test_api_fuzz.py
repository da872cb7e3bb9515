"""The API under generated requests (schemathesis, from its own OpenAPI schema, with a valid
token): no server error, every refusal is problem+json, and a refused request writes nothing.
On both stores, a bounded number of examples per operation."""

from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from adapters.settings import Settings
from api.http.app import create_app
from tests.auth import STAFF
from tests.e2e.helpers import create_case, orient

EXAMPLES = 8


@pytest.fixture
def api_schema(settings: Settings) -> Iterator[schemathesis.BaseSchema]:
    """The schema of a running app (lifespan started), holding one oriented case."""
    app = create_app(settings)
    with TestClient(app, headers=STAFF) as client:
        case_id = create_case(client)
        orient(client, case_id)
        app.state.known_case = case_id
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


def test_generated_requests_get_no_500_and_refusals_write_nothing(
    api_schema: schemathesis.BaseSchema,
) -> None:
    app = api_schema.app
    operations = [result.ok() for result in api_schema.get_all_operations()]
    documented = sum(len(methods) for methods in app.openapi()["paths"].values())
    assert len(operations) == documented >= 20  # every documented route is exercised
    statuses: Counter[int] = Counter()

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: schemathesis.Case) -> None:
        before = app.state.parcours.max_position()
        response = case.call(headers={**(case.headers or {}), **STAFF})
        after = app.state.parcours.max_position()
        statuses[response.status_code] += 1
        assert response.status_code < 500, (case.as_curl_command(), response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == ["application/problem+json"], response.text
            problem = response.json()
            assert problem["status"] == response.status_code
            assert problem["detail"]
            assert after == before, (case.as_curl_command(), response.status_code)

    def on_known_case(pair: tuple[schemathesis.Case, bool]) -> schemathesis.Case:
        """Half the requests with a case id go to the existing case, not a random one."""
        case, known = pair
        if known and case.path_parameters and "case_id" in case.path_parameters:
            case.path_parameters["case_id"] = app.state.known_case
        return case

    for operation in operations:
        strategy = st.tuples(operation.as_strategy(), st.booleans()).map(on_known_case)
        given(case=strategy)(check)()
    assert sum(statuses.values()) >= len(operations) * 5
    print(f"\n{sum(statuses.values())} generated requests: {dict(sorted(statuses.items()))}")
