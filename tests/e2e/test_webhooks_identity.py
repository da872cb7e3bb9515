"""What a partner receives of the person, by the subscription's purpose, on both stores: a
follow-up subscription no identity at all; an identifying one the file number, the agent and
the person from the vault (never the NIR), and, replayed after an erasure, no one."""

from typing import Any

from fastapi.testclient import TestClient

from adapters.eventlog.store import Parcours
from adapters.settings import Settings
from adapters.webhooks.deliverer import Policy
from adapters.webhooks.signing import new_secret
from api.http.app import create_app
from api.http.auth import Role
from api.services import subscriptions
from domain.abonnements import TYPES_DIFFUSABLES
from tests.auth import bearer
from tests.e2e.helpers import wait_until
from tests.e2e.test_webhooks import ADMIN, DEADLINE, delivering
from tests.e2e.webhook_receiver import Receiver, receiving
from tests.flux.helpers import FIXTURES, clock

FLUX = bearer(Role.FLUX, sub="flux-caf")
XML = {"Content-Type": "application/xml"}
POLICY = Policy(attempts=3, backoff=0.01, backoff_max=0.02, poll=0.1, batch=100, timeout=5)


def _subscribe(client: TestClient, url: str, secret: str, finalite: str) -> str:
    answer = client.post(
        "/admin/abonnements",
        json={
            "url": url,
            "types": sorted(TYPES_DIFFUSABLES),
            "toutes_structures": True,
            "secret": secret,
            "finalite": finalite,
            "position_depart": 0,
            "motif": f"Essai {finalite}",
        },
        headers=ADMIN,
    )
    assert answer.status_code == 201, answer.text
    subscription_id: str = answer.json()["abonnement"]["abonnement_id"]
    return subscription_id


def _bodies(receiver: Receiver) -> list[dict[str, Any]]:
    return [r.body for r in receiver.snapshot() if r.body["type"] != "webhook.test"]


def test_the_purpose_decides_what_a_partner_learns_of_the_person(settings: Settings) -> None:
    parcours = Parcours(settings, clock=clock())
    follow_secret, identify_secret = new_secret(), new_secret()
    with (
        receiving(follow_secret) as follow,
        receiving(identify_secret) as identify,
        TestClient(create_app(settings, parcours)) as client,
    ):
        imported = client.post(
            "/flux/imports",
            content=(FIXTURES / "RSABEM-ouvert.xml").read_bytes(),
            headers={**XML, **FLUX},
        )
        assert imported.status_code == 201, imported.text
        events = sum(imported.json()["evenements"].values())
        assert events >= 1
        _subscribe(client, follow.url, follow_secret, "suivi")
        identifying = _subscribe(client, identify.url, identify_secret, "identification")

        with delivering(settings, POLICY):
            wait_until(lambda: len(follow.ids()) == events, DEADLINE, "the follow-up's events")
            wait_until(lambda: len(identify.ids()) == events, DEADLINE, "the identifying ones")

            for body in _bodies(follow):
                assert "personne" not in body["data"]
                assert "numero_dossier" not in body["data"]["evenement"]
                assert "recorded_by" not in body["data"]["evenement"]["meta"]
                assert b"BULLOCK" not in repr(body).encode()
            received = _bodies(identify)
            case_id = received[0]["data"]["dossier_id"]
            entry = next(b for b in received if b["type"] == "dossier.EntreeEnregistree")
            assert entry["data"]["evenement"]["numero_dossier"].startswith("CAF-")
            assert entry["data"]["evenement"]["meta"]["recorded_by"].startswith("flux")
            for body in received:
                person = body["data"]["personne"]
                assert (person["nom"], person["date_naissance"]) == ("BULLOCK", "1973-07-21")
                assert person["matricule"] == "208956400000000"
                assert "nir" not in person
                assert "2730799404078" not in repr(body)

            erased = client.delete(f"/personnes/{case_id}/identite", headers=ADMIN)
            assert erased.status_code == 204
            subscriptions.replay(parcours, identifying, 0)
            wait_until(
                lambda: len(_bodies(identify)) >= 2 * events, DEADLINE, "the replay's events"
            )
            replayed = _bodies(identify)[len(received) :]
            assert {b["data"]["version"] for b in replayed} == {
                b["data"]["version"] for b in received
            }
            assert all(b["data"]["personne"] is None for b in replayed)
            assert len(identify.ids()) == events  # the replay reused the first ids
        assert follow.refused_signatures == identify.refused_signatures == 0
    parcours.close()
