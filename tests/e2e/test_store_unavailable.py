"""When the database goes away under a request (a restart, a failover), the client gets a 503
problem+json telling it to retry, not a bare 500."""

from eventsourcing.persistence import OperationalError
from fastapi import APIRouter
from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.http.app import create_app
from tests.auth import STAFF

router = APIRouter()


@router.get("/essai-panne")
def broken() -> None:
    raise OperationalError("terminating connection due to administrator command")


def test_a_lost_database_connection_answers_503_to_retry(sqlite_settings: Settings) -> None:
    app = create_app(sqlite_settings)
    app.include_router(router)
    with TestClient(app, headers=STAFF) as client:
        response = client.get("/essai-panne")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert response.json()["code"] == "stockage_indisponible"
