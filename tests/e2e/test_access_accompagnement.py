"""Access by accompaniment, through the API: an association giving an appui social
complémentaire to a person oriented to France Travail reaches that case once the orientation
service says it accompanies the person, records its ASC interviews under its own name and
nothing else, and loses the case when the accompaniment ends. On both stores."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.http.app import create_app
from api.http.auth import Role
from tests.auth import bearer
from tests.e2e.helpers import (
    AGENT_AAVE,
    AUDITEUR,
    CER,
    CONSEILLER_FT,
    FLUX_CAF,
    ORIENTEUR,
    REFERENT,
    Json,
    create_case,
    log_position,
    orient,
)

ASSO = bearer(Role.AGENT, structures=["asso-insertion-94"], sub="benevole-4")
"""An agent of the association holding ASC interviews."""
PRO: Json = {
    "effective_on": "2024-01-25",
    "type_orientation": "professionnelle",
    "organisme": "france_travail",
    "structure_id": "ft-creteil",
    "mode": "decidee",
}
DEBUT: Json = {"effective_on": "2024-04-02", "structure_id": "asso-insertion-94", "objet": "asc"}
FIN: Json = {
    "effective_on": "2024-09-30",
    "structure_id": "asso-insertion-94",
    "objet": "asc",
    "motif": "objectifs atteints",
}
ENTRETIEN: Json = {"effective_on": "2024-04-10", "structure_id": "asso-insertion-94"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def ft_case(client: TestClient) -> str:
    """A case oriented to France Travail (Créteil)."""
    case_id = create_case(client, headers=FLUX_CAF)
    orient(client, case_id, PRO)
    return case_id


def _status(response: object, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    if code is not None:
        assert response.json()["code"] == code  # type: ignore[attr-defined]


def _timeline(client: TestClient, case_id: str) -> list[Json]:
    response = client.get(f"/dossiers/{case_id}/evenements", headers=AUDITEUR)
    assert response.status_code == 200, response.text
    entries: list[Json] = response.json()
    return entries


def test_an_association_accompanying_for_asc_records_its_interviews_and_nothing_else(
    client: TestClient, ft_case: str
) -> None:
    url = f"/dossiers/{ft_case}"
    _status(client.get(url, headers=ASSO), 404, "dossier_inconnu")
    _status(client.post(f"{url}/entretien-asc", json=ENTRETIEN, headers=ASSO), 404)

    before = log_position(client)
    _status(client.post(f"{url}/debut-accompagnement", json=DEBUT, headers=ASSO), 403)
    _status(client.post(f"{url}/debut-accompagnement", json=DEBUT, headers=CONSEILLER_FT), 403)
    assert log_position(client) == before
    _status(client.post(f"{url}/debut-accompagnement", json=DEBUT, headers=ORIENTEUR), 200)
    again = client.post(f"{url}/debut-accompagnement", json=DEBUT, headers=ORIENTEUR)
    _status(again, 422, "accompagnement_en_cours")

    state = client.get(url, headers=ASSO)
    assert state.status_code == 200, state.text
    assert state.json()["structure_id"] == "ft-creteil"
    _status(client.get(f"{url}/evenements", headers=ASSO), 200)
    interview = client.post(f"{url}/entretien-asc", json=ENTRETIEN, headers=ASSO)
    _status(interview, 200)
    last = _timeline(client, ft_case)[-1]
    assert (last["type"], last["recorded_by"], last["structure_id"]) == (
        "EntretienAscTenu",
        "benevole-4",
        "asso-insertion-94",
    )
    assert last["event"]["structure_id"] == "asso-insertion-94"

    before = log_position(client)
    _status(client.post(f"{url}/cer", json=CER, headers=ASSO), 403, "acces_refuse")
    _status(client.post(f"{url}/referent", json=REFERENT, headers=ASSO), 403, "acces_refuse")
    annul = {"effective_on": "2024-04-11", "version_annulee": 2, "motif": "erreur"}
    _status(client.post(f"{url}/annulation", json=annul, headers=ASSO), 403, "acces_refuse")
    _status(client.post(f"{url}/fin-accompagnement", json=FIN, headers=ASSO), 403)
    someone_else_s = {**ENTRETIEN, "structure_id": "asso-autre-94"}
    refused = client.post(f"{url}/entretien-asc", json=someone_else_s, headers=ASSO)
    _status(refused, 403, "acces_refuse")
    _status(client.get(url, headers=AGENT_AAVE), 404, "dossier_inconnu")
    _status(client.post(f"{url}/entretien-asc", json=ENTRETIEN, headers=AGENT_AAVE), 404)
    assert log_position(client) == before

    cer = client.post(f"{url}/cer", json=CER, headers=CONSEILLER_FT)
    _status(cer, 200)
    assert _timeline(client, ft_case)[-1]["structure_id"] == "ft-creteil"
    keyed_by_referent = client.post(
        f"{url}/entretien-asc", json=someone_else_s, headers=CONSEILLER_FT
    )
    _status(keyed_by_referent, 200)

    _status(client.post(f"{url}/fin-accompagnement", json=FIN, headers=ORIENTEUR), 200)
    _status(client.get(url, headers=ASSO), 404, "dossier_inconnu")
    later = {**ENTRETIEN, "effective_on": "2024-10-02"}
    _status(client.post(f"{url}/entretien-asc", json=later, headers=ASSO), 404)
    _status(client.get(url, headers=CONSEILLER_FT), 200)

    kinds = [(e["type"], e["recorded_by"]) for e in _timeline(client, ft_case)]
    assert kinds == [
        ("EntreeEnregistree", "flux-caf"),
        ("OrientationDecidee", "orienteur-cd94"),
        ("AccompagnementDebute", "orienteur-cd94"),
        ("EntretienAscTenu", "benevole-4"),
        ("CerSigne", "conseiller-12"),
        ("EntretienAscTenu", "conseiller-12"),
        ("AccompagnementTermine", "orienteur-cd94"),
    ]
    ended = _timeline(client, ft_case)[-1]
    assert (ended["event"]["objet"], ended["motif"]) == ("asc", "objectifs atteints")


def test_the_orientation_s_structure_keeps_its_reach_and_its_referent_role_is_not_ended_here(
    client: TestClient, ft_case: str
) -> None:
    url = f"/dossiers/{ft_case}"
    own = {"effective_on": "2024-04-02", "structure_id": "ft-creteil", "objet": "referent"}
    _status(client.post(f"{url}/fin-accompagnement", json=own, headers=ORIENTEUR), 422)
    _status(client.post(f"{url}/debut-accompagnement", json=own, headers=ORIENTEUR), 422)
    _status(client.post(f"{url}/referent", json=REFERENT, headers=CONSEILLER_FT), 200)
