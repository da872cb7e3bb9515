"""OpenAPI for msgspec types: request bodies and responses are msgspec Structs, so their JSON
schemas come from msgspec and are merged into the document FastAPI builds."""

from typing import Any

import msgspec

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


def json_response(kind: Any, description: str, example: Any) -> dict[str, Any]:
    return {
        "description": description,
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
