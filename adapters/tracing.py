"""OpenTelemetry traces, off unless a collector is configured: the standard
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) names it, and the
optional `traces` extra (`uv sync --extra traces`) brings the SDK and its OTLP/HTTP exporter.

Off, nothing of OpenTelemetry is imported and a request costs one test of `TRACER`. On, each
request is one span named by its method and route template (never the raw path: a case id is
personal data's key), continuing the caller's `traceparent`; the standard `OTEL_*` variables
(service name, sampler, headers) apply."""

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer

log = structlog.get_logger(__name__)

TRACER: "Tracer | None" = None
"""The tracer once traces are on; None otherwise."""

ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def configure(env: Mapping[str, str] | None = None, exporter: "SpanExporter | None" = None) -> bool:
    """Turn traces on when a collector is configured (or `exporter` given, for the tests);
    returns whether they are on. A missing extra is logged, not fatal: traces stay off."""
    global TRACER
    env = os.environ if env is None else env
    if exporter is None and not any(env.get(name) for name in ENDPOINTS):
        return TRACER is not None
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
            processor: Any = BatchSpanProcessor(exporter)
        else:
            processor = SimpleSpanProcessor(exporter)
    except ImportError as e:
        log.warning("traces.indisponibles", error=str(e), hint="uv sync --extra traces")
        return False
    provider = TracerProvider(
        resource=Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", "parcours")})
    )
    provider.add_span_processor(processor)
    TRACER = provider.get_tracer("parcours")
    return True


def start_request(method: str, headers: list[tuple[bytes, bytes]]) -> Any:
    """A request's span, started now, child of the caller's `traceparent` if any; None when
    traces are off. Named once the route is known (`end_request`)."""
    if TRACER is None:
        return None
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind

    carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers}
    return TRACER.start_span(method, context=extract(carrier), kind=SpanKind.SERVER)


def end_request(span: Any, method: str, route: str | None, status: int) -> None:
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    name = f"{method} {route}" if route else method
    span.update_name(name)
    span.set_attribute("http.request.method", method)
    if route:
        span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))
    span.end()
