"""The guide's three signed samples through the door and the processor, on both stores."""

from typing import Any

from adapters.settings import Settings
from tests.connectors.rdvi import (
    CAMILLE,
    JONAS,
    SACHA,
    outcome,
    payload,
    planned,
    sample,
    world,
)

ORIENTATION_26 = ("entretien_orientation", "convocation", "2026-06-09", "2026-05-26")


def test_the_three_samples_are_accepted_with_their_signatures_and_record_the_expected_steps(
    settings: Settings,
) -> None:
    with world(settings) as w:
        camille, jonas = w.person(*CAMILLE), w.person(*JONAS)
        for name in ("01", "02", "03"):
            response = w.deliver(name)
            assert response.json()["doublon"] is False
        assert w.steps(camille) == []  # stored, not processed yet
        assert w.connector.drain() == 3
        assert w.steps(camille) == [planned(1, *ORIENTATION_26), outcome(1, "seen", "2026-06-09")]
        assert w.steps(jonas) == [planned(1, *ORIENTATION_26), outcome(1, "noshow", "2026-06-09")]
        assert w.authors(camille) == {"rdv-insertion:claire.durand@example.org"}
        # 03 deletes an RDV parcours never recorded: kept as a tombstone, nothing to cancel
        assert w.inbox() == {"traitee": 3}
        assert w.review() == []


def test_a_tampered_byte_is_refused_and_nothing_is_stored(settings: Settings) -> None:
    with world(settings) as w:
        body, signature = sample("01")
        at = body.index(b"Camille")
        tampered = body[:at] + b"K" + body[at + 1 :]
        for sent, sig in [
            (tampered, signature),
            (body, None),
            (body, ""),
            (body, signature[:-1] + ("0" if signature[-1] != "0" else "1")),
            (body, "sha256=" + signature),
        ]:
            response = w.post(sent, sig)
            assert response.status_code == 401, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["field"] == "X-RDVI-SIGNATURE"
        assert w.inbox() == {}
        assert w.post(body, signature.upper()).status_code == 200  # hex is case-blind


def test_a_deleted_rdv_cancels_what_parcours_recorded_of_it(settings: Settings) -> None:
    """Sample 03 after its RDV was created (a created state rebuilt from it, signed again)."""
    with world(settings) as w:
        sacha = w.person(*SACHA)  # no NIR in the payload: matched by an agent's link
        w.orient(sacha)
        created: dict[str, Any] = payload("03")
        created["meta"] = {**created["meta"], "event": "created"}
        created["meta"]["timestamp"] = "2026-05-28T19:47:13.001+02:00"
        w.deliver(created)
        w.connector.drain()
        [item] = w.review()
        assert item["motif"] == "non_rapproche"
        assert item["personne"]["nom"] == "Modèle"
        linked = w.client.post(
            f"/connecteurs/rdv-insertion/a-revoir/{item['id']}",
            json={"decision": "lier", "case_id": str(sacha)},
        )
        assert linked.status_code == 200, linked.text
        assert linked.json()["etat"] == "lie"
        w.connector.drain()
        assert w.steps(sacha)[1:] == [
            planned(1, "premier_accompagnement", "invitation", "2026-06-16", "2026-05-28")
        ]
        w.deliver("03")
        w.connector.drain()
        assert w.steps(sacha)[2:] == [outcome(1, "revoked", "2026-05-29")]
        assert w.review() == []
