"""Partners' webhooks end to end, on both stores: a receiver started here gets every event once
per id with valid signatures and each case's events in order, through a spell of 500s and a
SIGKILL of the real `parcours webhooks deliver`; a subscription limited to a structure gets the
events of that structure's cases only, while another one, whose endpoint is down, ends in dead
letters, and a third waits on an endpoint that never answers, neither holding it back; the
admin API refuses a bad subscription and writes nothing."""

import argparse
import asyncio
import os
import signal
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.eventlog.reading import histories
from adapters.eventlog.store import Parcours
from adapters.settings import Settings
from adapters.synthetic import load
from adapters.webhooks.deliverer import Deliverer, Policy
from adapters.webhooks.payloads import webhook_id
from adapters.webhooks.signing import new_secret
from api.cli import webhooks as cli_webhooks
from api.http.app import create_app
from api.http.auth import Role
from domain.abonnements import ABONNEMENTS_ID, TYPES_DIFFUSABLES
from domain.dossier import fold_history
from domain.events import Recorded
from tests.auth import bearer
from tests.e2e.helpers import ParcoursProcess, free_port, wait_until
from tests.e2e.webhook_receiver import Receiver, receiving

ADMIN = bearer(Role.ADMIN, sub="admin-1")
DEADLINE = 120
FAST = {
    "PARCOURS_WEBHOOKS_BACKOFF": "0.05",
    "PARCOURS_WEBHOOKS_BACKOFF_MAX": "0.2",
    "PARCOURS_WEBHOOKS_POLL": "0.1",
}


def _written(settings: Settings, people: int) -> list[list[Recorded]]:
    app = Parcours(settings)
    try:
        load(app, people=people, years=2, seed=7, start=date(2023, 1, 1))
        return list(histories(app))
    finally:
        app.close()


def _subscribe(client: TestClient, **body: Any) -> dict[str, Any]:
    answer = client.post("/admin/abonnements", json={"motif": "Essai", **body})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def _status(client: TestClient, abonnement_id: str) -> dict[str, Any]:
    answer = client.get(f"/admin/abonnements/{abonnement_id}/etat")
    assert answer.status_code == 200, answer.text
    status: dict[str, Any] = answer.json()
    return status


def _assert_case_order(receiver: Receiver) -> None:
    """Each case's events, in the order they were first accepted, come in version order."""
    seen: set[str] = set()
    versions: dict[str, list[int]] = {}
    for r in receiver.snapshot():
        if r.webhook_id in seen or r.body["type"] == "webhook.test":
            continue
        seen.add(r.webhook_id)
        data = r.body["data"]
        versions.setdefault(data["dossier_id"], []).append(data["version"])
    for case, order in versions.items():
        assert order == sorted(order), f"case {case} received out of order: {order}"


@contextmanager
def delivering(settings: Settings, policy: Policy) -> Iterator[None]:
    """The deliverer in a thread of this process."""
    app = Parcours(settings)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(Deliverer(app, policy).run(stop)), daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=DEADLINE)
        assert not thread.is_alive()
        loop.close()
        app.close()


def test_every_event_once_per_id_through_500s_and_a_sigkill(
    settings: Settings, tmp_path: Path
) -> None:
    cases = _written(settings, people=80)
    secret = new_secret()
    with receiving(secret) as receiver, TestClient(create_app(settings), headers=ADMIN) as client:
        created = _subscribe(
            client,
            url=receiver.url,
            types=sorted(TYPES_DIFFUSABLES),
            toutes_structures=True,
            secret=secret,
            position_depart=0,
        )
        assert created["secret"] == secret
        assert "secret_scelle" not in created["abonnement"]
        name = created["abonnement"]["abonnement_id"]
        expected = {webhook_id(name, r) for h in cases for r in h}

        receiver.failing.set()  # the partner is down when the deliverer starts
        env = {**FAST, "PARCOURS_WEBHOOKS_BATCH": "20", "PARCOURS_WEBHOOKS_CONCURRENCY": "4"}
        first = ParcoursProcess(settings, ["webhooks", "deliver"], tmp_path / "d1.log", **env)
        try:
            wait_until(lambda: receiver.answered_500 >= 10, DEADLINE, "tries answered 500")
            down = _status(client, name)
            assert down["position"] == 0
            assert down["echecs"] > 0
            assert down["derniere_erreur"] == "HTTP 500"
            receiver.failing.clear()
            wait_until(
                lambda: len(receiver.ids()) >= len(expected) // 3,
                DEADLINE,
                "a third of the deliveries",
                pause=0.002,
            )
            os.kill(first.pid, signal.SIGKILL)
            assert first.process.wait(timeout=DEADLINE) == -signal.SIGKILL, first.output()
        finally:
            first.kill_if_running()
        at_kill = len(receiver.ids())
        assert at_kill < len(expected), "the deliverer was not killed mid-way"

        # Restarted (here, in this process): it resumes from the cursor the store kept.
        with delivering(settings, Policy.from_env(env)):
            wait_until(lambda: receiver.ids() >= expected, DEADLINE, "every delivery")
            wait_until(
                lambda: _status(client, name)["retard_evenements"] == 0,
                DEADLINE,
                "the cursor at the end of the log",
            )

        assert receiver.ids() == expected
        assert receiver.refused_signatures == 0
        _assert_case_order(receiver)
        resent = Counter(r.webhook_id for r in receiver.snapshot())
        assert sum(resent.values()) >= len(expected)  # duplicates (after the kill) share ids
        body = receiver.snapshot()[0].body
        assert body["type"].startswith("dossier.")
        assert "numero_dossier" not in body["data"]["evenement"]
        assert "recorded_by" not in body["data"]["evenement"]["meta"]
        final = _status(client, name)
        assert final["retard_evenements"] == 0
        assert final["retard_secondes"] == 0
        assert final["rebuts"] == 0
        assert final["livrees"] >= len(expected)


@contextmanager
def silent() -> Iterator[str]:
    """An endpoint that takes connections and never answers (a partner stuck)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/stuck"


def _reached(history: list[Recorded], structure: str) -> list[Recorded]:
    """The oracle: a case's events while `structure` accompanies it (before or after each)."""
    kept = []
    for i, record in enumerate(history):
        before = fold_history(history[:i]).accompagnants if i else {}
        after = fold_history(history[: i + 1]).accompagnants
        if structure in before or structure in after:
            kept.append(record)
    return kept


KINDS = ["OrientationDecidee", "ReorientationDecidee", "RdvPlanifie", "IssueRdvEnregistree"]


def test_structure_limit_and_endpoints_dead_or_stuck_that_hold_no_one_back(
    settings: Settings,
) -> None:
    cases = _written(settings, people=80)
    counts = Counter(
        s for h in cases for s in {s for r in h for s in fold_history(h).accompagnants}
    )
    structure = counts.most_common(1)[0][0]
    expected_records = [
        r for h in cases for r in _reached(h, structure) if type(r.event).__name__ in KINDS
    ]
    every_record = [r for h in cases for r in h if type(r.event).__name__ in KINDS]
    assert 0 < len(expected_records) < len(every_record)

    secret = new_secret()
    with (
        receiving(secret) as receiver,
        silent() as hanging_url,
        TestClient(create_app(settings), headers=ADMIN) as client,
    ):
        hanging = _subscribe(
            client,
            url=hanging_url,
            types=sorted(TYPES_DIFFUSABLES),
            toutes_structures=True,
            position_depart=0,
        )["abonnement"]["abonnement_id"]
        limited = _subscribe(
            client,
            url=receiver.url,
            types=KINDS,
            structures=[structure],
            secret=secret,
            position_depart=0,
        )["abonnement"]["abonnement_id"]
        down = _subscribe(
            client,
            url=f"http://127.0.0.1:{free_port()}/nobody",
            types=["OrientationDecidee"],
            toutes_structures=True,
            position_depart=0,
        )["abonnement"]["abonnement_id"]
        expected = {webhook_id(limited, r) for r in expected_records}
        dead = sum(1 for r in every_record if type(r.event).__name__ == "OrientationDecidee")

        policy = Policy(attempts=2, backoff=0.01, backoff_max=0.02, poll=0.1, batch=200, timeout=3)
        with delivering(settings, policy):
            wait_until(lambda: receiver.ids() >= expected, DEADLINE, "the structure's events")
            wait_until(
                lambda: _status(client, down)["rebuts"] == dead, DEADLINE, "the dead letters"
            )
            assert receiver.ids() == expected
            _assert_case_order(receiver)

            # Replayed from the start while the deliverer runs: everything again, same ids.
            cli_webhooks.cmd_replay(settings, argparse.Namespace(abonnement=limited, depuis=0))
            wait_until(
                lambda: len(receiver.snapshot()) >= 2 * len(expected), DEADLINE, "the replay"
            )
            assert receiver.ids() == expected
            wait_until(
                lambda: _status(client, limited)["retard_evenements"] == 0,
                DEADLINE,
                "the replay's end",
            )
            wait_until(lambda: _status(client, hanging)["echecs"] > 0, DEADLINE, "a timeout")
            stuck = _status(client, hanging)  # still on its first batch: held back alone
            assert stuck["position"] == 0
            assert stuck["livrees"] == 0
            assert "Timeout" in stuck["derniere_erreur"]

        status = _status(client, down)
        assert status["echecs"] == 2 * dead
        assert status["rebuts_premiers"][0]["tentatives"] == 2
        assert status["derniere_erreur"].startswith("ConnectError")
        assert _status(client, limited)["rebuts"] == 0

        cli_webhooks.cmd_test(settings, argparse.Namespace(abonnement=limited))
        [test] = [r for r in receiver.snapshot() if r.body["type"] == "webhook.test"]
        assert test.body["data"] == {"abonnement_id": limited}
        with pytest.raises(SystemExit):  # nobody answers at the other one
            cli_webhooks.cmd_test(settings, argparse.Namespace(abonnement=down))
        assert receiver.refused_signatures == 0

        ended = client.delete(f"/admin/abonnements/{down}", params={"motif": "Partenaire parti"})
        assert ended.status_code == 200, ended.text
        assert ended.json()["supprime_par"] == "admin-1"
        listed = client.get("/admin/abonnements").json()
        assert [a["abonnement_id"] for a in listed["items"]] == [hanging, limited, down]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://x", "types": ["RdvPlanifie"], "toutes_structures": True}, "url"),
        ({"url": "https://p.example", "types": ["DroitAccorde"], "structures": ["a"]}, "types[0]"),
        ({"url": "https://p.example", "types": ["RdvPlanifie"]}, "structures"),
        (
            {
                "url": "https://p.example",
                "types": ["RdvPlanifie"],
                "structures": ["a"],
                "secret": "x",
            },
            "secret",
        ),
    ],
)
def test_a_bad_subscription_is_refused_and_nothing_written(
    settings: Settings, body: dict[str, Any], field: str
) -> None:
    with TestClient(create_app(settings), headers=ADMIN) as client:
        answer = client.post("/admin/abonnements", json={"motif": "Essai", **body})
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == field
        assert client.get("/admin/abonnements").json()["items"] == []
        agent = bearer(Role.AGENT, structures=["a"], sub="agent-1")
        assert client.get("/admin/abonnements", headers=agent).status_code == 403
    app = Parcours(settings)
    try:
        assert app.history(ABONNEMENTS_ID) == []
    finally:
        app.close()
