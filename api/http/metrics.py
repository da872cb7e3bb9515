"""`GET /metrics`: what the IT team watches, in the Prometheus text format
(`adapters.metrics`, docs/ops/metrics.md). Counts and positions only, no case and no person;
still, only the `exploitation` role (a scraper's token) and administrators read it."""

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from adapters.metrics.counted import CONTENT_TYPE
from adapters.metrics.stored import exposition
from api.http.auth import Role
from api.http.deps import StoreMetrics, require
from api.http.schemas import error_responses

router = APIRouter(tags=["santé"], dependencies=[Depends(require(Role.EXPLOITATION, Role.ADMIN))])


@router.get(
    "/metrics",
    summary="Métriques au format Prometheus: requêtes, journal, projections, quarantaine, "
    "flux, webhooks",
    response_class=Response,
    responses={
        200: {"description": "Exposition texte Prometheus", "content": {CONTENT_TYPE: {}}},
        **error_responses(401, 403),
    },
)
def metrics(stores: StoreMetrics) -> Response:
    return Response(exposition(stores), media_type=CONTENT_TYPE)
