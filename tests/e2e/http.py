"""HTTP helpers for end-to-end tests: a full path posted step by step."""

from typing import Any

from fastapi.testclient import TestClient

ENTREE = {
    "effective_on": "2024-01-03",
    "numero_dossier": "CAF-0123456",
    "organisme_payeur": "caf",
    "date_flux": "2024-01-04",
    "date_reception_flux": "2024-01-08",
}

PATH: list[tuple[str, dict[str, Any]]] = [
    (
        "orientation",
        {
            "effective_on": "2024-01-25",
            "type_orientation": "sociale",
            "organisme": "ccas",
            "structure_id": "ccas-creteil",
        },
    ),
    ("referent", {"effective_on": "2024-01-29", "referent_id": "ref-durand"}),
    (
        "rdv",
        {
            "effective_on": "2024-01-29",
            "type_rdv": "premier_accompagnement",
            "mode": "convocation",
            "date_rdv": "2024-02-05",
        },
    ),
    ("issue-rdv", {"effective_on": "2024-02-05", "numero": 1, "issue": "seen"}),
    (
        "rdv",
        {
            "effective_on": "2024-02-06",
            "type_rdv": "suivi",
            "mode": "invitation",
            "date_rdv": "2024-03-20",
        },
    ),
    ("issue-rdv", {"effective_on": "2024-03-20", "numero": 2, "issue": "noshow"}),
    ("cer", {"effective_on": "2024-02-20", "date_debut": "2024-03-01", "duree_mois": 6}),
    (
        "sanction",
        {"effective_on": "2024-04-02", "type_sanction": "reduction", "motif": "RDV manqué"},
    ),
    ("levee-sanction", {"effective_on": "2024-05-02", "numero": 1}),
    ("suspension", {"effective_on": "2024-06-01"}),
    ("reprise", {"effective_on": "2024-07-01"}),
    (
        "renouvellement-cer",
        {"effective_on": "2024-08-20", "date_debut": "2024-09-01", "duree_mois": 12},
    ),
    ("sortie", {"effective_on": "2024-10-01", "type_sortie": "emploi_cdi"}),
]

HEADERS = {"X-User-Id": "agent-7", "X-Structure-Id": "ccas-creteil"}


def create(client: TestClient, body: dict[str, Any] | None = None, **headers: str) -> str:
    response = client.post("/dossiers", json=body or ENTREE, headers={**HEADERS, **headers})
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case_id"]
    return case_id


def post_path(client: TestClient) -> str:
    """Post the whole path; every step answers 200 with the next version."""
    case_id = create(client)
    for version, (step, body) in enumerate(PATH, start=2):
        response = client.post(f"/dossiers/{case_id}/{step}", json=body, headers=HEADERS)
        assert response.status_code == 200, (step, response.text)
        assert response.json()["version"] == version
        assert response.headers["ETag"] == f'"{version}"'
    return case_id
