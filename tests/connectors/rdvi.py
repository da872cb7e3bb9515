"""Helpers of the rdv-insertion connector's tests: the guide's signed samples (copied into the
repository), payloads derived from them and signed again, cases known to the identity vault."""

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import msgspec
from fastapi.testclient import TestClient

from adapters.eventlog.store import Parcours
from adapters.identity import Identite, IdentityStore
from adapters.settings import Settings
from api.http.app import create_app
from api.services.cases import handle
from api.services.commands import Author
from api.services.connectors_rdvi import RdviConnector
from domain import commands as cmd
from domain.vocabulary import OrganismePayeur, TypeOrganisme, TypeOrientation
from tests.auth import STAFF

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "rdv_insertion"
SECRET = "test-secret"
PATH = "/connecteurs/rdv-insertion"
CAMILLE = ("2718394", "288032636204534")
JONAS = ("2718394", "185117511231855")
SACHA = ("3065120", None)

Json = dict[str, Any]


INVITATION: Json = {
    "data": {
        "id": 331905,
        "format": "sms",
        "clicked": True,
        "rdv_with_referents": False,
        "created_at": "2026-05-21T09:03:41.512+02:00",
        "delivery_status": "delivered",
        "delivered_at": "2026-05-21T09:03:58.274+02:00",
        "expires_at": "2026-05-31T09:03:41.488+02:00",
        "motif_category": {
            "id": 2,
            "short_name": "rsa_accompagnement",
            "name": "RSA accompagnement",
        },
        "user": {
            "id": 90311,
            "affiliation_number": "3065120",
            "role": "demandeur",
            "department_internal_id": "561877",
            "first_name": "Sacha",
            "last_name": "Modèle",
            "birth_date": "1996-07-30",
            "nir": None,
        },
    },
    "meta": {
        "model": "Invitation",
        "event": "updated",
        "timestamp": "2026-05-28T19:41:09.066+02:00",
    },
}
"""The guide's example 04 (shown there, not signed in its samples), user fields shortened."""


def sample(name: str) -> tuple[bytes, str]:
    """A sample's exact bytes and the signature the guide gives for them."""
    stem = next(p.stem for p in SAMPLES.glob(f"{name}*.json"))
    return (SAMPLES / f"{stem}.json").read_bytes(), (SAMPLES / f"{stem}.sig").read_text().strip()


def payload(name: str) -> Json:
    body, _ = sample(name)
    parsed: Json = json.loads(body)
    return parsed


def compact(document: Json) -> bytes:
    """Serialised like the sender (compact, raw UTF-8)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def with_settings(settings: Settings, **changes: Any) -> Settings:
    base: dict[str, Any] = {"rdvi_secrets": (("valence-nord", SECRET),)}
    return msgspec.structs.replace(settings, **{**base, **changes})


@dataclass
class World:
    """The app over HTTP, and the same store as the worker sees it."""

    client: TestClient
    app: Parcours
    connector: RdviConnector
    identities: IdentityStore

    def post(self, body: bytes, signature: str | None = None, **headers: str) -> Any:
        sent = {"content-type": "application/json", **headers}
        if signature is not None:
            sent["X-RDVI-SIGNATURE"] = signature
        return self.client.post(PATH, content=body, headers=sent)

    def deliver(self, document: Json | str, **changes: Any) -> Any:
        """Post a sample (by name) or a document, signed with the test secret."""
        if isinstance(document, str):
            body, signature = sample(document)
            if not changes:
                response = self.post(body, signature)
                assert response.status_code == 200, response.text
                return response
            document = payload(document)
        body = compact(document)
        response = self.post(body, sign(body))
        assert response.status_code == 200, response.text
        return response

    def person(self, affiliation: str, nir: str | None, entry: date = date(2025, 10, 20)) -> UUID:
        return open_case(self.app, self.identities, affiliation, nir, entry)

    def orient(self, case_id: UUID, on: date = date(2025, 11, 15)) -> None:
        handle(
            self.app,
            case_id,
            cmd.DeciderOrientation(
                effective_on=on,
                type_orientation=TypeOrientation.SOCIALE,
                organisme=TypeOrganisme.DEPARTEMENT,
                structure_id="pole-valence-nord",
            ),
            Author(user="orienteur-26", request_id=uuid4().hex),
        )

    def steps(self, case_id: UUID) -> list[tuple[str, Json]]:
        """The case's events after its entry: type and fields, without recording metadata."""
        out = []
        for r in self.app.history(case_id)[1:]:
            fields = msgspec.to_builtins(r.event)
            fields.pop("meta")
            fields.pop("type", None)
            out.append((type(r.event).__name__, fields))
        return out

    def authors(self, case_id: UUID) -> set[str]:
        return {r.event.meta.recorded_by for r in self.app.history(case_id)[1:]}

    def inbox(self) -> dict[str, int]:
        return self.connector.store.counts()

    def review(self, etat: str = "ouvert") -> list[Json]:
        response = self.client.get(f"{PATH}/a-revoir", params={"etat": etat})
        assert response.status_code == 200, response.text
        items: list[Json] = response.json()["items"]
        return items


def open_case(
    app: Parcours,
    identities: IdentityStore,
    affiliation: str,
    nir: str | None,
    entry: date = date(2025, 10, 20),
) -> UUID:
    """A case opened by the CAF flux, its person in the identity vault (with a NIR)."""
    case_id = uuid4()
    handle(
        app,
        case_id,
        cmd.EnregistrerEntree(
            effective_on=entry,
            numero_dossier=f"caf-{affiliation}",
            organisme_payeur=OrganismePayeur.CAF,
            date_flux=entry,
            date_reception_flux=entry,
        ),
        Author(user="flux-caf", request_id=uuid4().hex),
    )
    if nir is not None:
        blind = identities.blind_index("caf", affiliation, nir)
        with identities.db.transaction() as tx:
            identities.insert(
                tx, [(blind, case_id, Identite(organisme="caf", matricule=affiliation, nir=nir))]
            )
    return case_id


@contextmanager
def world(settings: Settings, **changes: Any) -> Iterator[World]:
    configured = with_settings(settings, **changes)
    app = Parcours(configured)
    try:
        with TestClient(create_app(configured), headers=STAFF) as client:
            yield World(client, app, RdviConnector(app), IdentityStore(configured))
    finally:
        app.close()


def planned(numero: int, type_rdv: str, mode: str, date_rdv: str, on: str) -> tuple[str, Json]:
    return (
        "RdvPlanifie",
        {
            "effective_on": on,
            "numero": numero,
            "type_rdv": type_rdv,
            "mode": mode,
            "date_rdv": date_rdv,
        },
    )


def outcome(numero: int, issue: str, on: str) -> tuple[str, Json]:
    return ("IssueRdvEnregistree", {"effective_on": on, "numero": numero, "issue": issue})
