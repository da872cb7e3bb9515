"""The API documentation (`/docs`, `/redoc`) works on an intranet without internet: its pages
name no outside address, and parcours serves every script, style and icon they load, without a
token. The assets are static, so one store (SQLite) is enough."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import html

from adapters.settings import Settings
from api.http.app import DOCS_STATIC, create_app

CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture
def client(sqlite_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_settings)) as c:
        yield c


def _assets(page: str) -> list[str]:
    """The addresses a page loads: its scripts, styles and icons."""
    tree = html.fromstring(page)
    return [*tree.xpath("//script/@src"), *tree.xpath("//link/@href")]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_documentation_loads_only_assets_served_by_parcours(
    client: TestClient, path: str
) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "cdn" not in page.text.lower()
    assert "fonts.googleapis" not in page.text
    assets = _assets(page.text)
    assert assets, "the page loads its scripts and styles"
    for url in assets:
        assert url.startswith(f"{DOCS_STATIC}/"), url
        assert "//" not in url, url
        answer = client.get(url)  # no token: the documentation is open
        assert answer.status_code == 200, url
        expected = CONTENT_TYPES[url[url.rfind(".") :]]
        assert expected in answer.headers["content-type"], (url, answer.headers["content-type"])
        assert answer.content, url


def test_swagger_ui_is_given_the_schema_and_its_script(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "'/openapi.json'" in page or '"/openapi.json"' in page
    assert f"{DOCS_STATIC}/swagger-ui-bundle.js" in _assets(page)
    assert f"{DOCS_STATIC}/swagger-ui.css" in _assets(page)
    assert client.get("/docs/oauth2-redirect").status_code == 200


def test_an_unknown_asset_is_not_found(client: TestClient) -> None:
    assert client.get(f"{DOCS_STATIC}/absent.js").status_code == 404
