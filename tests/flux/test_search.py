"""Finding a person imported by a flux: by name, prefix, file number and NIR, only within the
caller's reach; after erasure, not at all, and no row of the search index left for the case."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from adapters.eventlog.store import Parcours
from adapters.identity import IdentityStore
from adapters.readmodels.projector import Projector
from adapters.settings import Settings
from adapters.sql import Db
from api.http.app import create_app
from api.http.auth import Role
from tests.auth import bearer
from tests.e2e.helpers import ROOT, cli_env, serving
from tests.flux.helpers import FIXTURES, NOW, clock, dump_tables, variant

XML = {"Content-Type": "application/xml"}
FLUX = bearer(Role.FLUX, sub="flux-caf")
ADMIN = bearer(Role.ADMIN, sub="dpo-1")
ORIENTEUR = bearer(Role.ORIENTATION, sub="orienteur-1")
AUDITEUR = bearer(Role.AUDITEUR, sub="auditeur-1")
AGENT_CCAS = bearer(Role.AGENT, structures=["ccas-creteil"], sub="agent-7")
CONSEILLER_FT = bearer(Role.AGENT, structures=["ft-creteil"], sub="conseiller-12")
FINANCE = bearer(Role.FINANCE, sub="comptable-1")

QUERIES = ["bullock", "Bul", "BÜLLOCK éta", "eta bull", "208956400000000", "CAF 208956400000000"]
QUERIES += ["2730799404078", "2 73 07 99 404 078 12"]
"""Name, prefix, accents and case, first name and prefix, file number with and without its
organisme, NIR with and without its key (spaces as typed)."""


def _search(client: TestClient, q: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/recherche", params={"q": q}, headers=headers)
    assert response.status_code == 200, (q, response.text)
    body = response.json()
    assert (body["limit"], body["offset"], body["tronque"]) == (50, 0, False)
    assert body["total"] == len(body["items"])
    items: list[dict[str, Any]] = body["items"]
    return items


def _terms(settings: Settings, case_id: str | None = None) -> int:
    with Db(settings).transaction() as tx:
        if case_id is None:
            return int(tx.execute("SELECT COUNT(*) FROM identite_recherche")[0][0])
        rows = tx.execute(
            "SELECT COUNT(*) FROM identite_recherche WHERE case_id = %s", (UUID(case_id).hex,)
        )
    return int(rows[0][0])


def _other_person(tmp_path: Path) -> bytes:
    """RSABEM-ouvert.xml for another household: accents, a compound name, another number."""
    return variant(
        tmp_path,
        "RSABEM-ouvert.xml",
        "autre.xml",
        ("<MATRICULE>208956400000000", "<MATRICULE>0123456"),
        ("<NOM>BULLOCK", "<NOM>LE GALL-DUPRÉ"),
        ("<NOMNAI>BULLOCK", "<NOMNAI>N'DIAYE"),
        ("<PRENOM>ETA", "<PRENOM>ÉLOÏSE"),
        ("<NIR>2730799404078", "<NIR>2820251108030"),
    ).read_bytes()


def _import(client: TestClient, body: bytes) -> None:
    created = client.post("/flux/imports", content=body, headers={**XML, **FLUX})
    assert created.status_code == 201, created.text


def test_search_finds_the_person_within_reach_and_nothing_after_erasure(
    settings: Settings, tmp_path: Path
) -> None:
    parcours = Parcours(settings, clock=clock())
    with TestClient(create_app(settings, parcours)) as client:
        _import(client, (FIXTURES / "RSABEM-ouvert.xml").read_bytes())
        _import(client, _other_person(tmp_path))
        Projector(parcours).catch_up()
        (found,) = _search(client, "bullock", ORIENTEUR)
        case_id = found["case_id"]
        assert (found["nom"], found["prenoms"], found["matricule"]) == (
            "BULLOCK",
            ["ETA"],
            "208956400000000",
        )
        assert (found["date_naissance"], found["statut"]) == ("1973-07-21", "a_orienter")
        for q in QUERIES:
            assert [p["case_id"] for p in _search(client, q, ORIENTEUR)] == [case_id], q
        other = ["LE GALL-DUPRÉ"]
        for q in ["eloise gall", "Dupré", "dupre", "le gall", "ndiaye", "n'diaye", "CAF 0123456"]:
            assert [p["nom"] for p in _search(client, q, AUDITEUR)] == other, q
        assert _search(client, "caf 208956400000000 bullock", ORIENTEUR) == []
        assert _search(client, "bullock sophie", ORIENTEUR) == []
        assert _search(client, "bullocks", ORIENTEUR) == []

        # Not oriented: no agent's case. Oriented to the CCAS: its agent finds it, the other
        # structure's agent still does not.
        assert _search(client, "bullock", AGENT_CCAS) == []
        orientation = {
            "effective_on": NOW.date().isoformat(),
            "type_orientation": "sociale",
            "organisme": "ccas",
            "structure_id": "ccas-creteil",
            "mode": "decidee",
        }
        oriented = client.post(
            f"/dossiers/{case_id}/orientation", json=orientation, headers=ORIENTEUR
        )
        assert oriented.status_code == 200, oriented.text
        Projector(parcours).catch_up()
        (mine,) = _search(client, "bul", AGENT_CCAS)
        assert (mine["case_id"], mine["statut"], mine["structure_id"]) == (
            case_id,
            "oriente",
            "ccas-creteil",
        )
        assert mine["type_orientation"] == "sociale"
        assert _search(client, "bullock", CONSEILLER_FT) == []
        assert _search(client, "208956400000000", CONSEILLER_FT) == []

        short = client.get("/recherche", params={"q": " b "}, headers=ORIENTEUR)
        assert (short.status_code, short.json()["field"]) == (422, "q")
        assert short.headers["content-type"] == "application/problem+json"
        assert client.get("/recherche", params={"q": "bullock"}, headers=FINANCE).status_code == 403
        assert client.get("/recherche", headers=ORIENTEUR).status_code == 422

        assert _terms(settings, case_id) > 0
        assert client.delete(f"/personnes/{case_id}/identite", headers=ADMIN).status_code == 204
        for q in QUERIES:
            assert _search(client, q, ORIENTEUR) == [], q
        assert _search(client, "bullock", AGENT_CCAS) == []
        assert _terms(settings, case_id) == 0
        assert [p["nom"] for p in _search(client, "eloise", ORIENTEUR)] == other

    raw = dump_tables(Db(settings))
    assert [v for v in (b"BULLOCK", b"bullock", b"bul", b"2730799404078") if v in raw] == []


def test_a_later_flux_renaming_the_person_replaces_the_terms(
    settings: Settings, tmp_path: Path
) -> None:
    parcours = Parcours(settings, clock=clock())
    with TestClient(create_app(settings, parcours)) as client:
        _import(client, (FIXTURES / "RSABEM-ouvert.xml").read_bytes())
        (found,) = _search(client, "bullock", ORIENTEUR)
        renamed = variant(
            tmp_path,
            "RSABEM-ouvert.xml",
            "renamed.xml",
            ("<NOM>BULLOCK</NOM>", "<NOM>BULLOCK-MARTIN</NOM>"),
        )
        _import(client, renamed.read_bytes())
        assert [p["case_id"] for p in _search(client, "martin bullock", ORIENTEUR)] == [
            found["case_id"]
        ]
        assert [p["nom"] for p in _search(client, "mar", ORIENTEUR)] == ["BULLOCK-MARTIN"]


def test_identities_stored_before_the_index_are_indexed_once(
    settings: Settings, tmp_path: Path
) -> None:
    parcours = Parcours(settings, clock=clock())
    with TestClient(create_app(settings, parcours)) as client:
        _import(client, (FIXTURES / "RSABEM-ouvert.xml").read_bytes())
        _import(client, (FIXTURES / "MSABEM.xml").read_bytes())
        _import(client, _other_person(tmp_path))
        before = _terms(settings)
        with Db(settings).transaction() as tx:
            tx.execute("DELETE FROM identite_recherche")
        assert _search(client, "bullock", ORIENTEUR) == []
        vault = IdentityStore(settings)
        assert vault.index_missing(batch=1) == 3
        assert vault.index_missing() == 0
        with Db(settings).transaction() as tx:
            tx.execute("DELETE FROM identite_recherche")
        done = subprocess.run(
            [sys.executable, "-m", "api.cli.main", "identites", "indexer"],
            cwd=ROOT,
            env={**os.environ, **cli_env(settings)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.strip().endswith("3 identités indexées"), done.stdout
        assert _terms(settings) == before
        assert [p["nom"] for p in _search(client, "bullock", ORIENTEUR)] == ["BULLOCK"]


def test_the_query_is_never_logged(settings: Settings, tmp_path: Path) -> None:
    """A real server's log (JSON lines, INFO): the search and the access are there, the query
    is not."""
    with serving(settings, tmp_path / "server.log") as server, server.client() as client:
        _import(client, (FIXTURES / "RSABEM-ouvert.xml").read_bytes())
        for q in ("bullock eta", "2730799404078", "CAF 208956400000000"):
            response = client.get("/recherche", params={"q": q})
            assert response.status_code == 200, response.text
            assert response.json()["total"] == 1
        log = server.log.read_text()
    assert "search.done" in log
    assert "case.access" in log
    assert [q for q in ("bullock", "BULLOCK", "2730799404078", "208956400000000") if q in log] == []
