"""The API documentation in a real browser cut off from every host but parcours's own (an
intranet without internet): Swagger UI (`/docs`) and ReDoc (`/redoc`) render the operations, and
the pages ask nothing else of any other host (ReDoc's bundle still asks for the Redocly
badge's picture, a decoration that is just not shown offline)."""

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.helpers import Server

REDOCLY_BADGE = "https://cdn.redoc.ly/redoc/logo-mini.svg"
"""The "API docs by Redocly" picture that ReDoc's script itself asks for (not the page)."""


@pytest.fixture
def offline_page(chromium: Any) -> Any:
    """A page whose requests to any host but 127.0.0.1 are refused; `page.outside` lists them."""
    page = chromium.new_page(locale="fr-FR")
    page.outside = []

    def only_local(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            page.outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    yield page
    page.close()


def test_swagger_ui_renders_the_operations_offline(server: Server, offline_page: Any) -> None:
    page = offline_page
    page.goto(f"{server.base_url}/docs")
    page.locator(".opblock-tag", has_text="dossiers").first.wait_for(timeout=30_000)
    paths = page.locator(".opblock-summary-path")
    assert paths.count() > 10
    assert "/dossiers" in paths.all_inner_texts()
    assert page.locator(".swagger-ui .info .title", has_text="parcours").is_visible()
    assert page.outside == []


def test_redoc_renders_the_operations_offline(server: Server, offline_page: Any) -> None:
    page = offline_page
    page.goto(f"{server.base_url}/redoc")
    page.get_by_role("heading", name="parcours").first.wait_for(timeout=30_000)
    assert page.get_by_text("dossiers", exact=True).first.is_visible()
    assert set(page.outside) <= {REDOCLY_BADGE}
