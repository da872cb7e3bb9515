"""The server SIGKILLed at random moments while agents write, round after round, and restarted:
every answered step is in the log, every unanswered one retried with its key is in it once. A
real `parcours serve` subprocess; on both stores."""

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
from tests.e2e.helpers import ENTREE, ORIENTATION, RDV, Json, Server

KILL_ROUNDS = 2
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
            for t in threads:  # each agent ends at its first request left unanswered
                t.join(timeout=300)
                assert not t.is_alive(), "an agent still writes after the kill"
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
