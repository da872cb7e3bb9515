"""The registry of agents' rights through the API, in oidc mode, where it is the only source of
roles: an administrator grants, the agent reads its structure's cases with a token that carries
no role, a revocation refuses the same token at the next request; only an administrator grants,
and a grant no one could use writes nothing. On both stores."""

import argparse
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from adapters.eventlog.store import Parcours
from adapters.settings import Settings
from api.cli import agents as cli_agents
from api.cli.conventions import UserError
from api.http.app import create_app
from api.services.agents import grant, registre, rights_of
from api.services.commands import Author
from domain.agents import RoleAgent
from tests.e2e.helpers import ENTREE, ORIENTATION, Json, log_position

ISSUER = "https://idp.departement.example/realms/rsa"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
AGENT_SUB = "S-4f1c"


def _bearer(sub: str, **claims: Any) -> dict[str, str]:
    """A token of the identity provider: who the person is, no roles."""
    now = int(time.time())
    payload = {"sub": sub, "iss": ISSUER, "aud": "parcours", "iat": now, "exp": now + 24 * 3600}
    return {"Authorization": f"Bearer {jwt.encode(payload | claims, KEY, algorithm='RS256')}"}


ADMIN = _bearer("admin-sub", email="Admin@Departement.fr")
STAFF = _bearer("staff-sub")
AGENT = _bearer(AGENT_SUB)


@pytest.fixture
def oidc(settings: Settings, tmp_path: Path) -> Settings:
    """The test store's settings as production runs them: oidc mode, the provider's key."""
    pem = tmp_path / "idp.pem"
    pem.write_bytes(
        KEY.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return msgspec.structs.replace(
        settings,
        auth_mode="oidc",
        jwt_secret="",
        jwt_issuer=ISSUER,
        jwt_public_key_file=pem,
        identity_master_key=secrets.token_hex(32),
        identity_index_secret=secrets.token_hex(32),
        cle_pseudonymisation=secrets.token_hex(32),
        session_secret=secrets.token_hex(32),
        cle_points_controle=secrets.token_hex(32),
    )


@pytest.fixture
def client(oidc: Settings) -> Iterator[TestClient]:
    """The app in oidc mode, whose registry already names its first administrator (by e-mail)
    and a département officer entering and orienting cases."""
    store = Parcours(oidc)
    boot = Author(user="installation", request_id="boot")
    for agent, role in [
        ("admin@departement.fr", RoleAgent.ADMIN),
        ("staff-sub", RoleAgent.FLUX),
        ("staff-sub", RoleAgent.ORIENTATION),
    ]:
        grant(
            store,
            agent=agent,
            role=role,
            structures=[],
            du=store.today(),
            au=None,
            motif="installation",
            author=boot,
        )
    try:
        with TestClient(create_app(oidc, store)) as c:
            yield c
    finally:
        store.close()


def _ccas_case(client: TestClient) -> str:
    created = client.post("/dossiers", json=ENTREE, headers=STAFF)
    assert created.status_code == 201, created.text
    case_id: str = created.json()["case_id"]
    oriented = client.post(f"/dossiers/{case_id}/orientation", json=ORIENTATION, headers=STAFF)
    assert oriented.status_code == 200, oriented.text
    return case_id


def _grant_agent(client: TestClient, headers: dict[str, str] = ADMIN, **body: Any) -> Any:
    accord: Json = {
        "agent": AGENT_SUB,
        "role": "agent",
        "structures": ["ccas-creteil"],
        "du": "2024-01-01",
        "motif": "Référente RSA",
    }
    return client.post("/admin/agents", json=accord | body, headers=headers)


def test_a_granted_agent_reads_its_structure_s_case_until_revoked(client: TestClient) -> None:
    case_id = _ccas_case(client)
    assert client.get(f"/dossiers/{case_id}", headers=AGENT).status_code == 403

    granted = _grant_agent(client)
    assert granted.status_code == 201, granted.text
    droit = granted.json()
    assert droit["agent"] == AGENT_SUB
    assert droit["structures"] == ["ccas-creteil"]
    assert droit["accorde_par"] == "admin-sub"
    assert droit["retrait"] is None

    read = client.get(f"/dossiers/{case_id}", headers=AGENT)
    assert read.status_code == 200, read.text
    assert read.json()["structure_id"] == "ccas-creteil"

    listed = client.get("/admin/agents", params={"limit": 2, "offset": 3}, headers=ADMIN)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert (page["total"], page["limit"], page["offset"]) == (4, 2, 3)
    assert [(d["droit_id"], d["accorde_par"]) for d in page["items"]] == [
        (droit["droit_id"], "admin-sub")
    ]
    assert page["items"][0]["accorde_le"] == droit["accorde_le"]

    revoked = client.post(
        "/admin/agents/retraits",
        json={"droit_id": droit["droit_id"], "motif": "Départ"},
        headers=ADMIN,
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()[0]["retrait"]["par"] == "admin-sub"
    refused = client.get(f"/dossiers/{case_id}", headers=AGENT)
    assert refused.status_code == 403, refused.text
    again = client.post(
        "/admin/agents/retraits",
        json={"droit_id": droit["droit_id"], "motif": "Départ"},
        headers=ADMIN,
    )
    assert again.status_code == 422
    assert again.json()["field"] == "droit_id"


def test_roles_in_an_oidc_token_count_for_nothing(client: TestClient) -> None:
    before = log_position(client)
    claimed = _bearer(AGENT_SUB, roles=["admin"], structures=["ccas-creteil"])
    assert _grant_agent(client, claimed).status_code == 403
    assert client.get("/admin/agents", headers=claimed).status_code == 403
    assert log_position(client) == before


def test_only_an_administrator_grants(client: TestClient) -> None:
    before = log_position(client)
    for headers in (STAFF, AGENT):
        assert _grant_agent(client, headers).status_code == 403
        revoke = {"agent": "staff-sub", "role": "flux", "motif": "m"}
        assert (
            client.post("/admin/agents/retraits", json=revoke, headers=headers).status_code == 403
        )
    assert log_position(client) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"structures": []}, "structures"),
        ({"au": "2023-12-31"}, "au"),
        ({"role": "pape"}, "role"),
        ({"agent": "a b"}, "agent"),
        ({"du": "2999-01-01"}, "du"),
        ({"motif": ""}, "motif"),
    ],
)
def test_a_grant_no_one_could_use_names_its_field_and_writes_nothing(
    client: TestClient, body: Json, field: str
) -> None:
    before = log_position(client)
    response = _grant_agent(client, **body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field, response.text
    assert log_position(client) == before


def test_the_first_administrator_is_named_from_the_command_line(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    grant_args = argparse.Namespace(
        agent="Chef@Departement.fr",
        role="admin",
        structure=[],
        du=None,
        au=None,
        motif="installation",
        auteur="exploitant",
        json=False,
    )
    cli_agents.cmd_grant(settings, grant_args)
    assert "droit-1 accordé: admin à chef@departement.fr" in capsys.readouterr().out
    store = Parcours(settings)
    try:
        droits = rights_of(store, "any-sub", "chef@departement.fr", store.today())
        assert droits.roles == {RoleAgent.ADMIN}
        assert registre(store).all()[0].accorde_par == "exploitant"
    finally:
        store.close()
    revoke_args = argparse.Namespace(
        droit="droit-9", agent=None, role=None, motif="fin", auteur="exploitant", json=False
    )
    with pytest.raises(UserError, match="droit_id"):
        cli_agents.cmd_revoke(settings, revoke_args)
