"""The flux over HTTP (upload, kept reports) and erasure of a person's identity."""

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from adapters.eventlog.store import Parcours
from adapters.readmodels.projector import Projector
from adapters.settings import Settings
from adapters.sql import Db
from api.http.app import create_app
from api.http.auth import Role
from tests.auth import bearer
from tests.flux.helpers import FIXTURES, clock, dump_tables

XML = {"Content-Type": "application/xml"}
FLUX = bearer(Role.FLUX, sub="flux-caf")
ADMIN = bearer(Role.ADMIN, sub="dpo-1")
ORIENTEUR = bearer(Role.ORIENTATION, sub="orienteur-1")

PERSONAL = (
    b"BULLOCK",
    b"ETA",
    b"2730799404078",
    b"1973-07-21",
    b"HENRI BARBUSSE",
    b"LEVALLOIS PERRET",
    b"GRATTON",
    b"208956400000000",
)
"""Identity values of the person of RSABEM-ouvert.xml: name, first name, NIR, birth date,
address, birth commune, CAF file number."""


def _rows(app: Parcours) -> dict[Any, Any]:
    projector = Projector(app)
    projector.catch_up()
    return projector.view.all_rows()


def test_upload_keeps_a_report_and_refuses_an_invalid_file(settings: Settings) -> None:
    parcours = Parcours(settings, clock=clock())
    with TestClient(create_app(settings, parcours), headers=FLUX) as client:
        body = (FIXTURES / "RSABEM.xml").read_bytes()
        none = client.get("/flux/imports").json()
        assert (none["items"], none["total"]) == ([], 0)
        created = client.post("/flux/imports?fichier=RSABEM.xml", content=body, headers=XML)
        assert created.status_code == 201, created.text
        rapport = created.json()
        assert rapport["evenements"] == {"EntreeEnregistree": 1, "DroitSuspendu": 1}
        assert created.headers["Location"] == f"/flux/imports/{rapport['id']}"
        assert client.get(created.headers["Location"]).json() == rapport

        invalid = (FIXTURES / "RSABEI_invalid.xml").read_bytes()
        refused = client.post("/flux/imports?fichier=RSABEI_invalid.xml", content=invalid)
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert (problem["code"], problem["field"]) == ("flux_non_conforme", "body")
        assert "Ligne 12" in problem["detail"]
        assert parcours.max_position() == 2

        listed = client.get("/flux/imports").json()
        assert (listed["total"], listed["limit"], listed["offset"]) == (2, 50, 0)
        assert sorted((r["fichier"], r["statut"]) for r in listed["items"]) == [
            ("RSABEI_invalid.xml", "rejete"),
            ("RSABEM.xml", "importe"),
        ]
        second = client.get("/flux/imports?limit=1&offset=1").json()
        assert (len(second["items"]), second["total"]) == (1, 2)
        assert second["items"][0]["fichier"] == listed["items"][1]["fichier"]
        past = client.get("/flux/imports?offset=5").json()
        assert (past["items"], past["total"]) == ([], 2)
        empty = client.post("/flux/imports", content=b"", headers=XML)
        assert (empty.status_code, empty.json()["field"]) == (400, "body")
        unknown = client.get("/flux/imports/00000000-0000-0000-0000-000000000000")
        assert (unknown.status_code, unknown.json()["field"]) == (404, "import_id")

        agent = bearer(Role.AGENT, structures=["ccas-creteil"], sub="agent-7")
        denied = client.post("/flux/imports", content=body, headers={**XML, **agent})
        assert denied.status_code == 403
        assert client.get("/flux/imports", headers=agent).status_code == 403
        assert client.get("/flux/imports", headers={"Authorization": ""}).status_code == 401
        assert parcours.max_position() == 2


def test_erasure_leaves_no_personal_value_and_the_same_statistics(settings: Settings) -> None:
    parcours = Parcours(settings, clock=clock())
    with TestClient(create_app(settings, parcours)) as client:
        body = (FIXTURES / "RSABEM-ouvert.xml").read_bytes()
        created = client.post("/flux/imports", content=body, headers={**XML, **FLUX})
        assert created.status_code == 201
        (case_id,) = _rows(parcours)
        before = _rows(parcours)

        # Not oriented yet: an agent does not even learn the case exists; finance never reads it.
        agent = bearer(Role.AGENT, structures=["ccas-creteil"], sub="agent-7")
        hidden = client.get(f"/personnes/{case_id}/identite", headers=agent)
        assert (hidden.status_code, hidden.json()["code"]) == (404, "dossier_inconnu")
        finance = bearer(Role.FINANCE, sub="comptable-1")
        assert client.get(f"/personnes/{case_id}/identite", headers=finance).status_code == 403
        # Only the administrator erases.
        assert client.delete(f"/personnes/{case_id}/identite", headers=ORIENTEUR).status_code == 403

        identite = client.get(f"/personnes/{case_id}/identite", headers=ORIENTEUR)
        assert identite.status_code == 200
        assert identite.json()["nom"] == "BULLOCK"
        assert identite.json()["date_naissance"] == "1973-07-21"

        assert client.delete(f"/personnes/{case_id}/identite", headers=ADMIN).status_code == 204

        gone = client.get(f"/personnes/{case_id}/identite", headers=ORIENTEUR)
        assert (gone.status_code, gone.json()["code"]) == (404, "identite_inconnue")
        again = client.delete(f"/personnes/{case_id}/identite", headers=ADMIN)
        assert again.status_code == 404

    raw = dump_tables(Db(settings))
    found = [value for value in PERSONAL if value in raw]
    assert found == []
    # The dump does read the event payloads: the profile and the dates are there.
    assert b"92044" in raw
    assert b"2018-08-06" in raw
    after = _rows(parcours)
    assert after == before
    row = after[case_id]
    assert (row.date_entree, row.soumis_droits_devoirs) == (date(2018, 8, 6), True)
    with Db(settings).transaction() as tx:
        assert tx.execute("SELECT count(*) FROM identite") == [(0,)]
        assert tx.execute("SELECT count(*) FROM identite_cle") == [(0,)]
    parcours.close()
