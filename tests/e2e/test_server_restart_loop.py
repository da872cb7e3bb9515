"""Restart the server: the case is still there, identical, and its path goes on from the same
version. In-process (the app's lifespan closed and a new app opened) and with a real
`parcours serve` subprocess stopped by SIGTERM or killed by SIGKILL; on both stores."""

import random
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from adapters.eventlog.reading import read_log
from adapters.eventlog.store import Parcours
from adapters.readmodels.projector import Projector
from adapters.settings import Settings
from projections.case_state import fold
from tests.e2e.helpers import (
    AGENT_AAVE,
    ENTREE,
    FULL_PATH,
    ISSUE_RDV,
    ORIENTATION,
    RDV,
    Json,
    Server,
    api_client,
    log_position,
    post_path,
    read_case,
)

NEXT_STEP: Json = {**ISSUE_RDV, "effective_on": "2025-04-01", "numero": 5}
"""The outcome of the RDV left pending at the end of the path (n°5, on 2025-04-01)."""


def _snapshot(client: httpx.Client, case_id: str) -> tuple[Json, list[Json], str, int, Json]:
    """Everything a reader sees of the case: state, timeline, ETag, log position, and the
    list of its structure caught up to that position."""
    state, timeline, etag = read_case(client, case_id)
    position = log_position(client)
    page = client.get("/dossiers", params={"structure_id": "aave-77", "after": position})
    assert page.status_code == 200, page.text
    return state, timeline, etag, position, page.json()["items"]


def _goes_on(client: httpx.Client, case_id: str, etag: str) -> None:
    """After the restart, the next step is recorded on top of the version read back."""
    response = client.post(
        f"/dossiers/{case_id}/issue-rdv",
        json=NEXT_STEP,
        headers={**AGENT_AAVE, "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 26
    state, timeline, _ = read_case(client, case_id)
    assert (state["rdv_seen"], state["rdv_en_attente"]) == (1, 0)
    assert [e["version"] for e in timeline] == list(range(1, 27))


def _check_before(snapshot: tuple[Json, list[Json], str, int, Json], case_id: str) -> None:
    state, timeline, etag, _, listed = snapshot
    assert etag == '"25"'
    assert state["version"] == 25
    assert len(timeline) == 25
    assert [row["case_id"] for row in listed] == [case_id]


def test_after_closing_and_reopening_the_app_the_case_is_unchanged(settings: Settings) -> None:
    with api_client(settings) as client:
        case_id = post_path(client)
        before = _snapshot(client, case_id)
    _check_before(before, case_id)

    with api_client(settings) as client:
        assert _snapshot(client, case_id) == before
        _goes_on(client, case_id, before[2])


def test_a_real_server_stopped_by_sigterm_and_started_again_serves_the_same_case(
    settings: Settings, tmp_path: Path
) -> None:
    first = Server(settings, tmp_path / "first.log")
    try:
        with first.client() as client:
            case_id = post_path(client, FULL_PATH)
            before = _snapshot(client, case_id)
        first.stop_gracefully()
    finally:
        first.kill_if_running()
    _check_before(before, case_id)

    second = Server(settings, tmp_path / "second.log")
    try:
        with second.client() as client:
            assert _snapshot(client, case_id) == before
            _goes_on(client, case_id, before[2])
        second.stop_gracefully()
    finally:
        second.kill_if_running()


def test_a_real_server_killed_by_sigkill_loses_no_answered_step(
    settings: Settings, tmp_path: Path
) -> None:
    """Every step the server answered is durable: a SIGKILL right after the last answer, with
    no shutdown at all, loses none of them."""
    *earlier, (slug, body, author) = FULL_PATH
    first = Server(settings, tmp_path / "first.log")
    try:
        with first.client() as client:
            case_id = post_path(client, earlier)
            _, timeline_before, _ = read_case(client, case_id)
            last = client.post(f"/dossiers/{case_id}/{slug}", json=body, headers=author)
            assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    finally:
        first.kill_if_running()
    assert last.status_code == 200, last.text
    assert "Application shutdown complete." not in first.output()

    second = Server(settings, tmp_path / "second.log")
    try:
        with second.client() as client:
            _, timeline, etag = read_case(client, case_id)
            assert etag == '"25"'
            assert timeline[:24] == timeline_before
            assert (timeline[24]["version"], timeline[24]["event"]["type"]) == (25, "RdvPlanifie")
            assert log_position(client) == last.json()["position"]
            _goes_on(client, case_id, etag)
        second.stop_gracefully()
    finally:
        second.kill_if_running()


# --- SIGKILL at random moments, in a loop -----------------------------------------------------

KILL_ROUNDS = 4
WRITERS = 4


class Ledger:
    """What the clients sent and what the server acknowledged, by idempotency key."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: dict[str, tuple[str, int, int]] = {}
        self.in_doubt: dict[str, tuple[str, Json]] = {}
        self.sent = 0
        self.replayed = 0

    def send(self, client: httpx.Client, key: str, url: str, body: Json) -> bool:
        """Post once; True when acknowledged, False when the server went away (in doubt)."""
        with self.lock:
            self.sent += 1
            self.in_doubt[key] = (url, body)
        try:
            response = client.post(url, json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            return False
        assert response.status_code in (200, 201), response.text
        answer = response.json()
        with self.lock:
            self.acked[key] = (answer["case_id"], answer["version"], answer["position"])
            self.replayed += answer["replayed"]
            del self.in_doubt[key]
        return True


def _write_until_killed(server: Server, ledger: Ledger, writer: int, round_: int) -> None:
    """One agent: enters a case, orients it, then plans RDV on it until the server dies."""
    with server.client() as client:
        key = f"w{writer}-r{round_}"
        if not ledger.send(client, f"{key}-entree", "/dossiers", ENTREE):
            return
        case_id = ledger.acked[f"{key}-entree"][0]
        base = f"/dossiers/{case_id}"
        if not ledger.send(client, f"{key}-orientation", f"{base}/orientation", ORIENTATION):
            return
        for n in range(10_000):
            if not ledger.send(client, f"{key}-rdv-{n}", f"{base}/rdv", RDV):
                return


def test_sigkill_at_random_moments_during_commands_loses_nothing_and_doubles_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    """Agents write while the server is killed at a random moment, round after round. Every
    answered step is in the log; every unanswered one, retried with its key after the restart,
    is in the log once; the log holds exactly one event per key; the read model equals a fold."""
    rng = random.Random(8)
    ledger = Ledger()
    for round_ in range(KILL_ROUNDS):
        server = Server(settings, tmp_path / f"round-{round_}.log")
        try:
            with server.client() as client:  # the previous round's steps in doubt, retried
                for key, (url, body) in list(ledger.in_doubt.items()):
                    assert ledger.send(client, key, url, body), key
            threads = [
                threading.Thread(target=_write_until_killed, args=(server, ledger, w, round_))
                for w in range(WRITERS)
            ]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.3, 1.5))
            assert server.stop(signal.SIGKILL) == -signal.SIGKILL
            for t in threads:
                t.join(timeout=30)
        finally:
            server.kill_if_running()

    final = Server(settings, tmp_path / "final.log")
    try:
        with final.client() as client:
            for key, (url, body) in list(ledger.in_doubt.items()):
                assert ledger.send(client, key, url, body), key
        final.stop_gracefully()
    finally:
        final.kill_if_running()
    assert not ledger.in_doubt

    app = Parcours(settings)
    try:
        records = [r for batch in read_log(app) for r in batch]
        by_key = Counter(r.event.meta.request_id for r in records)
        assert len(records) == len(ledger.acked) == sum(by_key.values())
        assert set(by_key) == set(ledger.acked)
        assert max(by_key.values()) == 1
        written = {(str(r.originator_id), r.originator_version) for r in records}
        assert {(case, version) for case, version, _ in ledger.acked.values()} == written
        projector = Projector(app)
        projector.catch_up()
        assert projector.view.all_rows() == fold(records)
    finally:
        app.close()
    print(
        f"\n{settings.store}: {KILL_ROUNDS} SIGKILL, {ledger.sent} requests sent, "
        f"{len(ledger.acked)} steps acknowledged ({ledger.replayed} of the retried ones had "
        f"been written before the kill), {len(records)} events in the log"
    )
