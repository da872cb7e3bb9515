"""`/metrics`: the Prometheus text, parsed by prometheus_client's own parser, on both stores.

Steps recorded through the API show in the counters and the histograms (by route template, never
a case id); the read models' lag counts the events a projector has not applied, and falls to 0
once one has caught up; a caller without the `exploitation` (or `admin`) role is refused."""

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from adapters.eventlog.store import Parcours
from adapters.readmodels.projector import Projector
from adapters.settings import Settings
from adapters.webhooks.state import DeadLetter, DeliveryState
from api.http.app import create_app
from api.http.auth import Role
from tests.auth import bearer
from tests.e2e.helpers import EPISODE_1, ROOT, Server, api_client, post_steps, wait_until
from tests.flux.helpers import FIXTURES, clock

XML = {"Content-Type": "application/xml"}

OPS = bearer(Role.EXPLOITATION, sub="prometheus")
STEPS = EPISODE_1[:6]
"""Entry, orientation, referent, RDV, its issue, CER: six events of five types."""


def scrape(client: httpx.Client, headers: dict[str, str] = OPS) -> list[Sample]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return [s for family in text_string_to_metric_families(response.text) for s in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert len(found) == 1, (name, labels, found)
    return found[0]


def counted(samples: list[Sample], name: str, **labels: str) -> float:
    """A process counter's value (0 before its first count): the counters live as long as the
    test process, so the tests compare them before and after."""
    return sum(s.value for s in samples if s.name == name and labels.items() <= s.labels.items())


def test_metrics_follow_the_steps_and_the_projection(settings: Settings) -> None:
    with api_client(settings) as client:  # no projector in the app: the lag shows
        before = scrape(client)
        assert value(before, "parcours_log_position") == 0
        case_id, _ = post_steps(client, STEPS)
        samples = scrape(client)

        assert value(samples, "parcours_log_position") == len(STEPS)
        appended = "parcours_events_appended_total"
        for kind, n in (("EntreeEnregistree", 1), ("OrientationDecidee", 1), ("CerSigne", 1)):
            grew = counted(samples, appended, type=kind) - counted(before, appended, type=kind)
            assert grew == n, kind
        assert counted(samples, appended) - counted(before, appended) == len(STEPS)

        requests = "parcours_http_request_duration_seconds_count"
        for route in ("/dossiers", "/dossiers/{case_id}/orientation"):
            labels = {"method": "POST", "route": route, "status_class": "2xx"}
            assert counted(samples, requests, **labels) - counted(before, requests, **labels) == 1
        assert case_id not in client.get("/metrics", headers=OPS).text

        models = {s.labels["model"] for s in samples if s.name == "parcours_projection_lag_events"}
        assert models, "every read model is reported"
        for model in models:
            assert value(samples, "parcours_projection_lag_events", model=model) == len(STEPS)
            assert value(samples, "parcours_projection_position", model=model) == 0
            assert value(samples, "parcours_projection_lag_seconds", model=model) >= 0
            assert value(samples, "parcours_quarantined_cases", model=model) == 0

        store = Parcours(settings)
        stop = threading.Event()
        worker = threading.Thread(target=Projector(store).run_forever, args=(stop,))
        worker.start()
        try:

            def caught_up() -> bool:
                now = scrape(client)
                return all(s.value == 0 for s in now if s.name == "parcours_projection_lag_events")

            wait_until(caught_up, timeout=300, what="the lag to fall to 0", pause=0.1)
        finally:
            stop.set()
            worker.join(timeout=30)
            store.close()
        after = scrape(client)
        for model in models:
            assert value(after, "parcours_projection_position", model=model) == len(STEPS)
            assert value(after, "parcours_projection_lag_seconds", model=model) == 0


def test_metrics_are_refused_without_the_role(settings: Settings) -> None:
    with api_client(settings) as client:
        assert client.get("/metrics", headers={"Authorization": ""}).status_code == 401
        for role in (Role.AGENT, Role.ORIENTATION, Role.AUDITEUR, Role.FLUX, Role.FINANCE):
            response = client.get("/metrics", headers=bearer(role, structures=["ccas-creteil"]))
            assert response.status_code == 403, (role, response.text)
        assert client.get("/metrics", headers=bearer(Role.ADMIN)).status_code == 200


@pytest.fixture
def unmatched(settings: Settings) -> Iterator[httpx.Client]:
    with api_client(settings) as client:
        yield client


def test_unknown_paths_share_one_series(unmatched: httpx.Client) -> None:
    for n in range(3):
        assert unmatched.get(f"/nulle-part/{n}").status_code == 404
    samples = scrape(unmatched)
    routes = {s.labels.get("route") for s in samples if s.name.startswith("parcours_http")}
    assert not any(r and r.startswith("/nulle-part") for r in routes)
    labels = {"method": "GET", "route": "(aucune)", "status_class": "4xx"}
    assert counted(samples, "parcours_http_request_duration_seconds_count", **labels) >= 3


def test_flux_imports_webhook_deliveries_and_the_dashboard(settings: Settings) -> None:
    parcours = Parcours(settings, clock=clock())
    with TestClient(create_app(settings, parcours), headers=OPS) as client:
        before = scrape(client)
        xml = {**XML, **bearer(Role.FLUX, sub="flux-caf")}
        body = (FIXTURES / "RSABEM.xml").read_bytes()
        assert client.post("/flux/imports", content=body, headers=xml).status_code == 201
        invalid = (FIXTURES / "RSABEI_invalid.xml").read_bytes()
        assert client.post("/flux/imports", content=invalid, headers=xml).status_code == 422

        state = DeliveryState(settings)
        state.start("partenaire-1", 0)
        state.note_failure("partenaire-1", "HTTP 503")
        dead = DeadLetter(
            webhook_id="msg_1",
            position=1,
            dossier_id="00000000-0000-0000-0000-000000000001",
            type="EntreeEnregistree",
            tentatives=8,
            erreur="HTTP 503",
            le=datetime.now(UTC),
        )
        assert state.advance("partenaire-1", 0, 1, 0, "HTTP 503", [dead])
        assert state.advance("partenaire-1", 1, 2, 1, None)
        samples = scrape(client)

    assert value(samples, "parcours_flux_imports_total", issue="importe") == 1
    assert value(samples, "parcours_flux_imports_total", issue="rejete") == 1
    appended = "parcours_events_appended_total"
    for kind in ("EntreeEnregistree", "DroitSuspendu"):
        assert counted(samples, appended, type=kind) - counted(before, appended, type=kind) == 1
    assert value(samples, "parcours_log_position") == 2
    key = {"abonnement": "partenaire-1"}
    assert value(samples, "parcours_webhook_deliveries_total", **key) == 1
    assert value(samples, "parcours_webhook_failures_total", **key) == 1
    assert value(samples, "parcours_webhook_dead_letters", **key) == 1
    assert value(samples, "parcours_webhook_lag_events", **key) == 0
    assert value(samples, "parcours_webhook_last_delivery_timestamp_seconds", **key) > 0

    dashboard = json.loads((ROOT / "docs" / "ops" / "grafana-parcours.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    shown = {s.name for s in samples}
    for name in {n for e in exprs for n in re.findall(r"parcours_\w+", e)}:
        assert name in shown, f"the dashboard charts {name}, which /metrics does not expose"


def test_workers_sharing_a_multiprocess_dir_are_added_up(
    settings: Settings, tmp_path: Path
) -> None:
    """Two API processes writing their counts to one `PROMETHEUS_MULTIPROC_DIR` (as workers of
    one server would): a scrape of either shows both processes' requests."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    first = Server(settings, tmp_path / "first.log", **env)
    try:
        second = Server(settings, tmp_path / "second.log", **env)
        try:
            with first.client() as a, second.client() as b:
                for client, n in ((a, 2), (b, 3)):
                    for _ in range(n):
                        assert client.get("/dossiers").status_code == 200
                labels = {"method": "GET", "route": "/dossiers", "status_class": "2xx"}
                name = "parcours_http_request_duration_seconds_count"
                assert counted(scrape(a), name, **labels) == 5
                assert counted(scrape(b), name, **labels) == 5
        finally:
            second.stop_gracefully()
    finally:
        first.stop_gracefully()
