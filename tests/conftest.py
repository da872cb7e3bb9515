"""Shared fixtures: every store-backed test runs on a real SQLite file and on a real PostgreSQL.

PostgreSQL tests skip with a visible reason when no server answers, unless
PARCOURS_REQUIRE_POSTGRES=1 (set by CI), where an absent server fails them.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from psycopg import sql

from adapters.eventlog.store import Parcours
from adapters.settings import Settings
from tests.auth import TEST_SECRET

PG_TEST_DB = os.environ.get("PARCOURS_TEST_DBNAME", "parcours_test")

# A busy machine is slow, not broken: no property fails for the wall-clock time of one example.
hypothesis_settings.register_profile("parcours", deadline=None)
hypothesis_settings.load_profile("parcours")

LONGEST_FIRST = (
    "tests/e2e/test_server_restart.py",
    "tests/e2e/test_server_restart_loop.py",
    "tests/e2e/test_worker_crash.py",
    "tests/e2e/test_worker_crash_loop.py",
    "tests/integration/test_rebuild_property.py",
    "tests/e2e/test_api_fuzz.py",
    "tests/e2e/test_api_concurrency.py",
    "tests/e2e/test_api_properties.py",
    "tests/e2e/test_api_audit.py",
    "tests/flux/test_concurrent_imports.py",
    "tests/integration/test_projection_property.py",
    "tests/e2e/test_api_errors.py",
    "tests/unit/test_domain_fuzz.py",
)
"""The files that take longest (measured with --durations), longest first. The test processes
take whole files in collection order (`--dist loadfile --no-loadscope-reorder`): starting with
these, the short files fill in at the end and both processes finish at about the same time."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files of LONGEST_FIRST first, in that order; the others after, as collected."""
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(rank)))


def _pg_base() -> Settings:
    return Settings.from_env(
        {
            **os.environ,
            "PARCOURS_STORE": "postgres",
            "POSTGRES_DBNAME": PG_TEST_DB,
            "PARCOURS_JWT_SECRET": TEST_SECRET,
        }
    )


def _admin_connect() -> psycopg.Connection:
    s = _pg_base()
    return psycopg.connect(
        host=s.postgres_host,
        port=s.postgres_port,
        user=s.postgres_user,
        password=s.postgres_password,
        dbname="postgres",
        autocommit=True,
        connect_timeout=3,
    )


def postgres_unavailable() -> str | None:
    """None when the test database is ready, else why not (it is created when missing)."""
    try:
        with _admin_connect() as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (PG_TEST_DB,)
            ).fetchone()
            if not found:
                # Another test process may create it at the same moment.
                with suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(PG_TEST_DB)))
    except psycopg.OperationalError as e:
        return f"PostgreSQL unavailable at {_pg_base().postgres_host}: {e}".strip()
    return None


POSTGRES_REQUIRED = os.environ.get("PARCOURS_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def pg_database() -> str:
    """Make sure the test database exists; skip (or fail in CI) without a server."""
    reason = postgres_unavailable()
    if reason is not None:
        if POSTGRES_REQUIRED:
            pytest.fail(f"PostgreSQL is required here (PARCOURS_REQUIRE_POSTGRES=1). {reason}")
        pytest.skip(reason)
    return PG_TEST_DB


@contextmanager
def fresh_schema() -> Iterator[Settings]:
    """Settings pointing at a new schema of the test database, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    base = _pg_base()
    with psycopg.connect(
        host=base.postgres_host,
        port=base.postgres_port,
        user=base.postgres_user,
        password=base.postgres_password,
        dbname=PG_TEST_DB,
        autocommit=True,
    ) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            yield Settings.from_env(
                {
                    **os.environ,
                    "PARCOURS_STORE": "postgres",
                    "POSTGRES_DBNAME": PG_TEST_DB,
                    "POSTGRES_SCHEMA": schema,
                    "PARCOURS_JWT_SECRET": TEST_SECRET,
                    "PARCOURS_POLL_INTERVAL": "0.1",
                }
            )
        finally:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def pg_settings(pg_database: str) -> Iterator[Settings]:
    """A fresh schema in the test database, dropped afterwards."""
    with fresh_schema() as settings:
        yield settings


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "PARCOURS_STORE": "sqlite",
            "PARCOURS_DATA_DIR": str(tmp_path / "data"),
            "PARCOURS_POLL_INTERVAL": "0.1",
            "PARCOURS_JWT_SECRET": TEST_SECRET,
        }
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest) -> Settings:
    """Each test that takes `settings` runs once per store."""
    name = "sqlite_settings" if request.param == "sqlite" else "pg_settings"
    result: Settings = request.getfixturevalue(name)
    return result


@pytest.fixture
def parcours(settings: Settings) -> Iterator[Parcours]:
    app = Parcours(settings)
    yield app
    app.close()
