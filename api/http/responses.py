"""The response classes every route answers with: JSON encoded by msgspec (the bodies are
msgspec Structs), and CSV downloads asked for with `Accept: text/csv`."""

import re
import unicodedata
from typing import Any
from urllib.parse import quote

import msgspec
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from adapters.render.csv import encoded

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
    """A CSV body in UTF-8 with a byte order mark, as a download named `filename` when given:
    a spreadsheet opened by a double click reads the accents right only with the mark."""
    headers = {"Content-Disposition": content_disposition(filename)} if filename else None
    return Response(encoded(body), media_type="text/csv; charset=utf-8", headers=headers)


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """RFC 6266 `Content-Disposition`: an ASCII fallback, and the exact name as RFC 5987
    `filename*` (UTF-8, percent-encoded), so any name travels in a latin-1 header."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_name).strip() or "export"
    encoded = quote(filename, safe="")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
