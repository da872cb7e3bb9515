"""HTTP helpers for the end-to-end tests: one allocataire's whole path as requests, posting it,
reading a case back, and running the real `parcours` commands as subprocesses.

Every helper takes an `httpx.Client`: FastAPI's `TestClient` (in-process, lifespan included) and a
plain client pointed at a uvicorn subprocess are used the same way.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.http.app import create_app
from api.http.auth import Role
from tests.auth import STAFF, bearer

ROOT = Path(__file__).resolve().parents[2]

Json = dict[str, Any]

# --- who records ----------------------------------------------------------------------------

FLUX_CAF = bearer(Role.FLUX, sub="flux-caf")
"""The CAF daily flux: an author without a structure."""
ORIENTEUR = bearer(Role.ORIENTATION, sub="orienteur-cd94")
"""An orientation officer of the département."""
AGENT_CCAS = bearer(Role.AGENT, structures=["ccas-creteil"], sub="agent-7")
CONSEILLER_FT = bearer(Role.AGENT, structures=["ft-creteil"], sub="conseiller-12")
AGENT_AAVE = bearer(Role.AGENT, structures=["aave-77"], sub="agent-aave-3")
AUDITEUR = bearer(Role.AUDITEUR, sub="auditeur-1")

# --- request bodies -------------------------------------------------------------------------

ENTREE: Json = {
    "effective_on": "2024-01-03",
    "numero_dossier": "CAF-0123456",
    "organisme_payeur": "caf",
    "date_flux": "2024-01-04",
    "date_reception_flux": "2024-01-08",
    "soumis_droits_devoirs": True,
}
ORIENTATION: Json = {
    "effective_on": "2024-01-25",
    "type_orientation": "sociale",
    "organisme": "ccas",
    "structure_id": "ccas-creteil",
    "mode": "decidee",
}
REFERENT: Json = {"effective_on": "2024-01-29", "referent_id": "ref-durand"}
RDV: Json = {
    "effective_on": "2024-01-29",
    "type_rdv": "premier_accompagnement",
    "mode": "convocation",
    "date_rdv": "2024-02-05",
}
ISSUE_RDV: Json = {"effective_on": "2024-02-05", "numero": 1, "issue": "seen"}
CER: Json = {"effective_on": "2024-02-20", "date_debut": "2024-03-01", "duree_mois": 6}
EP_PROCEDURE: list[tuple[str, Json, dict[str, str]]] = [
    (
        "saisine-ep",
        {
            "effective_on": "2024-03-21",
            "motif_saisine": "sanction",
            "ep_id": "ep-creteil",
            "manquement": "RDV de suivi manqué sans motif",
            "date_manquement": "2024-03-20",
        },
        AGENT_CCAS,
    ),
    ("notification-observations", {"effective_on": "2024-03-21", "saisine": 1}, ORIENTEUR),
    (
        "ordre-du-jour-ep",
        {
            "effective_on": "2024-03-21",
            "saisine": 1,
            "session_id": "ep-creteil-2024-04-02",
            "date_session": "2024-04-02",
        },
        ORIENTEUR,
    ),
    (
        "observations",
        {"effective_on": "2024-03-28", "saisine": 1, "resume": "oubli du rendez-vous"},
        ORIENTEUR,
    ),
    ("avis-ep", {"effective_on": "2024-04-02", "saisine": 1, "avis": "sanction"}, ORIENTEUR),
]
"""The EP procedure a sanction needs (referral n°1, the person notified, on the agenda of the
session of 2 April 2024, observations received, the EP's opinion): 5 events."""
SANCTION: Json = {
    "effective_on": "2024-04-02",
    "type_sanction": "reduction",
    "motif": "RDV manqué",
    "saisine": 1,
    "pourcentage": 50,
    "duree_mois": 2,
    "montant_mensuel_centimes": 60000,
    "personnes_foyer": 1,
}
SORTIE: Json = {"effective_on": "2024-10-01", "type_sortie": "emploi_cdi"}
CLOTURE: Json = {"effective_on": "2024-11-30", "motif": "ressources_superieures"}

Step = tuple[str, Json, dict[str, str]]
"""(route slug, body, author headers); the slug "" is the entry, POST /dossiers."""

EPISODE_1: list[Step] = [
    ("", ENTREE, FLUX_CAF),  # v1
    ("orientation", ORIENTATION, ORIENTEUR),  # v2
    ("referent", REFERENT, AGENT_CCAS),  # v3
    ("rdv", RDV, AGENT_CCAS),  # v4, RDV n°1
    ("issue-rdv", ISSUE_RDV, AGENT_CCAS),  # v5
    ("cer", CER, AGENT_CCAS),  # v6
    (
        "rdv",
        {
            "effective_on": "2024-03-01",
            "type_rdv": "suivi",
            "mode": "invitation",
            "date_rdv": "2024-03-20",
        },
        AGENT_CCAS,
    ),  # v7, RDV n°2
    ("issue-rdv", {"effective_on": "2024-03-20", "numero": 2, "issue": "noshow"}, AGENT_CCAS),
    *EP_PROCEDURE,  # v9 to v13, referral n°1
    ("sanction", SANCTION, AGENT_CCAS),  # v14, sanction n°1
    (
        "rdv",
        {
            "effective_on": "2024-04-03",
            "type_rdv": "suivi",
            "mode": "convocation",
            "date_rdv": "2024-04-15",
        },
        AGENT_CCAS,
    ),  # v15, RDV n°3
    ("issue-rdv", {"effective_on": "2024-04-10", "numero": 3, "issue": "excused"}, AGENT_CCAS),
    ("levee-sanction", {"effective_on": "2024-05-02", "numero": 1}, AGENT_CCAS),  # v17
    (
        "reorientation",
        {
            "effective_on": "2024-06-03",
            "type_orientation": "professionnelle",
            "organisme": "france_travail",
            "structure_id": "ft-creteil",
            "motif": "projet professionnel défini",
            "date_avis_ep": "2024-05-28",
        },
        AGENT_CCAS,
    ),  # v18
    ("referent", {"effective_on": "2024-06-10", "referent_id": "ref-martin"}, CONSEILLER_FT),
    ("entretien-asc", {"effective_on": "2024-06-20", "structure_id": "asso-94"}, CONSEILLER_FT),
    ("suspension", {"effective_on": "2024-07-01", "motif": "DTR manquante"}, FLUX_CAF),  # v21
    ("reprise", {"effective_on": "2024-08-01"}, FLUX_CAF),  # v22
    (
        "renouvellement-cer",
        {"effective_on": "2024-08-20", "date_debut": "2024-09-01", "duree_mois": 12},
        CONSEILLER_FT,
    ),  # v23
    (
        "rdv",
        {
            "effective_on": "2024-09-02",
            "type_rdv": "suivi",
            "mode": "convocation",
            "date_rdv": "2024-09-16",
        },
        CONSEILLER_FT,
    ),  # v24, RDV n°4
    ("issue-rdv", {"effective_on": "2024-09-05", "numero": 4, "issue": "revoked"}, CONSEILLER_FT),
    ("sortie", SORTIE, CONSEILLER_FT),  # v26
]
"""A first episode touching every step: entry to exit, 26 events."""

EPISODE_2: list[Step] = [
    ("cloture", CLOTURE, FLUX_CAF),  # v27
    (
        "reouverture",
        {
            "effective_on": "2025-03-03",
            "date_flux": "2025-03-04",
            "date_reception_flux": "2025-03-06",
        },
        FLUX_CAF,
    ),  # v28
    (
        "orientation",
        {
            "effective_on": "2025-03-20",
            "type_orientation": "socio_professionnelle",
            "organisme": "aave",
            "structure_id": "aave-77",
        },
        ORIENTEUR,
    ),  # v29
    (
        "rdv",
        {
            "effective_on": "2025-03-21",
            "type_rdv": "premier_accompagnement",
            "mode": "invitation",
            "date_rdv": "2025-04-01",
        },
        AGENT_AAVE,
    ),  # v30, RDV n°5, no outcome yet
]
"""The right closes, reopens, and the second episode starts: 4 more events (v27 to v30)."""

FULL_PATH: list[Step] = EPISODE_1 + EPISODE_2


# --- posting --------------------------------------------------------------------------------


def step_url(case_id: str | None, slug: str) -> str:
    return "/dossiers" if slug == "" else f"/dossiers/{case_id}/{slug}"


def post_steps(
    client: httpx.Client,
    steps: list[Step],
    case_id: str | None = None,
    *,
    version: int = 0,
    if_match: bool = False,
) -> tuple[str, list[Json]]:
    """Post each step in turn, checking the answer: 201 and a Location for the entry, 200 after;
    the body and the ETag give the next version. With `if_match`, every step after the entry
    sends the version the previous answer returned. Returns the case id and the answers."""
    answers: list[Json] = []
    for slug, body, author in steps:
        headers = {**author, "X-Request-ID": f"req-{version + 1}"}
        if if_match and slug != "":
            headers["If-Match"] = f'"{version}"'
        response = client.post(step_url(case_id, slug), json=body, headers=headers)
        version += 1
        expected_status = 201 if slug == "" else 200
        assert response.status_code == expected_status, (slug, response.text)
        answer: Json = response.json()
        if slug == "":
            case_id = answer["case_id"]
            assert response.headers["Location"] == f"/dossiers/{case_id}"
        assert answer["case_id"] == case_id
        assert answer["version"] == version, (slug, answer)
        assert answer["replayed"] is False
        assert response.headers["ETag"] == f'"{version}"'
        answers.append(answer)
    assert case_id is not None
    return case_id, answers


def post_path(
    client: httpx.Client, steps: list[Step] = FULL_PATH, *, if_match: bool = False
) -> str:
    """Post a whole path from its entry; returns the new case id."""
    case_id, _ = post_steps(client, steps, if_match=if_match)
    return case_id


def create_case(
    client: httpx.Client, body: Json | None = None, headers: dict[str, str] | None = None
) -> str:
    response = client.post("/dossiers", json=body or ENTREE, headers=headers or FLUX_CAF)
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case_id"]
    return case_id


def orient(client: httpx.Client, case_id: str, body: Json | None = None) -> Json:
    response = client.post(
        f"/dossiers/{case_id}/orientation", json=body or ORIENTATION, headers=ORIENTEUR
    )
    assert response.status_code == 200, response.text
    answer: Json = response.json()
    return answer


# --- reading --------------------------------------------------------------------------------


def api_client(settings: Settings) -> TestClient:
    """The app in process, calling as `STAFF` unless a request says otherwise."""
    return TestClient(create_app(settings), headers=STAFF)


def log_position(client: httpx.Client) -> int:
    response = client.get("/health")
    assert response.status_code in (200, 503), response.text
    position: int = response.json()["log_position"]
    return position


def read_case(client: httpx.Client, case_id: str) -> tuple[Json, list[Json], str]:
    """The case's state, its timeline and the state's ETag."""
    state = client.get(f"/dossiers/{case_id}")
    assert state.status_code == 200, state.text
    timeline = client.get(f"/dossiers/{case_id}/evenements")
    assert timeline.status_code == 200, timeline.text
    return state.json(), timeline.json(), state.headers["ETag"]


def without(mapping: Json, *keys: str) -> Json:
    return {k: v for k, v in mapping.items() if k not in keys}


# --- subprocesses ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a `parcours` subprocess needs to open the same store as `settings`."""
    env = {
        **os.environ,
        "PARCOURS_STORE": settings.store,
        "PARCOURS_DATA_DIR": str(settings.data_dir),
        "PARCOURS_POLL_INTERVAL": str(settings.poll_interval),
        "PARCOURS_LOG_LEVEL": "WARNING",
        "POSTGRES_HOST": settings.postgres_host,
        "POSTGRES_PORT": str(settings.postgres_port),
        "POSTGRES_USER": settings.postgres_user,
        "POSTGRES_PASSWORD": settings.postgres_password,
        "POSTGRES_DBNAME": settings.postgres_dbname,
        "POSTGRES_SCHEMA": settings.postgres_schema,
        "PARCOURS_JWT_SECRET": settings.jwt_secret,
    }
    if settings.sqlite_path is not None:
        env["PARCOURS_SQLITE_PATH"] = str(settings.sqlite_path)
    return {**env, **extra}


class ParcoursProcess:
    """`python -m api.cli.main <command>` in a subprocess, its output kept in a log file."""

    def __init__(self, settings: Settings, args: list[str], log: Path, **env: str) -> None:
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.cli.main", *args],
                cwd=ROOT,
                env=process_env(settings, **env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 120) -> int:
        """Send `sig` and wait for the exit; returns the exit code (-9 after SIGKILL)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=60)
            raise AssertionError(
                f"no exit {timeout} s after {sig.name}:\n{self.output()}"
            ) from None

    def kill_if_running(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=60)


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, pause: float = 0.01
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(pause)


class Server(ParcoursProcess):
    """`parcours serve [args…]` on a free port of 127.0.0.1, once it answers (`/health/live`)."""

    def __init__(self, settings: Settings, log: Path, *args: str, **env: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        super().__init__(
            settings,
            ["serve", *args],
            log,
            PARCOURS_API_HOST="127.0.0.1",
            PARCOURS_API_PORT=str(self.port),
            **{"PARCOURS_LOG_LEVEL": "INFO", **env},
        )
        wait_until(self._healthy, timeout=300, what=f"the server on {self.base_url}", pause=0.05)

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(
                f"the server exited with {self.process.returncode}:\n{self.output()}"
            )
        try:
            return httpx.get(f"{self.base_url}/health/live", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=120, headers=STAFF)

    def stop_gracefully(self) -> None:
        """SIGTERM: uvicorn finishes the requests under way, runs the app's shutdown (closing
        the store), then exits by re-raising the signal."""
        code = self.stop(signal.SIGTERM)
        assert code in (0, -signal.SIGTERM), self.output()
        assert "Application shutdown complete." in self.output(), self.output()


@contextmanager
def serving(settings: Settings, log: Path) -> Iterator[Server]:
    """A real server for the duration of the block, stopped with SIGTERM afterwards."""
    server = Server(settings, log)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop_gracefully()


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment that points `parcours` commands at the test's store."""
    return {
        "PARCOURS_STORE": settings.store,
        "PARCOURS_DATA_DIR": str(settings.data_dir),
        "POSTGRES_DBNAME": settings.postgres_dbname,
        "POSTGRES_SCHEMA": settings.postgres_schema,
        "PARCOURS_LOG_LEVEL": "WARNING",
    }


def wait_projected(client: httpx.Client, timeout: float = 300) -> None:
    """Wait until the in-process projector has folded every event of the log."""

    def caught_up() -> bool:
        health = client.get("/health").json()
        return bool(health["projection_position"] == health["log_position"])

    wait_until(caught_up, timeout, "the projection to catch up", pause=0.05)


def assert_read_models_healthy(client: httpx.Client, timeout: float = 300) -> None:
    """The read models keep up with what was accepted: the projection reaches the log's
    position within `timeout` seconds, with no case in quarantine (`/health` answers 200)."""
    wait_projected(client, timeout)
    response = client.get("/health")
    assert response.status_code == 200, response.text
    assert all(not model["quarantaine"] for model in response.json()["models"]), response.text
