"""A flood of rdv-insertion deliveries against a real server and a real worker, both SIGKILLed
once on the way: 280 deliveries from 10 concurrent clients, a third of them duplicates (the
same bytes again, or the same state from a sibling endpoint), in random order. Every delivery
is retried until acknowledged, as rdv-insertion does; none is answered 5xx, none acknowledged is
lost, and the cases hold exactly the steps the RDVs' last states give.

Most of its time is the servers' start (seconds of imports on a loaded machine): the worker and
both servers start together, the second taking over the moment the first is killed.

`PARCOURS_FLOOD=full` runs it at the size rdv-insertion's busiest day asks for: 5,000
deliveries (4,000 states of 1,000 RDVs and 1,000 copies) from 20 clients
(docs/connectors.md, "Tests")."""

import copy
import os
import random
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import msgspec

from adapters.connectors import rdv_insertion as rdvi
from adapters.connectors.rdv_insertion_store import RdviStore
from adapters.eventlog.store import Parcours
from adapters.identity import IdentityStore
from adapters.settings import Settings
from domain import events as ev
from domain.dossier import fold_history
from tests.connectors.rdvi import PATH, SECRET, compact, open_case, payload, sign
from tests.e2e.helpers import ParcoursProcess, Server, wait_until

FULL = os.environ.get("PARCOURS_FLOOD") == "full"
PEOPLE = 40 if FULL else 10
RDVS = 1000 if FULL else 50
DUPLICATES = 1000 if FULL else 80
CLIENTS = 20 if FULL else 10
WAIT = 900 if FULL else 180
DAY = date(2026, 6, 10)
SECRETS = f"flood={SECRET} flood-sud=sud-secret"


def _rdv(n: int, person: int, stage: int) -> dict[str, Any]:
    """RDV `n`'s state at `stage`: 0 created, 1 moved a day later, 2 the same (a sync),
    3 its outcome."""
    document = payload("01")
    data = document["data"]
    data["id"] = 500_000 + n
    starts = DAY + timedelta(days=1 if stage else 0)
    data["starts_at"] = f"{starts.isoformat()}T10:30:00.000+02:00"
    participation = copy.deepcopy(data["participations"][0])
    participation["id"] = 800_000 + n
    participation["starts_at"] = data["starts_at"]
    participation["status"] = ("seen" if n % 2 else "noshow") if stage == 3 else "unknown"
    participation["user"] |= {
        "id": 90_000 + person,
        "affiliation_number": f"{7_000_000 + person}",
        "nir": f"1{person:012d}42",
        "department_internal_id": None,
    }
    data["participations"] = [participation]
    data["users"] = [participation["user"]]
    hour = 8 + stage
    document["meta"] = {
        "model": "Rdv",
        "event": "created" if stage == 0 else "updated",
        "timestamp": f"2026-05-27T{hour:02d}:{n % 60:02d}:00.000+02:00",
    }
    return document


def _deliveries() -> tuple[list[tuple[bytes, str]], set[bytes]]:
    rng = random.Random(17)
    unique = []
    for n in range(RDVS):
        for stage in range(4):
            body = compact(_rdv(n, n % PEOPLE, stage))
            unique.append((body, sign(body)))
    copies = []
    for body, signature in rng.sample(unique, DUPLICATES):
        if rng.random() < 0.25:  # a sibling endpoint: no NIR, other bytes, other secret
            sibling = msgspec.json.decode(body)
            del sibling["data"]["participations"][0]["user"]["nir"]
            other = compact(sibling)
            copies.append((other, sign(other, "sud-secret")))
        else:
            copies.append((body, signature))
    everything = unique + copies
    rng.shuffle(everything)
    return everything, {body for body, _ in everything}


class Poster:
    """The clients: each posts its share, retrying a delivery until a 2xx, through whichever
    server is up."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.acked: list[bytes] = []
        self.statuses: Counter[int] = Counter()
        self.lock = threading.Lock()

    def post(self, deliveries: list[tuple[bytes, str]]) -> None:
        with httpx.Client(timeout=30) as client:
            for body, signature in deliveries:
                while True:
                    try:
                        answer = client.post(
                            f"{self.base_url}{PATH}",
                            content=body,
                            headers={"X-RDVI-SIGNATURE": signature},
                        )
                    except httpx.TransportError:
                        time.sleep(0.05)  # the server is down: rdv-insertion retries
                        continue
                    with self.lock:
                        self.statuses[answer.status_code] += 1
                    if 200 <= answer.status_code < 300:
                        with self.lock:
                            self.acked.append(body)
                        break
                    time.sleep(0.05)


def test_a_flood_of_deliveries_survives_a_killed_server_and_worker(
    settings: Settings, tmp_path: Path
) -> None:
    started = time.monotonic()
    configured = msgspec.structs.replace(
        settings, rdvi_secrets=(("flood", SECRET), ("flood-sud", "sud-secret"))
    )
    app = Parcours(configured)
    identities = IdentityStore(configured)
    store = RdviStore(configured)
    people = [
        open_case(app, identities, f"{7_000_000 + person}", f"1{person:012d}42")
        for person in range(PEOPLE)
    ]
    deliveries, bodies = _deliveries()
    log = tmp_path / "processes.log"
    env = {"PARCOURS_RDVI_SECRETS": SECRETS}
    worker = ParcoursProcess(configured, ["project"], log, **env)
    with ThreadPoolExecutor(2) as starting:
        server, spare = starting.map(lambda _: Server(configured, log, **env), range(2))
    poster = Poster(server.base_url)
    try:
        shares = [deliveries[i::CLIENTS] for i in range(CLIENTS)]
        threads = [threading.Thread(target=poster.post, args=(s,)) for s in shares]
        for t in threads:
            t.start()
        wait_until(lambda: len(poster.acked) >= len(deliveries) // 3, 120, "a third acknowledged")
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
        killed_at = len(poster.acked)
        server = spare
        poster.base_url = server.base_url
        wait_until(lambda: store.counts().get("traitee", 0) >= 25, 120, "some processed", pause=0.1)
        assert worker.stop(signal.SIGKILL) == -signal.SIGKILL
        worker = ParcoursProcess(configured, ["project"], log, **env)
        for t in threads:
            t.join(timeout=300)
        assert len(poster.acked) == len(deliveries)
        assert killed_at < len(deliveries)

        posted = time.monotonic() - started

        def drained() -> bool:
            return store.counts().get("a_traiter", 0) == 0

        wait_until(drained, WAIT, "the inbox processed", pause=0.2)
    finally:
        server.kill_if_running()
        spare.kill_if_running()
        worker.kill_if_running()
    assert not [s for s in poster.statuses if s >= 500], poster.statuses
    with store.db.transaction() as tx:
        stored = {str(f) for (f,) in tx.execute("SELECT empreinte FROM rdvi_livraison")}
    assert stored == {rdvi.fingerprint(b) for b in bodies}  # every acknowledged body kept
    counts = store.counts()
    assert "erreur" not in counts, counts
    assert store.review_items("ouvert", 10, 0) == ([], 0)
    for person, case_id in enumerate(people):
        history = app.history(UUID(str(case_id)))
        kinds = Counter(type(r.event).__name__ for r in history)
        mine = [n for n in range(RDVS) if n % PEOPLE == person]
        assert kinds["RdvPlanifie"] == len(mine), kinds
        assert kinds["IssueRdvEnregistree"] == len(mine), kinds
        assert kinds["EtapeAnnulee"] == 0
        state = fold_history(history)
        assert sorted(r.date_rdv for r in state.rdvs.values()) == [DAY + timedelta(days=1)] * len(
            mine
        )
        issues = Counter(r.issue.value for r in state.rdvs.values() if r.issue)
        assert issues == Counter("seen" if n % 2 else "noshow" for n in mine)
        assert all(isinstance(r.event, ev.Evenement) for r in history)
    app.close()
    print(
        f"flood: {len(deliveries)} deliveries, posted by {posted:.1f} s, "
        f"processed by {time.monotonic() - started:.1f} s"
    )
