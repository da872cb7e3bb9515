"""Browser tests: the screens in a real headless Chromium (Debian's `chromium`, driven by
Playwright), against a real `parcours serve --avec-projection` on each store.

Without a browser they skip with the reason, unless PARCOURS_REQUIRE_BROWSER=1 (set by CI),
where a missing browser fails them, as PARCOURS_REQUIRE_POSTGRES does for PostgreSQL."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.settings import Settings
from tests.auth import TEST_SECRET
from tests.conftest import fresh_schema
from tests.e2e.helpers import Server

BROWSER_REQUIRED = os.environ.get("PARCOURS_REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("PARCOURS_CHROMIUM", "/usr/bin/chromium")


def browser_unavailable() -> str | None:
    """None when Chromium and Playwright are there, else why not."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as e:
        return f"Playwright for Python is missing: {e}"
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """One headless Chromium for the session; skips (or fails in CI) without one."""
    reason = browser_unavailable()
    if reason is not None:
        if BROWSER_REQUIRED:
            pytest.fail(f"A browser is required here (PARCOURS_REQUIRE_BROWSER=1): {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        french = {**os.environ, "LANG": "fr_FR.UTF-8", "LANGUAGE": "fr"}  # jj/mm/aaaa fields
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--lang=fr"], env=french)
        yield browser
        browser.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def store_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """One store per module and per backend: the module's tests share its server."""
    if request.param == "sqlite":
        yield Settings.from_env(
            {
                "PARCOURS_STORE": "sqlite",
                "PARCOURS_DATA_DIR": str(tmp_path_factory.mktemp("screens") / "data"),
                "PARCOURS_POLL_INTERVAL": "0.1",
                "PARCOURS_JWT_SECRET": TEST_SECRET,
            }
        )
        return
    request.getfixturevalue("pg_database")
    with fresh_schema() as settings:
        yield settings


@pytest.fixture(scope="module")
def server(
    chromium: object, store_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`parcours serve --avec-projection` in local mode, for the module."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    served = Server(store_settings, log, "--avec-projection", PARCOURS_LOG_LEVEL="WARNING")
    try:
        yield served
    finally:
        served.kill_if_running()
