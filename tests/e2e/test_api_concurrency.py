"""Agents racing on one case through a real `parcours serve`: with the same If-Match version
exactly one step is recorded and every other agent is told the version moved (no lost update);
without If-Match a few agents each get their own step; with the same Idempotency-Key the step
is recorded once and every agent gets its answer. On both stores."""

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from adapters.settings import Settings
from tests.e2e.helpers import (
    AGENT_CCAS,
    ENTREE,
    RDV,
    REFERENT,
    Json,
    Server,
    create_case,
    log_position,
    orient,
    read_case,
    serving,
    without,
)

WRITERS = 12


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[Server]:
    with serving(settings, tmp_path / "serve.log") as running:
        yield running


def race(
    server: Server,
    request: Callable[[httpx.Client, int], httpx.Response],
    writers: int = WRITERS,
) -> list[Json]:
    """Run `request` from `writers` threads released together, each on its own connection;
    returns (status, body, headers) of each answer."""
    barrier = threading.Barrier(writers)
    answers: list[Json] = [{} for _ in range(writers)]

    def writer(i: int) -> None:
        with server.client() as client:
            client.get("/health")  # connected before the start
            barrier.wait(timeout=300)
            response = request(client, i)
            try:
                body = response.json()
            except ValueError:
                body = response.text
            answers[i] = {"status": response.status_code, "body": body, "headers": response.headers}

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert all(answer for answer in answers), "a writer did not answer"
    return answers


def test_same_if_match_from_many_agents_records_exactly_one_step(server: Server) -> None:
    with server.client() as client:
        case_id = create_case(client)
        orient(client, case_id)
        before = log_position(client)

    answers = race(
        server,
        lambda client, i: client.post(
            f"/dossiers/{case_id}/referent",
            json={**REFERENT, "referent_id": f"ref-{i}"},
            headers={**AGENT_CCAS, "If-Match": '"2"'},
        ),
    )

    statuses = sorted(answer["status"] for answer in answers)
    assert statuses == [200] + [412] * (WRITERS - 1)
    (winner,) = [i for i, answer in enumerate(answers) if answer["status"] == 200]
    assert answers[winner]["body"]["version"] == 3
    for answer in answers:
        if answer["status"] == 412:
            assert answer["headers"]["content-type"] == "application/problem+json"
            assert answer["body"]["code"] == "version_perimee"
            assert "version 3" in answer["body"]["detail"]

    with server.client() as client:
        state, timeline, etag = read_case(client, case_id)
        assert log_position(client) == before + 1
    assert etag == '"3"'
    assert [e["event"]["type"] for e in timeline] == [
        "EntreeEnregistree",
        "OrientationDecidee",
        "ReferentDesigne",
    ]
    assert state["referent_id"] == timeline[2]["event"]["referent_id"] == f"ref-{winner}"


def test_a_few_agents_without_if_match_each_get_their_step_recorded(server: Server) -> None:
    """Without If-Match the server retries a lost race on the new state (three tries): three
    agents planning a RDV at the same moment get three RDV, numbered 1 to 3."""
    with server.client() as client:
        case_id = create_case(client)
        orient(client, case_id)

    answers = race(
        server,
        lambda client, i: client.post(
            f"/dossiers/{case_id}/rdv",
            json={**RDV, "date_rdv": f"2024-02-0{i + 1}"},
            headers=AGENT_CCAS,
        ),
        writers=3,
    )

    assert [answer["status"] for answer in answers] == [200, 200, 200]
    assert sorted(answer["body"]["version"] for answer in answers) == [3, 4, 5]
    with server.client() as client:
        state, timeline, _ = read_case(client, case_id)
    planned = [e["event"] for e in timeline if e["event"]["type"] == "RdvPlanifie"]
    assert [e["numero"] for e in planned] == [1, 2, 3]
    assert sorted(e["date_rdv"] for e in planned) == ["2024-02-01", "2024-02-02", "2024-02-03"]
    assert state["rdv_en_attente"] == 3


def test_same_idempotency_key_from_many_agents_records_the_step_once(server: Server) -> None:
    with server.client() as client:
        case_id = create_case(client)
        orient(client, case_id)
        before = log_position(client)

    answers = race(
        server,
        lambda client, _: client.post(
            f"/dossiers/{case_id}/rdv",
            json=RDV,
            headers={**AGENT_CCAS, "Idempotency-Key": "rdv-2024-01-29"},
        ),
    )

    assert [answer["status"] for answer in answers] == [200] * WRITERS
    assert {answer["body"]["version"] for answer in answers} == {3}
    assert len({answer["body"]["position"] for answer in answers}) == 1
    replayed = sorted(answer["body"]["replayed"] for answer in answers)
    assert replayed == [False] + [True] * (WRITERS - 1)
    for answer in answers:
        assert (answer["headers"].get("Idempotent-Replayed") == "true") is answer["body"][
            "replayed"
        ]

    with server.client() as client:
        state, timeline, _ = read_case(client, case_id)
        assert log_position(client) == before + 1
    assert [e["event"]["type"] for e in timeline][-1] == "RdvPlanifie"
    assert (len(timeline), state["rdv_en_attente"]) == (3, 1)


def test_same_idempotency_key_on_entries_creates_one_case(server: Server) -> None:
    with server.client() as client:
        before = log_position(client)

    answers = race(
        server,
        lambda client, _: client.post(
            "/dossiers", json=ENTREE, headers={"Idempotency-Key": "flux-CAF-0123456"}
        ),
    )

    assert [answer["status"] for answer in answers] == [201] * WRITERS
    assert len({answer["body"]["case_id"] for answer in answers}) == 1
    assert len({str(without(answer["body"], "replayed")) for answer in answers}) == 1
    with server.client() as client:
        assert log_position(client) == before + 1
        _, timeline, _ = read_case(client, answers[0]["body"]["case_id"])
    assert len(timeline) == 1


def test_agents_racing_round_after_round_record_exactly_the_winners_steps(
    server: Server,
) -> None:
    """Eight agents each try 15 times to plan a RDV on the same case, each time on the version
    it just read: every 200 is one event in the log, every 412 none, and versions follow."""
    with server.client() as client:
        case_id = create_case(client)
        orient(client, case_id)
    wins: list[tuple[int, str]] = []
    lock = threading.Lock()
    losses = [0]

    def agent(i: int) -> None:
        with server.client() as client:
            for attempt in range(15):
                etag = client.get(f"/dossiers/{case_id}").headers["ETag"]
                date_rdv = f"2024-{2 + attempt % 10:02d}-{1 + i:02d}"
                response = client.post(
                    f"/dossiers/{case_id}/rdv",
                    json={**RDV, "date_rdv": date_rdv},
                    headers={**AGENT_CCAS, "If-Match": etag},
                )
                assert response.status_code in (200, 412), response.text
                with lock:
                    if response.status_code == 200:
                        wins.append((response.json()["version"], date_rdv))
                    else:
                        losses[0] += 1

    threads = [threading.Thread(target=agent, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)

    assert len(wins) + losses[0] == 8 * 15
    with server.client() as client:
        state, timeline, _ = read_case(client, case_id)
    planned = [(e["version"], e["event"]["date_rdv"]) for e in timeline[2:]]
    assert sorted(wins) == planned
    assert [v for v, _ in planned] == list(range(3, 3 + len(wins)))
    assert state["rdv_en_attente"] == len(wins)
    print(f"\n8 agents x 15 tries: {len(wins)} recorded, {losses[0]} refused with 412")
