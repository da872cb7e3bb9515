"""The response classes every route answers with: JSON encoded by msgspec (the bodies are
msgspec Structs), and CSV downloads asked for with `Accept: text/csv`."""

from typing import Any

import msgspec
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from api.http.limits import content_disposition

CSV = "text/csv"


class MsgspecJSONResponse(JSONResponse):
    """JSON encoded by msgspec: Structs, dates and UUIDs as the OpenAPI document describes them
    (FastAPI's default encoder knows pydantic, not msgspec). A `JSONResponse` to FastAPI, so
    that the document describes its bodies as JSON."""

    def render(self, content: Any) -> bytes:
        return msgspec.json.encode(content)


def wants_csv(request: Request) -> bool:
    return CSV in request.headers.get("accept", "")


def csv_response(body: str, filename: str | None = None) -> Response:
    """A CSV body in UTF-8, as a download named `filename` when given."""
    headers = {"Content-Disposition": content_disposition(filename)} if filename else None
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8", headers=headers)
