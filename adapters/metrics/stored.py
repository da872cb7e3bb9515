"""What the IT team watches, in the Prometheus text format (`GET /metrics`).

Two kinds of figures:

- counted by the process as things happen: each request's latency (by route template, never
  the raw path, which holds case ids), the events it appended (by type). With several API
  workers, each counts its own: set `PROMETHEUS_MULTIPROC_DIR` (an empty directory, emptied at
  each start) and the scrape adds up every worker's files (prometheus_client's multiprocess
  mode); without it, each worker shows its own share.
- read from the stores at each scrape, so the same whichever worker answers and whichever
  process did the work (the projection worker, the deliverer, a flux import from the command
  line): the log's position, each read model's position and lag, the quarantine, the flux
  imports by outcome, each webhook subscription's deliveries. Cheap queries only: the log's
  last position, one event read by position per lagging model, one row per read model,
  quarantined case, subscription and flux file.

Nothing here names a person or a case: labels are routes, event types, read models and
subscription ids.
"""

import os
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from adapters.eventlog.reading import IllegibleEvent, read_batch
from adapters.flux.reports import ReportStore
from adapters.metrics.counted import PROCESS
from adapters.readmodels.projector import Projector
from adapters.webhooks.state import DeliveryState


class StoreCollector(Collector):
    """The figures read from the stores at each scrape."""

    def __init__(self, projector: Projector, delivery: DeliveryState, reports: ReportStore):
        self.projector = projector
        self.delivery = delivery
        self.reports = reports

    def collect(self) -> Iterator[Metric]:
        app = self.projector.app
        log_position = app.max_position()
        yield GaugeMetricFamily(
            "parcours_log_position", "Position du dernier événement du journal", log_position
        )
        yield from self._projections(log_position)
        imports = CounterMetricFamily(
            "parcours_flux_imports", "Fichiers de flux CAF/MSA reçus, par issue", labels=["issue"]
        )
        for status, n in sorted(self.reports.count_by_status().items()):
            imports.add_metric([status], n)
        yield imports
        yield from self._webhooks(log_position)

    def _projections(self, log_position: int) -> Iterator[Metric]:
        position = GaugeMetricFamily(
            "parcours_projection_position",
            "Position du journal atteinte par chaque modèle de lecture",
            labels=["model"],
        )
        lag = GaugeMetricFamily(
            "parcours_projection_lag_events",
            "Événements du journal que le modèle de lecture n'a pas encore appliqués",
            labels=["model"],
        )
        lag_seconds = GaugeMetricFamily(
            "parcours_projection_lag_seconds",
            "Âge du plus ancien événement que le modèle de lecture n'a pas appliqué (0 à jour)",
            labels=["model"],
        )
        held = GaugeMetricFamily(
            "parcours_quarantined_cases",
            "Dossiers mis de côté (quarantaine) par modèle de lecture",
            labels=["model"],
        )
        by_model = self.projector.quarantine.held_by_model()
        now = datetime.now(UTC)
        for name, reached in sorted(self.projector.positions().items()):
            behind = max(0, log_position - reached)
            position.add_metric([name], reached)
            lag.add_metric([name], behind)
            lag_seconds.add_metric([name], self._age(reached, now) if behind else 0.0)
            held.add_metric([name], len(by_model.get(name, ())))
        yield from (position, lag, lag_seconds, held)

    def _age(self, reached: int, now: datetime) -> float:
        """Seconds since the first event after `reached` was recorded (0 when it cannot be
        read: the quarantine counts it)."""
        try:
            first = read_batch(self.projector.app, reached, 1)
        except IllegibleEvent:
            return 0.0
        if not first:
            return 0.0
        recorded = first[0].event.meta.recorded_at
        if recorded.tzinfo is None:
            recorded = recorded.replace(tzinfo=UTC)
        return max(0.0, (now - recorded).total_seconds())

    def _webhooks(self, log_position: int) -> Iterator[Metric]:
        delivered = CounterMetricFamily(
            "parcours_webhook_deliveries",
            "Événements livrés aux partenaires, par abonnement",
            labels=["abonnement"],
        )
        failures = CounterMetricFamily(
            "parcours_webhook_failures",
            "Tentatives de livraison échouées, par abonnement",
            labels=["abonnement"],
        )
        dead = GaugeMetricFamily(
            "parcours_webhook_dead_letters",
            "Livraisons abandonnées (rebut), par abonnement",
            labels=["abonnement"],
        )
        lag = GaugeMetricFamily(
            "parcours_webhook_lag_events",
            "Événements du journal au-delà du curseur de livraison, par abonnement",
            labels=["abonnement"],
        )
        last = GaugeMetricFamily(
            "parcours_webhook_last_delivery_timestamp_seconds",
            "Heure (epoch) de la dernière livraison réussie, par abonnement",
            labels=["abonnement"],
        )
        for cursor, buried in self.delivery.all_cursors():
            key = [cursor.abonnement_id]
            delivered.add_metric(key, cursor.livrees)
            failures.add_metric(key, cursor.echecs)
            dead.add_metric(key, buried)
            lag.add_metric(key, max(0, log_position - cursor.position))
            if cursor.derniere_livraison is not None:
                last.add_metric(key, cursor.derniere_livraison.timestamp())
        yield from (delivered, failures, dead, lag, last)


def exposition(stores: StoreCollector) -> bytes:
    """The scrape's text: this process's (or every worker's) counts, then the stores'."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(workers)  # type: ignore[no-untyped-call]
        text = generate_latest(workers)
    else:
        text = generate_latest(PROCESS)
    once = CollectorRegistry(auto_describe=False)
    once.register(stores)
    return text + generate_latest(once)
