"""OpenTelemetry traces: off without a collector; on, one span per request named by its route
template (never a case id), continuing the caller's `traceparent`. The spans go to the SDK's
in-memory exporter here (the OTLP exporter sends the same spans to a collector)."""

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters import tracing
from adapters.settings import Settings
from tests.e2e.helpers import ORIENTATION, ORIENTEUR, api_client, create_case

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert tracing.configure(env={}, exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.TRACER = None


def test_traces_are_off_without_a_collector() -> None:
    assert tracing.TRACER is None
    assert not tracing.configure(env={})
    assert tracing.TRACER is None


def test_each_request_is_a_span_named_by_its_route(
    settings: Settings, spans: InMemorySpanExporter
) -> None:
    with api_client(settings) as client:
        case_id = create_case(client)
        headers = {**ORIENTEUR, "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}
        response = client.post(
            f"/dossiers/{case_id}/orientation", json=ORIENTATION, headers=headers
        )
        assert response.status_code == 200, response.text
    finished = spans.get_finished_spans()
    names = [s.name for s in finished]
    assert "POST /dossiers" in names
    assert "POST /dossiers/{case_id}/orientation" in names
    for span in finished:
        assert case_id not in span.name
        assert all(case_id not in str(v) for v in (span.attributes or {}).values())
    oriented = next(s for s in finished if s.name == "POST /dossiers/{case_id}/orientation")
    assert oriented.attributes is not None
    assert oriented.attributes["http.response.status_code"] == 200
    assert format(oriented.context.trace_id, "032x") == TRACE_ID
