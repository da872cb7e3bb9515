"""A full path posted through the API is read back as state and timeline, on both stores, and is
still there after the server restarts."""

from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.app import create_app
from tests.e2e.http import HEADERS, PATH, create, post_path

EXPECTED_STATE = {
    "version": 14,
    "numero_dossier": "CAF-0123456",
    "statut": "sorti",
    "episode": 1,
    "soumis_droits_devoirs": True,
    "droit_suspendu": False,
    "date_entree": "2024-01-03",
    "date_flux": "2024-01-04",
    "date_reception_flux": "2024-01-08",
    "type_orientation": "sociale",
    "organisme": "ccas",
    "structure_id": "ccas-creteil",
    "date_orientation": "2024-01-25",
    "date_premiere_orientation": "2024-01-25",
    "nb_reorientations": 0,
    "referent_id": "ref-durand",
    "date_referent": "2024-01-29",
    "date_premier_rdv": "2024-02-05",
    "date_dernier_rdv": "2024-03-20",
    "rdv_seen": 1,
    "rdv_noshow": 1,
    "rdv_excused": 0,
    "rdv_revoked": 0,
    "rdv_en_attente": 0,
    "date_premier_cer": "2024-02-20",
    "date_fin_cer": "2025-08-31",
    "nb_cer": 2,
    "nb_entretiens_asc": 0,
    "sanctions_en_cours": 0,
    "date_sortie": "2024-10-01",
    "type_sortie": "emploi_cdi",
    "sortie_positive": True,
}

EXPECTED_TYPES = [
    "EntreeEnregistree",
    "OrientationDecidee",
    "ReferentDesigne",
    "RdvPlanifie",
    "IssueRdvEnregistree",
    "RdvPlanifie",
    "IssueRdvEnregistree",
    "CerSigne",
    "SanctionDecidee",
    "SanctionLevee",
    "DroitSuspendu",
    "DroitRepris",
    "CerSigne",
    "SortieEnregistree",
]


def _read(client: TestClient, case_id: str) -> tuple[dict[str, object], list[dict[str, object]]]:
    state = client.get(f"/dossiers/{case_id}")
    assert state.status_code == 200
    assert state.headers["ETag"] == '"14"'
    timeline = client.get(f"/dossiers/{case_id}/evenements")
    assert timeline.status_code == 200
    return state.json(), timeline.json()


def test_full_path_is_read_back_as_state_and_timeline(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        case_id = post_path(client)
        state, timeline = _read(client, case_id)
    assert {k: state[k] for k in EXPECTED_STATE} == EXPECTED_STATE
    assert [e["event"]["type"] for e in timeline] == EXPECTED_TYPES
    assert [e["version"] for e in timeline] == list(range(1, 15))
    for entry in timeline:
        assert entry["event"]["meta"]["recorded_by"] == "agent-7"
        assert entry["event"]["meta"]["structure_id"] == "ccas-creteil"
    assert timeline[8]["event"] == {
        **timeline[8]["event"],
        "type": "SanctionDecidee",
        "effective_on": "2024-04-02",
        "numero": 1,
        "type_sanction": "reduction",
        "motif": "RDV manqué",
    }


def test_the_path_survives_a_restart(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        case_id = post_path(client)
        before = _read(client, case_id)
    with TestClient(create_app(settings)) as client:
        after = _read(client, case_id)
    assert after == before


def test_lists_by_structure_and_status_reflect_a_command_position(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        first = create(client)
        second = create(client)
        response = client.post(f"/dossiers/{second}/{PATH[0][0]}", json=PATH[0][1], headers=HEADERS)
        position = response.json()["position"]
        page = client.get(
            "/dossiers", params={"structure_id": "ccas-creteil", "after": position}
        ).json()
        assert [item["case_id"] for item in page["items"]] == [second]
        assert page["total"] == 1
        waiting = client.get("/dossiers", params={"statut": "a_orienter", "after": position})
        assert [item["case_id"] for item in waiting.json()["items"]] == [first]
        both = client.get("/dossiers", params={"limit": 1, "offset": 1, "after": position}).json()
        assert both["total"] == 2
        assert len(both["items"]) == 1


def test_if_match_with_the_current_version_records_the_step(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        case_id = create(client)
        step, body = PATH[0]
        response = client.post(
            f"/dossiers/{case_id}/{step}", json=body, headers={"If-Match": '"1"'}
        )
        assert response.status_code == 200
        assert response.json()["version"] == 2


def test_openapi_documents_every_step_with_an_example_and_its_problems(
    sqlite_settings: Settings,
) -> None:
    with TestClient(create_app(sqlite_settings)) as client:
        spec = client.get("/openapi.json").json()
    posts = {path: ops["post"] for path, ops in spec["paths"].items() if "post" in ops}
    assert len(posts) == 16
    for path, op in posts.items():
        body = op["requestBody"]["content"]["application/json"]
        assert "example" in body, path
        assert body["schema"]["$ref"].startswith("#/components/schemas/"), path
        assert "application/problem+json" in op["responses"]["422"]["content"], path
    assert "Problem" in spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            ok = op["responses"].get("200") or op["responses"].get("201")
            if path != "/health":
                assert "example" in ok["content"]["application/json"], (method, path)
    case_example = spec["paths"]["/dossiers/{case_id}"]["get"]["responses"]["200"]
    assert case_example["content"]["application/json"]["example"]["statut"] == "oriente"
