"""The figures this process counts as things happen: each request's latency by route template
and status class, the events it appended by type (the rest is read from the stores at each
scrape: `adapters.metrics.stored`). In multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`) their
values live in that directory's files, one per worker, added up at the scrape."""

from collections.abc import Iterable, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram

CONTENT_TYPE = CONTENT_TYPE_LATEST

PROCESS = CollectorRegistry(auto_describe=True)
"""The figures this process counts (in multiprocess mode their values live in files)."""

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)
"""Seconds: a step is a few milliseconds, an extract or a flux upload up to minutes."""

REQUEST_SECONDS = Histogram(
    "parcours_http_request_duration_seconds",
    "Durée des requêtes HTTP, par gabarit de route et classe de statut",
    ("method", "route", "status_class"),
    buckets=LATENCY_BUCKETS,
    registry=PROCESS,
)
EVENTS_APPENDED = Counter(
    "parcours_events_appended",
    "Événements ajoutés au journal par ce processus, par type",
    ("type",),
    registry=PROCESS,
)

UNMATCHED = "(aucune)"
"""The route label of a request no route matched (a 404): one series, whatever the path."""


def observe_request(method: str, route: str | None, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(method, route or UNMATCHED, f"{status // 100}xx").observe(seconds)


def count_appended(types: Iterable[str] | Mapping[str, int]) -> None:
    """Events just committed: their types' names, one per event, or a count per type."""
    counts: dict[str, int] = {}
    if isinstance(types, Mapping):
        counts = dict(types)
    else:
        for name in types:
            counts[name] = counts.get(name, 0) + 1
    for name, n in counts.items():
        EVENTS_APPENDED.labels(name).inc(n)
