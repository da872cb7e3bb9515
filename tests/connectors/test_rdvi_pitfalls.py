"""One test per pitfall of the receiver's guide (WEBHOOKS.md §6), on both stores, plus the
rules' refusals, rotation of secrets, retention and a crash between steps and their record."""

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from adapters.connectors.rdv_insertion_store import RdviStore
from adapters.eventlog.store import Parcours
from adapters.settings import Settings
from api.http.auth import Role
from api.services.cases import handle
from api.services.commands import Author
from api.services.connectors_rdvi import RdviConnector
from domain import commands as cmd
from domain.vocabulary import MotifCloture
from tests.auth import bearer
from tests.connectors.rdvi import (
    CAMILLE,
    INVITATION,
    JONAS,
    PATH,
    SACHA,
    Json,
    compact,
    outcome,
    payload,
    planned,
    sample,
    sign,
    world,
)

ORIENTATION_26 = ("entretien_orientation", "convocation", "2026-06-09", "2026-05-26")


def at(document: Json, timestamp: str, event: str | None = None) -> Json:
    changed = copy.deepcopy(document)
    changed["meta"]["timestamp"] = timestamp
    if event is not None:
        changed["meta"]["event"] = event
    return changed


def statuses(document: Json, *statuses: str) -> Json:
    changed = copy.deepcopy(document)
    for p, status in zip(changed["data"]["participations"], statuses, strict=True):
        p["status"] = status
    return changed


def test_1_the_signature_is_checked_over_the_raw_bytes_never_a_reserialisation(
    settings: Settings,
) -> None:
    with world(settings) as w:
        body, signature = sample("01")
        pretty = json.dumps(json.loads(body), indent=2, ensure_ascii=False).encode()
        assert w.post(pretty, signature).status_code == 401  # same JSON, other bytes
        escaped = json.dumps(json.loads(body), separators=(",", ":")).encode()  # \u00e9
        assert w.post(escaped, signature).status_code == 401
        assert w.inbox() == {}
        # signed over UTF-8, sent as Latin-1 (seen once by another receiver): accepted
        latin = body.decode("utf-8").encode("latin-1")
        assert w.post(latin, signature).status_code == 200
        stored = w.connector.store.pending(10)
        assert [s.corps for s in stored] == [latin]  # kept as received


def test_2_the_answer_is_a_2xx_before_processing_even_for_what_parcours_ignores(
    settings: Settings,
) -> None:
    with world(settings) as w:
        camille = w.person(*CAMILLE)
        w.deliver("01")
        assert w.steps(camille) == []
        assert w.inbox() == {"a_traiter": 1}
        other = payload("01")
        other["data"]["id"] = 99001
        other["data"]["motif"]["motif_category"] = {"id": 7, "short_name": "psychologue"}
        w.deliver(other)
        w.connector.drain()
        assert [kind for kind, _ in w.steps(camille)] == ["RdvPlanifie"]
        assert w.inbox() == {"traitee": 1, "ignoree": 1}


def test_3_duplicates_record_once_the_same_bytes_or_the_same_state_from_two_endpoints(
    settings: Settings,
) -> None:
    with world(settings, rdvi_secrets=(("valence-nord", "test-secret"), ("sud", "s2"))) as w:
        camille, jonas = w.person(*CAMILLE), w.person(*JONAS)
        body, signature = sample("01")
        assert w.post(body, signature).json()["doublon"] is False
        assert w.post(body, signature).json()["doublon"] is True
        # a sibling endpoint of a delegated organisation: no NIR, other bytes, same state
        sibling = payload("01")
        for p in sibling["data"]["participations"]:
            del p["user"]["nir"]
        sent = compact(sibling)
        answer = w.post(sent, sign(sent, "s2"))
        assert answer.status_code == 200
        assert answer.json()["point"] == "sud"
        w.connector.drain()
        assert w.steps(camille) == [planned(1, *ORIENTATION_26)]
        assert w.steps(jonas) == [planned(1, *ORIENTATION_26)]
        assert w.review() == []


def test_3_a_sibling_copy_that_cannot_name_the_person_does_not_hide_one_that_can(
    settings: Settings,
) -> None:
    """The same state, first from a delegated organisation's endpoint (no NIR), then from the
    département's: the person is matched by the second, and the review item closes itself."""
    with world(settings, rdvi_secrets=(("valence-nord", "test-secret"), ("sud", "s2"))) as w:
        camille, jonas = w.person(*CAMILLE), w.person(*JONAS)
        sibling = payload("02")
        for p in sibling["data"]["participations"]:
            del p["user"]["nir"]
        sent = compact(sibling)
        assert w.post(sent, sign(sent, "s2")).status_code == 200
        w.connector.drain()
        assert len(w.review()) == 2
        w.deliver("02")
        w.connector.drain()
        assert w.steps(camille) == [planned(1, *ORIENTATION_26), outcome(1, "seen", "2026-06-09")]
        assert w.steps(jonas) == [planned(1, *ORIENTATION_26), outcome(1, "noshow", "2026-06-09")]
        assert w.review() == []
        assert {i["etat"] for i in w.review("tous")} == {"resolu"}


def test_4_an_older_state_after_a_newer_one_changes_nothing_instants_compared_not_strings(
    settings: Settings,
) -> None:
    with world(settings) as w:
        camille = w.person(*CAMILLE)
        w.person(*JONAS)
        w.deliver("02")
        # later as a string, earlier as an instant: 10:00 at UTC+12 is 00:00 at UTC+2
        older = at(statuses(payload("02"), "excused", "excused"), "2026-06-09T20:00:00.000+12:00")
        w.deliver(older)
        w.deliver("01")
        w.connector.drain()
        assert w.steps(camille) == [planned(1, *ORIENTATION_26), outcome(1, "seen", "2026-06-09")]
        assert w.inbox() == {"traitee": 1, "ignoree": 2}


def test_5_an_updated_without_created_is_an_upsert_of_the_full_state(settings: Settings) -> None:
    with world(settings) as w:
        jonas = w.person(*JONAS)
        w.person(*CAMILLE)
        w.deliver("02")
        w.connector.drain()
        assert w.steps(jonas) == [planned(1, *ORIENTATION_26), outcome(1, "noshow", "2026-06-09")]


def test_6_an_updated_that_changes_nothing_records_nothing(settings: Settings) -> None:
    with world(settings) as w:
        camille = w.person(*CAMILLE)
        w.person(*JONAS)
        w.deliver("01")
        for n in range(3):  # RDV-S syncs: later instants, same state
            w.deliver(at(payload("01"), f"2026-05-27T0{n}:00:00.000+02:00", "updated"))
        w.connector.drain()
        assert w.steps(camille) == [planned(1, *ORIENTATION_26)]
        assert w.inbox() == {"traitee": 4}


def test_7_a_destroyed_rdv_stays_deleted_a_late_updated_does_not_resurrect_it(
    settings: Settings,
) -> None:
    with world(settings) as w:
        camille = w.person(*CAMILLE)
        w.person(*JONAS)
        w.deliver("01")
        w.deliver(at(payload("01"), "2026-05-29T08:15:03.517+02:00", "destroyed"))
        w.deliver(at(payload("01"), "2026-05-30T08:00:00.000+02:00", "updated"))
        w.deliver(at(payload("02"), "2026-06-09T11:32:47.221+02:00"))
        w.connector.drain()
        assert w.steps(camille) == [
            planned(1, *ORIENTATION_26),
            outcome(1, "revoked", "2026-05-29"),
        ]
        assert w.inbox() == {"traitee": 2, "ignoree": 2}


def test_8_a_participant_removed_from_the_rdv_is_cancelled_for_that_person(
    settings: Settings,
) -> None:
    with world(settings) as w:
        camille, jonas = w.person(*CAMILLE), w.person(*JONAS)
        w.deliver("01")
        removed = at(payload("01"), "2026-06-01T09:00:00.000+02:00", "updated")
        removed["data"]["participations"] = removed["data"]["participations"][:1]
        w.deliver(removed)
        w.connector.drain()
        assert w.steps(camille) == [planned(1, *ORIENTATION_26)]
        assert w.steps(jonas) == [planned(1, *ORIENTATION_26), outcome(1, "revoked", "2026-06-01")]


def test_9_outcomes_are_per_person_and_a_corrected_status_is_recorded_as_a_correction(
    settings: Settings,
) -> None:
    with world(settings) as w:
        camille, jonas = w.person(*CAMILLE), w.person(*JONAS)
        w.deliver("02")  # RDV status "seen", Jonas noshow: per participation
        w.deliver(at(statuses(payload("02"), "noshow", "noshow"), "2026-06-10T09:00:00.000+02:00"))
        w.deliver(at(statuses(payload("02"), "unknown", "noshow"), "2026-06-11T09:00:00.000+02:00"))
        w.connector.drain()
        kinds = [
            (kind, fields.get("issue"), fields.get("version_annulee"))
            for kind, fields in w.steps(camille)
        ]
        assert kinds == [
            ("RdvPlanifie", None, None),
            ("IssueRdvEnregistree", "seen", None),
            ("EtapeAnnulee", None, 3),
            ("IssueRdvEnregistree", "noshow", None),
            ("EtapeAnnulee", None, 5),
        ]
        state = w.client.get(f"/dossiers/{camille}")
        assert state.status_code == 200
        assert w.steps(jonas) == [planned(1, *ORIENTATION_26), outcome(1, "noshow", "2026-06-09")]


def test_10_unknown_participants_wait_in_the_review_queue_to_be_linked_or_dismissed(
    settings: Settings,
) -> None:
    with world(settings) as w:
        jonas = w.person(*JONAS)
        w.deliver("01")  # Camille is not known to parcours
        w.connector.drain()
        [item] = w.review()
        assert (item["motif"], item["personne"]["prenom"]) == ("non_rapproche", "Camille")
        dismissed = w.client.post(
            f"{PATH}/a-revoir/{item['id']}", json={"decision": "ecarter", "motif": "Homonyme"}
        )
        assert dismissed.status_code == 200
        assert dismissed.json()["etat"] == "ecarte"
        assert dismissed.json()["motif_decision"] == "Homonyme"
        again = w.client.post(f"{PATH}/a-revoir/{item['id']}", json={"decision": "ecarter"})
        assert again.status_code == 409
        missing = w.client.post(f"{PATH}/a-revoir/999", json={"decision": "ecarter"})
        assert missing.status_code == 404
        bad = w.client.post(f"{PATH}/a-revoir/{item['id']}", json={"decision": "lier"})
        assert bad.status_code in (409, 422)
        assert w.review() == []
        assert [i["etat"] for i in w.review("tous")] == ["ecarte"]
        assert w.steps(jonas) == [planned(1, *ORIENTATION_26)]


def test_10_a_link_to_a_case_records_the_rdv_and_holds_for_later_deliveries(
    settings: Settings,
) -> None:
    with world(settings) as w:
        camille = w.person("0000000", None)  # known under another file number
        w.person(*JONAS)
        w.deliver("01")
        w.connector.drain()
        [item] = w.review()
        unknown = w.client.post(
            f"{PATH}/a-revoir/{item['id']}", json={"decision": "lier", "case_id": str(uuid4())}
        )
        assert unknown.status_code == 422
        assert unknown.json()["field"] == "case_id"
        no_case = w.client.post(f"{PATH}/a-revoir/{item['id']}", json={"decision": "lier"})
        assert no_case.status_code == 422
        linked = w.client.post(
            f"{PATH}/a-revoir/{item['id']}", json={"decision": "lier", "case_id": str(camille)}
        )
        assert linked.status_code == 200
        w.connector.drain()
        w.deliver("02")
        w.connector.drain()
        assert w.steps(camille) == [planned(1, *ORIENTATION_26), outcome(1, "seen", "2026-06-09")]
        assert w.review() == []
        agent = bearer(Role.AGENT, structures=["pole-valence-nord"], sub="agent-26")
        assert w.client.get(f"{PATH}/a-revoir", headers=agent).status_code == 403


def test_11_fields_absent_by_organisation_type_or_version_are_tolerated(
    settings: Settings,
) -> None:
    with world(settings) as w:
        camille = w.person(*CAMILLE)
        old = payload("02")
        del old["data"]["participations"]  # before 2024-07: users only, the RDV's status
        for u in old["data"]["users"]:
            for key in ("nir", "department_internal_id"):
                u.pop(key)
        old["data"]["users"] = old["data"]["users"][:1]
        old["data"]["unexpected"] = {"new": "field"}
        w.deliver(old)
        w.connector.drain()
        [item] = w.review()  # without a NIR, the file number alone finds no one
        assert "NIR" in item["detail"]
        w.client.post(
            f"{PATH}/a-revoir/{item['id']}", json={"decision": "lier", "case_id": str(camille)}
        )
        w.connector.drain()
        assert w.steps(camille) == [
            planned(1, "entretien_orientation", "convocation", "2026-06-09", "2026-06-09"),
            outcome(1, "seen", "2026-06-09"),
        ]


def test_12_dates_are_the_rdv_own_local_day_and_both_timestamp_formats_are_read(
    settings: Settings,
) -> None:
    with world(settings) as w:
        camille = w.person(*CAMILLE)
        w.person(*JONAS)
        reunion = at(payload("01"), "2026-05-26 14:12:08 +0200")  # before 2024-09's format
        reunion["data"]["starts_at"] = "2026-06-10T00:30:00.000+04:00"  # 06-09 in Paris
        for p in reunion["data"]["participations"]:
            p["starts_at"] = "2026-06-10T00:30:00.000+04:00"
        w.deliver(reunion)
        w.connector.drain()
        assert w.steps(camille) == [
            planned(1, "entretien_orientation", "convocation", "2026-06-10", "2026-05-26")
        ]


def test_13_the_category_is_read_by_its_short_name_not_its_id(settings: Settings) -> None:
    with world(settings) as w:
        camille = w.person(*CAMILLE)
        w.orient(camille)
        w.person(*JONAS)
        cer = payload("01")
        cer["data"]["motif"]["motif_category"] = {"id": 4242, "short_name": "rsa_cer_signature"}
        w.deliver(cer)
        w.connector.drain()
        assert [f["type_rdv"] for _, f in w.steps(camille)[1:]] == ["signature_cer"]


def test_14_convocation_is_inferred_from_the_motif_and_who_added_the_person(
    settings: Settings,
) -> None:
    with world(settings) as w:
        camille, jonas = w.person(*CAMILLE), w.person(*JONAS)
        booked = payload("01")
        booked["data"]["motif"]["name"] = "RSA orientation : entretien sur site"
        booked["data"]["participations"][1]["created_by"] = "user"
        w.deliver(booked)
        collective = payload("01")
        collective["data"]["id"] = 48999
        collective["data"]["motif"] = {
            **collective["data"]["motif"],
            "name": "Information collective RSA",
            "collectif": True,
        }
        collective["data"]["participations"][1]["created_by"] = "user"
        w.deliver(collective)
        w.connector.drain()
        assert [(f["type_rdv"], f["mode"]) for _, f in w.steps(camille)] == [
            ("entretien_orientation", "invitation"),  # no "convocation" in the motif
            ("information_collective", "convocation"),  # collective, added by an agent
        ]
        assert [(f["type_rdv"], f["mode"]) for _, f in w.steps(jonas)] == [
            ("entretien_orientation", "invitation"),
            ("information_collective", "invitation"),  # collective, booked by the person
        ]


def test_15_resources_parcours_does_not_read_are_acknowledged_and_kept(
    settings: Settings,
) -> None:
    with world(settings) as w:
        user = {"data": {"id": 1}, "meta": {"model": "User", "event": "updated"}}
        user["meta"]["timestamp"] = "2026-05-26T14:12:08.903+02:00"
        w.deliver(user)
        body = b'{"data": '
        assert w.post(body, sign(body)).status_code == 200  # authentic, unreadable: kept
        w.connector.drain()
        assert w.inbox() == {"ignoree": 1, "erreur": 1}


def test_invitations_go_once_on_the_timeline_in_whatever_order_they_come(
    settings: Settings,
) -> None:
    with world(settings) as w:
        sacha = w.person(*SACHA)
        w.orient(sacha)
        sent = copy.deepcopy(INVITATION)
        sent["meta"] = {**sent["meta"], "event": "created"}
        sent["meta"]["timestamp"] = "2026-05-21T09:03:42.000+02:00"
        sent["data"] |= {"clicked": False, "delivery_status": None, "delivered_at": None}
        w.deliver(INVITATION)  # updated first, created after: the created is older
        w.deliver(sent)
        w.connector.drain()
        [item] = w.review()  # Sacha has no NIR in the payload
        assert (item["modele"], item["motif"]) == ("Invitation", "non_rapproche")
        w.client.post(
            f"{PATH}/a-revoir/{item['id']}", json={"decision": "lier", "case_id": str(sacha)}
        )
        w.connector.drain()
        expired = at(INVITATION, "2026-06-01T10:00:00.000+02:00")
        w.deliver(expired)
        w.deliver(at(INVITATION, "2026-06-02T10:00:00.000+02:00"))  # nothing new
        w.connector.drain()
        facts = [(f["etat"], f["effective_on"]) for _, f in w.steps(sacha)[1:]]
        assert facts == [
            ("envoyee", "2026-05-21"),
            ("delivree", "2026-05-21"),
            ("ouverte", "2026-05-28"),
            ("expiree", "2026-05-31"),
        ]
        assert {f["type_rdv"] for _, f in w.steps(sacha)[1:]} == {"premier_accompagnement"}
        assert w.authors(sacha) - {"orienteur-26"} == {"rdv-insertion"}
        assert w.review() == []


def test_16_the_review_queue_and_the_inbox_are_not_open_to_every_agent(
    settings: Settings,
) -> None:
    with world(settings) as w:
        anyone = {"authorization": ""}
        assert w.client.get(f"{PATH}/a-revoir", headers=anyone).status_code == 401
        agent = bearer(Role.AGENT, structures=["pole-valence-nord"], sub="agent-26")
        assert w.client.get(f"{PATH}/a-revoir", headers=agent).status_code == 403
        orienteur = bearer(Role.ORIENTATION, sub="orienteur-26")
        assert w.client.get(f"{PATH}/a-revoir", headers=orienteur).status_code == 200


def test_17_a_jwt_delivery_without_hmac_is_refused(settings: Settings) -> None:
    with world(settings) as w:
        body, _ = sample("01")
        token = "eyJ0eXAiOiJKV1QiLCJleHAiOjE3Nzk3OTgxMjgsImFsZyI6IkhTMjU2In0.e30.x"
        response = w.client.post(PATH, content=body, headers={"authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert w.inbox() == {}


def test_an_outcome_the_rules_refuse_goes_to_the_review_queue_with_the_rule_message(
    settings: Settings,
) -> None:
    with world(settings) as w:
        camille, jonas = w.person(*CAMILLE), w.person(*JONAS)
        w.deliver("01")
        w.connector.drain()
        handle(
            w.app,
            camille,
            cmd.CloreDroit(
                effective_on=datetime(2026, 6, 1).date(), motif=MotifCloture.DEMENAGEMENT
            ),
            Author(user="flux-caf", request_id=uuid4().hex),
        )
        w.deliver("02")
        w.connector.drain()
        [item] = w.review()
        assert item["motif"] == "regle"
        assert item["detail"].startswith("episode_clos:")
        assert [k for k, _ in w.steps(camille)] == ["RdvPlanifie", "DroitClos"]
        assert w.steps(jonas)[-1] == outcome(1, "noshow", "2026-06-09")


def test_two_secrets_of_one_endpoint_are_valid_at_once_while_it_rotates(
    settings: Settings,
) -> None:
    rotating = (("valence-nord", "old-secret"), ("valence-nord", "test-secret"))
    with world(settings, rdvi_secrets=rotating) as w:
        body, signature = sample("01")
        assert w.post(body, signature).json()["point"] == "valence-nord"
        other = compact(at(payload("01"), "2026-05-27T00:00:00.000+02:00"))
        assert w.post(other, sign(other, "old-secret")).status_code == 200
        assert w.post(other, sign(other, "retired")).status_code == 401


def test_processed_deliveries_are_purged_after_the_retention_period(settings: Settings) -> None:
    with world(settings, rdvi_retention_days=30) as w:
        w.person(*CAMILLE)
        w.person(*JONAS)
        w.deliver("01")
        w.deliver(payload("01") | {"meta": {"model": "Rdv", "event": "updated", "timestamp": "x"}})
        w.connector.drain()
        assert w.inbox() == {"traitee": 1, "erreur": 1}
        assert w.connector.purge() == 0
        later = Parcours(w.app.settings, clock=lambda: datetime.now(UTC) + timedelta(days=31))
        try:
            assert RdviConnector(later).purge() == 2
        finally:
            later.close()
        assert w.inbox() == {}


class Crash(BaseException):
    """The process dies (not an error the processor handles)."""


def test_a_crash_between_the_steps_and_their_record_replays_them_once(settings: Settings) -> None:
    with world(settings) as w:
        camille = w.person(*CAMILLE)
        w.person(*JONAS)
        w.deliver("02")

        class Dying(RdviStore):
            def settle(self, *args: Any, **kwargs: Any) -> None:
                raise Crash

        dying = RdviConnector(w.app, Dying(w.app.settings))
        with pytest.raises(Crash):
            dying.process_pending()
        assert len(w.steps(camille)) == 2  # recorded, the delivery still to process
        assert w.inbox() == {"a_traiter": 1}
        w.connector.drain()
        assert w.steps(camille) == [planned(1, *ORIENTATION_26), outcome(1, "seen", "2026-06-09")]
        assert w.inbox() == {"traitee": 1}
