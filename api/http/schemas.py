"""OpenAPI for msgspec types: request bodies and responses are msgspec Structs, so their JSON
schemas come from msgspec and are merged into the document FastAPI builds."""

from typing import Any

import msgspec

from api.http.params import Page
from api.http.problems import PROBLEM, Problem

REF = "#/components/schemas/{name}"
COMPONENTS: dict[str, Any] = {}


def schema_of(kind: Any) -> dict[str, Any]:
    (schema,), components = msgspec.json.schema_components([kind], ref_template=REF)
    COMPONENTS.update(components)
    return schema


def request_body(kind: type, example: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema_of(kind), "example": example}},
        }
    }


NEXT_PAGE = {
    "Link": {
        "description": "RFC 8288: la page suivante, tant qu'il reste des lignes "
        "(même requête, `offset` avancé); absent sur la dernière page",
        "schema": {"type": "string"},
        "example": '</dossiers?limit=50&offset=50>; rel="next"',
    }
}


def json_response(kind: Any, description: str, example: Any) -> dict[str, Any]:
    """A JSON answer of `kind`; a page of a list also documents its `Link` header."""
    paged = isinstance(kind, type) and issubclass(kind, Page)
    return {
        "description": description,
        **({"headers": NEXT_PAGE} if paged else {}),
        "content": {"application/json": {"schema": schema_of(kind), "example": example}},
    }


_DESCRIPTIONS = {
    400: "Requête illisible (JSON malformé, en-tête invalide)",
    401: "Jeton absent, expiré ou invalide",
    403: "Rôle non autorisé pour cette action",
    404: "Dossier inconnu",
    409: "Conflit: une écriture concurrente a changé le dossier, ou dossier en quarantaine "
    "(une étape du journal ne peut pas être appliquée: l'annuler ou la rectifier)",
    412: "Précondition échouée: If-Match désigne une version périmée (le dossier a changé "
    "depuis sa lecture; le relire puis recommencer)",
    422: "Champ invalide ou étape refusée par les règles du parcours",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    schema = schema_of(Problem)
    return {
        code: {"description": _DESCRIPTIONS[code], "content": {PROBLEM: {"schema": schema}}}
        for code in codes
    }
